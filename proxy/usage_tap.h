// Token counts read from what an upstream returns: a whole JSON reply, or the events of an SSE
// stream as they pass (OpenAI's final usage chunk, Responses' response.completed, Anthropic's
// message_start and message_delta). Only numbers are kept; the text is never looked at twice.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace x420::proxy {

struct TokenUsage {
  std::int64_t input = 0;
  std::int64_t output = 0;
  std::int64_t cached = 0;
  std::int64_t reasoning = 0;
  std::int64_t cache_write = 0;     // Anthropic cache_creation_input_tokens
  std::int64_t cache_write_1h = 0;  // the part of it written with the 1-hour TTL
};

// Whether an SSE data line (or JSON text) may carry token counts: it names "usage" with
// something other than null. Cheap; no parsing.
bool names_usage_object(std::string_view text);

// Reads the usage of one JSON document (a reply, or one event's data) into `usage`. Text that
// is not a JSON object, or nests deeper than any usage object, is ignored. Returns whether it
// held a usage object.
bool read_usage(std::string_view json, TokenUsage& usage);

// The usage of a stream, read from its events' data as they pass (SseDecoder gives them).
class UsageTap {
 public:
  void event(std::string_view data) {
    if (names_usage_object(data) && read_usage(data, usage_)) seen_ = true;
  }
  const TokenUsage& usage() const { return usage_; }
  bool seen() const { return seen_; }  // some event carried usage

 private:
  TokenUsage usage_;
  bool seen_ = false;
};

}  // namespace x420::proxy
