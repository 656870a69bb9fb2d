// proxy/upstream_request: the request that goes upstream, built without a socket: path and Host
// from the upstream's URL, the upstream's secret in its own header, only safe client headers.
#include <catch2/catch.hpp>

#include "proxy/upstream_request.h"

using namespace x420;
using namespace x420::proxy;

namespace {

HttpUrl url_of(std::string_view text) {
  auto u = parse_http_url(text);
  REQUIRE(u.ok());
  return *u;
}

Request client_request(std::string target) {
  Request req{http::verb::post, target, 11};
  req.set(http::field::host, "proxy.local:8420");
  req.set(http::field::authorization, "Bearer x420_client_key");
  req.set("x-api-key", "x420_client_key");
  req.set(http::field::cookie, "session=1");
  req.set(http::field::accept_encoding, "gzip, br");
  req.set("OpenAI-Organization", "org-1");
  req.set("openai-beta", "assistants=v2");
  req.set("X-Stainless-Lang", "python");
  req.set("x-mock-delay", "5");
  req.set("x-forwarded-for", "10.0.0.1");
  req.body() = "{\"client\":true}";
  req.prepare_payload();
  return req;
}

std::string field(const UpstreamRequest& r, std::string_view name) { return std::string(ssv(r[bsv(name)])); }

}  // namespace

TEST_CASE("an OpenAI request goes to the base path plus the endpoint's, with the upstream's bearer", "[proxy][upstream_request]") {
  const auto client = client_request("/v1/chat/completions");
  const auto* endpoint = find_endpoint("/v1/chat/completions");
  REQUIRE(endpoint);
  const auto up = build_upstream_request(client, *endpoint, "", url_of("https://api.openai.com/v1/"),
                                         UpstreamKind::openai, "sk-upstream-1", "{\"model\":\"gpt-4o\"}");
  CHECK(up.method() == http::verb::post);
  CHECK(up.target() == "/v1/chat/completions");
  CHECK(up.version() == 11);
  CHECK(field(up, "Host") == "api.openai.com");
  CHECK(field(up, "Authorization") == "Bearer sk-upstream-1");
  CHECK(field(up, "x-api-key").empty());  // the client's key stays here
  CHECK(field(up, "Content-Type") == "application/json");
  CHECK(field(up, "Accept") == "application/json");
  CHECK(field(up, "Accept-Encoding") == "identity");  // a compressed reply could not be restored
  CHECK(field(up, "User-Agent") == "x420/0.1");
  CHECK(up.body() == "{\"model\":\"gpt-4o\"}");
  CHECK(field(up, "Content-Length") == "18");
}

TEST_CASE("an Anthropic request carries x-api-key and a default anthropic-version", "[proxy][upstream_request]") {
  const auto* endpoint = find_endpoint("/v1/messages");
  REQUIRE(endpoint);
  auto client = client_request("/v1/messages");
  const auto url = url_of("http://[::1]:9000");
  SECTION("the client named no version") {
    const auto up = build_upstream_request(client, *endpoint, "", url, UpstreamKind::anthropic, "sk-ant-1", "{}");
    CHECK(up.target() == "/v1/messages");
    CHECK(field(up, "Host") == "[::1]:9000");
    CHECK(field(up, "x-api-key") == "sk-ant-1");
    CHECK(field(up, "Authorization").empty());
    CHECK(field(up, "anthropic-version") == "2023-06-01");
  }
  SECTION("the client's version and beta flags are passed on") {
    client.set("anthropic-version", "2024-10-22");
    client.set("anthropic-beta", "prompt-caching-2024-07-31");
    const auto up = build_upstream_request(client, *endpoint, "", url, UpstreamKind::anthropic, "sk-ant-1", "{}");
    CHECK(field(up, "anthropic-version") == "2024-10-22");
    CHECK(field(up, "anthropic-beta") == "prompt-caching-2024-07-31");
  }
}

TEST_CASE("only provider, SDK and mock headers pass, never credentials or other headers", "[proxy][upstream_request]") {
  const auto client = client_request("/v1/embeddings");
  const auto* endpoint = find_endpoint("/v1/embeddings");
  REQUIRE(endpoint);
  const auto up = build_upstream_request(client, *endpoint, "", url_of("https://h/v1"), UpstreamKind::openai, "sk-u", "{}");
  CHECK(field(up, "OpenAI-Organization") == "org-1");
  CHECK(field(up, "openai-beta") == "assistants=v2");
  CHECK(field(up, "x-stainless-lang") == "python");
  CHECK(field(up, "x-mock-delay") == "5");
  CHECK(field(up, "Cookie").empty());
  CHECK(field(up, "x-forwarded-for").empty());
  CHECK(field(up, "Accept-Encoding") == "identity");
  CHECK(field(up, "Host") == "h");
  for (const auto& f : up) CHECK(std::string(ssv(f.value())).find("x420_client_key") == std::string::npos);
}

TEST_CASE("the client's query and Accept are kept", "[proxy][upstream_request]") {
  auto client = client_request("/v1/responses?stream=true");
  client.set(http::field::accept, "text/event-stream");
  const auto* endpoint = find_endpoint("/v1/responses");
  REQUIRE(endpoint);
  const auto up = build_upstream_request(client, *endpoint, "?api-version=2024-10-21",
                                         url_of("https://example.openai.azure.com/openai/v1"), UpstreamKind::openai,
                                         "k", "{}");
  CHECK(up.target() == "/openai/v1/responses?api-version=2024-10-21");
  CHECK(field(up, "Accept") == "text/event-stream");
}
