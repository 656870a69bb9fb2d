#include "proxy/inference.h"

#include "proxy/admit.h"
#include "proxy/relay.h"
#include "proxy/settle.h"
#include "proxy/upstream_request.h"
#include "lib/common/http_url.h"

namespace x420::proxy {
namespace {

template <class Stream>
awaitable<void> send_refusal(Stream& client, const Request& req, ErrorShape shape, const Refusal& refusal,
                             Outcome& outcome) {
  auto res = error_response(req, shape, refusal.status, refusal.message, outcome);
  if (refusal.retry_after_seconds > 0) res.set(http::field::retry_after, std::to_string(refusal.retry_after_seconds));
  if (!refusal.keep_alive) res.keep_alive(false);
  co_await send(client, std::move(res));
}

}  // namespace

template <class Stream>
awaitable<bool> handle_inference(Proxy& p, Stream& client, const Request& req, const Endpoint& endpoint,
                                 Outcome& outcome) {
  const auto shape = endpoint.errors;
  auto admitted = admit(p, req, endpoint, outcome);
  if (auto* refusal = std::get_if<Refusal>(&admitted)) {
    co_await send_refusal(client, req, shape, *refusal, outcome);
    co_return req.keep_alive() && refusal->keep_alive;
  }
  Admission& a = std::get<Admission>(admitted);

  auto url = parse_http_url(a.upstream->base_url);
  auto secret = p.keyring.open_upstream_secret(*a.upstream);
  if (!secret && p.keyring.is_stale(p.store) && p.refresh_keyring()) {
    // Rotated under this process since the row was cached: the row holds the old wrapping.
    p.upstream_rows.clear();
    const auto fresh = p.upstream_rows.get(outcome.key->tenant_id);
    for (const auto& row : *fresh)
      if (row.name == a.upstream->name) secret = p.keyring.open_upstream_secret(row);
  }
  if (!url || !secret) {
    const Refusal misconfigured{500, "the upstream is misconfigured", 0, false};
    co_await send_refusal(client, req, shape, misconfigured, outcome);
    settle(p, a, outcome);
    co_return false;
  }
  auto up_req = build_upstream_request(req, endpoint, a.query, *url, a.kind, secret->view(), std::move(a.body), a.headers);

  std::optional<ReplyCapture> capture;
  if (a.storing) capture.emplace();
  const RelayRequest relay_request{req, up_req, endpoint, a.placeholders.get(), secret->view(), capture ? &*capture : nullptr};
  RelayResult relayed;
  for (int attempt = 0; attempt < 2; ++attempt) {  // a second time only on a fresh connection
    auto connection = co_await p.upstreams.acquire(*url);
    if (!connection) {
      const std::string message = connection.error().message;
      outcome.cause = message;
      co_await send_error(client, req, shape, 502, message, outcome);
      settle(p, a, outcome);
      co_return req.keep_alive();
    }
    relayed = co_await relay(p, client, **connection, relay_request, outcome);
    if (relayed.upstream_reusable) p.upstreams.release(*url, std::move(connection.value()));
    if (!relayed.retry) break;
  }
  if (relayed.retry) {  // even a fresh connection closed at once
    outcome.cause = "the upstream closed a fresh connection without a reply";
    co_await send_error(client, req, shape, 502, "the upstream closed the connection", outcome);
    settle(p, a, outcome);
    co_return req.keep_alive();
  }
  store_exchange(p, a, outcome, std::move(up_req.body()), capture, secret->view());
  settle(p, a, outcome);
  co_return relayed.keep_client;
}

template awaitable<bool> handle_inference(Proxy&, beast::tcp_stream&, const Request&, const Endpoint&, Outcome&);
template awaitable<bool> handle_inference(Proxy&, TlsStream&, const Request&, const Endpoint&, Outcome&);

}  // namespace x420::proxy
