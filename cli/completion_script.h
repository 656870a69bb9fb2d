// Shell completion scripts generated from the command tree, so they can never fall behind it.
// completions/ holds the same text; a test keeps the two equal.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cli/command_tree.h"

namespace x420::cli {

enum class Shell { bash, zsh, fish };

std::optional<Shell> shell_from_name(std::string_view name);
std::string completion_script(const CommandTree& tree, Shell shell);

}  // namespace x420::cli
