// Keep-alive connections to upstreams, reused across requests: a new TCP (and TLS) connection
// per request costs a handshake or two on every call, which is most of what a proxy adds.
// One I/O thread owns the pool, so it has no lock.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "lib/common/clock.h"
#include "lib/common/http_url.h"
#include "lib/common/result.h"
#include "proxy/asio_types.h"

namespace x420::proxy {

// One connection to an upstream, plain or TLS (verified against the system store, SNI and host
// name checked).
class UpstreamConnection {
 public:
  explicit UpstreamConnection(const asio::any_io_executor& executor) : plain_(std::in_place, executor) {}
  UpstreamConnection(const asio::any_io_executor& executor, ssl::context& tls) : tls_(std::in_place, executor, tls) {}

  beast::tcp_stream& tcp() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }
  TlsStream* tls() { return tls_ ? &*tls_ : nullptr; }
  beast::tcp_stream* plain() { return plain_ ? &*plain_ : nullptr; }

  bool reused = false;  // came from the pool: may have been closed by the upstream meanwhile

 private:
  std::optional<beast::tcp_stream> plain_;
  std::optional<TlsStream> tls_;
};

class UpstreamPool {
 public:
  struct Limits {
    std::size_t max_idle_per_upstream = 256;
    std::chrono::seconds idle_timeout{30};
    std::chrono::seconds connect_timeout{10};
  };
  UpstreamPool(ssl::context& tls, const Clock& clock, Limits limits) : tls_(tls), clock_(clock), limits_(limits) {}

  // An idle connection to `url`'s host if one is still open, else a new one (resolved unless the
  // host is an address, connected, and for https handshaken). The error message says which step
  // failed, never anything secret.
  awaitable<Result<std::unique_ptr<UpstreamConnection>>> acquire(const HttpUrl& url);

  // For a connection whose last reply was read to its end and which the upstream keeps alive.
  void release(const HttpUrl& url, std::unique_ptr<UpstreamConnection> connection);

  std::size_t idle() const;
  void clear() { idle_.clear(); }

 private:
  struct Idle {
    std::unique_ptr<UpstreamConnection> connection;
    Millis since;
  };
  static std::string pool_key(const HttpUrl& url);
  std::unique_ptr<UpstreamConnection> take_idle(const std::string& key);

  ssl::context& tls_;
  const Clock& clock_;
  Limits limits_;
  std::unordered_map<std::string, std::vector<Idle>> idle_;
};

}  // namespace x420::proxy
