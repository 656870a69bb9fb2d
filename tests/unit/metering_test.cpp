#include <catch2/catch.hpp>

#include <atomic>
#include <limits>
#include <set>
#include <thread>
#include <vector>

#include "lib/metering/limits.h"
#include "lib/common/clock.h"
#include "lib/metering/prices.h"

using namespace x420::metering;

namespace {

Price price_of(std::string_view model) { return PriceTable::with_builtin_prices().lookup(model).price; }

std::string pattern_for(const PriceTable& table, std::string_view model) { return table.lookup(model).pattern; }

}  // namespace

// ---- Prices -------------------------------------------------------------------------------------

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

// ---- Rate limits --------------------------------------------------------------------------------

TEST_CASE("rpm allows a full minute's burst, then refuses with the wait until the next slot") {
  InMemoryRateLimiter limiter;
  for (int i = 0; i < 3; ++i) CHECK(limiter.check_and_reserve("k", 3, std::nullopt, 0, 0).allowed);
  const Decision refused = limiter.check_and_reserve("k", 3, std::nullopt, 0, 0);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.limited_by == Decision::Limit::requests);
  CHECK(refused.retry_after_seconds == 20);  // 3 per minute: one slot every 20 s
  // Another key has its own bucket.
  CHECK(limiter.check_and_reserve("other", 3, std::nullopt, 0, 0).allowed);
}

TEST_CASE("the window slides: a slot comes back exactly when Retry-After said") {
  InMemoryRateLimiter limiter;
  for (int i = 0; i < 3; ++i) REQUIRE(limiter.check_and_reserve("k", 3, std::nullopt, 0, 0).allowed);
  const Decision almost = limiter.check_and_reserve("k", 3, std::nullopt, 0, 19'999);
  CHECK_FALSE(almost.allowed);
  CHECK(almost.retry_after_seconds == 1);  // rounded up, never 0
  CHECK(limiter.check_and_reserve("k", 3, std::nullopt, 0, 20'000).allowed);
  CHECK_FALSE(limiter.check_and_reserve("k", 3, std::nullopt, 0, 20'000).allowed);
  // A full minute idle refills the whole burst, and no more.
  for (int i = 0; i < 3; ++i) CHECK(limiter.check_and_reserve("k", 3, std::nullopt, 0, 200'000).allowed);
  CHECK_FALSE(limiter.check_and_reserve("k", 3, std::nullopt, 0, 200'000).allowed);
}

TEST_CASE("Retry-After rounds the wait up to whole seconds") {
  InMemoryRateLimiter limiter;
  for (int i = 0; i < 7; ++i) REQUIRE(limiter.check_and_reserve("k", 7, std::nullopt, 0, 0).allowed);
  const Decision d = limiter.check_and_reserve("k", 7, std::nullopt, 0, 0);
  CHECK(d.retry_after_seconds == 9);  // 60/7 s = 8.57 s
  CHECK_FALSE(limiter.check_and_reserve("k", 7, std::nullopt, 0, 8'571).allowed);
  CHECK(limiter.check_and_reserve("k", 7, std::nullopt, 0, 8'572).allowed);
}

TEST_CASE("tpm reserves the estimate and settle corrects it to the actual count") {
  InMemoryRateLimiter limiter;
  REQUIRE(limiter.check_and_reserve("k", std::nullopt, 1000, 800, 0).allowed);
  const Decision refused = limiter.check_and_reserve("k", std::nullopt, 1000, 300, 0);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.limited_by == Decision::Limit::tokens);
  CHECK(refused.retry_after_seconds == 6);  // 100 tokens short at 1000/min
  // The reply used 100 of the 800 reserved: 700 come back.
  limiter.settle("k", 800, 100, 0);
  REQUIRE(limiter.check_and_reserve("k", std::nullopt, 1000, 300, 0).allowed);
  // This one used 1300 of 300: the key owes 400 and waits it off, even for an empty request.
  limiter.settle("k", 300, 1300, 0);
  const Decision in_debt = limiter.check_and_reserve("k", std::nullopt, 1000, 0, 0);
  CHECK_FALSE(in_debt.allowed);
  CHECK(in_debt.retry_after_seconds == 24);
  CHECK(limiter.check_and_reserve("k", std::nullopt, 1000, 0, 24'000).allowed);
}

TEST_CASE("a request larger than the whole tpm limit passes only on a full bucket, then waits off its debt") {
  InMemoryRateLimiter limiter;
  REQUIRE(limiter.check_and_reserve("k", std::nullopt, 1000, 1, 0).allowed);
  limiter.settle("k", 1, 1, 0);
  // Not full (one token short): the big request waits for the bucket to fill.
  const Decision wait = limiter.check_and_reserve("k", std::nullopt, 1000, 5000, 0);
  CHECK_FALSE(wait.allowed);
  CHECK(wait.retry_after_seconds == 1);
  REQUIRE(limiter.check_and_reserve("k", std::nullopt, 1000, 5000, 60).allowed);
  const Decision owed = limiter.check_and_reserve("k", std::nullopt, 1000, 10, 60);
  CHECK_FALSE(owed.allowed);
  CHECK(owed.retry_after_seconds == 241);  // 4010 tokens at 1000/min
  // It used 200: the refund leaves 800.
  limiter.settle("k", 5000, 200, 60);
  CHECK(limiter.check_and_reserve("k", std::nullopt, 1000, 800, 60).allowed);
}

TEST_CASE("both limits must allow; the longer wait is reported; nothing is taken on refusal") {
  InMemoryRateLimiter limiter;
  REQUIRE(limiter.check_and_reserve("k", 60, 1000, 1000, 0).allowed);
  const Decision d = limiter.check_and_reserve("k", 60, 1000, 500, 0);
  CHECK_FALSE(d.allowed);
  CHECK(d.limited_by == Decision::Limit::tokens);
  CHECK(d.retry_after_seconds == 30);
  // The refused request took no request slot: 59 remain.
  for (int i = 0; i < 59; ++i) CHECK(limiter.check_and_reserve("k", 60, std::nullopt, 0, 0).allowed);
  CHECK_FALSE(limiter.check_and_reserve("k", 60, std::nullopt, 0, 0).allowed);
}

TEST_CASE("a zero or negative limit refuses, an absent one does not limit") {
  InMemoryRateLimiter limiter;
  CHECK_FALSE(limiter.check_and_reserve("k", 0, std::nullopt, 0, 0).allowed);
  CHECK(limiter.check_and_reserve("k", 0, std::nullopt, 0, 0).retry_after_seconds == 60);
  CHECK_FALSE(limiter.check_and_reserve("k", std::nullopt, -1, 0, 0).allowed);
  for (int i = 0; i < 1000; ++i) REQUIRE(limiter.check_and_reserve("free", std::nullopt, std::nullopt, 1'000'000, 0).allowed);
  CHECK(limiter.tracked_keys() == 1);  // "free" was never tracked
}

TEST_CASE("idle keys are forgotten; keys awaiting settle are kept") {
  InMemoryRateLimiter limiter;
  for (int i = 0; i < 100; ++i) REQUIRE(limiter.check_and_reserve("k" + std::to_string(i), 10, std::nullopt, 0, 0).allowed);
  REQUIRE(limiter.check_and_reserve("pending", std::nullopt, 1000, 10, 0).allowed);
  CHECK(limiter.tracked_keys() == 101);
  // Two minutes later every bucket is full again.
  REQUIRE(limiter.check_and_reserve("now", 10, std::nullopt, 0, 120'000).allowed);
  CHECK(limiter.tracked_keys() == 2);  // "now" and "pending"
  limiter.settle("pending", 10, 10, 120'000);
  REQUIRE(limiter.check_and_reserve("now", 10, std::nullopt, 0, 240'000).allowed);
  CHECK(limiter.tracked_keys() == 1);
}

// ---- Spend caps ---------------------------------------------------------------------------------

TEST_CASE("a freeze is refused when spent + frozen + amount would pass the cap") {
  x420::ManualClock clock;
  InMemorySpendLedger ledger(clock);
  const auto a = ledger.freeze("k", 1000, 200, 500);
  REQUIRE(a);
  CHECK_FALSE(ledger.freeze("k", 1000, 200, 301));
  const auto b = ledger.freeze("k", 1000, 200, 300);  // exactly at the cap
  REQUIRE(b);
  CHECK_FALSE(ledger.freeze("k", 1000, 200, 1));
  CHECK(ledger.account("k").frozen_micros == 800);
  CHECK(ledger.account("k").open_freezes == 2);
  // Another key, another cap.
  CHECK(ledger.freeze("other", 1000, 0, 1000));
}

TEST_CASE("settle and release give back the headroom a freeze held") {
  x420::ManualClock clock;
  InMemorySpendLedger ledger(clock);
  const auto a = ledger.freeze("k", 1000, 200, 500);
  const auto b = ledger.freeze("k", 1000, 200, 300);
  REQUIRE((a && b));
  // The reply cost 100 of the 500 frozen: spent 300, frozen 300.
  REQUIRE(ledger.settle(*a, 100));
  CHECK(ledger.account("k").settled_micros == 100);
  CHECK_FALSE(ledger.freeze("k", 1000, 200, 401));
  // The store catches up (already spent 300): the settled 100 is not counted twice.
  const auto c = ledger.freeze("k", 1000, 300, 400);
  REQUIRE(c);
  REQUIRE(ledger.release(*b));
  REQUIRE(ledger.release(*c));
  CHECK(ledger.freeze("k", 1000, 300, 700));
  // Ending a freeze twice does nothing.
  CHECK_FALSE(ledger.settle(*a, 100));
  CHECK_FALSE(ledger.release(*b));
  CHECK(ledger.account("k").settled_micros == 100);
}

TEST_CASE("a settle over the frozen amount counts in full and closes the cap") {
  x420::ManualClock clock;
  InMemorySpendLedger ledger(clock);
  const auto a = ledger.freeze("k", 1000, 0, 100);
  REQUIRE(a);
  REQUIRE(ledger.settle(*a, 1200));
  CHECK_FALSE(ledger.freeze("k", 1000, 0, 0));
}

TEST_CASE("with no cap a freeze always holds and still records the cost") {
  x420::ManualClock clock;
  InMemorySpendLedger ledger(clock);
  const auto a = ledger.freeze("k", std::nullopt, 1'000'000'000, 1'000'000'000);
  REQUIRE(a);
  REQUIRE(ledger.settle(*a, 42));
  CHECK(ledger.account("k").settled_micros == 42);
}

TEST_CASE("a Freeze releases itself unless settled") {
  x420::ManualClock clock;
  InMemorySpendLedger ledger(clock);
  {
    Freeze held(ledger, *ledger.freeze("k", 1000, 0, 1000));
    CHECK_FALSE(ledger.freeze("k", 1000, 0, 1));
    Freeze moved = std::move(held);
    CHECK_FALSE(held.active());
    CHECK(moved.active());
  }
  CHECK(ledger.account("k").frozen_micros == 0);
  {
    Freeze held(ledger, *ledger.freeze("k", 1000, 0, 1000));
    held.settle(250);
    CHECK_FALSE(held.active());
  }
  CHECK(ledger.account("k").settled_micros == 250);
  CHECK(ledger.freeze("k", 1000, 0, 750));
}

TEST_CASE("an idle account is forgotten after the retention, one with a freeze is not") {
  x420::ManualClock clock;
  InMemorySpendLedger ledger(clock, 10 * 60 * 1000);
  const auto a = ledger.freeze("idle", 1000, 0, 100);
  REQUIRE(a);
  REQUIRE(ledger.settle(*a, 100));
  REQUIRE(ledger.freeze("busy", 1000, 0, 100));
  clock.advance_ms(10 * 60 * 1000);
  REQUIRE(ledger.freeze("new", 1000, 0, 1));
  CHECK(ledger.tracked_accounts() == 2);  // "busy" and "new"
  CHECK(ledger.account("idle").settled_micros == 0);
  CHECK(ledger.account("busy").frozen_micros == 100);
}

TEST_CASE("concurrent freezes from four threads never pass the cap") {
  x420::ManualClock clock;
  InMemorySpendLedger ledger(clock);
  constexpr std::int64_t kCap = 1'000'000;
  std::atomic<std::int64_t> settled{0};
  std::atomic<bool> over_cap{false};
  std::atomic<int> done{0};

  auto worker = [&](int seed) {
    std::uint32_t x = 2463534242u + seed;
    for (int i = 0; i < 5000; ++i) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;  // xorshift: cheap, deterministic per thread
      const std::int64_t amount = 1 + x % 1000;
      const auto id = ledger.freeze("k", kCap, 0, amount);
      if (!id) continue;
      if (x % 3 == 0) {
        ledger.release(*id);
      } else {
        const std::int64_t actual = amount - static_cast<std::int64_t>(x % 7);  // at most the frozen amount
        ledger.settle(*id, std::max<std::int64_t>(actual, 0));
        settled += std::max<std::int64_t>(actual, 0);
      }
    }
    ++done;
  };
  auto watcher = [&] {
    while (done < 4) {
      const auto acc = ledger.account("k");
      if (acc.settled_micros + acc.frozen_micros > kCap) over_cap = true;
    }
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back(worker, t);
  threads.emplace_back(watcher);
  for (auto& t : threads) t.join();

  const auto acc = ledger.account("k");
  CHECK_FALSE(over_cap);
  CHECK(acc.frozen_micros == 0);
  CHECK(acc.open_freezes == 0);
  CHECK(acc.settled_micros == settled.load());
  CHECK(acc.settled_micros <= kCap);
  CHECK(acc.settled_micros > kCap - 1000);  // the cap was reached, not merely approached
}

// ---- Estimates ----------------------------------------------------------------------------------

TEST_CASE("the input estimate is a quarter of the body's bytes, rounded up") {
  CHECK(estimate_request(0, std::nullopt).input_tokens == 0);
  CHECK(estimate_request(1, std::nullopt).input_tokens == 1);
  CHECK(estimate_request(4, std::nullopt).input_tokens == 1);
  CHECK(estimate_request(5, std::nullopt).input_tokens == 2);
}

TEST_CASE("the output estimate is the request's own limit, else the default") {
  CHECK(estimate_request(100, 32000).max_output_tokens == 32000);
  CHECK(estimate_request(100, std::nullopt).max_output_tokens == kDefaultMaxOutputTokens);
  CHECK(estimate_request(100, 0).max_output_tokens == kDefaultMaxOutputTokens);
  CHECK(estimate_request(100, -5).max_output_tokens == kDefaultMaxOutputTokens);
  CHECK(estimate_request(100, std::nullopt, 0).max_output_tokens == 0);  // embeddings
  CHECK(estimate_request(100, 1000).total() == 1025);
}

TEST_CASE("the frozen amount is the worst case: full input price, every output token") {
  const auto est = estimate_request(4000, 1000);
  CHECK(cost_micros(price_of("gpt-4o"), worst_case_tokens(est)) == 1000 * 2.5 + 1000 * 10);
}
