#include "lib/keys/key_format.h"

#include <zlib.h>

#include "lib/crypto/random.h"

namespace x420::keys {
namespace {

bool is_base62(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool all_base62(std::string_view s) {
  for (char c : s)
    if (!is_base62(c)) return false;
  return true;
}

}  // namespace

std::string_view prefix_of(TokenKind kind) {
  return kind == TokenKind::api_key ? "x420_" : "x420m_";
}

std::string_view noun_of(TokenKind kind) {
  return kind == TokenKind::api_key ? "API key" : "management token";
}

std::string checksum_for(std::string_view body) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
  std::string out(kChecksumLength, '0');
  auto value = static_cast<std::uint64_t>(crc);
  for (size_t i = kChecksumLength; i-- > 0;) {
    out[i] = crypto::kBase62Alphabet[value % 62];
    value /= 62;
  }
  return out;
}

std::string new_public_id() { return crypto::random_base62(kPublicIdLength); }

MintedToken mint_with_id(TokenKind kind, std::string_view public_id) {
  MintedToken t;
  t.public_id = std::string(public_id);
  t.plaintext.reserve(prefix_of(kind).size() + kPublicIdLength + 1 + kSecretLength + kChecksumLength);
  t.plaintext.append(prefix_of(kind)).append(public_id).append("_");
  std::string secret = crypto::random_base62(kSecretLength);
  t.plaintext.append(secret);
  crypto::wipe(secret);
  t.plaintext.append(checksum_for(t.plaintext));
  return t;
}

MintedToken mint(TokenKind kind) { return mint_with_id(kind, new_public_id()); }

bool checksum_matches(std::string_view token) {
  if (token.size() <= kChecksumLength) return false;
  const auto body = token.substr(0, token.size() - kChecksumLength);
  return checksum_for(body) == token.substr(token.size() - kChecksumLength);
}

bool is_public_id(std::string_view text) {
  return text.size() == kPublicIdLength && all_base62(text);
}

Result<ParsedToken> parse(std::string_view token) {
  TokenKind kind;
  if (token.starts_with(prefix_of(TokenKind::management))) {
    kind = TokenKind::management;
  } else if (token.starts_with(prefix_of(TokenKind::api_key))) {
    kind = TokenKind::api_key;
  } else {
    return make_error(ErrorKind::auth, "not an x420 key (it must start with x420_)");
  }
  const std::string noun(noun_of(kind));
  const auto rest = token.substr(prefix_of(kind).size());
  if (rest.size() != kPublicIdLength + 1 + kSecretLength + kChecksumLength)
    return make_error(ErrorKind::auth, "malformed " + noun + " (wrong length)");
  const auto id = rest.substr(0, kPublicIdLength);
  if (rest[kPublicIdLength] != '_' || !all_base62(id) ||
      !all_base62(rest.substr(kPublicIdLength + 1)))
    return make_error(ErrorKind::auth, "malformed " + noun + " (unexpected characters)");
  if (!checksum_matches(token))
    return make_error(ErrorKind::auth, noun + " has a wrong checksum (mistyped or truncated?)");
  return ParsedToken{kind, std::string(id)};
}

}  // namespace x420::keys
