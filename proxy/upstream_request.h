// The request that goes to the upstream, built from the client's request and the admission
// without touching a socket (h2o's build_request is the model): the upstream's path and Host,
// its secret in its own header, the provider and SDK headers that are safe to pass, and
// Accept-Encoding: identity, because a compressed reply could not be restored.
#pragma once

#include <string>
#include <string_view>

#include "proxy/asio_types.h"
#include "proxy/endpoints.h"
#include "lib/common/http_url.h"

namespace x420::proxy {

using UpstreamRequest = http::request<http::string_body>;

UpstreamRequest build_upstream_request(const Request& client, const Endpoint& endpoint, std::string_view query,
                                       const HttpUrl& url, UpstreamKind kind, std::string_view secret,
                                       std::string body);

}  // namespace x420::proxy
