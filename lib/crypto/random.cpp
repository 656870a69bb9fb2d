#include "lib/crypto/random.h"

#include <sodium.h>

namespace x420::crypto {

SecretBytes random_bytes(size_t size) {
  ensure_sodium();
  SecretBytes out(size);
  randombytes_buf(out.data(), out.size());
  return out;
}

std::string random_base62(size_t length) {
  ensure_sodium();
  // Rejection sampling over whole bytes: values below 248 (= 4 * 62) map to the alphabet
  // without modulo bias. Drawing a buffer at a time keeps it to one getrandom() per key.
  constexpr std::uint8_t kLimit = 248;
  std::string out;
  out.reserve(length);
  std::uint8_t buf[64];
  while (out.size() < length) {
    randombytes_buf(buf, sizeof buf);
    for (std::uint8_t b : buf) {
      if (b >= kLimit || out.size() == length) continue;
      out.push_back(kBase62Alphabet[b % 62]);
    }
  }
  sodium_memzero(buf, sizeof buf);
  return out;
}

}  // namespace x420::crypto
