// Forwarding one request to its upstream and relaying the reply: I/O only. An SSE stream goes
// through a ReplyStream and each read's complete events are written and flushed at once; a
// reply that needs no restoring is forwarded per read; one that does is read whole (bounded)
// and restored; an upstream error is masked. Usage is read from the reply on the way through.
#pragma once

#include <string_view>

#include "proxy/conversation_capture.h"
#include "proxy/proxy_state.h"
#include "proxy/upstream_request.h"

namespace x420::proxy {

struct RelayResult {
  bool keep_client = false;        // the client connection may serve another request
  bool upstream_reusable = false;  // the reply was read to its end on a keep-alive connection
  // A pooled connection failed before any reply byte: the upstream had closed it while idle.
  // Nothing was sent to the client; the caller may try once more on a fresh connection.
  bool retry = false;
};

struct RelayRequest {
  const Request& client_request;
  UpstreamRequest& upstream_request;
  const Endpoint& endpoint;
  const detect::PlaceholderMap* placeholders;  // null when nothing is to be restored
  std::string_view upstream_key;               // masked should an upstream echo it
  ReplyCapture* capture = nullptr;             // the reply, unrestored, when the conversation is stored
};

template <class Stream>
awaitable<RelayResult> relay(Proxy& p, Stream& client, UpstreamConnection& upstream, const RelayRequest& r,
                             Outcome& outcome);

}  // namespace x420::proxy
