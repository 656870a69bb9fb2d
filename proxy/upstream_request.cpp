#include "proxy/upstream_request.h"

namespace x420::proxy {
namespace {

// Headers a client may send that are passed on: the providers' own API options and the SDKs'
// telemetry, plus the controls of the test double in tests/mock_upstream. Nothing that is meant
// to carry a credential: the client's key stays here and the upstream's key is added by the proxy.
bool forwardable(std::string_view name) {
  for (std::string_view prefix : {"anthropic-", "openai-", "x-stainless-", "x-mock-"})
    if (name.size() >= prefix.size() && beast::iequals(bsv(name.substr(0, prefix.size())), bsv(prefix))) return true;
  return false;
}

}  // namespace

bool forwarded_header(std::string_view name) { return forwardable(name) || beast::iequals(bsv(name), "accept"); }

UpstreamRequest build_upstream_request(const Request& client, const Endpoint& endpoint, std::string_view query,
                                       const HttpUrl& url, UpstreamKind kind, std::string_view secret,
                                       std::string body, std::span<const ForwardedHeader> replaced) {
  UpstreamRequest up{http::verb::post, url.path + std::string(endpoint.upstream_path) + std::string(query), 11};
  up.set(http::field::host, url.host_header());
  up.set(http::field::user_agent, "x420/0.1");
  up.set(http::field::content_type, "application/json");
  const auto accept = client[http::field::accept];
  up.set(http::field::accept, accept.empty() ? beast::string_view("application/json") : accept);
  up.set(http::field::accept_encoding, "identity");
  for (const auto& field : client)
    if (forwardable(ssv(field.name_string()))) up.set(field.name_string(), field.value());
  for (const auto& header : replaced) up.set(bsv(header.name), bsv(header.value));
  if (kind == UpstreamKind::anthropic) {
    up.set("x-api-key", bsv(secret));
    if (client["anthropic-version"].empty()) up.set("anthropic-version", "2023-06-01");
  } else {
    up.set(http::field::authorization, "Bearer " + std::string(secret));
  }
  up.body() = std::move(body);
  up.prepare_payload();
  return up;
}

}  // namespace x420::proxy
