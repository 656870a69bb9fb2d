#include "cli/http_client.h"

#include <limits>
#include <optional>
#include <type_traits>

#include "cli/version.h"
#include "lib/crypto/secret_bytes.h"
#include "proxy/asio_types.h"
#include "proxy/tls_client.h"

namespace x420::cli {
namespace {

using namespace proxy;  // the Asio/Beast names and the TLS client setup

// Usage listings are the largest replies: 100000 rows of about 400 bytes.
constexpr std::uint64_t kMaxReplyBytes = 64ull * 1024 * 1024;

// One exchange on its own io_context. Every I/O object is a member, so each outlives io.run()
// and no completion handler can see a destroyed one.
class Exchange {
 public:
  Exchange(const ServerUrl& server, const HttpTimeouts& timeouts, const BodySink& sink)
      : server_(server), timeouts_(timeouts), sink_(sink), resolver_(io_), deadline_(io_) {}

  Result<HttpReply> run(Request request) {
    auto rethrow = [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    };
    if (server_.tls) {
      configure_tls_client(tls_);
      secure_.emplace(io_, tls_);
      asio::co_spawn(io_, talk(*secure_, request), rethrow);
    } else {
      plain_.emplace(io_);
      asio::co_spawn(io_, talk(*plain_, request), rethrow);
    }
    io_.run();
    crypto::wipe(request.body());  // it may carry an upstream's key
    crypto::wipe(piece_);
    if (!reply_) return unreachable("no reply");
    return std::move(*reply_);
  }

 private:
  Error unreachable(const std::string& why) const {
    return make_error(ErrorKind::unavailable, "cannot reach the x420 service at " + server_.text + ": " + why);
  }

  std::string seconds(std::chrono::seconds s) const { return std::to_string(s.count()) + " s"; }

  Error read_failure(const beast::error_code& ec) const {
    if (ec == beast::error::timeout) return unreachable("no reply within " + seconds(timeouts_.reply));
    return unreachable("the connection ended before a whole reply (" + ec.message() + ")");
  }

  template <class Stream>
  awaitable<void> talk(Stream& stream, Request& request) {
    auto& tcp_stream = beast::get_lowest_layer(stream);
    beast::error_code ec;

    // The resolver has no deadline of its own; a timer cancels it.
    deadline_.expires_after(timeouts_.connect);
    deadline_.async_wait([this](const beast::error_code& e) {
      if (!e) resolver_.cancel();
    });
    const auto endpoints =
        co_await resolver_.async_resolve(server_.host, server_.port, asio::redirect_error(use_awaitable, ec));
    deadline_.cancel();
    if (ec) {
      reply_ = unreachable(ec == asio::error::operation_aborted
                               ? "resolving " + server_.host + " took over " + seconds(timeouts_.connect)
                               : "cannot resolve " + server_.host + " (" + ec.message() + ")");
      co_return;
    }

    tcp_stream.expires_after(timeouts_.connect);
    co_await tcp_stream.async_connect(endpoints, asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (ec == beast::error::timeout) reply_ = unreachable("no connection within " + seconds(timeouts_.connect));
      else if (ec == asio::error::connection_refused) reply_ = unreachable("connection refused (is x420 serve running there?)");
      else reply_ = unreachable(ec.message());
      co_return;
    }

    // From here on one deadline covers the rest of the exchange.
    tcp_stream.expires_after(timeouts_.reply);
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      prepare_tls_handshake(stream, server_.host);
      co_await stream.async_handshake(ssl::stream_base::client, asio::redirect_error(use_awaitable, ec));
      if (ec) {
        std::string why = "TLS handshake failed (" + ec.message() + ")";
        if (ec.category() == asio::error::get_ssl_category())
          why += "; if its certificate comes from a private CA, point SSL_CERT_FILE at that CA's PEM file";
        reply_ = unreachable(why);
        co_return;
      }
    }

    co_await http::async_write(stream, request, asio::redirect_error(use_awaitable, ec));
    if (ec) {
      reply_ = unreachable(ec == beast::error::timeout ? "sending took over " + seconds(timeouts_.reply)
                                                       : "sending failed (" + ec.message() + ")");
      co_return;
    }
    // The head, then the body piece by piece: to the sink as it arrives when there is one and
    // the status is 2xx, else gathered (bounded) for the caller.
    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // bounded below, where no sink takes the pieces
    co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    if (ec) {
      reply_ = read_failure(ec);
      co_return;
    }
    HttpReply reply;
    reply.status = static_cast<int>(parser.get().result_int());
    const auto type = parser.get()[http::field::content_type];
    reply.content_type.assign(type.data(), type.size());
    const bool streaming = sink_ && reply.status >= 200 && reply.status < 300;
    piece_.resize(64 * 1024);
    while (!parser.is_done()) {
      parser.get().body().data = piece_.data();
      parser.get().body().size = piece_.size();
      if (streaming) tcp_stream.expires_after(timeouts_.reply);
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        reply_ = streaming ? unreachable("the reply stopped before its end (" + ec.message() +
                                         "; the server's log says why)")
                           : read_failure(ec);
        co_return;
      }
      const std::string_view got(piece_.data(), piece_.size() - parser.get().body().size);
      if (streaming) {
        if (auto taken = sink_(got); !taken) {
          reply_ = taken.error();
          co_return;
        }
      } else {
        reply.body.append(got);
        if (reply.body.size() > kMaxReplyBytes) {
          reply_ = unreachable("its reply is over " + std::to_string(kMaxReplyBytes) + " bytes");
          co_return;
        }
      }
    }
    reply_ = std::move(reply);

    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      tcp_stream.expires_after(std::chrono::seconds(2));
      co_await stream.async_shutdown(asio::redirect_error(use_awaitable, ec));  // close_notify; errors do not matter now
    } else {
      tcp_stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    }
  }

  const ServerUrl& server_;
  const HttpTimeouts& timeouts_;
  const BodySink& sink_;
  std::string piece_;  // one piece of a reply's body; wiped after (it may hold a new key)
  asio::io_context io_{1};
  ssl::context tls_{ssl::context::tls_client};
  tcp::resolver resolver_;
  asio::steady_timer deadline_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure_;
  std::optional<Result<HttpReply>> reply_;
};

}  // namespace

Result<ServerUrl> parse_server_url(std::string_view url) {
  auto bad = [&](const std::string& why) {
    return make_error(ErrorKind::usage, "server URL '" + std::string(url.substr(0, 200)) + "' " + why +
                                            " (--server or X420_SERVER, e.g. https://x420.example.com or "
                                            "http://127.0.0.1:8420)");
  };
  auto parsed = parse_http_url(url);
  if (!parsed) return bad(parsed.error().message);
  ServerUrl out{std::move(*parsed), {}};
  if (!out.tls && !out.is_loopback())
    return bad("is plain http to another machine, which would send the management token in clear text; "
               "use https:// (x420 serve --tls-cert F --tls-key F)");
  while (url.ends_with('/')) url.remove_suffix(1);
  out.text = std::string(url);
  return out;
}

Result<HttpReply> http_exchange(const ServerUrl& server, HttpMethod method, std::string_view target,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                std::string_view body, const HttpTimeouts& timeouts, const BodySink& sink) {
  const auto verb = method == HttpMethod::get ? http::verb::get
                    : method == HttpMethod::post ? http::verb::post
                                                 : http::verb::delete_;
  Request request{verb, server.path + std::string(target), 11};
  request.set(http::field::host, server.host_header());
  request.set(http::field::user_agent, std::string("x420/") + kVersion);
  request.set(http::field::accept, "application/json");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.keep_alive(false);  // one request per connection: the CLI makes one call per command
  if (method == HttpMethod::post) {
    request.set(http::field::content_type, "application/json");
    request.body() = std::string(body);
  }
  request.prepare_payload();
  Exchange exchange(server, timeouts, sink);
  auto reply = exchange.run(std::move(request));
  return reply;
}

}  // namespace x420::cli
