#include "proxy/request_fields.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>

namespace x420::proxy {
namespace {

constexpr std::array<std::string_view, 6> kFields = {"model", "stream", "max_tokens", "max_completion_tokens",
                                                     "max_output_tokens", "stream_options"};

}  // namespace

void RequestFieldReader::refuse(std::string message) {
  if (error_.empty()) error_ = std::move(message);
}

void RequestFieldReader::member(std::string_view key, std::size_t begin, std::size_t end) {
  std::size_t which = kFields.size();
  for (std::size_t i = 0; i < kFields.size(); ++i)
    if (kFields[i] == key) which = i;
  if (which == kFields.size()) return;
  const std::string name(key);
  if (seen_ & (1u << which)) return refuse("the request body gives `" + name + "` twice");
  seen_ |= 1u << which;
  const std::string_view raw = body_.substr(begin, end - begin);
  if (raw == "null") {  // the APIs take null as "not given"
    if (key == "stream_options") fields_.stream_options = ValueSpan{begin, end};  // to be replaced
    return;
  }
  if (key == "model") {
    if (!raw.starts_with('"')) return refuse("`model` must be a string");
    // A string the walk has lexed, so it cannot recurse; should it still not parse (the walk
    // has not ended yet when members are reported), it is refused rather than thrown.
    const auto model = nlohmann::json::parse(raw, nullptr, false);
    if (!model.is_string()) return refuse("`model` must be a string of UTF-8 text");
    fields_.model = model.get<std::string>();
    fields_.model_span = ValueSpan{begin, end};
  } else if (key == "stream") {
    if (raw != "true" && raw != "false") return refuse("`stream` must be true or false");
    fields_.stream = raw == "true";
  } else if (key == "stream_options") {
    if (!raw.starts_with('{')) return refuse("`stream_options` must be an object");
    fields_.stream_options = ValueSpan{begin, end};
    const auto doc = nlohmann::json::parse(raw, nullptr, false);  // depth bounded by the walk
    const auto it = doc.find("include_usage");
    if (it != doc.end() && !it->is_boolean() && !it->is_null())
      return refuse("`stream_options.include_usage` must be true or false");
    fields_.include_usage = it != doc.end() && it->is_boolean() && it->get<bool>();
  } else {  // an output limit
    std::int64_t n = 0;
    const auto [stop, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), n);
    if (ec != std::errc() || stop != raw.data() + raw.size() || n < 0)
      return refuse("`" + name + "` must be a whole number of tokens, 0 or more");
    fields_.max_output = std::max(fields_.max_output.value_or(0), n);
  }
}

Result<RequestFields> RequestFieldReader::finish() {
  if (!error_.empty()) return make_error(ErrorKind::usage, error_);
  return fields_;
}

std::optional<BodyEdit> stream_usage_edit(std::string_view body, const RequestFields& fields,
                                          std::optional<ValueSpan> stream_options) {
  if (fields.include_usage) return std::nullopt;
  if (!stream_options) {
    // A body the walk accepted whose value is an object: its first '{' opens it.
    const auto first = body.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || body[first] != '{') return std::nullopt;
    const auto open = first;
    const auto next = body.find_first_not_of(" \t\r\n", open + 1);
    const bool empty = next != std::string_view::npos && body[next] == '}';
    return BodyEdit{open + 1, open + 1,
                    empty ? "\"stream_options\":{\"include_usage\":true}" : "\"stream_options\":{\"include_usage\":true},"};
  }
  const auto span = *stream_options;
  auto doc = nlohmann::ordered_json::parse(body.substr(span.begin, span.end - span.begin), nullptr, false);
  if (doc.is_null()) doc = nlohmann::ordered_json::object();
  if (!doc.is_object()) return std::nullopt;
  doc["include_usage"] = true;
  return BodyEdit{span.begin, span.end, doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

std::string apply_edits(std::string body, std::vector<BodyEdit> edits) {
  std::sort(edits.begin(), edits.end(), [](const BodyEdit& a, const BodyEdit& b) { return a.begin > b.begin; });
  for (const auto& e : edits) body.replace(e.begin, e.end - e.begin, e.text);
  return body;
}

}  // namespace x420::proxy
