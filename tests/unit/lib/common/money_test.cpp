// lib/common/money: dollar amounts as exact micro-dollars.
#include <catch2/catch.hpp>

#include "lib/common/money.h"

using namespace x420;

TEST_CASE("dollar amounts parse to exact micro-dollars") {
  CHECK(parse_usd_micros("12") == 12'000'000);
  CHECK(parse_usd_micros("12.5") == 12'500'000);
  CHECK(parse_usd_micros("0.000001") == 1);
  CHECK(parse_usd_micros(".5") == 500'000);
  for (const char* bad : {"", ".", "-1", "1e3", "1.0000001", "$5", "abc", "2000000000"})
    CHECK_FALSE(parse_usd_micros(bad).has_value());
}

TEST_CASE("dollar amounts print with cents, or more decimals when needed") {
  CHECK(format_usd_micros(12'500'000) == "12.50");
  CHECK(format_usd_micros(1) == "0.000001");
  CHECK(format_usd_micros(1'230'000) == "1.23");
  CHECK(format_usd_micros(1'234'500) == "1.2345");
}
