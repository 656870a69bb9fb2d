#include "proxy/usage_tap.h"

#include <nlohmann/json.hpp>

namespace x420::proxy {
namespace {

constexpr std::size_t kMaxEventLine = 256 * 1024;

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
  for (const char* details : {"prompt_tokens_details", "input_tokens_details"})
    if (auto d = u.find(details); d != u.end() && d->is_object()) take(number(*d, "cached_tokens"), usage.cached);
  for (const char* details : {"completion_tokens_details", "output_tokens_details"})
    if (auto d = u.find(details); d != u.end() && d->is_object()) take(number(*d, "reasoning_tokens"), usage.reasoning);
}

}  // namespace

void read_usage(std::string_view json, TokenUsage& usage) {
  const auto doc = nlohmann::json::parse(json, nullptr, false);
  if (!doc.is_object()) return;
  if (auto u = doc.find("usage"); u != doc.end()) from_usage_object(*u, usage);
  for (const char* wrapper : {"message", "response"})  // Anthropic message_start, Responses events
    if (auto w = doc.find(wrapper); w != doc.end() && w->is_object())
      if (auto u = w->find("usage"); u != w->end()) from_usage_object(*u, usage);
}

void UsageTap::feed(std::string_view bytes) {
  for (char c : bytes) {
    if (c == '\n') {
      if (!skipping_ && line_.starts_with("data:") && line_.find("usage") != std::string::npos) {
        std::string_view data(line_);
        data.remove_prefix(5);
        read_usage(data, usage_);
      }
      line_.clear();
      skipping_ = false;
      continue;
    }
    if (skipping_) continue;
    if (line_.size() >= kMaxEventLine) {
      skipping_ = true;
      line_.clear();
      continue;
    }
    line_.push_back(c);
  }
}

}  // namespace x420::proxy
