// Checks that tell a real secret from text of the same shape. Pure functions over bytes.
#pragma once

#include <string_view>

#include "lib/detect/rule.h"

namespace x420::detect {

// Shannon entropy in bits per byte (0 for empty text, at most 8).
double shannon_entropy(std::string_view text);

bool luhn_valid(std::string_view digits);  // separators ' ' and '-' are skipped
bool iban_valid(std::string_view iban);    // ISO 13616 mod-97, spaces skipped
bool jwt_shaped(std::string_view token);   // header.payload[.sig], header decodes to a JSON object with "alg"
bool github_checksum_valid(std::string_view token);  // ghp_… : CRC32 of the 30 random chars
bool x420_checksum_valid(std::string_view token);

enum class Verdict { reject, accept, accept_bad_checksum };

// What a rule's validator says of a secret.
Verdict validate(Validator v, std::string_view secret);

}  // namespace x420::detect
