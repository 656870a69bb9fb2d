#include "lib/metering/limits.h"

#include <algorithm>
#include <limits>

#include "lib/common/money.h"

namespace x420::metering {
namespace {

constexpr Millis kWindowMs = 60'000;
// Counts beyond any real limit or request are clamped here, so that a level (count x 60000)
// and a debt of a few such counts stay far inside int64.
constexpr std::int64_t kMaxCount = 1'000'000'000'000;          // 1e12
constexpr std::int64_t kDebtFloor = -10 * kMaxCount * kWindowMs;  // -6e17
constexpr Millis kForgetAfterMs = 60 * 60 * 1000;  // even with a reservation never settled (a bug)

std::int64_t clamp_count(std::int64_t n) { return std::clamp<std::int64_t>(n, 0, kMaxCount); }

}  // namespace

// ---- InMemoryRateLimiter ------------------------------------------------------------------------

namespace {

// Brings a bucket to `now` at `limit` per minute. A bucket seen for the first time starts full;
// a lowered limit clips the level to the new capacity. A clock that steps back refills nothing.
template <class Bucket>
void refill(Bucket& b, std::int64_t limit, Millis now) {
  const std::int64_t capacity = limit * kWindowMs;
  if (b.limit == 0) {
    b = Bucket{capacity, limit, now};
    return;
  }
  b.limit = limit;
  if (now > b.updated) {
    const Millis elapsed = now - b.updated;
    const std::int64_t to_full = b.level >= capacity ? 0 : (capacity - b.level + limit - 1) / limit;
    b.level = elapsed >= to_full ? capacity : b.level + elapsed * limit;
    b.updated = now;
  }
  b.level = std::min(b.level, capacity);
}

// Milliseconds until the bucket holds `need`; 0 if it does now.
template <class Bucket>
Millis wait_ms(const Bucket& b, std::int64_t need) {
  return b.level >= need ? 0 : (need - b.level + b.limit - 1) / b.limit;
}

template <class Bucket>
bool full(Bucket& b, Millis now) {
  if (b.limit == 0) return true;
  refill(b, b.limit, now);
  return b.level >= b.limit * kWindowMs;
}

}  // namespace

Decision InMemoryRateLimiter::check_and_reserve(std::string_view key_id,
                                                std::optional<std::int64_t> rpm_limit,
                                                std::optional<std::int64_t> tpm_limit,
                                                std::int64_t estimated_tokens, Millis now_ms) {
  if (!rpm_limit && !tpm_limit) return {};
  const std::int64_t tokens = clamp_count(estimated_tokens);

  std::lock_guard lock(mutex_);
  auto it = entries_.find(key_id);
  if (it == entries_.end()) it = entries_.emplace(std::string(key_id), Entry{}).first;
  Entry& e = it->second;
  e.last_used = now_ms;

  Millis wait_requests = 0, wait_tokens = 0;
  std::int64_t tokens_needed = 0;
  if (rpm_limit) {
    if (*rpm_limit <= 0) {
      wait_requests = kWindowMs;
    } else {
      refill(e.requests, std::min(*rpm_limit, kMaxCount), now_ms);
      wait_requests = wait_ms(e.requests, kWindowMs);  // one request
    }
  }
  if (tpm_limit) {
    if (*tpm_limit <= 0) {
      wait_tokens = kWindowMs;
    } else {
      const std::int64_t limit = std::min(*tpm_limit, kMaxCount);
      refill(e.tokens, limit, now_ms);
      tokens_needed = tokens * kWindowMs;
      // More than the whole bucket: admitted when the bucket is full, leaving a debt.
      wait_tokens = wait_ms(e.tokens, std::min(tokens_needed, limit * kWindowMs));
    }
  }

  Decision d;
  if (wait_requests > 0 || wait_tokens > 0) {
    const Millis wait = std::max(wait_requests, wait_tokens);
    d.allowed = false;
    d.retry_after_seconds = std::max<std::int64_t>(1, (wait + 999) / 1000);
    d.limited_by = wait_tokens > wait_requests ? Decision::Limit::tokens : Decision::Limit::requests;
  } else {
    if (rpm_limit) e.requests.level -= kWindowMs;
    if (tpm_limit) {
      e.tokens.level = std::max(e.tokens.level - tokens_needed, kDebtFloor);
      ++e.unsettled;
    }
  }
  sweep(now_ms);
  return d;
}

void InMemoryRateLimiter::settle(std::string_view key_id, std::int64_t reserved_tokens,
                                 std::int64_t actual_tokens, Millis now_ms) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key_id);
  if (it == entries_.end()) return;  // no tpm reservation was made for this key
  Entry& e = it->second;
  if (e.unsettled > 0) --e.unsettled;
  e.last_used = now_ms;
  if (e.tokens.limit > 0) {
    refill(e.tokens, e.tokens.limit, now_ms);
    const std::int64_t delta = (clamp_count(reserved_tokens) - clamp_count(actual_tokens)) * kWindowMs;
    e.tokens.level = std::clamp(e.tokens.level + delta, kDebtFloor, e.tokens.limit * kWindowMs);
  }
}

std::size_t InMemoryRateLimiter::tracked_keys() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void InMemoryRateLimiter::sweep(Millis now_ms) {
  if (now_ms - last_sweep_ < kWindowMs) return;
  last_sweep_ = now_ms;
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = it->second;
    const bool idle = e.unsettled == 0 && full(e.requests, now_ms) && full(e.tokens, now_ms);
    it = idle || now_ms - e.last_used > kForgetAfterMs ? entries_.erase(it) : std::next(it);
  }
}

// ---- InMemorySpendLedger ------------------------------------------------------------------------

InMemorySpendLedger::InMemorySpendLedger(const Clock& clock, Millis retention_ms)
    : clock_(clock), retention_ms_(retention_ms), last_sweep_(clock.steady_ms()) {}

std::optional<FreezeId> InMemorySpendLedger::freeze(std::string_view key_id,
                                                    std::optional<std::int64_t> cap_micros,
                                                    std::int64_t already_spent_micros,
                                                    std::int64_t amount_micros) {
  already_spent_micros = std::max<std::int64_t>(already_spent_micros, 0);
  amount_micros = std::max<std::int64_t>(amount_micros, 0);

  std::lock_guard lock(mutex_);
  const Millis now = clock_.steady_ms();
  sweep(now);
  auto it = entries_.find(key_id);
  if (it == entries_.end()) {
    Entry fresh;
    fresh.first_spent = already_spent_micros;
    it = entries_.emplace(std::string(key_id), fresh).first;
  }
  Entry& e = it->second;
  e.last_used = now;

  if (cap_micros) {
    const std::int64_t spent = std::max(already_spent_micros, saturating_add(e.first_spent, e.account.settled_micros));
    if (saturating_add(saturating_add(spent, e.account.frozen_micros), amount_micros) > *cap_micros) return std::nullopt;
  }
  const FreezeId id{next_id_++};
  open_.emplace(id.value, Open{it->first, amount_micros});
  e.account.frozen_micros = saturating_add(e.account.frozen_micros, amount_micros);
  ++e.account.open_freezes;
  return id;
}

bool InMemorySpendLedger::knows(std::string_view account) const {
  std::lock_guard lock(mutex_);
  return entries_.find(account) != entries_.end();
}

bool InMemorySpendLedger::settle(FreezeId id, std::int64_t actual_micros) {
  return end(id, std::max<std::int64_t>(actual_micros, 0));
}

bool InMemorySpendLedger::release(FreezeId id) { return end(id, 0); }

bool InMemorySpendLedger::end(FreezeId id, std::int64_t actual_micros) {
  std::lock_guard lock(mutex_);
  auto open = open_.find(id.value);
  if (open == open_.end()) return false;
  // An account with an open freeze is never swept, so its entry is here.
  Entry& e = entries_.find(open->second.key_id)->second;
  e.account.frozen_micros -= open->second.amount;
  --e.account.open_freezes;
  e.account.settled_micros = saturating_add(e.account.settled_micros, actual_micros);
  e.last_used = clock_.steady_ms();
  open_.erase(open);
  return true;
}

InMemorySpendLedger::Account InMemorySpendLedger::account(std::string_view key_id) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key_id);
  return it == entries_.end() ? Account{} : it->second.account;
}

std::size_t InMemorySpendLedger::tracked_accounts() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void InMemorySpendLedger::sweep(Millis now_ms) {
  if (now_ms - last_sweep_ < kWindowMs) return;
  last_sweep_ = now_ms;
  std::erase_if(entries_, [&](const auto& kv) {
    return kv.second.account.open_freezes == 0 && now_ms - kv.second.last_used >= retention_ms_;
  });
}

// ---- Freeze -------------------------------------------------------------------------------------

Freeze& Freeze::operator=(Freeze&& other) noexcept {
  if (this != &other) {
    release();
    ledger_ = other.ledger_;
    id_ = other.id_;
    other.ledger_ = nullptr;
  }
  return *this;
}

void Freeze::settle(std::int64_t actual_micros) {
  if (!ledger_) return;
  ledger_->settle(id_, actual_micros);
  ledger_ = nullptr;
}

void Freeze::release() {
  if (!ledger_) return;
  ledger_->release(id_);
  ledger_ = nullptr;
}

// ---- Estimates ----------------------------------------------------------------------------------

RequestEstimate estimate_request(std::size_t body_bytes, std::optional<std::int64_t> max_output_tokens,
                                 std::int64_t default_max_output_tokens) {
  RequestEstimate est;
  const std::size_t tokens = body_bytes / 4 + (body_bytes % 4 != 0);
  est.input_tokens = static_cast<std::int64_t>(std::min<std::size_t>(tokens, kMaxCount));
  est.max_output_tokens = max_output_tokens && *max_output_tokens > 0
                              ? std::min(*max_output_tokens, kMaxCount)
                              : clamp_count(default_max_output_tokens);
  return est;
}

BilledTokens worst_case_tokens(const RequestEstimate& estimate) {
  BilledTokens t;
  t.input = estimate.input_tokens;
  t.output = estimate.max_output_tokens;
  return t;
}

}  // namespace x420::metering
