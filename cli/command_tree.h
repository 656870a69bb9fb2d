// The command tree flattened into plain data, for what is generated from it or checked against
// it: shell completions, and the test that the man page documents every command and option.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace x420::cli {

struct OptionInfo {
  std::vector<std::string> names;  // "--db", "-q"
  std::string description;
  bool takes_value = false;
};

struct CommandInfo {
  std::vector<std::string> path;  // {} for the root, {"keys", "create"}, …
  std::string description;
  std::vector<std::string> subcommands;
  std::vector<OptionInfo> options;  // its own, without --help and the global ones
};

struct CommandTree {
  std::vector<CommandInfo> commands;  // root first, then depth-first in declaration order
  std::vector<OptionInfo> global_options;
};

CommandTree describe(const CLI::App& root);

std::string join_path(const std::vector<std::string>& path);  // "keys create"

}  // namespace x420::cli
