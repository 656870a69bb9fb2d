// Forwarding one request to its upstream and relaying the reply to the client: an SSE stream
// event by event as it arrives (placeholders restored across events), a whole reply bounded and
// restored at once, an upstream error masked. Usage is read from the reply on the way through.
#pragma once

#include <string_view>

#include "proxy/conversation_capture.h"
#include "proxy/proxy_state.h"

namespace x420::proxy {

struct RelayResult {
  bool keep_client = false;    // the client connection may serve another request
  bool upstream_reusable = false;  // the reply was read to its end on a keep-alive connection
  // A pooled connection failed before any reply byte: the upstream had closed it while idle.
  // Nothing was sent to the client; the caller may try once more on a fresh connection.
  bool retry = false;
};

struct RelayRequest {
  const Request& client_request;
  http::request<http::string_body>& upstream_request;
  const Endpoint& endpoint;
  const detect::PlaceholderMap* placeholders;  // null when nothing is to be restored
  std::string_view upstream_key;               // masked should an upstream echo it
  ReplyCapture* capture = nullptr;             // the reply, unrestored, when the conversation is stored
};

template <class Stream>
awaitable<RelayResult> relay(Proxy& p, Stream& client, UpstreamConnection& upstream, const RelayRequest& r,
                             Outcome& outcome);

}  // namespace x420::proxy
