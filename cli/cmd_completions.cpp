// x420 completions bash|zsh|fish, and x420 help COMMAND.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/cli.h"
#include "cli/command_tree.h"
#include "cli/completion_script.h"
#include "cli/context.h"

namespace x420::cli {

void register_completions(CLI::App& root, Invocation& inv) {
  auto shell = std::make_shared<std::string>();
  auto* completions = root.add_subcommand("completions", "Print the shell completion script");
  completions->add_option("shell", *shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
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
  CLI::App* root_ptr = &root;
  inv.actions[help] = [words, root_ptr](Context& ctx) {
    CLI::App* target = root_ptr;
    for (const auto& w : *words) {
      CLI::App* next = nullptr;
      try {
        next = target->get_subcommand(w);
      } catch (const CLI::OptionNotFound&) {
      }
      if (!next)
        return ctx.fail(make_error(ErrorKind::usage, "no command '" + join_path(*words) +
                                                         "' (x420 --help lists the commands)"));
      target = next;
    }
    std::cout << target->help();
    return 0;
  };
}

}  // namespace x420::cli
