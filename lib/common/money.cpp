#include "lib/common/money.h"

#include <cstdio>

namespace x420 {

std::optional<std::int64_t> parse_usd_micros(std::string_view text) {
  constexpr std::int64_t kMaxDollars = 1'000'000'000;
  if (text.empty()) return std::nullopt;
  std::int64_t dollars = 0, micros = 0;
  size_t i = 0, int_digits = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++int_digits) {
    dollars = dollars * 10 + (text[i] - '0');
    if (dollars > kMaxDollars) return std::nullopt;
  }
  if (i < text.size()) {
    if (text[i] != '.') return std::nullopt;
    ++i;
    size_t decimals = 0;
    for (; i < text.size(); ++i, ++decimals) {
      if (text[i] < '0' || text[i] > '9' || decimals == 6) return std::nullopt;
      micros = micros * 10 + (text[i] - '0');
    }
    if (decimals == 0 && int_digits == 0) return std::nullopt;
    for (; decimals < 6; ++decimals) micros *= 10;
  } else if (int_digits == 0) {
    return std::nullopt;
  }
  return dollars * 1'000'000 + micros;
}

std::string format_usd_micros(std::int64_t micros) {
  char buf[48];
  const auto dollars = micros / 1'000'000;
  auto rest = micros % 1'000'000;
  if (rest % 10'000 == 0) {
    std::snprintf(buf, sizeof buf, "%lld.%02lld", static_cast<long long>(dollars),
                  static_cast<long long>(rest / 10'000));
  } else {
    int width = 6;
    while (rest % 10 == 0) rest /= 10, --width;
    std::snprintf(buf, sizeof buf, "%lld.%0*lld", static_cast<long long>(dollars), width,
                  static_cast<long long>(rest));
  }
  return buf;
}

}  // namespace x420
