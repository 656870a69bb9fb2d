// lib/metering/prices: list prices by model glob, and the exact cost of a request.
#include <catch2/catch.hpp>

#include <limits>
#include <set>

#include "lib/metering/prices.h"

using namespace x420::metering;

namespace {

Price price_of(std::string_view model) { return PriceTable::with_builtin_prices().lookup(model).price; }

std::string pattern_for(const PriceTable& table, std::string_view model) { return table.lookup(model).pattern; }

}  // namespace

TEST_CASE("a request costs its exact list price in micro-dollars") {
  // gpt-4o: $2.50 in, $1.25 cached, $10 out per million tokens.
  const Price gpt4o = price_of("gpt-4o");
  CHECK(cost_micros(gpt4o, openai_tokens(1000, 0, 500)) == 1000 * 2.5 + 500 * 10);
  // OpenAI's prompt_tokens include the cached ones: 600 full, 400 cached.
  CHECK(cost_micros(gpt4o, openai_tokens(1000, 400, 100)) == 600 * 2.5 + 400 * 1.25 + 100 * 10);
  CHECK(cost_micros(price_of("gpt-4o-mini"), openai_tokens(1'000'000, 0, 0)) == 150'000);
  CHECK(cost_micros(price_of("text-embedding-3-small"), openai_tokens(1'000'000, 0, 0)) == 20'000);
}

TEST_CASE("Anthropic cache reads and both cache-write lifetimes are billed at their own prices") {
  // Sonnet: $3 in, $0.30 read, $3.75 5-minute write, $6 1-hour write, $15 out.
  const Price sonnet = price_of("claude-sonnet-4-20250514");
  const BilledTokens t = anthropic_tokens(100, 1000, 2000, 500, 50);
  CHECK(t.cache_write == 1500);
  CHECK(t.cache_write_1h == 500);
  CHECK(cost_micros(sonnet, t) == 300 + 300 + 1500 * 3.75 + 500 * 6 + 750);
}

TEST_CASE("costs round up once per request, never down") {
  const Price mini = price_of("gpt-4o-mini");  // $0.15 in, $0.60 out
  // One input token is 0.15 micro-dollars: charged 1, not 0.
  CHECK(cost_micros(mini, openai_tokens(1, 0, 0)) == 1);
  // 0.15 + 0.60 = 0.75: one rounding for the request (1), not one per part (2).
  CHECK(cost_micros(mini, openai_tokens(1, 0, 1)) == 1);
  // 7 x 0.15 = 1.05 → 2.
  CHECK(cost_micros(mini, openai_tokens(7, 0, 0)) == 2);
  CHECK(cost_micros(mini, openai_tokens(0, 0, 0)) == 0);
}

TEST_CASE("cost math saturates instead of overflowing and ignores negative counts") {
  const Price opus = price_of("claude-opus-4-20250514");
  const auto max = std::numeric_limits<std::int64_t>::max();
  CHECK(cost_micros(opus, {max, max, max, max, max}) == max);
  CHECK(cost_micros(opus, {-5, -5, -5, -5, -5}) == 0);
  // Large but not overflowing: 1e12 output tokens at $75/M is $75M.
  CHECK(cost_micros(opus, {0, 0, 0, 0, 1'000'000'000'000}) == 75'000'000'000'000);
  // Cached tokens reported above the prompt count are clipped to it.
  CHECK(openai_tokens(10, 50, 0).cached_input == 10);
}

TEST_CASE("the most specific glob prices a model, whatever the table order") {
  const auto table = PriceTable::with_builtin_prices();
  CHECK(pattern_for(table, "gpt-4o-2024-08-06") == "gpt-4o*");
  CHECK(pattern_for(table, "gpt-4o-mini-2024-07-18") == "gpt-4o-mini*");
  CHECK(pattern_for(table, "gpt-4o-2024-05-13") == "gpt-4o-2024-05-13");
  CHECK(pattern_for(table, "gpt-4o-mini-audio-preview") == "gpt-4o-mini-audio*");
  CHECK(pattern_for(table, "o4-mini-deep-research-2025-06-26") == "o4-mini-deep-research*");
  CHECK(pattern_for(table, "o3-mini") == "o3-mini*");
  CHECK(pattern_for(table, "o3-2025-04-16") == "o3*");
  CHECK(pattern_for(table, "gpt-4.1-nano") == "gpt-4.1-nano*");
  CHECK(pattern_for(table, "gpt-4") == "gpt-4");
  CHECK(pattern_for(table, "claude-opus-4-1-20250805") == "claude-opus-4*");
  CHECK(pattern_for(table, "claude-opus-4-5-20251101") == "claude-opus-4-5*");
  CHECK(pattern_for(table, "claude-3-5-haiku-latest") == "claude-3-5-haiku*");
  CHECK(pattern_for(table, "claude-haiku-4-5") == "claude-haiku-4*");
  CHECK(price_of("claude-opus-4-5").output < price_of("claude-opus-4-1").output);
}

TEST_CASE("glob specificity counts literals, half for single-character wildcards") {
  CHECK(glob_specificity("gpt-4o*") == 12);
  CHECK(glob_specificity("*") == 0);
  CHECK(glob_specificity("a?c") == 5);
  CHECK(glob_specificity("[ab]c") == 3);
  CHECK(glob_specificity("[!]x]") == 1);
  CHECK(glob_specificity("[ab") == 6);  // no closing bracket: three literals
  CHECK(glob_specificity("\\*") == 2);
}

TEST_CASE("the built-in table has no duplicate patterns and no negative price") {
  std::set<std::string> seen;
  for (const auto& e : PriceTable::builtin_prices()) {
    CHECK(seen.insert(e.pattern).second);
    CHECK(e.price.input > 0);
    CHECK(e.price.cached_input <= e.price.input);
    CHECK(e.price.output >= 0);
  }
}

TEST_CASE("an unknown model costs the conservative default, so caps still bite") {
  const auto table = PriceTable::with_builtin_prices();
  const auto m = table.lookup("some-new-model");
  CHECK(m.is_default);
  CHECK(m.pattern.empty());
  CHECK(m.price == PriceTable::default_price());
  CHECK(cost_micros(m.price, openai_tokens(1000, 0, 1000)) == 15'000 + 75'000);
  CHECK(PriceTable().lookup("gpt-4o").is_default);  // an empty table knows nothing
}

TEST_CASE("overrides replace a built-in row or add one, and win ties") {
  auto table = PriceTable::with_builtin_prices();
  const Price cheap{1, 1, 1, 1, 1}, local{0, 0, 0, 0, 0};
  REQUIRE(table.add_overrides({{"gpt-4o*", cheap}, {"gpt-4o-mini-2024-07-18", local}, {"*o1", local}}));
  // Same pattern: the built-in row is replaced; narrower built-ins under it stay.
  CHECK(table.lookup("gpt-4o-2024-08-06").price == cheap);
  CHECK(table.lookup("gpt-4o-mini").price == price_of("gpt-4o-mini"));
  // A more specific override beats the built-in glob.
  CHECK(table.lookup("gpt-4o-mini-2024-07-18").price == local);
  // "*o1" and the built-in "o1*" are equally specific: the override wins.
  CHECK(table.lookup("o1").pattern == "*o1");
  // A "*" override prices every unknown model, and only those.
  REQUIRE(table.add_overrides({{"*", local}}));
  CHECK(table.lookup("llama-3.1-8b").price == local);
  CHECK_FALSE(table.lookup("llama-3.1-8b").is_default);
  CHECK(table.lookup("claude-3-haiku-20240307").price == price_of("claude-3-haiku-20240307"));
}

TEST_CASE("among equally specific rows the earlier one wins") {
  PriceTable table;
  REQUIRE(table.add_overrides({{"a*", {1, 1, 1, 1, 1}}, {"*a", {2, 2, 2, 2, 2}}}));
  CHECK(table.lookup("a").pattern == "a*");
}

TEST_CASE("a negative or nameless override is refused and changes nothing") {
  auto table = PriceTable::with_builtin_prices();
  const x420::Status bad = table.add_overrides({{"gpt-4o*", {0, 0, 0, 0, 0}}, {"x*", {1, -1, 1, 1, 1}}});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("'x*'") != std::string::npos);
  CHECK(table.lookup("gpt-4o").price == price_of("gpt-4o"));
  CHECK_FALSE(table.add_overrides({{"", {0, 0, 0, 0, 0}}}));
}
