// Parsing and printing of the durations and timestamps users type and read (`--expires 30d`,
// `--grace 1h`, `2026-11-24T10:00:00Z`).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "lib/common/clock.h"

namespace x420 {

// Accepts "0", or one or more <number><unit> groups with units s, m, h, d, w ("90s", "1h30m",
// "30d"). Returns the total in seconds, or nullopt when the text is not such a duration or it
// overflows ten years.
std::optional<UnixSeconds> parse_duration(std::string_view text);

// "1h30m", "30d", "0s": the shortest exact spelling.
std::string format_duration(UnixSeconds seconds);

// RFC 3339 in UTC with a Z suffix, second precision.
std::string format_timestamp(UnixSeconds t);

// Parses what format_timestamp prints (also "2026-11-24" for midnight UTC).
std::optional<UnixSeconds> parse_timestamp(std::string_view text);

}  // namespace x420
