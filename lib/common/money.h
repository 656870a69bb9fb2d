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

// 12500000 → "12.50"; keeps up to 6 decimals when the amount needs them.
std::string format_usd_micros(std::int64_t micros);

}  // namespace x420
