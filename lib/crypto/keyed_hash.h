// Keyed BLAKE2b-256 (crypto_generichash) of key material, and a constant-time comparison.
// The hashing key is separate from the KEK so that KEK rotation never invalidates key hashes.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "lib/crypto/secret_bytes.h"

namespace x420::crypto {

inline constexpr size_t kHashSize = 32;
inline constexpr size_t kHashingKeySize = 32;
using Hash = std::array<std::uint8_t, kHashSize>;

Hash keyed_hash(const SecretBytes& hashing_key, std::string_view data);

// The first `bytes` bytes of `h` (all of it by default) as lowercase hex: how hashes become
// names (placeholders, fingerprints, conversation ids, cache keys).
std::string hex_of(const Hash& h, std::size_t bytes = kHashSize);

// Constant-time: the time taken does not depend on where the inputs differ.
bool equal_constant_time(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

}  // namespace x420::crypto
