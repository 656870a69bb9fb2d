// x420 completions bash|zsh|fish, and x420 help COMMAND.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/cli.h"
#include "cli/command_tree.h"
#include "cli/completion_script.h"
#include "cli/context.h"
#include "cli/parse_error.h"
#include "cli/validators.h"

namespace x420::cli {

void register_completions(CLI::App& root, Invocation& inv) {
  auto shell = std::make_shared<std::string>();
  auto* completions = root.add_subcommand("completions", "Print the shell completion script");
  completions->add_option("shell", *shell, "bash, zsh or fish")
      ->required()
      ->check(one_of({"bash", "zsh", "fish"}));
  completions->footer(
      "Examples:\n"
      "  x420 completions bash > ~/.local/share/bash-completion/completions/x420\n"
      "  x420 completions zsh > \"${fpath[1]}/_x420\"\n"
      "  x420 completions fish > ~/.config/fish/completions/x420.fish");
  const CLI::App* root_ptr = &root;
  inv.actions[completions] = [shell, root_ptr](Context&) {
    std::cout << completion_script(describe(*root_ptr), *shell_from_name(*shell));
    return 0;
  };
}

void register_help(CLI::App& root, Invocation& inv) {
  auto words = std::make_shared<std::vector<std::string>>();
  auto* help = root.add_subcommand("help", "Show help for a command (x420 help keys rotate)");
  help->add_option("command", *words, "The command, e.g. keys create");
  help->footer(
      "Examples:\n"
      "  x420 help keys rotate\n"
      "  x420 help serve");
  CLI::App* root_ptr = &root;
  inv.actions[help] = [words, root_ptr](Context& ctx) {
    CLI::App* target = root_ptr;
    for (const auto& w : *words) {
      CLI::App* next = nullptr;
      try {
        next = target->get_subcommand(w);
      } catch (const CLI::OptionNotFound&) {
      }
      if (!next) {
        std::vector<std::string> names;
        for (const CLI::App* sub : target->get_subcommands([](const CLI::App*) { return true; }))
          names.push_back(sub->get_name());
        const auto near = did_you_mean(w, names);
        const bool shown = near || (w.size() <= 16 && w.find_first_not_of("abcdefghijklmnopqrstuvwxyz-") == std::string::npos);
        return ctx.fail(make_error(ErrorKind::usage, "no command " + (shown ? "'" + w + "' " : std::string()) + "in '" +
                                                         command_path(*target) + "'" +
                                                         (near ? " (did you mean '" + *near + "'?)" : "") +
                                                         "; `x420 --help` lists the commands"));
      }
      target = next;
    }
    // CLI11 titles a command's help with the path it is given: "Usage: x420 keys rotate".
    const std::string path = command_path(*target);
    const auto parent_end = path.rfind(' ');
    const std::string text = target->help(parent_end == std::string::npos ? "" : path.substr(0, parent_end));
    std::cout << text << (text.empty() || text.back() != '\n' ? "\n" : "");
    return 0;
  };
}

}  // namespace x420::cli
