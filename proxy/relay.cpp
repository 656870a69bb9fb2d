#include "proxy/relay.h"

#include <spdlog/spdlog.h>

#include <limits>

#include "lib/detect/json_restore.h"
#include "proxy/client_watch.h"
#include "proxy/reply_stream.h"

namespace x420::proxy {
namespace {

constexpr std::size_t kMaxUpstreamReply = 64 * 1024 * 1024;
constexpr std::string_view kServerName = "x420";

void client_gone(Outcome& outcome) {
  outcome.status = 499;
  outcome.error_type = "client_closed";
}

template <class Message>
void set_x420_headers(Message& m, const Outcome& outcome) {
  m.set(http::field::server, bsv(kServerName));
  m.set("x420-redactions", std::to_string(outcome.redactions));
  m.set("x420-generation-id", outcome.generation_id);
}

template <class Stream>
awaitable<void> write_chunk(Stream& client, std::string_view bytes, beast::error_code& ec) {
  co_await asio::async_write(client, http::make_chunk(asio::buffer(bytes.data(), bytes.size())),
                             asio::redirect_error(use_awaitable, ec));
}

// Reads one piece of the upstream's body as soon as any of it is there (one socket read), not
// when a buffer is full: a streamed reply must reach the client event by event.
template <class UpStream>
class BodyReader {
 public:
  BodyReader(UpStream& up, beast::flat_buffer& buffer, http::response_parser<http::buffer_body>& parser,
             beast::tcp_stream& tcp, std::chrono::seconds timeout)
      : up_(up), buffer_(buffer), parser_(parser), tcp_(tcp), timeout_(timeout) {}

  // An empty piece with no error: the reply is complete. An error: the upstream broke off.
  awaitable<std::string_view> next(beast::error_code& ec) {
    for (;;) {
      if (parser_.is_done()) co_return std::string_view();
      auto& body = parser_.get().body();
      body.data = chunk_;
      body.size = sizeof chunk_;
      tcp_.expires_after(timeout_);
      co_await http::async_read_some(up_, buffer_, parser_, asio::redirect_error(use_awaitable, ec));
      if (ec == http::error::need_buffer) ec = {};
      if (ec) co_return std::string_view();
      const std::size_t n = sizeof chunk_ - body.size;
      if (n > 0) co_return std::string_view(chunk_, n);
      // A chunk header or trailer alone: read on.
    }
  }

 private:
  UpStream& up_;
  beast::flat_buffer& buffer_;
  http::response_parser<http::buffer_body>& parser_;
  beast::tcp_stream& tcp_;
  std::chrono::seconds timeout_;
  char chunk_[16 * 1024];
};

template <class Stream, class Reader>
awaitable<RelayResult> relay_stream(Stream& client, Reader& reader, const RelayRequest& r, int status,
                                    const std::string& content_type, bool upstream_keep_alive, ClientWatch& watch,
                                    Outcome& outcome) {
  RelayResult result;
  const Request& req = r.client_request;
  http::response<http::empty_body> res{static_cast<http::status>(status), req.version()};
  set_x420_headers(res, outcome);
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-cache");
  res.chunked(true);
  res.keep_alive(req.keep_alive());
  http::response_serializer<http::empty_body> sr{res};
  beast::error_code ec;
  outcome.reply_started = true;
  co_await http::async_write_header(client, sr, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    client_gone(outcome);
    co_return result;
  }
  ReplyStream stream(r.placeholders, outcome.usage_injected, r.capture);
  beast::error_code up_ec;
  for (;;) {
    const auto piece = co_await reader.next(up_ec);
    if (up_ec || piece.empty()) break;
    const std::string out = stream.feed(piece);
    if (!out.empty()) co_await write_chunk(client, out, ec);
    if (ec) break;
  }
  if (!ec) {
    // Complete or cut off, what arrived is delivered and the client's stream ends cleanly.
    const std::string tail = stream.finish();
    if (!tail.empty()) co_await write_chunk(client, tail, ec);
  }
  outcome.usage = stream.usage().usage();
  outcome.usage_reported = stream.usage().seen();
  outcome.reply_text_bytes = stream.text_bytes();
  if (ec || watch.gone()) {
    client_gone(outcome);
    co_return result;
  }
  co_await asio::async_write(client, http::make_chunk_last(), asio::redirect_error(use_awaitable, ec));
  if (up_ec) {
    outcome.error_type = "upstream_stream_broken";
    spdlog::warn("upstream {}: the stream broke off after {} events: {}", outcome.upstream, stream.events(),
                 up_ec.message());
  } else {
    result.upstream_reusable = upstream_keep_alive;
  }
  result.keep_client = !ec && req.keep_alive();
  co_return result;
}

// A reply nothing needs to change in (no placeholder can be in it, nothing is stored): forwarded
// per read, with the upstream's length when it gave one. A copy, bounded, is kept for usage.
template <class Stream, class Reader>
awaitable<RelayResult> relay_through(Stream& client, Reader& reader, const RelayRequest& r, int status,
                                     const std::string& content_type, std::optional<std::uint64_t> length,
                                     bool upstream_keep_alive, Outcome& outcome) {
  RelayResult result;
  const Request& req = r.client_request;
  http::response<http::empty_body> res{static_cast<http::status>(status), req.version()};
  set_x420_headers(res, outcome);
  res.set(http::field::content_type, content_type.empty() ? "application/json" : content_type);
  if (length) res.content_length(*length);
  else res.chunked(true);
  res.keep_alive(req.keep_alive());
  http::response_serializer<http::empty_body> sr{res};
  beast::error_code ec;
  outcome.reply_started = true;
  co_await http::async_write_header(client, sr, asio::redirect_error(use_awaitable, ec));
  std::string copy;
  beast::error_code up_ec;
  while (!ec) {
    const auto piece = co_await reader.next(up_ec);
    if (up_ec || piece.empty()) break;
    if (copy.size() + piece.size() <= kMaxUpstreamReply) copy.append(piece);
    if (length) co_await asio::async_write(client, asio::buffer(piece.data(), piece.size()), asio::redirect_error(use_awaitable, ec));
    else co_await write_chunk(client, piece, ec);
  }
  outcome.usage_reported = read_usage(copy, outcome.usage);
  outcome.reply_text_bytes = copy.size();
  if (ec) {
    client_gone(outcome);
    co_return result;
  }
  if (up_ec) {  // the client cannot be told in band: it sees the connection close short
    outcome.error_type = "upstream_reply_broken";
    co_return result;
  }
  if (!length) co_await asio::async_write(client, http::make_chunk_last(), asio::redirect_error(use_awaitable, ec));
  result.upstream_reusable = upstream_keep_alive;
  result.keep_client = !ec && req.keep_alive();
  co_return result;
}

template <class Stream, class UpStream>
awaitable<RelayResult> relay_on(Proxy& p, Stream& client, UpStream& up, beast::tcp_stream& up_tcp, bool reused,
                                const RelayRequest& r, Outcome& outcome) {
  RelayResult result;
  const Request& req = r.client_request;
  const ErrorShape shape = r.endpoint.errors;
  // While the upstream thinks, nothing is written to the client, so only a watch on its socket
  // notices it leave; the upstream request is then closed.
  ClientWatch watch(beast::get_lowest_layer(client).socket(), [&up_tcp] { up_tcp.close(); });
  const auto first_byte_timeout = std::chrono::seconds(p.config.upstream_first_byte_timeout_s);

  beast::error_code ec;
  up_tcp.expires_after(first_byte_timeout);
  co_await http::async_write(up, r.upstream_request, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    if (watch.gone()) {
      client_gone(outcome);
    } else if (reused) {
      result.retry = true;
    } else {
      outcome.cause = "sending the request failed: " + ec.message();
      co_await send_error(client, req, shape, 502, "the upstream could not be reached", outcome);
    }
    co_return result;
  }
  beast::flat_buffer up_buffer;
  // Beast reads as much as the buffer has room for, 512 bytes when it is new: room for a whole
  // socket read keeps one client write per upstream read, not one per 512 bytes.
  up_buffer.reserve(16 * 1024);
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // streams are unbounded; whole replies are capped below
  co_await http::async_read_header(up, up_buffer, parser, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    if (watch.gone()) {
      client_gone(outcome);
      co_return result;
    }
    const bool timeout = ec == beast::error::timeout;
    if (reused && !timeout && !parser.got_some()) {
      result.retry = true;
      co_return result;
    }
    outcome.cause = timeout ? "no reply header within " + std::to_string(first_byte_timeout.count()) + " s"
                            : "no reply header: " + ec.message();
    co_await send_error(client, req, shape, timeout ? 504 : 502,
                        timeout ? "the upstream did not answer in time" : "the upstream closed the connection", outcome);
    co_return result;
  }
  outcome.ttfb_ms = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - outcome.started).count();
  auto& head = parser.get();
  const int status = static_cast<int>(head.result_int());
  outcome.status = status;
  const std::string content_type(head[http::field::content_type]);
  const std::string encoding(head[http::field::content_encoding]);
  const bool sse = content_type.find("text/event-stream") != std::string::npos;
  const bool error_reply = status >= 400;
  BodyReader reader(up, up_buffer, parser, up_tcp, first_byte_timeout);

  if (!encoding.empty() && !beast::iequals(encoding, "identity")) {
    // Asked for identity; a compressed reply could be neither restored nor masked.
    spdlog::warn("upstream {}: a reply with Content-Encoding {} was refused", outcome.upstream, encoding.substr(0, 32));
    // Named, not a temporary: GCC 12 can destroy a temporary in a co_await expression twice.
    const std::string message = "the upstream sent a compressed reply (Content-Encoding: " + encoding.substr(0, 32) +
                                ") that the proxy cannot check; it asks for identity";
    outcome.cause = "a compressed reply (" + encoding.substr(0, 32) + ")";
    co_await send_error(client, req, shape, 502, message, outcome);
    outcome.error_type = "upstream_encoding";
    co_return result;
  }
  if (sse && !error_reply)
    co_return co_await relay_stream(client, reader, r, status, content_type, parser.keep_alive(), watch, outcome);
  const bool restoring = r.placeholders && r.placeholders->size();
  if (!error_reply && !restoring && !r.capture) {
    std::optional<std::uint64_t> length;
    if (head.has_content_length() && parser.content_length()) length = *parser.content_length();
    co_return co_await relay_through(client, reader, r, status, content_type, length, parser.keep_alive(), outcome);
  }

  // A whole reply: read it (bounded), restore or (for errors) mask, send.
  std::string body;
  for (;;) {
    const auto piece = co_await reader.next(ec);
    if (ec || piece.empty()) break;
    body.append(piece);
    if (body.size() > kMaxUpstreamReply) {
      outcome.cause = "a reply over " + std::to_string(kMaxUpstreamReply) + " bytes";
      co_await send_error(client, req, shape, 502, "the upstream's reply is too large", outcome);
      co_return result;
    }
  }
  if (ec) {
    if (watch.gone()) client_gone(outcome);
    else {
      outcome.cause = "the reply was cut off: " + ec.message();
      co_await send_error(client, req, shape, 502, "the upstream's reply was cut off", outcome);
    }
    co_return result;
  }
  result.upstream_reusable = parser.keep_alive();
  if (error_reply) {
    outcome.error_type = "upstream_" + std::to_string(status);
    if (status >= 500) outcome.cause = "the upstream answered HTTP " + std::to_string(status);
    body = p.masked(std::move(body), r.upstream_key);  // an error reply may echo the request
  } else {
    outcome.usage_reported = read_usage(body, outcome.usage);
    outcome.reply_text_bytes = body.size();
    if (r.capture) r.capture->whole(body);
    if (restoring) body = detect::restore_json(body, *r.placeholders);
  }
  http::response<http::string_body> res{static_cast<http::status>(status), req.version()};
  set_x420_headers(res, outcome);
  res.set(http::field::content_type, content_type.empty() ? "application/json" : content_type);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  outcome.reply_started = true;
  co_await http::async_write(client, res, asio::redirect_error(use_awaitable, ec));
  result.keep_client = !ec && req.keep_alive();
  co_return result;
}

}  // namespace

template <class Stream>
awaitable<RelayResult> relay(Proxy& p, Stream& client, UpstreamConnection& upstream, const RelayRequest& r,
                             Outcome& outcome) {
  if (auto* tls = upstream.tls()) co_return co_await relay_on(p, client, *tls, upstream.tcp(), upstream.reused, r, outcome);
  co_return co_await relay_on(p, client, *upstream.plain(), upstream.tcp(), upstream.reused, r, outcome);
}

template awaitable<RelayResult> relay(Proxy&, beast::tcp_stream&, UpstreamConnection&, const RelayRequest&, Outcome&);
template awaitable<RelayResult> relay(Proxy&, TlsStream&, UpstreamConnection&, const RelayRequest&, Outcome&);

}  // namespace x420::proxy
