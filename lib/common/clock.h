// The one clock, as an interface, so that grace windows, expiry, rate-limit windows and cache
// lifetimes are testable without sleeping.
#pragma once

#include <cstdint>

namespace x420 {

// Unix time in whole seconds: every timestamp x420 stores has this unit.
using UnixSeconds = std::int64_t;
// Milliseconds on a monotonic time line, for durations only (rate windows, ledger retention,
// cache lifetimes): a wall-clock step (NTP, a suspended laptop) neither refills a bucket nor
// freezes one. A shared implementation (Redis) would use the server's clock so replicas agree.
using Millis = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixSeconds now() const = 0;
  virtual Millis steady_ms() const = 0;
};

// std::chrono's system_clock and steady_clock.
class SystemClock final : public Clock {
 public:
  UnixSeconds now() const override;
  Millis steady_ms() const override;
};

// A clock that moves only when told to; for tests. Its two readings move together with
// advance() and apart with advance_ms(), which leaves the wall clock alone.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(UnixSeconds start = 0, Millis steady_start = 0) : now_(start), steady_(steady_start) {}
  UnixSeconds now() const override { return now_; }
  Millis steady_ms() const override { return steady_; }
  void advance(UnixSeconds seconds) {
    now_ += seconds;
    steady_ += seconds * 1000;
  }
  void advance_ms(Millis ms) { steady_ += ms; }
  void set(UnixSeconds t) { now_ = t; }

 private:
  UnixSeconds now_;
  Millis steady_;
};

}  // namespace x420
