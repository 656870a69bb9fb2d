// The request that goes to the upstream, built from the client's request and the admission
// without touching a socket (h2o's build_request is the model): the upstream's path and Host,
// its secret in its own header, the provider and SDK headers that are safe to pass, and
// Accept-Encoding: identity, because a compressed reply could not be restored.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "proxy/asio_types.h"
#include "proxy/endpoints.h"
#include "lib/common/http_url.h"

namespace x420::proxy {

using UpstreamRequest = http::request<http::string_body>;

// Whether a client's header is passed on: the providers' own API options and the SDKs' telemetry
// (anthropic-*, openai-*, x-stainless-*), the controls of the test double (x-mock-*), and
// Accept. Their values leave the machine, so the proxy scans them (request_edges.h).
bool forwarded_header(std::string_view name);

struct ForwardedHeader {
  std::string name;
  std::string value;
};

// `query` goes after the path as given (with its '?'). `replaced`: forwarded headers whose value
// is sent instead of the client's (their redacted form).
UpstreamRequest build_upstream_request(const Request& client, const Endpoint& endpoint, std::string_view query,
                                       const HttpUrl& url, UpstreamKind kind, std::string_view secret,
                                       std::string body, std::span<const ForwardedHeader> replaced = {});

}  // namespace x420::proxy
