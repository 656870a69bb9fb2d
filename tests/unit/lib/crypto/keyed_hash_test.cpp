// lib/crypto/keyed_hash: the keyed BLAKE2b hash of keys and tokens, compared in constant time.
#include <catch2/catch.hpp>

#include "lib/crypto/aead.h"
#include "lib/crypto/keyed_hash.h"

using namespace x420;
using namespace x420::crypto;

TEST_CASE("keyed hash depends on the hashing key and the data") {
  const auto k1 = generate_key();
  const auto k2 = generate_key();
  CHECK(keyed_hash(k1, "abc") == keyed_hash(k1, "abc"));
  CHECK(keyed_hash(k1, "abc") != keyed_hash(k1, "abd"));
  CHECK(keyed_hash(k1, "abc") != keyed_hash(k2, "abc"));
  const auto h = keyed_hash(k1, "abc");
  auto other = h;
  CHECK(equal_constant_time(h, other));
  other[31] ^= 1;
  CHECK_FALSE(equal_constant_time(h, other));
}
