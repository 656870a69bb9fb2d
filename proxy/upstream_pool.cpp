#include "proxy/upstream_pool.h"

#include <poll.h>

#include "proxy/tls_client.h"

namespace x420::proxy {
namespace {

// An idle HTTP/1.1 connection has nothing to read: readable means the upstream closed it (or
// broke the protocol), either way it is not to be reused.
bool still_open(UpstreamConnection& c) {
  auto& socket = c.tcp().socket();
  if (!socket.is_open()) return false;
  pollfd fd{socket.native_handle(), POLLIN, 0};
  return ::poll(&fd, 1, 0) == 0;
}

}  // namespace

std::string UpstreamPool::pool_key(const HttpUrl& url) {
  return (url.tls ? "https://" : "http://") + url.host + ":" + url.port;
}

std::unique_ptr<UpstreamConnection> UpstreamPool::take_idle(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  const Millis now = clock_.steady_ms();
  while (!list.empty()) {  // newest last: it is the most likely to be alive
    Idle entry = std::move(list.back());
    list.pop_back();
    if (now - entry.since < std::chrono::milliseconds(limits_.idle_timeout).count() && still_open(*entry.connection)) {
      entry.connection->reused = true;
      return std::move(entry.connection);
    }
  }
  return nullptr;
}

awaitable<Result<std::unique_ptr<UpstreamConnection>>> UpstreamPool::acquire(const HttpUrl& url) {
  const std::string key = pool_key(url);
  if (auto idle = take_idle(key)) co_return std::move(idle);

  auto executor = co_await asio::this_coro::executor;
  beast::error_code ec;
  std::vector<tcp::endpoint> endpoints;
  const auto port = static_cast<unsigned short>(std::stoi(url.port));
  if (const auto address = asio::ip::make_address(url.host, ec); !ec) {
    endpoints.emplace_back(address, port);  // an address needs no resolver round trip
  } else {
    tcp::resolver resolver(executor);
    ec = {};
    const auto results = co_await resolver.async_resolve(url.host, url.port, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return make_error(ErrorKind::unavailable, "the upstream's host could not be resolved (" + ec.message() + ")");
    for (const auto& r : results) endpoints.push_back(r.endpoint());
  }

  auto connection = url.tls ? std::make_unique<UpstreamConnection>(executor, tls_)
                            : std::make_unique<UpstreamConnection>(executor);
  auto& stream = connection->tcp();
  // One endpoint at a time, on the socket itself with a timer of our own: Beast 1.74's
  // basic_stream::async_connect, when the connect fails at once (as it does out of
  // descriptors), goes on with an operation object already moved from (UBSan: invalid vptr).
  asio::steady_timer timer(executor);
  for (const auto& endpoint : endpoints) {
    auto& socket = stream.socket();
    beast::error_code ignored;
    socket.close(ignored);
    socket.open(endpoint.protocol(), ec);
    if (ec) co_return make_error(ErrorKind::unavailable, "the proxy could not open a connection to the upstream (" + ec.message() + ")");
    timer.expires_after(limits_.connect_timeout);
    timer.async_wait([&socket](const beast::error_code& e) {
      if (!e) socket.cancel();  // the connect ends with operation_aborted
    });
    co_await socket.async_connect(endpoint, asio::redirect_error(use_awaitable, ec));
    timer.cancel();
    if (!ec) break;
  }
  if (ec == asio::error::operation_aborted)
    co_return make_error(ErrorKind::unavailable, "the upstream could not be reached (no answer to connect within " +
                                                     std::to_string(limits_.connect_timeout.count()) + " s)");
  if (ec) co_return make_error(ErrorKind::unavailable, "the upstream could not be reached (" + ec.message() + ")");
  stream.socket().set_option(tcp::no_delay(true), ec);
  if (auto* tls = connection->tls()) {
    prepare_tls_handshake(*tls, url.host);
    co_await tls->async_handshake(ssl::stream_base::client, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return make_error(ErrorKind::unavailable, "the upstream could not be reached securely (TLS: " + ec.message() + ")");
  }
  stream.expires_never();
  co_return std::move(connection);
}

void UpstreamPool::release(const HttpUrl& url, std::unique_ptr<UpstreamConnection> connection) {
  connection->tcp().expires_never();
  auto& list = idle_[pool_key(url)];
  if (list.size() >= limits_.max_idle_per_upstream) list.erase(list.begin());  // the oldest goes
  list.push_back({std::move(connection), clock_.steady_ms()});
}

std::size_t UpstreamPool::idle() const {
  std::size_t n = 0;
  for (const auto& [key, list] : idle_) n += list.size();
  return n;
}

}  // namespace x420::proxy
