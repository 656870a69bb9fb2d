#include "lib/detect/json_restore.h"

#include <algorithm>
#include <vector>

#include "lib/detect/json_body.h"

namespace x420::detect {

bool holds_json_text(std::string_view key) { return key == "arguments" || key == "partial_json"; }

std::string restore_json(std::string_view json, const PlaceholderMap& map) {
  if (map.size() == 0 || json.find(kPlaceholderPrefix) == std::string_view::npos) return std::string(json);
  struct Span {
    std::size_t begin, end;
    bool json_text;
  };
  std::vector<Span> spans;
  // The shape only decides which strings carry user text; every string is looked at here. A
  // reply is restored as the provider wrote it, duplicate keys and all.
  JsonLimits limits;
  limits.refuse_duplicate_keys = false;
  const auto error = walk_json_strings(json, ApiShape::openai_chat, [&](JsonPath path, const StringValue& v) {
    if (v.is_key) return;
    if (json.substr(v.begin, v.end - v.begin).find(kPlaceholderPrefix) == std::string_view::npos) return;
    const bool json_text = !path.empty() && !path.back().is_index && holds_json_text(path.back().key);
    spans.push_back({v.begin, v.end, json_text});
  }, limits);
  if (error) return restore(json, map, Restorer::Escape::json_string);
  // Deferred "data" members come out of document order.
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  std::string out;
  out.reserve(json.size());
  std::size_t at = 0;
  for (const auto& s : spans) {
    out.append(json.substr(at, s.begin - at));
    // The raw bytes are still escaped: a placeholder (plain ASCII) stands in them as it is, and
    // its secret goes in escaped for this level (and the nested one for JSON text).
    out += restore(json.substr(s.begin, s.end - s.begin), map,
                   s.json_text ? Restorer::Escape::json_in_json_string : Restorer::Escape::json_string);
    at = s.end;
  }
  out.append(json.substr(at));
  return out;
}

}  // namespace x420::detect
