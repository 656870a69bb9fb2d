// Money as integer micro-USD, so that caps and sums are exact; parsed from what users type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace x420 {

// "12", "12.5", "0.000001" → micro-USD. Refuses signs, exponents, more than 6 decimals, and
// amounts over one billion dollars.
std::optional<std::int64_t> parse_usd_micros(std::string_view text);

// Sums and products of amounts and counts, which are never negative: past INT64_MAX they stay
// there, so a huge cap or a hostile token count cannot wrap into a small or negative cost.
inline std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}
inline std::int64_t saturating_mul(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

// 12500000 → "12.50"; keeps up to 6 decimals when the amount needs them.
std::string format_usd_micros(std::int64_t micros);

}  // namespace x420
