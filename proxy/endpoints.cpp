#include "proxy/endpoints.h"

#include <array>
#include <nlohmann/json.hpp>

namespace x420::proxy {
namespace {

using detect::ApiShape;

// OpenAI-kind base URLs carry the API's path (…/v1, Gemini's /v1beta/openai) and Anthropic-kind
// ones do not (each SDK's convention), so the OpenAI suffixes drop the /v1 the client sent and
// the Anthropic ones keep it.
constexpr std::array<Endpoint, 6> kEndpoints = {{
    {"/v1/chat/completions", ApiShape::openai_chat, UpstreamKind::openai, "/chat/completions", ErrorShape::openai},
    {"/v1/completions", ApiShape::openai_completions, UpstreamKind::openai, "/completions", ErrorShape::openai},
    {"/v1/responses", ApiShape::openai_responses, UpstreamKind::openai, "/responses", ErrorShape::openai},
    {"/v1/embeddings", ApiShape::openai_embeddings, UpstreamKind::openai, "/embeddings", ErrorShape::openai},
    {"/v1/messages", ApiShape::anthropic_messages, UpstreamKind::anthropic, "/v1/messages", ErrorShape::anthropic},
    {"/v1/messages/count_tokens", ApiShape::anthropic_count_tokens, UpstreamKind::anthropic,
     "/v1/messages/count_tokens", ErrorShape::anthropic},
}};

}  // namespace

std::string_view kind_name(UpstreamKind kind) { return kind == UpstreamKind::anthropic ? "anthropic" : "openai"; }

const Endpoint* find_endpoint(std::string_view path) {
  for (const auto& e : kEndpoints)
    if (e.path == path) return &e;
  return nullptr;
}

std::string_view error_type(ErrorShape shape, int status) {
  const bool anthropic = shape == ErrorShape::anthropic;
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return anthropic ? "authentication_error" : "invalid_api_key";
    case 402: return anthropic ? "billing_error" : "insufficient_quota";
    case 403: return "permission_error";
    case 404: return anthropic ? "not_found_error" : "not_found";
    case 405: return "invalid_request_error";
    case 413: return anthropic ? "request_too_large" : "invalid_request_error";
    case 422: return "invalid_request_error";
    case 429: return anthropic ? "rate_limit_error" : "rate_limit_exceeded";
    case 502:
    case 503: return anthropic ? "api_error" : "server_error";
    case 504: return anthropic ? "timeout_error" : "timeout";
    default: return anthropic ? "api_error" : "server_error";
  }
}

std::string error_body(ErrorShape shape, int status, std::string_view message) {
  const std::string type(error_type(shape, status));
  nlohmann::json doc;
  if (shape == ErrorShape::anthropic) {
    doc = {{"type", "error"}, {"error", {{"type", type}, {"message", std::string(message)}}}};
  } else {
    doc = {{"error", {{"message", std::string(message)}, {"type", type}, {"param", nullptr}, {"code", type}}}};
  }
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace x420::proxy
