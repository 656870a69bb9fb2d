#include "cli/command_tree.h"

#include <CLI/CLI.hpp>

namespace x420::cli {
namespace {

std::vector<OptionInfo> options_of(const CLI::App& app) {
  std::vector<OptionInfo> out;
  for (const CLI::Option* opt : app.get_options()) {
    if (!opt->nonpositional() || opt == app.get_help_ptr()) continue;
    OptionInfo info;
    for (const auto& l : opt->get_lnames()) info.names.push_back("--" + l);
    for (const auto& s : opt->get_snames()) info.names.push_back("-" + s);
    info.description = opt->get_description();
    info.takes_value = opt->get_type_size() != 0;
    out.push_back(std::move(info));
  }
  return out;
}

void walk(const CLI::App& app, std::vector<std::string> path, CommandTree& tree) {
  CommandInfo info;
  info.path = path;
  info.description = app.get_description();
  if (!path.empty()) info.options = options_of(app);
  const auto subs = app.get_subcommands([](const CLI::App*) { return true; });
  for (const CLI::App* sub : subs) info.subcommands.push_back(sub->get_name());
  tree.commands.push_back(std::move(info));
  for (const CLI::App* sub : subs) {
    auto child = path;
    child.push_back(sub->get_name());
    walk(*sub, child, tree);
  }
}

}  // namespace

std::string join_path(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& p : path) out += (out.empty() ? "" : " ") + p;
  return out;
}

CommandTree describe(const CLI::App& root) {
  CommandTree tree;
  tree.global_options = options_of(root);
  walk(root, {}, tree);
  return tree;
}

}  // namespace x420::cli
