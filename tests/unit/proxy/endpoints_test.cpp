// proxy/endpoints: the table of inference routes, and errors in each API's own shape.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "proxy/endpoints.h"

using namespace x420;
using namespace x420::proxy;
using detect::ApiShape;

TEST_CASE("each inference route maps to its body shape, upstream kind, upstream path and error shape",
          "[proxy][endpoints]") {
  const struct {
    const char* path;
    ApiShape shape;
    UpstreamKind kind;
    const char* upstream_path;
    ErrorShape errors;
  } expected[] = {
      {"/v1/chat/completions", ApiShape::openai_chat, UpstreamKind::openai, "/chat/completions", ErrorShape::openai},
      {"/v1/completions", ApiShape::openai_completions, UpstreamKind::openai, "/completions", ErrorShape::openai},
      {"/v1/responses", ApiShape::openai_responses, UpstreamKind::openai, "/responses", ErrorShape::openai},
      {"/v1/embeddings", ApiShape::openai_embeddings, UpstreamKind::openai, "/embeddings", ErrorShape::openai},
      {"/v1/messages", ApiShape::anthropic_messages, UpstreamKind::anthropic, "/v1/messages", ErrorShape::anthropic},
      {"/v1/messages/count_tokens", ApiShape::anthropic_count_tokens, UpstreamKind::anthropic,
       "/v1/messages/count_tokens", ErrorShape::anthropic},
  };
  for (const auto& e : expected) {
    INFO(e.path);
    const Endpoint* found = find_endpoint(e.path);
    REQUIRE(found != nullptr);
    CHECK(found->path == e.path);
    CHECK(found->shape == e.shape);
    CHECK(found->upstream_kind == e.kind);
    CHECK(found->upstream_path == e.upstream_path);
    CHECK(found->errors == e.errors);
  }
}

TEST_CASE("OpenAI-kind upstream paths drop the client's /v1, Anthropic-kind ones keep it", "[proxy][endpoints]") {
  // OpenAI base URLs end in /v1 and Anthropic ones do not, as each SDK expects.
  for (const char* path : {"/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/embeddings"}) {
    INFO(path);
    REQUIRE(find_endpoint(path));
    CHECK_FALSE(find_endpoint(path)->upstream_path.starts_with("/v1"));
    CHECK(std::string("/v1") + std::string(find_endpoint(path)->upstream_path) == path);
  }
  for (const char* path : {"/v1/messages", "/v1/messages/count_tokens"}) {
    INFO(path);
    REQUIRE(find_endpoint(path));
    CHECK(find_endpoint(path)->upstream_path == path);
  }
}

TEST_CASE("paths outside the table, with a query, a trailing slash or another case, are no endpoint",
          "[proxy][endpoints]") {
  for (const char* path : {"", "/", "/v1", "/v1/", "/v1/chat/completions/", "/v1/chat/completions?x=1",
                           "/V1/chat/completions", "/v1/models", "/chat/completions", "/v2/messages",
                           "/x420/v1/tenants", "v1/messages"}) {
    INFO(path);
    CHECK(find_endpoint(path) == nullptr);
  }
}

TEST_CASE("upstream kinds are named as the store keeps them", "[proxy][endpoints]") {
  CHECK(kind_name(UpstreamKind::openai) == "openai");
  CHECK(kind_name(UpstreamKind::anthropic) == "anthropic");
}

TEST_CASE("error types follow each provider's documented names per status", "[proxy][endpoints]") {
  const struct {
    int status;
    const char* openai;
    const char* anthropic;
  } table[] = {
      {400, "invalid_request_error", "invalid_request_error"},
      {401, "invalid_api_key", "authentication_error"},
      {402, "insufficient_quota", "billing_error"},
      {403, "permission_error", "permission_error"},
      {404, "not_found", "not_found_error"},
      {405, "invalid_request_error", "invalid_request_error"},
      {413, "invalid_request_error", "request_too_large"},
      {422, "invalid_request_error", "invalid_request_error"},
      {429, "rate_limit_exceeded", "rate_limit_error"},
      {500, "server_error", "api_error"},
      {502, "server_error", "api_error"},
      {503, "server_error", "api_error"},
      {504, "timeout", "timeout_error"},
      {418, "server_error", "api_error"},  // anything else
  };
  for (const auto& row : table) {
    INFO(row.status);
    CHECK(error_type(ErrorShape::openai, row.status) == row.openai);
    CHECK(error_type(ErrorShape::anthropic, row.status) == row.anthropic);
  }
}

TEST_CASE("error bodies have the caller's API shape", "[proxy][endpoints]") {
  SECTION("OpenAI: error.message, type, param null and code") {
    const auto doc = nlohmann::json::parse(error_body(ErrorShape::openai, 429, "slow down"));
    CHECK(doc == nlohmann::json{{"error",
                                 {{"message", "slow down"},
                                  {"type", "rate_limit_exceeded"},
                                  {"param", nullptr},
                                  {"code", "rate_limit_exceeded"}}}});
  }
  SECTION("Anthropic: type error, error.type and error.message") {
    const auto doc = nlohmann::json::parse(error_body(ErrorShape::anthropic, 401, "bad key"));
    CHECK(doc == nlohmann::json{{"type", "error"}, {"error", {{"type", "authentication_error"}, {"message", "bad key"}}}});
  }
  SECTION("a message with quotes, control characters or invalid UTF-8 still gives valid JSON") {
    for (auto shape : {ErrorShape::openai, ErrorShape::anthropic}) {
      const auto body = error_body(shape, 400, "say \"hi\"\n\x01 and \xff\xfe");
      const auto doc = nlohmann::json::parse(body, nullptr, false);
      REQUIRE_FALSE(doc.is_discarded());
      const auto message = doc["error"]["message"].get<std::string>();
      CHECK(message.starts_with("say \"hi\"\n\x01 and "));
      CHECK(message.find("\xef\xbf\xbd") != std::string::npos);  // U+FFFD for the invalid bytes
    }
  }
}
