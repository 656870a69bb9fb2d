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
};

// Reads the usage of one JSON document (a reply, or one event's data) into `usage`.
void read_usage(std::string_view json, TokenUsage& usage);

// Splits a stream into SSE lines and reads the usage of each data line that carries one.
class UsageTap {
 public:
  void feed(std::string_view bytes);
  const TokenUsage& usage() const { return usage_; }

 private:
  std::string line_;
  bool skipping_ = false;  // a line too long to be a usage event
  TokenUsage usage_;
};

}  // namespace x420::proxy
