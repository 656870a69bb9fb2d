// cli/command_tree: the command tree is the source of truth for the docs, so man/x420.1 must
// document every command and long option it describes. Adding a command without its man page
// section fails here.
#include <CLI/CLI.hpp>
#include <catch2/catch.hpp>

#include "cli/cli.h"
#include "cli/command_tree.h"
#include "support/cli_fixture.h"
#include "support/temp_dir.h"

using namespace x420::cli;
constexpr auto tree = &x420::test::command_tree;  // tests/unit/support/cli_fixture.h

namespace {

const std::filesystem::path kSourceDir = X420_SOURCE_DIR;

}  // namespace

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

TEST_CASE("the man page's synopsis has a line for every command that runs") {
  const auto man = x420::test::read_bytes(kSourceDir / "man/x420.1");
  const auto synopsis = man.substr(man.find(".SH SYNOPSIS"), man.find(".SH DESCRIPTION") - man.find(".SH SYNOPSIS"));
  for (const auto& c : tree().commands) {
    if (c.path.empty() || !c.subcommands.empty()) continue;
    INFO("the SYNOPSIS of man/x420.1 lacks x420 " << join_path(c.path));
    CHECK(synopsis.find(".B x420 " + join_path(c.path)) != std::string::npos);
  }
}
