// The format of x420's secrets: inference keys and management tokens.
//
//   x420_<public id>_<secret><checksum>     inference key
//   x420m_<public id>_<secret><checksum>    management token (operator or tenant admin)
//
// public id: 12 base62 characters, shown in lists and used as the key's id.
// secret:    32 base62 characters (about 190 bits) from libsodium's CSPRNG.
// checksum:  6 base62 characters, CRC32 of everything before it, so that scanners (ours and
//            others) can tell a real x420 key from random text offline, as GitHub tokens do.
//            It is not a security measure: the secret carries the strength.
//
// Regex (documented in the README): x420m?_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}
#pragma once

#include <string>
#include <string_view>

#include "lib/common/result.h"

namespace x420::keys {

inline constexpr size_t kPublicIdLength = 12;
inline constexpr size_t kSecretLength = 32;
inline constexpr size_t kChecksumLength = 6;

enum class TokenKind { api_key, management };

std::string_view prefix_of(TokenKind kind);  // "x420_" or "x420m_"
std::string_view noun_of(TokenKind kind);    // "API key" or "management token"

struct ParsedToken {
  TokenKind kind;
  std::string public_id;
};

// A newly minted token. Plaintext is shown to the user once and then wiped.
struct MintedToken {
  std::string public_id;
  std::string plaintext;
};

MintedToken mint(TokenKind kind);
MintedToken mint_with_id(TokenKind kind, std::string_view public_id);
std::string new_public_id();

// Checks the shape and the checksum, touching no store. Any failure is ErrorKind::auth with a
// message that says which part was wrong (prefix, length, characters, checksum), never the token.
Result<ParsedToken> parse(std::string_view token);

bool checksum_matches(std::string_view token);
std::string checksum_for(std::string_view body);  // 6 base62 chars of CRC32(body)

bool is_public_id(std::string_view text);

}  // namespace x420::keys
