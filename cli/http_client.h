// A small synchronous HTTP/1.1 client for the admin API: one request per connection, over http
// or https (the certificate and host name verified against the system's CA store, or the bundle
// in SSL_CERT_FILE), each step under a deadline. Failing to reach the server is
// ErrorKind::unavailable with a message that names it.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/common/http_url.h"
#include "lib/common/result.h"

namespace x420::cli {

// path is "" or "/prefix" when the service sits under a path of a reverse proxy.
struct ServerUrl : HttpUrl {
  std::string text;  // the URL as the user gave it, without trailing slashes, for messages
};

// https://host[:port][/prefix] or http://…; no credentials, query or fragment. Plain http only
// to a loopback host: the management token would otherwise cross the network in clear text.
Result<ServerUrl> parse_server_url(std::string_view url);

enum class HttpMethod { get, post, del };

struct HttpReply {
  int status = 0;
  std::string content_type;
  std::string body;
};

struct HttpTimeouts {
  std::chrono::seconds connect{10};
  std::chrono::seconds reply{60};  // for the whole exchange after connecting
};

// Receives a 2xx reply's body piece by piece, as it arrives; an error it returns ends the exchange.
using BodySink = std::function<Status(std::string_view piece)>;

// Sends one request to server.base_path + target. Any HTTP status is a reply; only failing to
// get one (resolve, connect, TLS, timeout, a cut-off or oversized reply) is an error. With a
// `sink`, a 2xx body goes to it as it arrives (of any size; `reply` then applies to each wait
// for more, not to the whole exchange) and HttpReply::body stays empty; other replies are read
// whole as usual.
Result<HttpReply> http_exchange(const ServerUrl& server, HttpMethod method, std::string_view target,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                std::string_view body, const HttpTimeouts& timeouts = {},
                                const BodySink& sink = {});

}  // namespace x420::cli
