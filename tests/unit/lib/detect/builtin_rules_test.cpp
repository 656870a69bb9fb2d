// lib/detect/builtin_rules (rules/builtin.toml, compiled in by builtin_rules.cpp.in).
// Every built-in rule carries its own examples: each positive must be found by that rule, each
// negative must not, and the whole set must still find each positive when all rules compete.
#include <catch2/catch.hpp>

#include <map>

#include "lib/detect/engine.h"

using namespace x420;
using namespace x420::detect;

namespace {

std::unique_ptr<Engine> engine_for(std::vector<Rule> rules) {
  EngineConfig config;
  config.rules = std::move(rules);
  config.allowlist = builtin_rule_file().allowlist;
  auto engine = Engine::build(std::move(config));
  if (!engine) FAIL(engine.error().message);
  return std::move(engine.value());
}

}  // namespace

TEST_CASE("the built-in rule file parses and is large enough") {
  const auto& file = builtin_rule_file();
  CHECK(file.rules.size() >= 150);
  for (const auto& r : file.rules) {
    INFO(r.id);
    CHECK_FALSE(r.description.empty());
    // The engine tries a rule only around its keywords; cards and IBANs hold no literal and are
    // found by a dedicated scanner, personal data (a codice fiscale) by their regex.
    if (r.validator != Validator::luhn && r.validator != Validator::iban_mod97 && r.data_class != DataClass::personal)
      CHECK_FALSE(r.keywords.empty());
    CHECK_FALSE(r.examples.empty());
    CHECK_FALSE(r.negative_examples.empty());
  }
}

TEST_CASE("each built-in rule finds its examples and none of its negative examples") {
  for (const auto& rule : builtin_rule_file().rules) {
    auto engine = engine_for({rule});
    auto scratch = engine->make_scratch();
    for (const auto& example : rule.examples) {
      INFO("rule " << rule.id << " should find: " << example);
      CHECK_FALSE(engine->scan(example, *scratch).empty());
    }
    for (const auto& example : rule.negative_examples) {
      INFO("rule " << rule.id << " should not find: " << example);
      CHECK(engine->scan(example, *scratch).empty());
    }
  }
}

TEST_CASE("with every rule competing, each example is still found") {
  auto engine = engine_for(builtin_rule_file().rules);
  auto scratch = engine->make_scratch();
  for (const auto& rule : builtin_rule_file().rules)
    for (const auto& example : rule.examples) {
      INFO("rule " << rule.id << " example: " << example);
      CHECK_FALSE(engine->scan(example, *scratch).empty());
    }
}
