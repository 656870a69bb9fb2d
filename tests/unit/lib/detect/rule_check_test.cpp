// `x420 rules check` as a function: rule files go through the real loader and engine, each
// problem names its file, rule and example index and says why, and no message quotes an example.
#include <catch2/catch.hpp>

#include <numeric>

#include "lib/detect/rule_check.h"

using namespace x420::detect;

namespace {

const RuleFile kNoBase;

RuleCheckReport check(const std::string& text, const RuleFile& base = kNoBase) {
  return check_rule_files(base, {{"user.toml", text}});
}

// The problems of one kind, in report order.
std::vector<RuleProblem> of_kind(const RuleCheckReport& report, CheckKind kind) {
  std::vector<RuleProblem> out;
  for (const auto& p : report.problems)
    if (p.check == kind) out.push_back(p);
  return out;
}

std::string all_messages(const RuleCheckReport& report) {
  std::string out;
  for (const auto& p : report.problems) out += p.message + "\n";
  return out;
}

// One rule with one example and one negative; `fields` adds or overrides TOML lines.
std::string rule_file(const std::string& fields, const std::string& example,
                      const std::string& negative = "nothing to see") {
  // Keywords, unless a validator lets the rule go without (the engine starts a rule at them).
  const std::string keywords = fields.find("keywords") != std::string::npos || fields.find("luhn") != std::string::npos
                                   ? ""
                                   : "keywords = ['acme']\n";
  return "[[rule]]\nid = 'acme.token'\n" + keywords + fields + "\nexamples = ['" + example +
         "']\nnegative_examples = ['" + negative + "']\n";
}

}  // namespace

TEST_CASE("the built-in rules pass their own check", "[rules]") {
  const auto report = check_rule_files(kNoBase, {{"builtin.toml", std::string(builtin_rule_text())}});
  INFO(all_messages(report));
  CHECK(report.failures() == 0);
  const auto& rules = builtin_rule_file().rules;
  CHECK(report.rules == rules.size());
  CHECK(report.examples == std::accumulate(rules.begin(), rules.end(), std::size_t{0},
                                           [](std::size_t n, const Rule& r) { return n + r.examples.size(); }));
  CHECK(report.negatives ==
        std::accumulate(rules.begin(), rules.end(), std::size_t{0},
                        [](std::size_t n, const Rule& r) { return n + r.negative_examples.size(); }));
}

TEST_CASE("a rule that finds its example and not its negative passes", "[rules]") {
  const auto report = check(rule_file("regex = 'acme_[A-Za-z0-9]{20}'", "key = acme_Ab3dE5gH7jK9mN1pQ3sT",
                                      "acme_short"));
  INFO(all_messages(report));
  CHECK(report.problems.empty());
  CHECK(report.rules == 1);
  CHECK(report.examples == 1);
  CHECK(report.negatives == 1);
}

TEST_CASE("an example the rule does not find fails with the reason, never quoting it", "[rules]") {
  struct Case {
    const char* name;
    std::string fields;
    std::string example;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"the regex", "regex = 'acme_[A-Za-z0-9]{20}'", "key = acme_tooShort", "the regex does not match it"},
      {"min_len", "regex = 'acme_([A-Za-z0-9]{4,30})'\nsecret_group = 1\nmin_len = 20", "acme_Ab3dQ",
       "5 bytes long, under min_len 20"},
      {"entropy_min", "regex = 'acme_([a-z0-9]{16})'\nsecret_group = 1\nentropy_min = 3.5",
       "acme_aaaaaaaabbbbbbbb", "1.00 bits of entropy per byte, under entropy_min 3.50"},
      {"a deciding validator", "regex = '\\b4[0-9]{15}\\b'\nvalidator = 'luhn'", "card 4111111111111112",
       "the luhn validator rejects its secret"},
      {"an inline marker", "regex = 'acme_[A-Za-z0-9]{20}'", "acme_Ab3dE5gH7jK9mN1pQ3sT # x420:allow",
       "x420:allow"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      const auto report = check(rule_file(c.fields, c.example));
      INFO(all_messages(report));
      REQUIRE(report.failures() == 1);
      const auto& p = report.problems.front();
      CHECK(p.check == CheckKind::example);
      CHECK(p.source == "user.toml");
      CHECK(p.rule == "acme.token");
      CHECK(p.index == 0);
      CHECK(p.message.starts_with("user.toml: rule acme.token: examples[0] is not found: "));
      CHECK(p.message.find(c.reason) != std::string::npos);
      CHECK(p.message.find(c.example) == std::string::npos);
    }
  }
  SECTION("the allowlist") {
    const auto report = check(rule_file("regex = 'acme_([A-Za-z0-9]{12})'\nsecret_group = 1\nentropy_min = 1",
                                        "acme_qzvwkXyZ1234") +
                              "[allowlist]\nstopwords = ['qzvw']\n");
    INFO(all_messages(report));
    REQUIRE(report.failures() == 1);
    CHECK(report.problems.front().message.find("the allowlist accepts it") != std::string::npos);
  }
}

TEST_CASE("a vendor checksum must hold in an example, and failing it does not make a negative", "[rules]") {
  const std::string fields = "regex = '\\bghp_[A-Za-z0-9]{36}\\b'\nvalidator = 'github_crc32'\nkeywords = ['ghp_']";
  const std::string good = "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";  // builtin.toml's github.pat example
  const std::string bad = "ghp_tWbM0p6GfbfCVLqMUKNE1KMM7HO3JI3aj9jW";   // its checksum broken

  SECTION("an example with a bad checksum fails") {
    const auto report = check(rule_file(fields, bad));
    REQUIRE(report.failures() == 1);
    CHECK(report.problems.front().check == CheckKind::example);
    CHECK(report.problems.front().message.find("github_crc32 checksum does not hold") != std::string::npos);
    CHECK(report.problems.front().message.find(bad) == std::string::npos);
  }
  SECTION("a negative that only fails its checksum is still found") {
    const auto report = check(rule_file(fields, good, bad));
    INFO(all_messages(report));
    REQUIRE(report.failures() == 1);
    const auto& p = report.problems.front();
    CHECK(p.check == CheckKind::negative);
    CHECK(p.index == 0);
    CHECK(p.message.starts_with("user.toml: rule acme.token: negative_examples[0] is found"));
    CHECK(p.message.find("only lowers the confidence") != std::string::npos);
  }
}

TEST_CASE("a negative example the rule finds fails", "[rules]") {
  const auto report = check(rule_file("regex = 'acme_[A-Za-z0-9]{20}'", "acme_Ab3dE5gH7jK9mN1pQ3sT",
                                      "acme_Zz9yX8wV7uT6sR5qP4oN"));
  REQUIRE(report.failures() == 1);
  const auto& p = report.problems.front();
  CHECK(p.check == CheckKind::negative);
  CHECK(p.rule == "acme.token");
  CHECK(p.message == "user.toml: rule acme.token: negative_examples[0] is found");
}

TEST_CASE("the loader's errors are reported per rule, and the good rules are still checked", "[rules]") {
  const std::string text =
      "[[rule]]\nid = 'acme.one'\nregex = 'one_[a-z]{8}'\nnegative_example = ['x']\n"
      "[[rule]]\nid = 'acme.two'\nregex = 'two_[a-z]{8}'\nseverity = 'urgent'\n"
      "[[rule]]\nid = 'acme.three'\nregex = 'three_[a-z]{8}'\nkeywords = ['three_']\nexamples = ['three_qzmvkrtw']\n"
      "negative_examples = ['three_abc']\n"
      "[[rule]]\nid = 'acme.three'\nregex = 'x{3}'\nkeywords = ['xxx']\nexamples = ['xxx']\n";
  const auto report = check(text);
  INFO(all_messages(report));
  const auto load = of_kind(report, CheckKind::load);
  REQUIRE(load.size() == 3);
  CHECK(load[0].rule == "acme.one");
  CHECK(load[0].message.starts_with("user.toml:4: rule acme.one: unknown field 'negative_example'"));
  CHECK(load[0].message.find("did you mean 'negative_examples'?") != std::string::npos);
  CHECK(load[1].rule == "acme.two");
  CHECK(load[1].message.starts_with("user.toml:8: rule acme.two: severity must be"));
  CHECK(load[2].rule == "acme.three");
  CHECK(load[2].message.find("appears twice") != std::string::npos);
  CHECK(report.failures() == 3);
  CHECK(report.rules == 1);
  CHECK(report.examples == 1);
  CHECK(report.negatives == 1);

  // parse_rule_file, which x420 scan uses, fails with the first of them.
  auto parsed = parse_rule_file(text, "user.toml");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().message == load[0].message);
}

TEST_CASE("a TOML syntax error is one problem naming the line", "[rules]") {
  const auto report = check("[[rule]]\nid = 'acme.x'\nregex = 'x{3}\n");
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems.front().check == CheckKind::load);
  CHECK(report.problems.front().message.starts_with("user.toml:3: "));
  CHECK(report.rules == 0);
}

TEST_CASE("a user's rule may not reuse a built-in id", "[rules]") {
  const auto report = check("[[rule]]\nid = 'github.pat'\nregex = 'acme_[a-z]{8}'\nkeywords = ['acme_']\n"
                            "examples = ['acme_qzmvkrtw']\n", builtin_rule_file());
  INFO(all_messages(report));
  REQUIRE(report.failures() == 1);
  CHECK(report.problems.front().check == CheckKind::load);
  CHECK(report.problems.front().rule == "github.pat");
  CHECK(report.problems.front().message.find("already defined") != std::string::npos);
  CHECK(report.rules == 0);
}

TEST_CASE("a regex the engine refuses names its rule, and the others are still checked", "[rules]") {
  const std::string text =
      "[[rule]]\nid = 'acme.broken'\nregex = 'acme_('\nkeywords = ['acme_']\nexamples = ['acme_x']\n"
      "[[rule]]\nid = 'acme.fine'\nregex = 'fine_[a-z]{8}'\nkeywords = ['fine_']\nexamples = ['fine_qzmvkrtw']\n"
      "negative_examples = ['fine_abc']\n";
  const auto report = check(text);
  INFO(all_messages(report));
  const auto compile = of_kind(report, CheckKind::compile);
  REQUIRE(compile.size() == 1);
  CHECK(compile[0].rule == "acme.broken");
  CHECK(compile[0].message.starts_with("user.toml: rule acme.broken: regex does not compile"));
  CHECK(report.failures() == 1);
  CHECK(report.rules == 2);
  CHECK(report.examples == 1);
}

TEST_CASE("an allowlist regex that does not compile is a problem of its file", "[rules]") {
  const auto report = check(rule_file("regex = 'acme_[a-z]{8}'", "acme_qzmvkrtw") +
                            "[allowlist]\nregexes = ['(']\n");
  INFO(all_messages(report));
  REQUIRE(report.failures() == 1);
  CHECK(report.problems.front().check == CheckKind::compile);
  CHECK(report.problems.front().rule.empty());
  CHECK(report.problems.front().message.starts_with("user.toml: allowlist regex '('"));
  CHECK(report.examples == 1);  // the rule was checked without it
}

TEST_CASE("a rule with no bound on its length, no keyword or no example is refused", "[rules]") {
  SECTION("a regex with no bound on its length") {
    const auto report = check(rule_file("regex = 'acme_[a-z]+'", "acme_qzmvkrtw"));
    INFO(all_messages(report));
    REQUIRE(report.failures() == 1);
    CHECK(report.problems.front().check == CheckKind::compile);
    CHECK(report.problems.front().rule == "acme.token");
    CHECK(report.problems.front().message.find("no upper bound on its length") != std::string::npos);
  }
  SECTION("a rule without examples") {
    const auto report = check("[[rule]]\nid = 'acme.bare'\nregex = 'acme_[a-z]{8}'\nkeywords = ['acme_']\n");
    REQUIRE(report.failures() == 1);
    CHECK(report.problems[0].check == CheckKind::load);
    CHECK(report.problems[0].rule == "acme.bare");
    CHECK(report.problems[0].message.find("needs at least one example") != std::string::npos);
  }
  SECTION("a rule without keywords") {
    const auto report = check("[[rule]]\nid = 'acme.bare'\nregex = 'acme_[a-z]{8}'\nexamples = ['acme_qzmvkrtw']\n");
    REQUIRE(report.failures() == 1);
    CHECK(report.problems[0].check == CheckKind::load);
    CHECK(report.problems[0].message.find("needs keywords") != std::string::npos);
  }
  SECTION("an example holding none of the keywords") {
    const auto report = check("[[rule]]\nid = 'acme.bare'\nregex = '[a-z]{8}'\nkeywords = ['acme']\n"
                              "examples = ['qzmvkrtw']\n");
    REQUIRE(report.failures() == 1);
    CHECK(report.problems[0].message.find("example 1 holds none of the rule's keywords") != std::string::npos);
  }
}

TEST_CASE("warnings do not fail the check", "[rules]") {
  SECTION("a rule without negative examples") {
    const auto report = check("[[rule]]\nid = 'acme.bare'\nregex = 'acme_[a-z]{8}'\nkeywords = ['acme_']\n"
                              "examples = ['acme_qzmvkrtw']\n");
    REQUIRE(report.problems.size() == 1);
    CHECK(report.warnings() == 1);
    CHECK(report.problems[0].message.find("no negative_examples") != std::string::npos);
  }
  SECTION("an example another rule reports when every rule runs") {
    // github.pat has a validator (its CRC32), so it wins the overlap with a plain regex.
    const auto report = check(rule_file("regex = 'tok (ghp_[A-Za-z0-9]{36})'\nsecret_group = 1\nkeywords = ['tok']",
                                        "tok 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"),
                              builtin_rule_file());
    INFO(all_messages(report));
    REQUIRE(report.problems.size() == 1);
    const auto& p = report.problems.front();
    CHECK(p.level == ProblemLevel::warning);
    CHECK(p.check == CheckKind::shadowed);
    CHECK(p.index == 0);
    CHECK(p.message.find("is reported as github.pat when every rule runs") != std::string::npos);
  }
}

TEST_CASE("an example whose match holds none of the keywords fails: the engine looks only near them", "[rules]") {
  const auto report = check("[[rule]]\nid = 'acme.token'\nregex = 'acme_[a-z]{8}'\nkeywords = ['tok:']\n"
                            "examples = ['tok: acme_qzmvkrtw']\nnegative_examples = ['tok: acme_x']\n");
  INFO(all_messages(report));
  REQUIRE(report.failures() == 1);
  const auto& p = report.problems.front();
  CHECK(p.check == CheckKind::example);
  CHECK(p.index == 0);
  CHECK(p.message.find("its match holds none of the rule's keywords") != std::string::npos);
  CHECK(p.message.find("qzmvkrtw") == std::string::npos);
}
