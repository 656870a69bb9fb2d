// lib/detect/redactor: masking and pseudonymizing findings, the placeholder map and its budget,
// and the restorer fed in chunks.
#include <catch2/catch.hpp>

#include "lib/detect/engine.h"
#include "support/engines.h"
#include "lib/detect/redactor.h"

using namespace x420;
using namespace x420::detect;
using test::build;
using test::builtin_engine;
using test::kGithub;

TEST_CASE("redaction masks or pseudonymizes each span, and the restorer undoes it across chunks") {
  auto e = builtin_engine();
  auto s = e->make_scratch();
  const std::string text = "use " + kGithub + " and " + kGithub + " please";
  const auto found = e->scan(text, *s);
  REQUIRE(found.size() == 2);
  CHECK(redact(text, found, *e, RedactMode::mask, nullptr, nullptr).text ==
        "use [REDACTED:github.pat] and [REDACTED:github.pat] please");

  Pseudonymizer p(crypto::SecretBytes(reinterpret_cast<const std::uint8_t*>("0123456789abcdef0123456789abcdef"), 32));
  PlaceholderMap map;
  const auto red = redact(text, found, *e, RedactMode::pseudonymize, &p, &map);
  CHECK(red.replaced == 2);
  CHECK(map.size() == 1);
  CHECK(red.text.find(kGithub) == std::string::npos);
  const auto placeholder = map.entries().begin()->first;
  CHECK(placeholder.starts_with("X420_REDACTED_github_pat_"));
  CHECK(placeholder.size() == std::string("X420_REDACTED_github_pat_").size() + 8);

  for (std::size_t cut = 0; cut <= red.text.size(); ++cut) {
    Restorer r(map);
    std::string out = r.feed(std::string_view(red.text).substr(0, cut));
    out += r.feed(std::string_view(red.text).substr(cut));
    out += r.finish();
    INFO("cut at " << cut);
    REQUIRE(out == text);
  }
}

TEST_CASE("the restorer escapes for JSON strings and leaves unknown placeholders alone") {
  PlaceholderMap map;
  map.add("X420_REDACTED_generic_password_0a1b2c3d", "p\"w\\d\n");
  CHECK(restore("{\"a\":\"X420_REDACTED_generic_password_0a1b2c3d\"}", map, Restorer::Escape::json_string) ==
        "{\"a\":\"p\\\"w\\\\d\\n\"}");
  CHECK(restore("X420_REDACTED_generic_password_0a1b2c3d_suffix", map) == "p\"w\\d\n_suffix");
  CHECK(restore("X420_REDACTED_other_rule_ffffffff stays", map) == "X420_REDACTED_other_rule_ffffffff stays");
  CHECK(restore("partial X420_REDAC", map) == "partial X420_REDAC");
}

TEST_CASE("placeholder mappings age out by generations unless used again") {
  PlaceholderMap map;
  REQUIRE(map.add("X420_REDACTED_a_00000001", "first"));
  REQUIRE(map.add("X420_REDACTED_b_00000002", "second"));
  map.next_generation();  // both now in the previous generation: still restored
  CHECK(map.size() == 2);
  CHECK(*map.find("X420_REDACTED_a_00000001") == "first");
  REQUIRE(map.add("X420_REDACTED_a_00000001", "first"));  // seen again: young again
  CHECK_FALSE(map.add("X420_REDACTED_b_00000002", "other"));  // a placeholder never changes meaning
  map.next_generation();
  CHECK(map.find("X420_REDACTED_a_00000001") != nullptr);
  CHECK(map.find("X420_REDACTED_b_00000002") == nullptr);  // unused for two generations: gone
  map.next_generation();
  CHECK(map.size() == 0);
}

TEST_CASE("the placeholder map keeps within its budget, forgetting the least recently used") {
  PlaceholderMap by_count(PlaceholderMap::Budget{.max_entries = 3, .max_bytes = 1 << 20});
  for (int i = 0; i < 5; ++i) REQUIRE(by_count.add("X420_REDACTED_a_0000000" + std::to_string(i), "secret" + std::to_string(i)));
  CHECK(by_count.size() == 3);
  CHECK(by_count.evicted() == 2);
  CHECK(by_count.find("X420_REDACTED_a_00000000") == nullptr);
  REQUIRE(by_count.add("X420_REDACTED_a_00000002", "secret2"));  // used again: now the most recent
  REQUIRE(by_count.add("X420_REDACTED_a_00000009", "secret9"));
  CHECK(by_count.find("X420_REDACTED_a_00000002") != nullptr);
  CHECK(by_count.find("X420_REDACTED_a_00000003") == nullptr);

  const std::size_t per_entry = 24 + 100 + PlaceholderMap::kEntryOverhead;
  PlaceholderMap by_bytes(PlaceholderMap::Budget{.max_entries = 1000, .max_bytes = 10 * per_entry});
  for (int i = 0; i < 100; ++i) by_bytes.add("X420_REDACTED_b_" + std::to_string(10000000 + i), std::string(100, 'x'));
  CHECK(by_bytes.size() == 10);
  CHECK(by_bytes.bytes() <= 10 * per_entry);
  CHECK(by_bytes.entries().front().first == "X420_REDACTED_b_10000099");
}
