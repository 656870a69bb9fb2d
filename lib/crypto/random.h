// Randomness for ids, secrets and keys: libsodium's CSPRNG only.
#pragma once

#include <string>

#include "lib/crypto/secret_bytes.h"

namespace x420::crypto {

inline constexpr std::string_view kBase62Alphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

SecretBytes random_bytes(size_t size);

// `length` characters drawn uniformly from kBase62Alphabet (no modulo bias).
std::string random_base62(size_t length);

}  // namespace x420::crypto
