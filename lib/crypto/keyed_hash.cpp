#include "lib/crypto/keyed_hash.h"

#include <sodium.h>

#include <stdexcept>

namespace x420::crypto {

Hash keyed_hash(const SecretBytes& hashing_key, std::string_view data) {
  ensure_sodium();
  if (hashing_key.size() < crypto_generichash_KEYBYTES_MIN ||
      hashing_key.size() > crypto_generichash_KEYBYTES_MAX)
    throw std::invalid_argument("keyed_hash: hashing key has the wrong size");
  Hash out{};
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(data.data()),
                     data.size(), hashing_key.data(), hashing_key.size());
  return out;
}

bool equal_constant_time(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  if (a.size() != b.size()) return false;  // sizes are public (always kHashSize for hashes)
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string hex_of(const Hash& h, std::size_t bytes) {
  if (bytes > h.size()) bytes = h.size();
  std::string out(bytes * 2 + 1, '\0');  // sodium_bin2hex writes a terminating NUL
  sodium_bin2hex(out.data(), out.size(), h.data(), bytes);
  out.pop_back();
  return out;
}

}  // namespace x420::crypto
