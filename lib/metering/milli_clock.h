// A millisecond clock as an interface, so that rate-limit windows and ledger retention are
// testable without sleeping (common/clock.h counts whole seconds, too coarse for a limiter).
#pragma once

#include <cstdint>

namespace x420::metering {

// Milliseconds on some fixed time line. Only differences matter to the limiter and the ledger;
// a shared implementation (Redis) would use the server's clock so that replicas agree.
using Millis = std::int64_t;

class MilliClock {
 public:
  virtual ~MilliClock() = default;
  virtual Millis now_ms() const = 0;
};

// Monotonic (std::chrono::steady_clock): a wall-clock step (NTP, a suspended laptop) neither
// refills a bucket nor freezes one.
class SteadyMilliClock final : public MilliClock {
 public:
  Millis now_ms() const override;
};

// A clock that moves only when told to; for tests.
class ManualMilliClock final : public MilliClock {
 public:
  explicit ManualMilliClock(Millis start = 0) : now_(start) {}
  Millis now_ms() const override { return now_; }
  void advance(Millis ms) { now_ += ms; }
  void set(Millis t) { now_ = t; }

 private:
  Millis now_;
};

}  // namespace x420::metering
