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

// Reads the usage of one JSON document (a reply, or one event's data) into `usage`.
void read_usage(std::string_view json, TokenUsage& usage);

// Splits a stream into SSE lines and reads the usage of each data line that carries one.
class UsageTap {
 public:
  void feed(std::string_view bytes);
  const TokenUsage& usage() const { return usage_; }

 private:
  void line(std::string_view text);
  std::string line_;       // the start of a line split across pieces
  bool skipping_ = false;  // a line too long to be a usage event
  TokenUsage usage_;
};

}  // namespace x420::proxy
