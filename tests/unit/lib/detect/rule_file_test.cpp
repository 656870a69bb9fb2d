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

TEST_CASE("a rule's class and redact_by_default are read, with secret and true the defaults") {
  const std::string body = "regex = \"ab{1,9}\"\nkeywords = [\"ab\"]\nexamples = [\"abb\"]\n";
  auto file = parse_rule_file("[[rule]]\nid = \"a.secret\"\n" + body +
                                  "[[rule]]\nid = \"a.id\"\nclass = \"identifier\"\n" + body +
                                  "[[rule]]\nid = \"a.mail\"\nclass = \"personal\"\nredact_by_default = false\n" + body +
                                  "[[rule]]\nid = \"a.shown\"\nclass = \"identifier\"\nredact_by_default = true\n" + body,
                              "u.toml");
  REQUIRE(file.ok());
  const auto& r = file->rules;
  CHECK(r.at(0).data_class == DataClass::secret);
  CHECK(r.at(0).redact_by_default);
  CHECK(r.at(1).data_class == DataClass::identifier);
  CHECK_FALSE(r.at(1).redact_by_default);  // an identifier is kept unless asked
  CHECK(r.at(2).data_class == DataClass::personal);
  CHECK_FALSE(r.at(2).redact_by_default);
  CHECK(r.at(3).redact_by_default);

  auto bad = parse_rule_file("[[rule]]\nid = \"a.b\"\nclass = \"private\"\n" + body, "u.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "u.toml:3: rule a.b: class must be secret, identifier or personal");
  auto not_bool = parse_rule_file("[[rule]]\nid = \"a.b\"\nredact_by_default = \"no\"\n" + body, "u.toml");
  REQUIRE_FALSE(not_bool.ok());
  CHECK(not_bool.error().message.find("redact_by_default must be true or false") != std::string::npos);
}

TEST_CASE("only personal-class rules and card or IBAN rules may go without keywords") {
  const std::string shape = "regex = \"[a-z]{2,8}@[a-z]{2,8}\\\\.org\"\nexamples = [\"me@mail.org\"]\n";
  auto secret = parse_rule_file("[[rule]]\nid = \"a.b\"\n" + shape, "u.toml");
  REQUIRE_FALSE(secret.ok());
  CHECK(secret.error().message.find("needs keywords") != std::string::npos);
  auto personal = parse_rule_file("[[rule]]\nid = \"a.b\"\nclass = \"personal\"\n" + shape, "u.toml");
  CHECK(personal.ok());
}

TEST_CASE("a rule may name a shape instead of keywords, not both, and only a known one") {
  const std::string body = "regex = \"[a-z]{2,8}@[a-z]{2,8}\\\\.org\"\nexamples = [\"me@mail.org\"]\n";
  auto shaped = parse_rule_file("[[rule]]\nid = \"a.b\"\nshape = \"email\"\n" + body, "u.toml");
  REQUIRE(shaped.ok());
  CHECK(shaped->rules.at(0).shape == Shape::email);
  CHECK(shaped->rules.at(0).data_class == DataClass::secret);  // a shape needs no class

  auto both = parse_rule_file("[[rule]]\nid = \"a.b\"\nshape = \"email\"\nkeywords = [\"mail\"]\n" + body, "u.toml");
  REQUIRE_FALSE(both.ok());
  CHECK(both.error().message.find("has keywords and a shape") != std::string::npos);

  auto unknown = parse_rule_file("[[rule]]\nid = \"a.b\"\nshape = \"mail\"\n" + body, "u.toml");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message == "u.toml:3: rule a.b: shape must be card_number, iban, email, phone or ipv4");
  for (const auto s : {Shape::card_number, Shape::iban, Shape::email, Shape::phone, Shape::ipv4})
    CHECK(shape_from(shape_name(s)) == s);
}
