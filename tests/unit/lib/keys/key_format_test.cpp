#include <catch2/catch.hpp>

#include <regex>

#include "lib/keys/key_format.h"

using namespace x420;
using namespace x420::keys;

TEST_CASE("a minted key matches the documented regex and parses back to its id") {
  const std::regex documented("x420m?_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}");
  for (auto kind : {TokenKind::api_key, TokenKind::management}) {
    const auto t = mint(kind);
    CHECK(std::regex_match(t.plaintext, documented));
    CHECK(t.plaintext.starts_with(prefix_of(kind)));
    auto parsed = parse(t.plaintext);
    REQUIRE(parsed.ok());
    CHECK(parsed->kind == kind);
    CHECK(parsed->public_id == t.public_id);
  }
}

TEST_CASE("keys minted with the same id differ only in secret and checksum") {
  const auto a = mint_with_id(TokenKind::api_key, "AAAAAAAAAAAA");
  const auto b = mint_with_id(TokenKind::api_key, "AAAAAAAAAAAA");
  CHECK(a.plaintext != b.plaintext);
  CHECK(a.plaintext.substr(0, 18) == b.plaintext.substr(0, 18));
}

TEST_CASE("a single changed character is caught by the checksum") {
  const auto t = mint(TokenKind::api_key);
  for (size_t i = 5; i < t.plaintext.size(); ++i) {
    if (t.plaintext[i] == '_') continue;
    auto changed = t.plaintext;
    changed[i] = changed[i] == 'a' ? 'b' : 'a';
    auto parsed = parse(changed);
    INFO("changed position " << i);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().kind == ErrorKind::auth);
  }
}

TEST_CASE("malformed keys are refused with the part that was wrong") {
  const auto t = mint(TokenKind::api_key);
  auto message = [](std::string_view text) { return parse(text).error().message; };
  CHECK(message("sk-abc") == "not an x420 key (it must start with x420_)");
  CHECK(message(t.plaintext.substr(0, t.plaintext.size() - 1)).find("length") != std::string::npos);
  auto bad_char = t.plaintext;
  bad_char[10] = '-';
  CHECK(message(bad_char).find("characters") != std::string::npos);
  auto bad_sum = t.plaintext;
  bad_sum.back() = bad_sum.back() == '0' ? '1' : '0';
  CHECK(message(bad_sum).find("checksum") != std::string::npos);
  // The message never repeats the key.
  CHECK(message(bad_sum).find(t.plaintext.substr(18, 20)) == std::string::npos);
}

TEST_CASE("checksum is CRC32 in six base62 digits") {
  CHECK(checksum_for("") == "000000");
  CHECK(checksum_for("x420_").size() == 6);
  CHECK(checksum_for("abc") != checksum_for("abd"));
}

TEST_CASE("public ids are twelve base62 characters") {
  CHECK(is_public_id("AbC123xyz789"));
  CHECK_FALSE(is_public_id("AbC123xyz78"));
  CHECK_FALSE(is_public_id("AbC123xyz78_"));
  CHECK(is_public_id(new_public_id()));
}
