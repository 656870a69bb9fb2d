// What a key may use before a request is forwarded: requests and tokens per minute (RateLimiter),
// spend against a cap with freezes settled after the reply (SpendLedger), and the request's
// worst case that both are charged up front (estimate_request). DESIGN.md, "Metering".
//
// The interfaces are the seam for scale-out: these in-memory implementations serve one process;
// a Redis-backed one (a Lua script per call, the same state per key) replaces them when several
// replicas share limits. Both keep every decision in one atomic step per call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "lib/common/clock.h"
#include "lib/metering/prices.h"

namespace x420::metering {

// ---- Rate limits -------------------------------------------------------------------------------

struct Decision {
  enum class Limit { none, requests, tokens };

  bool allowed = true;
  // When refused: the whole seconds after which the same request would be allowed if nothing
  // else arrived first — the Retry-After header. At least 1.
  std::int64_t retry_after_seconds = 0;
  Limit limited_by = Limit::none;  // the limit that asked for the longer wait
};

// Requests per minute and tokens per minute, per key.
//
// A token bucket per key and limit, not a sliding log: a limit of N per minute holds N and refills
// continuously at N/60 per second. This is the algorithm Anthropic documents for its own limits
// (https://docs.anthropic.com/en/api/rate-limits), so a client's backoff behaves the same through
// x420; it needs two integers per bucket, whatever N is (a sliding log keeps up to N timestamps
// per key), and it maps onto one Redis hash and one script. The price: a full bucket lets a burst
// of N through at once, and the sustained rate is N per minute.
//
// A request whose estimate exceeds the whole tpm limit (Claude Code sends max_tokens 32000) is
// not refused forever: it is let through once the bucket is full and leaves it in debt, which
// later requests wait off. So the long-run rate still holds, and settle() refunds the unused part.
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;

  // Checks both limits and, only when both allow, takes one request and `estimated_tokens` from
  // them. An absent limit is not checked; a limit of 0 or less refuses everything (fail closed:
  // the store validates limits as positive, so this means a broken row).
  virtual Decision check_and_reserve(std::string_view key_id, std::optional<std::int64_t> rpm_limit,
                                     std::optional<std::int64_t> tpm_limit,
                                     std::int64_t estimated_tokens, Millis now_ms) = 0;

  // After the reply (or its failure: actual 0 when nothing was generated): corrects the tokens
  // reserved by an allowed check_and_reserve to the count the upstream reported — a refund when
  // fewer, a debt when more. Call it exactly once per allowed request that had a tpm limit.
  virtual void settle(std::string_view key_id, std::int64_t reserved_tokens,
                      std::int64_t actual_tokens, Millis now_ms) = 0;
};

class InMemoryRateLimiter final : public RateLimiter {
 public:
  Decision check_and_reserve(std::string_view key_id, std::optional<std::int64_t> rpm_limit,
                             std::optional<std::int64_t> tpm_limit, std::int64_t estimated_tokens,
                             Millis now_ms) override;
  void settle(std::string_view key_id, std::int64_t reserved_tokens, std::int64_t actual_tokens,
              Millis now_ms) override;

  // Keys currently tracked (for tests and /metrics). Memory is bounded by the keys active in the
  // last minute: a key whose buckets are full again and that has no reservation awaiting settle
  // is indistinguishable from a new one and is forgotten by a sweep once a minute. (Only
  // authenticated key ids reach the limiter, so a client cannot mint entries.)
  std::size_t tracked_keys() const;

 private:
  // A minute's worth of refill is `limit` x 60000 in these units, so one millisecond adds exactly
  // `limit` and every wait is an integer division: no rounding drifts a bucket.
  struct Bucket {
    std::int64_t level = 0;  // units x 60000; negative while in debt
    std::int64_t limit = 0;  // per minute; 0 until first used
    Millis updated = 0;
  };
  struct Entry {
    Bucket requests;
    Bucket tokens;
    std::int64_t unsettled = 0;  // allowed reservations with a tpm limit, not yet settled
    Millis last_used = 0;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  void sweep(Millis now_ms);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;
  Millis last_sweep_ = 0;
};

// ---- Spend caps ----------------------------------------------------------------------------------

// One freeze: the worst-case cost held against a cap while a request is in flight.
struct FreezeId {
  std::uint64_t value = 0;
  friend bool operator==(FreezeId, FreezeId) = default;
};

// Spend per account — a key id; a tenant's balance is a second account ("tenant:ID") frozen after
// the key's, and the key's freeze released if the tenant's is refused.
//
// The cap holds across concurrent requests because the check and the hold are one step: a
// request is admitted only if   spent + frozen + amount <= cap,   where `frozen` is the sum of the
// freezes in flight. "spent" is the larger of the caller's `already_spent_micros` (the store's sum
// of usage rows) and what this ledger has seen: the first spent it was given for the account plus
// every actual settled here since. So a settled cost counts at once, even while its usage row is
// still queued for the store, and is never counted twice once the row lands.
class SpendLedger {
 public:
  virtual ~SpendLedger() = default;

  // Holds `amount_micros` against the account, or refuses (nullopt: HTTP 402) when the cap cannot
  // cover it. With no cap, always holds: the freeze still carries the cost to settle().
  virtual std::optional<FreezeId> freeze(std::string_view key_id,
                                         std::optional<std::int64_t> cap_micros,
                                         std::int64_t already_spent_micros,
                                         std::int64_t amount_micros) = 0;

  // Ends a freeze with the cost the reply actually had, which counts as spent from now on (it may
  // exceed the frozen amount: the upstream did the work; the next freeze then sees the cap
  // reached). False, changing nothing, for an unknown or already ended freeze.
  virtual bool settle(FreezeId id, std::int64_t actual_micros) = 0;

  // Ends a freeze that cost nothing (the request failed before the upstream billed anything).
  virtual bool release(FreezeId id) = 0;

  // Whether the ledger still remembers the account's spend, so the caller may skip reading it
  // from the store (and pass 0 as already_spent_micros).
  virtual bool knows(std::string_view account) const = 0;
};

class InMemorySpendLedger final : public SpendLedger {
 public:
  // An account with no freeze in flight is forgotten after `retention_ms` without use; it must
  // outlast the store's write-behind of usage rows, so that what was settled here is in
  // already_spent_micros by then. A restart forgets every freeze, as DESIGN.md asks of a crash.
  explicit InMemorySpendLedger(const Clock& clock, Millis retention_ms = 10 * 60 * 1000);

  std::optional<FreezeId> freeze(std::string_view key_id, std::optional<std::int64_t> cap_micros,
                                 std::int64_t already_spent_micros,
                                 std::int64_t amount_micros) override;
  bool settle(FreezeId id, std::int64_t actual_micros) override;
  bool release(FreezeId id) override;
  bool knows(std::string_view account) const override;

  struct Account {
    std::int64_t frozen_micros = 0;   // held by freezes in flight
    std::int64_t settled_micros = 0;  // settled here since the account was (re)created
    std::size_t open_freezes = 0;
  };
  Account account(std::string_view key_id) const;  // all zero for an unknown account
  std::size_t tracked_accounts() const;

 private:
  struct Entry {
    std::int64_t first_spent = 0;  // already_spent_micros when the entry was created
    Account account;
    Millis last_used = 0;
  };
  struct Open {
    std::string key_id;
    std::int64_t amount = 0;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  bool end(FreezeId id, std::int64_t actual_micros);
  void sweep(Millis now_ms);

  const Clock& clock_;
  const Millis retention_ms_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;
  std::unordered_map<std::uint64_t, Open> open_;
  std::uint64_t next_id_ = 1;
  Millis last_sweep_ = 0;
};

// A freeze that ends itself: released on destruction unless settled, so that every early return
// of the request path (an upstream error, a client that went away) gives the headroom back.
class Freeze {
 public:
  Freeze() = default;
  Freeze(SpendLedger& ledger, FreezeId id) : ledger_(&ledger), id_(id) {}
  Freeze(Freeze&& other) noexcept : ledger_(other.ledger_), id_(other.id_) { other.ledger_ = nullptr; }
  Freeze& operator=(Freeze&& other) noexcept;
  Freeze(const Freeze&) = delete;
  Freeze& operator=(const Freeze&) = delete;
  ~Freeze() { release(); }

  bool active() const { return ledger_ != nullptr; }
  FreezeId id() const { return id_; }
  void settle(std::int64_t actual_micros);  // no-op once ended
  void release();                           // no-op once ended

 private:
  SpendLedger* ledger_ = nullptr;
  FreezeId id_;
};

// ---- The worst case of a request ---------------------------------------------------------------

inline constexpr std::int64_t kDefaultMaxOutputTokens = 4096;

struct RequestEstimate {
  std::int64_t input_tokens = 0;       // ceil(bytes / 4)
  std::int64_t max_output_tokens = 0;  // the request's own limit, or the default
  std::int64_t total() const { return input_tokens + max_output_tokens; }
};

// The estimate frozen and reserved before forwarding; settle() corrects both from the usage.
//
// Takes the body's size and its already extracted output limit, not the body: the proxy parses
// each body once, after the bounded walk of detect/json_body.h has validated it, and reads the
// limit from that document — a second parser here would be a second attack surface. The limit is
// the largest of the top-level integers `max_tokens` (Anthropic; OpenAI legacy),
// `max_completion_tokens` (OpenAI chat) and `max_output_tokens` (OpenAI Responses) present;
// absent, 0 or negative means `default_max_output_tokens` (4096; pass 0 for embeddings, which
// generate nothing, or a model's real maximum to be strict — OpenAI's own default is the model's
// maximum).
//
// bytes/4 is the usual rule of thumb for English, not a bound: dense text (CJK, random strings)
// can run nearer a token per byte, so a cap can be overshot by one request's underestimate.
// It also counts base64 media at its size, which overestimates images by far; the caller may pass
// the size without those payloads.
RequestEstimate estimate_request(std::size_t body_bytes, std::optional<std::int64_t> max_output_tokens,
                                 std::int64_t default_max_output_tokens = kDefaultMaxOutputTokens);

// The estimate as tokens to price: every input token at the full input price (no cache discount
// assumed), every output token allowed.
BilledTokens worst_case_tokens(const RequestEstimate& estimate);

}  // namespace x420::metering
