// One inference request (DESIGN.md, "One request"): authenticate, redact, route, limit and
// freeze, forward over a pooled upstream connection, relay, settle.
#pragma once

#include <string_view>

#include "proxy/proxy_state.h"

namespace x420::proxy {

// Returns whether the client connection may serve another request.
template <class Stream>
awaitable<bool> handle_inference(Proxy& p, Stream& client, const Request& req, const Endpoint& endpoint,
                                 std::string_view query, Outcome& outcome);

// The presented key: "Authorization: Bearer …" or "x-api-key: …"; empty when neither.
std::string_view bearer_or_api_key(const Request& req);

}  // namespace x420::proxy
