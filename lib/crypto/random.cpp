#include "crypto/random.h"

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
  std::string out(length, '0');
  for (auto& c : out) c = kBase62Alphabet[randombytes_uniform(kBase62Alphabet.size())];
  return out;
}

}  // namespace x420::crypto
