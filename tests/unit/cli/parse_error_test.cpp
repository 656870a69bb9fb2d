// cli/parse_error and cli/validators: refusals of a command line name the command and the flag,
// suggest the nearest one, and never repeat what may be a secret typed in the wrong place.
#include <CLI/CLI.hpp>
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/parse_error.h"
#include "cli/validators.h"

using namespace x420::cli;

namespace {

// The message x420 prints for `x420 ARGS...`; fails the test if the line parses.
std::string refusal(const std::vector<std::string>& args) {
  Invocation inv;
  auto app = build_app(inv);
  std::vector<const char*> argv{"x420"};
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app->parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    REQUIRE(e.get_exit_code() != 0);
    const auto error = explain_parse_error(*app, args, e);
    CHECK(error.kind == x420::ErrorKind::usage);
    return error.message;
  }
  FAIL("the command line parsed");
  return {};
}

std::string validate(const CLI::Validator& v, std::string text) { return v(text); }

}  // namespace

TEST_CASE("an unknown command gets the nearest one and where to look") {
  const auto m = refusal({"kyes", "list"});
  CHECK(m == "unknown command 'kyes' for 'x420' (did you mean 'keys'?); `x420 --help` lists its commands");
  CHECK_THAT(refusal({"keys", "lst"}), Catch::Contains("unknown command 'lst' for 'x420 keys' (did you mean 'list'?)") &&
                                           Catch::Contains("`x420 help keys`"));
}

TEST_CASE("an unknown flag is named with the command it was given to and the nearest flag") {
  CHECK(refusal({"keys", "list", "--jsn"}) ==
        "unknown flag '--jsn' for 'x420 keys list' (did you mean '--json'?); `x420 help keys list` lists its flags");
  // Global flags before the command, and values, are read past.
  CHECK_THAT(refusal({"--json", "--tenant", "t1", "keys", "list", "--jsn"}),
             Catch::StartsWith("unknown flag '--jsn' for 'x420 keys list'"));
  CHECK_THAT(refusal({"keys", "create", "--name", "ci", "--rpn", "5"}), Catch::Contains("(did you mean '--rpm'?)"));
  CHECK_THAT(refusal({"-qz", "keys", "list"}), Catch::StartsWith("unknown flag '-qz' for 'x420'"));
}

TEST_CASE("a bad value names the flag and the accepted form") {
  CHECK(refusal({"keys", "create", "--name", "a", "--rpm", "0"}) ==
        "--rpm must be a whole number ≥ 1; `x420 help keys create` shows its usage");
  CHECK_THAT(refusal({"keys", "create", "--name", "a", "--tpm", "1e3"}), Catch::StartsWith("--tpm must be a whole number ≥ 1"));
  CHECK_THAT(refusal({"usage", "--limit", "0"}), Catch::StartsWith("--limit must be a whole number from 1 to 100000"));
  CHECK_THAT(refusal({"serve", "--redact", "hide"}),
             Catch::StartsWith("--redact must be one of pseudonymize, mask, block, off"));
  CHECK_THAT(refusal({"keys", "create"}), Catch::StartsWith("x420 keys create: --name is required"));
  CHECK_THAT(refusal({"keys", "create", "--name"}), Catch::StartsWith("x420 keys create: --name needs a value"));
}

TEST_CASE("a refusal never repeats a value or a word that may be a secret") {
  const std::string secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
  const std::vector<std::vector<std::string>> lines = {
      {"keys", "create", "--name", "a", "--rpm", secret},
      {"keys", "list", secret},
      {secret},
      {"keys", secret},
      {"keys", "list", "--jsn=" + secret},
      {"serve", "--redact", secret},
      {"--" + secret},
  };
  for (const auto& line : lines) {
    const auto m = refusal(line);
    INFO(m);
    CHECK(m.find("4eC39HqLyjWDarjtT1zdp7dc") == std::string::npos);
    CHECK_FALSE(m.empty());
  }
}

TEST_CASE("whole_number takes decimal digits within its bounds only") {
  const auto positive = whole_number(1);
  CHECK(validate(positive, "1").empty());
  CHECK(validate(positive, "9223372036854775807").empty());
  for (const std::string bad : {"0", "-1", "1.5", "abc", "", " 1", "1 ", "+1", "0x10", "9223372036854775808"}) {
    INFO(bad);
    CHECK(validate(positive, bad) == "must be a whole number ≥ 1");
  }
  const auto bounded = whole_number(1, 256);
  CHECK(validate(bounded, "256").empty());
  CHECK(validate(bounded, "257") == "must be a whole number from 1 to 256");
}

TEST_CASE("one_of takes exactly one of its words") {
  const auto v = one_of({"bash", "zsh"});
  CHECK(validate(v, "zsh").empty());
  CHECK(validate(v, "ZSH") == "must be one of bash, zsh");
  CHECK(v.get_description() == "{bash,zsh}");
}

TEST_CASE("did_you_mean suggests only what is close") {
  const std::vector<std::string> commands{"keys", "kek", "upstreams", "usage"};
  CHECK(did_you_mean("kyes", commands) == "keys");
  CHECK(did_you_mean("upstream", commands) == "upstreams");
  CHECK(did_you_mean("upst", commands) == "upstreams");  // a prefix
  CHECK_FALSE(did_you_mean("serve", commands));
  CHECK_FALSE(did_you_mean("x", commands));
}

TEST_CASE("wants_json reads --json before a --") {
  CHECK(wants_json({"keys", "list", "--json"}));
  CHECK_FALSE(wants_json({"redact", "--", "--json"}));
  CHECK_FALSE(wants_json({"keys", "list"}));
}

TEST_CASE("every command's help shows the global options, and every leaf an example") {
  Invocation inv;
  auto app = build_app(inv);
  std::vector<CLI::App*> pending{app.get()};
  std::size_t leaves = 0;
  while (!pending.empty()) {
    CLI::App* a = pending.back();
    pending.pop_back();
    const auto subs = a->get_subcommands([](CLI::App*) { return true; });
    for (CLI::App* s : subs) pending.push_back(s);
    if (a == app.get()) continue;
    const auto help = a->help();
    INFO(command_path(*a) << " --help");
    CHECK_THAT(help, Catch::Contains("Global options") && Catch::Contains("--json"));
    if (subs.empty()) {
      ++leaves;
      CHECK_THAT(help, Catch::Contains("Example"));
    }
  }
  CHECK(leaves >= 27);  // all of them, not a tree that failed to build
}
