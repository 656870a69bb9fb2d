// What the admin API reads from a request, each part bounded and checked: the bearer token, the
// path's segments, the query, and the JSON body with its fields. Malformed input is a usage
// error (HTTP 400) naming the part; no message repeats a value, which could be a secret.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/common/result.h"

namespace x420::proxy::admin {

// Admin bodies are small objects (an upstream with its model globs is the largest, two levels);
// anything larger or deeper is refused before it costs more.
inline constexpr std::size_t kMaxBodyBytes = 64 * 1024;
inline constexpr int kMaxBodyDepth = 8;
// The longest expiry or grace, as parse_duration's ten-year bound.
inline constexpr std::int64_t kMaxDurationSeconds = 3660LL * 24 * 3600;

// The token of an `Authorization: Bearer …` header value; empty for another scheme or none.
std::string_view bearer_token(std::string_view authorization);

// "/a/b/c" → {"a", "b", "c"}, still percent-encoded; an empty segment stays empty.
std::vector<std::string_view> split_path(std::string_view path);

// RFC 3986 percent-decoding of a path segment (no encoded '/' or NUL) or, with
// `query_component`, of a query name or value ('+' is a space).
Result<std::string> percent_decode(std::string_view text, bool query_component);

// "a=1&b=2" (without the '?'), decoded; a repeated name keeps its last value.
Result<std::map<std::string, std::string>> parse_query(std::string_view query);

// The body as a JSON object: empty or null is {}; malformed JSON, another type, or nesting
// deeper than kMaxBodyDepth is a usage error.
Result<nlohmann::json> parse_body(std::string_view text);

// Reads the fields of a body, refusing unknown ones (a typo must not be silently ignored, least
// of all in a cap) and remembering the first problem, which status() returns as a usage error.
class BodyFields {
 public:
  BodyFields(const nlohmann::json& body, std::initializer_list<std::string_view> allowed);

  const nlohmann::json* find(const char* name) const;  // null when absent or JSON null
  std::optional<std::string> text(const char* name, bool required);
  std::optional<std::int64_t> integer(const char* name);
  std::optional<std::int64_t> seconds(const char* name);  // 0 to kMaxDurationSeconds
  bool boolean(const char* name);                          // absent: false
  std::optional<std::int64_t> usd_micros(const char* name);  // "12.50" (exact) or 12.5
  std::vector<std::string> text_list(const char* name);
  Status status() const;

 private:
  void fail(std::string why);
  const nlohmann::json& body_;
  std::optional<std::string> problem_;
};

}  // namespace x420::proxy::admin
