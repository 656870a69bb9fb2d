#include "proxy/relay.h"

#include <spdlog/spdlog.h>

#include <limits>

#include "proxy/client_watch.h"
#include "proxy/sse_restorer.h"

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

template <class UpStream>
awaitable<void> write_request(UpStream& s, http::request<http::string_body>& req, beast::error_code& ec) {
  co_await http::async_write(s, req, asio::redirect_error(use_awaitable, ec));
}

template <class Stream>
awaitable<void> write_chunk(Stream& client, std::string_view bytes, beast::error_code& ec) {
  co_await asio::async_write(client, http::make_chunk(asio::buffer(bytes.data(), bytes.size())),
                             asio::redirect_error(use_awaitable, ec));
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
  co_await write_request(up, r.upstream_request, ec);
  if (ec) {
    if (watch.gone()) {
      client_gone(outcome);
    } else if (reused) {
      result.retry = true;
    } else {
      co_await send_error(client, req, shape, 502, "the upstream could not be reached", outcome);
    }
    co_return result;
  }
  beast::flat_buffer up_buffer;
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
    spdlog::warn("upstream {}: no reply header: {}", outcome.upstream, ec.message());
    co_await send_error(client, req, shape, timeout ? 504 : 502,
                        timeout ? "the upstream did not answer in time" : "the upstream closed the connection", outcome);
    co_return result;
  }
  outcome.ttfb_ms = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - outcome.started).count();
  auto& head = parser.get();
  const int status = static_cast<int>(head.result_int());
  outcome.status = status;
  const std::string content_type(head[http::field::content_type]);
  const bool sse = content_type.find("text/event-stream") != std::string::npos;
  const bool error_reply = status >= 400;

  char chunk[16 * 1024];
  auto read_piece = [&]() -> awaitable<std::string_view> {
    if (parser.is_done()) co_return std::string_view();
    head.body().data = chunk;
    head.body().size = sizeof chunk;
    up_tcp.expires_after(first_byte_timeout);
    co_await http::async_read(up, up_buffer, parser, asio::redirect_error(use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    co_return std::string_view(chunk, sizeof chunk - head.body().size);
  };

  if (sse && !error_reply) {
    // Streamed as it arrives: each piece restored (placeholders split across events are held
    // back until whole) and written as one chunk.
    http::response<http::empty_body> res{static_cast<http::status>(status), req.version()};
    set_x420_headers(res, outcome);
    res.set(http::field::content_type, content_type);
    res.set(http::field::cache_control, "no-cache");
    res.chunked(true);
    res.keep_alive(req.keep_alive());
    http::response_serializer<http::empty_body> sr{res};
    co_await http::async_write_header(client, sr, asio::redirect_error(use_awaitable, ec));
    if (ec) {
      client_gone(outcome);
      co_return result;
    }
    static const detect::PlaceholderMap kEmpty;
    const auto* map = r.placeholders;
    SseRestorer restorer(map ? *map : kEmpty, outcome.usage_injected);
    const bool rewrite = (map && map->size()) || outcome.usage_injected;
    UsageTap tap;
    bool client_failed = false;
    for (;;) {
      const auto piece = co_await read_piece();
      if (ec) break;
      tap.feed(piece);
      if (r.capture) r.capture->stream(piece);
      if (rewrite) {
        const std::string out = restorer.feed(piece);
        if (!out.empty()) co_await write_chunk(client, out, ec);
      } else if (!piece.empty()) {  // nothing to restore: the bytes pass through as they are
        co_await write_chunk(client, piece, ec);
      }
      if (ec) {
        client_failed = true;
        break;
      }
      if (parser.is_done()) break;
    }
    outcome.usage = tap.usage();
    if (client_failed || watch.gone()) {
      client_gone(outcome);
      co_return result;
    }
    if (ec) {
      outcome.error_type = "upstream_stream_broken";
      co_return result;
    }
    result.upstream_reusable = parser.keep_alive();
    if (rewrite) {
      const std::string tail = restorer.finish();
      if (!tail.empty()) co_await write_chunk(client, tail, ec);
    }
    if (!ec) co_await asio::async_write(client, http::make_chunk_last(), asio::redirect_error(use_awaitable, ec));
    result.keep_client = !ec && req.keep_alive();
    co_return result;
  }

  // A whole reply: read it (bounded), restore or (for errors) redact, send.
  std::string body;
  for (;;) {
    const auto piece = co_await read_piece();
    if (ec) break;
    body.append(piece);
    if (body.size() > kMaxUpstreamReply) {
      co_await send_error(client, req, shape, 502, "the upstream's reply is too large", outcome);
      co_return result;
    }
    if (parser.is_done()) break;
  }
  if (ec) {
    if (watch.gone()) client_gone(outcome);
    else co_await send_error(client, req, shape, 502, "the upstream's reply was cut off", outcome);
    co_return result;
  }
  result.upstream_reusable = parser.keep_alive();
  if (error_reply) {
    outcome.error_type = "upstream_" + std::to_string(status);
    body = p.masked(std::move(body), r.upstream_key);  // an error reply may echo the request
  } else {
    read_usage(body, outcome.usage);
    if (r.capture) r.capture->whole(body);
    if (r.placeholders && r.placeholders->size())
      body = detect::restore(body, *r.placeholders, detect::Restorer::Escape::json_string);
  }
  http::response<http::string_body> res{static_cast<http::status>(status), req.version()};
  set_x420_headers(res, outcome);
  res.set(http::field::content_type, content_type.empty() ? "application/json" : content_type);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
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
