// lib/crypto/random: random bytes and base62 strings from libsodium.
#include <catch2/catch.hpp>

#include "lib/crypto/random.h"

using namespace x420;
using namespace x420::crypto;

TEST_CASE("random base62 strings use only the alphabet and differ") {
  const auto a = random_base62(64);
  const auto b = random_base62(64);
  CHECK(a.size() == 64);
  CHECK(a != b);
  for (char c : a) CHECK(kBase62Alphabet.find(c) != std::string_view::npos);
}
