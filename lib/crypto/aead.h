// The AEAD envelope for everything x420 seals at rest: DEKs under the KEK, upstream secrets,
// stored conversations. ChaCha20-Poly1305 (IETF) with a fresh random 12-byte nonce per record,
// and associated data that binds the record to its owner, so a sealed blob copied to another
// row or tenant fails to open.
//
// Layout: version byte (0x01) || nonce (12) || ciphertext || tag (16).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "lib/common/result.h"
#include "lib/crypto/secret_bytes.h"

namespace x420::crypto {

inline constexpr size_t kAeadKeySize = 32;
inline constexpr size_t kAeadNonceSize = 12;
inline constexpr size_t kAeadTagSize = 16;
inline constexpr std::uint8_t kEnvelopeVersion = 0x01;
inline constexpr size_t kEnvelopeOverhead = 1 + kAeadNonceSize + kAeadTagSize;

using Sealed = std::vector<std::uint8_t>;

Sealed seal(const SecretBytes& key, std::span<const std::uint8_t> plaintext,
            std::string_view associated_data);
Sealed seal(const SecretBytes& key, std::string_view plaintext, std::string_view associated_data);

// Fails (ErrorKind::internal) if the envelope is truncated, has an unknown version, or was
// altered in any bit, or if the key or associated data differ from sealing time.
Result<SecretBytes> open(const SecretBytes& key, std::span<const std::uint8_t> sealed,
                         std::string_view associated_data);

// A fresh random 32-byte key (a DEK, the hashing key, or a master key).
SecretBytes generate_key();

}  // namespace x420::crypto
