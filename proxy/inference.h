// One inference request, DESIGN.md's "One request" in four steps, one file each: admit
// (admit.cpp: authenticate, parse once, redact, route, limit and freeze), build the upstream
// request (upstream_request.cpp), relay (relay.cpp, over a pooled upstream connection), settle
// (settle.cpp). This file only puts them in order.
#pragma once

#include <string_view>

#include "proxy/proxy_state.h"

namespace x420::proxy {

// Returns whether the client connection may serve another request.
template <class Stream>
awaitable<bool> handle_inference(Proxy& p, Stream& client, const Request& req, const Endpoint& endpoint,
                                 Outcome& outcome);

}  // namespace x420::proxy
