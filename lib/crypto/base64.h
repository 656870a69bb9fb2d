// Base64 (RFC 4648) through libsodium, for payloads the proxy decodes to scan and encodes again:
// the standard and the URL-safe alphabet, with or without padding, as the input has them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace x420::crypto {

struct Base64Form {
  bool url_safe = false;  // '-' and '_' instead of '+' and '/'
  bool padded = true;     // ends in '=' to a multiple of four
};

// The form `text` is written in (line breaks and spaces, which are ignored, aside).
Base64Form base64_form_of(std::string_view text);

// The bytes `text` encodes in `form`, ignoring line breaks and spaces; nothing when it is not
// base64 of that form.
std::optional<std::string> base64_decode(std::string_view text, Base64Form form);

std::string base64_encode(std::string_view bytes, Base64Form form);

}  // namespace x420::crypto
