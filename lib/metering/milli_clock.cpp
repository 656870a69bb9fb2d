#include "lib/metering/milli_clock.h"

#include <chrono>

namespace x420::metering {

Millis SteadyMilliClock::now_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace x420::metering
