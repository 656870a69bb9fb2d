#include "proxy/usage_tap.h"

#include <nlohmann/json.hpp>

#include <cstring>

#include "lib/detect/json_body.h"

namespace x420::proxy {
namespace {

// A reply's usage sits a level or two down; a whole reply (tool schemas echoed back) nests more.
constexpr std::size_t kMaxUsageDepth = 128;

std::int64_t number(const nlohmann::json& obj, const char* key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

void from_usage_object(const nlohmann::json& u, TokenUsage& usage) {
  if (!u.is_object()) return;
  // OpenAI chat/completions/embeddings: prompt_/completion_tokens. Responses and Anthropic:
  // input_/output_tokens. Anthropic's message_delta carries only output_tokens, so a zero
  // never overwrites a count seen earlier in the stream.
  auto take = [](std::int64_t value, std::int64_t& into) {
    if (value > 0) into = value;
  };
  take(number(u, "prompt_tokens"), usage.input);
  take(number(u, "input_tokens"), usage.input);
  take(number(u, "completion_tokens"), usage.output);
  take(number(u, "output_tokens"), usage.output);
  take(number(u, "cache_read_input_tokens"), usage.cached);
  take(number(u, "cache_creation_input_tokens"), usage.cache_write);
  if (auto c = u.find("cache_creation"); c != u.end() && c->is_object())
    take(number(*c, "ephemeral_1h_input_tokens"), usage.cache_write_1h);
  for (const char* details : {"prompt_tokens_details", "input_tokens_details"})
    if (auto d = u.find(details); d != u.end() && d->is_object()) take(number(*d, "cached_tokens"), usage.cached);
  for (const char* details : {"completion_tokens_details", "output_tokens_details"})
    if (auto d = u.find(details); d != u.end() && d->is_object()) take(number(*d, "reasoning_tokens"), usage.reasoning);
}

}  // namespace

bool read_usage(std::string_view json, TokenUsage& usage) {
  if (!detect::json_nesting_within(json, kMaxUsageDepth)) return false;
  const auto doc = nlohmann::json::parse(json, nullptr, false);
  if (!doc.is_object()) return false;
  bool found = false;
  if (auto u = doc.find("usage"); u != doc.end() && u->is_object()) {
    from_usage_object(*u, usage);
    found = true;
  }
  for (const char* wrapper : {"message", "response"})  // Anthropic message_start, Responses events
    if (auto w = doc.find(wrapper); w != doc.end() && w->is_object())
      if (auto u = w->find("usage"); u != w->end() && u->is_object()) {
        from_usage_object(*u, usage);
        found = true;
      }
  return found;
}

// Only data lines that name a usage object are parsed; OpenAI repeats "usage":null in every
// chunk of a stream that asked for usage, and those are skipped without parsing.
namespace {

// memmem, not string_view::find: find steps from one '"' to the next, and a JSON line is full of
// them; this runs on every line of every stream (it was 12 % of a streaming profile).
std::size_t find_usage_key(std::string_view text, std::size_t from = 0) {
  static constexpr std::string_view kKey = "\"usage\"";
  if (from >= text.size()) return std::string_view::npos;
  const void* at = ::memmem(text.data() + from, text.size() - from, kKey.data(), kKey.size());
  return at ? static_cast<std::size_t>(static_cast<const char*>(at) - text.data()) : std::string_view::npos;
}

}  // namespace

bool names_usage_object(std::string_view text) {
  const auto at = find_usage_key(text);
  if (at == std::string_view::npos) return false;
  std::string_view rest = text.substr(at + 7);
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == ':')) rest.remove_prefix(1);
  return !rest.starts_with("null") || find_usage_key(text, at + 7) != std::string_view::npos;
}

}  // namespace x420::proxy
