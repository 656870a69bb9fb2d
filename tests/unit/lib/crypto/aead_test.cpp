// lib/crypto/aead: the versioned ChaCha20-Poly1305 envelope, bound to its associated data.
#include <catch2/catch.hpp>

#include "lib/crypto/aead.h"

using namespace x420;
using namespace x420::crypto;

TEST_CASE("sealed record opens with the same key and associated data") {
  const auto key = generate_key();
  const auto sealed = seal(key, std::string_view("hello, tenant"), "tenant:t1|record:7");
  REQUIRE(sealed.size() == kEnvelopeOverhead + 13);
  auto opened = open(key, sealed, "tenant:t1|record:7");
  REQUIRE(opened.ok());
  CHECK(opened->view() == "hello, tenant");
}

TEST_CASE("every seal uses a fresh nonce") {
  const auto key = generate_key();
  const auto a = seal(key, std::string_view("same"), "ad");
  const auto b = seal(key, std::string_view("same"), "ad");
  CHECK(std::vector<std::uint8_t>(a.begin() + 1, a.begin() + 13) !=
        std::vector<std::uint8_t>(b.begin() + 1, b.begin() + 13));
  CHECK(a != b);
}

TEST_CASE("one flipped bit anywhere in a sealed record fails to open") {
  const auto key = generate_key();
  const auto sealed = seal(key, std::string_view("secret payload"), "ad");
  for (size_t byte = 0; byte < sealed.size(); ++byte) {
    auto tampered = sealed;
    tampered[byte] ^= 0x01;
    auto opened = open(key, tampered, "ad");
    INFO("flipped byte " << byte);
    REQUIRE_FALSE(opened.ok());
  }
}

TEST_CASE("a sealed record does not open under other associated data or another key") {
  const auto key = generate_key();
  const auto sealed = seal(key, std::string_view("payload"), "tenant:a");
  auto wrong_ad = open(key, sealed, "tenant:b");
  REQUIRE_FALSE(wrong_ad.ok());
  CHECK(wrong_ad.error().message.find("authentication") != std::string::npos);
  CHECK_FALSE(open(generate_key(), sealed, "tenant:a").ok());
}

TEST_CASE("a truncated or unknown-version envelope is refused with a reason") {
  const auto key = generate_key();
  auto sealed = seal(key, std::string_view("x"), "ad");
  auto truncated = open(key, std::span(sealed.data(), 10), "ad");
  REQUIRE_FALSE(truncated.ok());
  CHECK(truncated.error().message.find("truncated") != std::string::npos);
  sealed[0] = 0x7f;
  auto version = open(key, sealed, "ad");
  REQUIRE_FALSE(version.ok());
  CHECK(version.error().message.find("version") != std::string::npos);
}
