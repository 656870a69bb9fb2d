#include "cli/store_registry.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

namespace x420::cli {
namespace {

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec);
  return ec ? path : p.string();
}

std::vector<std::string> read_lines(const std::filesystem::path& file) {
  std::vector<std::string> lines;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  return lines;
}

}  // namespace

std::filesystem::path store_registry_path(const std::filesystem::path& key_file) {
  return key_file.parent_path() / "stores";
}

void remember_store(const std::filesystem::path& key_file, const std::string& db) {
  const auto registry = store_registry_path(key_file);
  const auto path = absolute_path(db);
  auto lines = read_lines(registry);
  if (std::find(lines.begin(), lines.end(), path) != lines.end()) return;
  lines.push_back(path);
  // Written whole to a temporary file and renamed, so two commands at once lose at most a line.
  auto temporary = registry;
  temporary += ".tmp" + std::to_string(::getpid());
  {
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return;
    std::string text = "# Stores opened with the master key in this folder (x420 doctor, x420 kek rotate).\n";
    for (const auto& l : lines) text += l + "\n";
    const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!written) {
      ::unlink(temporary.c_str());
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, registry, ec);
  if (ec) std::filesystem::remove(temporary, ec);
}

std::vector<std::string> stores_sharing(const std::filesystem::path& key_file, const std::string& except) {
  const auto skip = except.empty() ? std::string() : absolute_path(except);
  std::vector<std::string> out;
  for (const auto& line : read_lines(store_registry_path(key_file))) {
    std::error_code ec;
    if (line != skip && std::filesystem::is_regular_file(line, ec)) out.push_back(line);
  }
  return out;
}

}  // namespace x420::cli
