// lib/common/json_text: JSON string bodies (the export, error bodies, the restorer), valid JSON
// whatever the bytes.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <random>

#include "lib/common/json_text.h"
#include "lib/common/utf8.h"

using namespace x420;

namespace {

std::string body_of(std::string_view text) {
  std::string out;
  append_json_string_body(out, text);
  return out;
}

std::string parsed(std::string_view text) {
  return nlohmann::json::parse("\"" + body_of(text) + "\"").get<std::string>();
}

}  // namespace

TEST_CASE("JSON string bodies escape quotes, backslashes and control characters", "[lifecycle]") {
  CHECK(body_of("plain text") == "plain text");
  CHECK(body_of("a\"b\\c") == "a\\\"b\\\\c");
  CHECK(body_of("\n\r\t\b\f") == "\\n\\r\\t\\b\\f");
  CHECK(body_of(std::string_view("\x00\x01\x1f", 3)) == "\\u0000\\u0001\\u001f");
  CHECK(body_of("\x7f/") == "\x7f/");  // not control characters in JSON
  std::string out = "prefix:";
  append_json_string_body(out, "\"");
  CHECK(out == "prefix:\\\"");
}

TEST_CASE("JSON string bodies turn invalid UTF-8 into U+FFFD and keep valid UTF-8", "[lifecycle]") {
  CHECK(body_of("\xff") == "\\ufffd");
  CHECK(body_of("a\x80z") == "a\\ufffdz");
  CHECK(body_of("\xc0\xaf") == "\\ufffd\\ufffd");           // overlong '/'
  CHECK(body_of("\xe0\x80\xaf") == "\\ufffd\\ufffd\\ufffd");  // overlong, three bytes
  CHECK(body_of("\xed\xa0\x80") == "\\ufffd\\ufffd\\ufffd");  // a surrogate
  CHECK(body_of("\xf4\x90\x80\x80") == "\\ufffd\\ufffd\\ufffd\\ufffd");  // above U+10FFFF
  CHECK(body_of("ok\xe2\x82") == "ok\\ufffd\\ufffd");       // cut at the end
  CHECK(parsed("x\xe2\x82y") == "x\xef\xbf\xbd\xef\xbf\xbdy");
  const std::string valid = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xed\x9f\xbf";
  CHECK(body_of(valid) == valid);
}

TEST_CASE("JSON string bodies round-trip valid UTF-8 and always parse", "[lifecycle]") {
  std::string all_ascii;
  for (int c = 0; c < 0x80; ++c) all_ascii += static_cast<char>(c);
  CHECK(parsed(all_ascii) == all_ascii);

  std::mt19937 rng(42);
  std::uniform_int_distribution<std::uint32_t> any_cp(0, 0x10FFFF);
  std::uniform_int_distribution<int> length(0, 40);
  std::uniform_int_distribution<int> any_byte(0, 255);
  for (int round = 0; round < 2000; ++round) {
    std::string valid;
    for (int n = length(rng); n > 0; --n) {
      auto cp = static_cast<char32_t>(any_cp(rng));
      if (cp >= 0xD800 && cp <= 0xDFFF) continue;
      append_utf8(valid, static_cast<std::uint32_t>(cp));
    }
    REQUIRE(parsed(valid) == valid);

    std::string noise;
    for (int n = length(rng); n > 0; --n) noise += static_cast<char>(any_byte(rng));
    CHECK_NOTHROW(parsed(noise));
  }
}
