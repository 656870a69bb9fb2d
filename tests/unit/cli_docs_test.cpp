// The command tree is the source of truth: the completion files in completions/ must equal what
// `x420 completions SHELL` prints, and man/x420.1 must document every command and long option.
// Adding a command without both fails here.
#include <CLI/CLI.hpp>
#include <catch2/catch.hpp>

#include "cli/cli.h"
#include "cli/command_tree.h"
#include "cli/completion_script.h"
#include "support/temp_dir.h"

using namespace x420::cli;

namespace {

const std::filesystem::path kSourceDir = X420_SOURCE_DIR;

CommandTree tree() {
  static Invocation inv;
  static auto app = build_app(inv);
  return describe(*app);
}

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

TEST_CASE("the man page documents every command and each of its long options") {
  const auto man = x420::test::read_bytes(kSourceDir / "man/x420.1");
  REQUIRE_FALSE(man.empty());
  const auto t = tree();
  for (const auto& c : t.commands) {
    if (c.path.empty()) continue;
    const auto heading = ".SS \"x420 " + join_path(c.path) + "\"";
    INFO("man/x420.1 lacks " << heading);
    CHECK(man.find(heading) != std::string::npos);
    for (const auto& o : c.options)
      for (const auto& n : o.names) {
        if (!n.starts_with("--")) continue;
        INFO("man/x420.1 lacks option " << n << " of x420 " << join_path(c.path));
        CHECK(man.find("\\-\\-" + n.substr(2)) != std::string::npos);
      }
  }
  for (const auto& o : t.global_options)
    for (const auto& n : o.names)
      if (n.starts_with("--")) CHECK(man.find("\\-\\-" + n.substr(2)) != std::string::npos);
}
