#include "cli/confirm.h"

#include <unistd.h>

#include <iostream>

namespace x420::cli {

bool confirmed_by_typing(const std::string& what, const std::string& name, bool yes) {
  if (yes) return true;
  if (!::isatty(STDIN_FILENO) || !::isatty(STDERR_FILENO)) return false;
  std::cerr << what << " Type " << name << " to confirm: ";
  std::string typed;
  std::getline(std::cin, typed);
  return typed == name;
}

}  // namespace x420::cli
