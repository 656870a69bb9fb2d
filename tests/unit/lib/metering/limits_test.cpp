// lib/metering/limits: the rate limiter, the spend ledger and its freezes, and the estimate a
// request is frozen at.
#include <catch2/catch.hpp>

#include <atomic>
#include <limits>
#include <thread>
#include <vector>

#include "lib/common/clock.h"
#include "lib/metering/limits.h"
#include "lib/metering/prices.h"

using namespace x420::metering;

namespace {

Price price_of(std::string_view model) { return PriceTable::with_builtin_prices().lookup(model).price; }

}  // namespace

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

TEST_CASE("both limits must allow, the longer wait is reported, nothing is taken on refusal") {
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

TEST_CASE("idle keys are forgotten, keys awaiting settle are kept") {
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
