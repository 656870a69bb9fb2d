#include "lib/crypto/aead.h"

#include <sodium.h>

#include <stdexcept>

#include "lib/crypto/random.h"

namespace x420::crypto {
namespace {

static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == kAeadNonceSize);
static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == kAeadTagSize);
static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == kAeadKeySize);

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

Sealed seal(const SecretBytes& key, std::span<const std::uint8_t> plaintext,
            std::string_view associated_data) {
  ensure_sodium();
  if (key.size() != kAeadKeySize) throw std::invalid_argument("seal: key has the wrong size");
  Sealed out(kEnvelopeOverhead + plaintext.size());
  out[0] = kEnvelopeVersion;
  unsigned char* nonce = out.data() + 1;
  randombytes_buf(nonce, kAeadNonceSize);
  unsigned long long written = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data() + 1 + kAeadNonceSize, &written,
                                            plaintext.data(), plaintext.size(),
                                            bytes(associated_data), associated_data.size(),
                                            nullptr, nonce, key.data());
  out.resize(1 + kAeadNonceSize + written);
  return out;
}

Sealed seal(const SecretBytes& key, std::string_view plaintext, std::string_view associated_data) {
  return seal(key, std::span<const std::uint8_t>(bytes(plaintext), plaintext.size()),
              associated_data);
}

Result<SecretBytes> open(const SecretBytes& key, std::span<const std::uint8_t> sealed,
                         std::string_view associated_data) {
  ensure_sodium();
  if (key.size() != kAeadKeySize) throw std::invalid_argument("open: key has the wrong size");
  if (sealed.size() < kEnvelopeOverhead)
    return make_error(ErrorKind::internal, "sealed record is truncated");
  if (sealed[0] != kEnvelopeVersion)
    return make_error(ErrorKind::internal, "sealed record has an unknown format version");
  const unsigned char* nonce = sealed.data() + 1;
  const unsigned char* ciphertext = nonce + kAeadNonceSize;
  const size_t ciphertext_size = sealed.size() - 1 - kAeadNonceSize;
  SecretBytes plain(ciphertext_size - kAeadTagSize);
  unsigned long long written = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(plain.data(), &written, nullptr, ciphertext,
                                                ciphertext_size, bytes(associated_data),
                                                associated_data.size(), nonce, key.data()) != 0)
    return make_error(ErrorKind::internal,
                      "sealed record failed authentication (wrong key, or the data was altered)");
  return plain;
}

SecretBytes generate_key() { return random_bytes(kAeadKeySize); }

}  // namespace x420::crypto
