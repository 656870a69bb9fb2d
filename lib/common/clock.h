// The clock as an interface, so that grace windows, expiry and TTLs are testable without sleeping.
#pragma once

#include <cstdint>

namespace x420 {

// Unix time in whole seconds: every timestamp x420 stores has this unit.
using UnixSeconds = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixSeconds now() const = 0;
};

class SystemClock final : public Clock {
 public:
  UnixSeconds now() const override;
};

// A clock that moves only when told to; for tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(UnixSeconds start) : now_(start) {}
  UnixSeconds now() const override { return now_; }
  void advance(UnixSeconds seconds) { now_ += seconds; }
  void set(UnixSeconds t) { now_ = t; }

 private:
  UnixSeconds now_;
};

}  // namespace x420
