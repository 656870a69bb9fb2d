// The inference routes x420 serves, and what each one means: the API shape of its body, the
// kind of upstream that speaks it, and where on that upstream it goes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "lib/detect/json_body.h"

namespace x420::proxy {

enum class ErrorShape { openai, anthropic };

// The API an upstream speaks (the store keeps it as its name).
enum class UpstreamKind { openai, anthropic };
std::string_view kind_name(UpstreamKind kind);

struct Endpoint {
  std::string_view path;            // as the client sends it, without the query
  detect::ApiShape shape;
  UpstreamKind upstream_kind;
  std::string_view upstream_path;   // appended to the upstream's base URL
  ErrorShape errors;
};

const Endpoint* find_endpoint(std::string_view path);

// Errors in the caller's API shape, so SDKs raise their usual exceptions.
//   OpenAI:    {"error": {"message", "type", "param": null, "code"}}
//   Anthropic: {"type": "error", "error": {"type", "message"}}
std::string error_body(ErrorShape shape, int status, std::string_view message);
std::string_view error_type(ErrorShape shape, int status);

}  // namespace x420::proxy
