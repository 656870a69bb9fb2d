// lib/detect/rule_file: parsing a TOML rule file, with the line of each error.
#include <catch2/catch.hpp>

#include "lib/detect/rule.h"

using namespace x420;
using namespace x420::detect;

TEST_CASE("rule files report the line of a syntax error and unknown fields") {
  auto syntax = parse_rule_file("[[rule]]\nid = \"a\"\nregex = \"b\"\nbroken = = 1\n", "user.toml");
  REQUIRE_FALSE(syntax.ok());
  CHECK(syntax.error().message.starts_with("user.toml:4"));
  auto unknown = parse_rule_file("[[rule]]\nid = \"a\"\nregex = \"b\"\ncolour = \"red\"\n", "user.toml");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message.find("colour") != std::string::npos);
  auto misspelt = parse_rule_file("[[rule]]\nid = \"a.b\"\nregex = \"b\"\nexample = [\"b\"]\n", "user.toml");
  REQUIRE_FALSE(misspelt.ok());
  CHECK(misspelt.error().message ==
        "user.toml:4: rule a.b: unknown field 'example' (did you mean 'examples'?)");
  const std::string ok_fields = "keywords = [\"bb\"]\nexamples = [\"bb\"]\n";
  auto dup = parse_rule_file("[[rule]]\nid = \"a\"\nregex = \"b\"\n" + ok_fields + "[[rule]]\nid = \"a\"\nregex = \"c\"\n" + ok_fields, "u.toml");
  CHECK(dup.error().message.find("twice") != std::string::npos);
  auto ok = parse_rule_file("[[rule]]\nid = \"a.b\"\nregex = \"b{1,9}\"\nseverity = \"low\"\n" + ok_fields + "[allowlist]\nvalues = [\"x\"]\n", "u.toml");
  REQUIRE(ok.ok());
  CHECK(ok->rules.at(0).severity == Severity::low);
  CHECK(ok->allowlist.values.at(0) == "x");
}

TEST_CASE("reading a rule file goes on past a bad rule, and merging refuses a taken id") {
  std::vector<RuleFileIssue> issues;
  const auto file = read_rule_file(
      "[[rule]]\nid = \"a.one\"\nregex = \"b\"\nseverity = \"urgent\"\n"
      "[[rule]]\nid = \"a.two\"\nregex = \"cc\"\nkeywords = [\"cc\"]\nexamples = [\"cc\"]\n"
      "[[rule]]\nid = \"a.three\"\n"
      "[allowlist]\ncolour = []\n",
      "u.toml", issues);
  REQUIRE(issues.size() == 3);
  CHECK(issues[0].rule.empty());  // toml++ orders keys: [allowlist] is read before [[rule]]
  CHECK(issues[0].message.find("unknown allowlist field 'colour'") != std::string::npos);
  CHECK(issues[1].rule == "a.one");
  CHECK(issues[1].message.starts_with("u.toml:4: rule a.one: severity"));
  CHECK(issues[2].message == "u.toml:10: rule a.three needs a regex (or context and value)");
  REQUIRE(file.rules.size() == 1);
  CHECK(file.rules[0].id == "a.two");

  RuleFile into = file;
  RuleFile more;
  more.rules = {file.rules[0], file.rules[0]};
  more.rules[1].id = "a.four";
  more.allowlist.values = {"v"};
  const auto taken = merge_rule_file(into, more, "more.toml");
  REQUIRE(taken.size() == 1);
  CHECK(taken[0].rule == "a.two");
  CHECK(taken[0].message.starts_with("more.toml: rule id 'a.two' is already defined"));
  REQUIRE(into.rules.size() == 2);
  CHECK(into.rules[1].id == "a.four");
  CHECK(into.allowlist.values == std::vector<std::string>{"v"});
}
