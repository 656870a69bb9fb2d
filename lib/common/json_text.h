// Writing text into a JSON document without building a JSON value: the one JSON string escaper,
// for the export (which streams conversation text of any size), the proxy's error bodies and the
// restorer (which puts a secret back inside a JSON string).
#pragma once

#include <string>
#include <string_view>

namespace x420 {

// Appends `text` as the inside of a JSON string (RFC 8259: quote, backslash and control
// characters escaped). Bytes that are not valid UTF-8 become U+FFFD, so the output is always
// valid JSON, as nlohmann::json's dump with error_handler_t::replace does.
void append_json_string_body(std::string& out, std::string_view text);

// The same, as a new string.
std::string json_string_body(std::string_view text);

}  // namespace x420
