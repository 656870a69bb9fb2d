// lib/common/time_format: durations and RFC 3339 timestamps, both ways.
#include <catch2/catch.hpp>

#include "lib/common/time_format.h"

using namespace x420;

TEST_CASE("durations parse in every unit and combination") {
  CHECK(parse_duration("0") == 0);
  CHECK(parse_duration("90s") == 90);
  CHECK(parse_duration("10m") == 600);
  CHECK(parse_duration("1h30m") == 5400);
  CHECK(parse_duration("30d") == 30 * 86400);
  CHECK(parse_duration("2w") == 14 * 86400);
}

TEST_CASE("malformed or huge durations are refused") {
  for (const char* bad : {"", "30", "3x", "h", "-1h", "1.5h", "1h ", "99999999999d", "4000d"})
    CHECK_FALSE(parse_duration(bad).has_value());
}

TEST_CASE("durations print in their shortest exact form") {
  CHECK(format_duration(0) == "0s");
  CHECK(format_duration(5400) == "1h30m");
  CHECK(format_duration(86400 + 1) == "1d1s");
}

TEST_CASE("timestamps print as RFC 3339 UTC and parse back") {
  CHECK(format_timestamp(0) == "1970-01-01T00:00:00Z");
  CHECK(format_timestamp(1795000000) == "2026-11-18T11:06:40Z");
  CHECK(parse_timestamp("2026-11-18T11:06:40Z") == 1795000000);
  CHECK(parse_timestamp("1970-01-02") == 86400);
  CHECK_FALSE(parse_timestamp("2026-13-01").has_value());
  CHECK_FALSE(parse_timestamp("yesterday").has_value());
}
