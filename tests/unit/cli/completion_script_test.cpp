// cli/completion_script: the completion files in completions/ must equal what
// `x420 completions SHELL` prints from the command tree, and offer every command and option.
// Adding a command without regenerating them fails here (the man page: command_tree_test.cpp).
#include <CLI/CLI.hpp>
#include <catch2/catch.hpp>

#include "cli/cli.h"
#include "cli/command_tree.h"
#include "cli/completion_script.h"
#include "support/cli_fixture.h"
#include "support/temp_dir.h"

using namespace x420::cli;
constexpr auto tree = &x420::test::command_tree;  // tests/unit/support/cli_fixture.h

namespace {

const std::filesystem::path kSourceDir = X420_SOURCE_DIR;

}  // namespace

TEST_CASE("completion files equal the generated scripts") {
  const struct {
    Shell shell;
    const char* file;
  } shells[] = {{Shell::bash, "completions/x420.bash"},
                {Shell::zsh, "completions/_x420"},
                {Shell::fish, "completions/x420.fish"}};
  for (const auto& s : shells) {
    INFO(s.file << " is stale: run scripts/update-completions");
    CHECK(x420::test::read_bytes(kSourceDir / s.file) == completion_script(tree(), s.shell));
  }
}

TEST_CASE("completion scripts offer every command and option") {
  const auto t = tree();
  const auto bash = completion_script(t, Shell::bash);
  const auto fish = completion_script(t, Shell::fish);
  for (const auto& c : t.commands) {
    for (const auto& sub : c.subcommands) {
      CHECK(bash.find(join_path(c.path) + "/" + sub + "\")") != std::string::npos);
      CHECK(fish.find("-a " + sub) != std::string::npos);
    }
    for (const auto& o : c.options)
      for (const auto& n : o.names) CHECK(bash.find(n) != std::string::npos);
  }
}
