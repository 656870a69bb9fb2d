// A flow, not a module: the engine with the built-in rules, measured on a labelled corpus. It is
// about the quality of the rule set as a whole, so it sits beside builtin_rules_test.cpp in a file
// of its own (it reads ../shared and prints figures).
//
// Detection quality on the labelled development corpus (../shared/corpus/secrets-dev.jsonl):
// recall on the samples holding a secret must be at least 95 %, and at most 3 % of the samples
// holding none may be flagged. Prints both figures and every miss, so a change in quality shows.
// Some samples labelled secret hold a placeholder (`aaaa…`, `ABCDEFGHIJ…`, `123456789012`,
// `xoxb-…-xxxx…`), which x420 leaves out by design (lib/detect/placeholder.h): they are
// counted apart, and recall is over the rest.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "lib/detect/engine.h"

using namespace x420::detect;

TEST_CASE("detection meets recall and false-positive targets on the development corpus") {
  const std::string path = std::string(X420_SHARED_DIR) + "/corpus/secrets-dev.jsonl";
  std::ifstream in(path);
  if (!in) {
    // Outside CI a clone may not have shared/ beside it; in CI it must be there.
    const char* ci = std::getenv("CI");
    if (ci && std::string(ci) == "true") FAIL("corpus missing: " << path);
    WARN("corpus not found at " << path << "; skipping the quality check");
    return;
  }
  EngineConfig config;
  config.rules = builtin_rule_file().rules;
  config.allowlist = builtin_rule_file().allowlist;
  auto engine = Engine::build(std::move(config));
  REQUIRE(engine.ok());
  auto scratch = engine.value()->make_scratch();
  EngineConfig with_placeholders;
  with_placeholders.rules = builtin_rule_file().rules;
  with_placeholders.allowlist = builtin_rule_file().allowlist;
  with_placeholders.report_placeholders = true;
  auto permissive = Engine::build(std::move(with_placeholders));
  REQUIRE(permissive.ok());
  auto permissive_scratch = permissive.value()->make_scratch();

  int positives = 0, found = 0, negatives = 0, flagged = 0, placeholders = 0;
  std::string misses, false_positives;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto sample = nlohmann::json::parse(line);
    const std::string text = sample.at("text");
    const bool secret = sample.at("expect") == "secret";
    const auto findings = engine.value()->scan(text, *scratch);
    if (secret) {
      if (findings.empty() && !permissive.value()->scan(text, *permissive_scratch).empty()) {
        ++placeholders;  // found only when placeholders are reported: one
        continue;
      }
      ++positives;
      if (!findings.empty()) ++found;
      else misses += "  miss  " + sample.at("rule").get<std::string>() + "  " +
                     nlohmann::json(text.substr(0, 120)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    } else {
      ++negatives;
      if (!findings.empty()) {
        ++flagged;
        false_positives += "  fp    " + sample.at("rule").get<std::string>() + " -> " +
                           engine.value()->rule(findings.front().rule).id + "  " +
                           nlohmann::json(text.substr(0, 120)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      }
    }
  }
  const double recall = 100.0 * found / positives;
  const double fp_rate = 100.0 * flagged / negatives;
  std::cout << "corpus: recall " << recall << "% (" << found << "/" << positives
            << "), false positives " << fp_rate << "% (" << flagged << "/" << negatives << "); "
            << placeholders << " samples labelled secret are placeholders, left out\n"
            << misses << false_positives;
  CHECK(positives > 0);
  CHECK(recall >= 95.0);
  CHECK(fp_rate <= 3.0);
}
