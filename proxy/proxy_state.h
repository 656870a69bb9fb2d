// What every connection of `x420 serve` shares (the Proxy), and what the proxy learns about one
// request on its way through (the Outcome). Everything runs on the one I/O thread, so none of it
// needs a lock.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "lib/common/clock.h"
#include "lib/crypto/random.h"
#include "lib/detect/engine.h"
#include "lib/detect/redactor.h"
#include "lib/metering/limits.h"
#include "lib/metering/prices.h"
#include "proxy/asio_types.h"
#include "proxy/endpoints.h"
#include "proxy/key_cache.h"
#include "proxy/upstream_cache.h"
#include "proxy/metrics.h"
#include "proxy/server.h"
#include "proxy/upstream_pool.h"
#include "proxy/usage_tap.h"
#include "proxy/usage_writer.h"
#include "lib/service/bootstrap.h"
#include "lib/service/local_service.h"
#include "proxy/model_catalog.h"

namespace x420::proxy {

struct Proxy {
  // `personal` null: the one engine serves every key.
  Proxy(const ServeConfig& c, service::OpenStore& open, std::shared_ptr<const detect::Engine> e,
        std::shared_ptr<const detect::Engine> personal = nullptr);

  const ServeConfig& config;
  store::Store& store;
  service::Keyring& keyring;
  // Swapped by SIGHUP between requests' steps. `engine` finds what every key's requests are
  // redacted of; `personal_engine` that and the contact data, for keys that redact it too.
  std::shared_ptr<const detect::Engine> engine;
  std::shared_ptr<const detect::Engine> personal_engine;
  SystemClock clock;
  service::LocalService service;
  KeyCache keys;
  UpstreamCache upstream_rows;  // routing's view of each tenant's upstreams
  detect::Engine::ScratchPtr scratch;
  detect::Engine::ScratchPtr personal_scratch;
  ssl::context upstream_tls{ssl::context::tls_client};
  UpstreamPool upstreams;
  ModelCatalog models;  // what each upstream lists, for GET /v1/models
  // What the proxy holds per key and per tenant is keyed by id, never by name (a tenant deleted
  // and made again under its name is a stranger), and forget_departed drops it once the key is
  // revoked or the tenant deleted.
  // Placeholders restored in replies, in memory only, per key id: a reply is restored only from
  // the map of the key that sent the secret. Shared, so a request being relayed keeps its map
  // while a sweep drops it.
  struct KeyPlaceholders {
    std::string tenant_id;
    std::shared_ptr<detect::PlaceholderMap> map;
  };
  std::unordered_map<std::string, KeyPlaceholders> placeholders;
  std::unordered_map<std::string, detect::Pseudonymizer> pseudonymizers;  // by tenant id
  std::size_t in_flight = 0;
  bool draining = false;
  std::unique_ptr<ssl::context> tls;             // the listening side's, when configured
  std::unordered_set<tcp::socket*> connections;  // to close idle ones when draining
  // Connections waiting for their next request, oldest first: closed to free descriptors when
  // accept runs out of them, so new clients (and /healthz) are still served.
  std::map<std::uint64_t, tcp::socket*> idle_connections;
  std::uint64_t idle_sequence = 0;
  std::unique_ptr<UsageWriter> usage;            // usage rows, written off this thread
  // Metering: in memory in one process (a Redis-backed twin comes with several replicas).
  metering::PriceTable prices = metering::PriceTable::with_builtin_prices();
  metering::InMemoryRateLimiter limiter;
  metering::InMemorySpendLedger ledger{clock};
  Metrics metrics;

  // The tenant's pseudonymizer (the same secret, the same placeholder, for all its keys).
  Result<detect::Pseudonymizer*> pseudonymizer_for(const service::KeyInfo& key);
  // The key's own map of placeholders to secrets, made on first use.
  std::shared_ptr<detect::PlaceholderMap> placeholders_for(const service::KeyInfo& key);
  // Drops everything held for keys that are revoked, expired or gone and for tenants that are
  // gone, asking the store (one lookup per key and tenant held): after a change through the
  // admin API at once, and every key-cache TTL for changes made by another process. A store
  // that cannot be read is logged and everything kept until the next sweep.
  void forget_departed();
  void forget_departed_or_throw();
  // Ages the placeholder maps one generation (see PlaceholderMap::next_generation) and drops
  // the maps left empty.
  void age_placeholders();
  // After another process rotated the KEK (x420 kek rotate): adopt the new one, so requests go
  // on without a restart. Returns whether the keyring is current now.
  bool refresh_keyring();
  // The tenant's key for conversation ids derived from their first message.
  Result<const crypto::SecretBytes*> conversation_key_for(const service::KeyInfo& key);
  std::unordered_map<std::string, crypto::SecretBytes> conversation_keys;  // by tenant id
  // The key's own mode when it has one, else the server's.
  RedactionPolicy redaction_for(const service::KeyInfo& key) const;
  UnscannedPolicy unscanned_for(const service::KeyInfo& key) const;
  // The engine a key's requests are scanned with: the personal one when the key, or else the
  // server, redacts contact data too.
  struct Detector {
    const detect::Engine& engine;
    detect::Engine::Scratch& scratch;
  };
  Detector detector_for(const service::KeyInfo& key);
  void set_engines(std::shared_ptr<const detect::Engine> base, std::shared_ptr<const detect::Engine> personal);
  // `text` with every secret the engine finds masked, and the upstream's own key should a
  // provider repeat it: for what is kept or shown that was not redacted on the way out (an
  // upstream's error reply, a stored reply).
  std::string masked(std::string text, std::string_view upstream_key);
};

struct Outcome {
  std::string generation_id = "gen-" + crypto::random_base62(24);
  std::optional<service::KeyInfo> key;
  std::string upstream;
  std::string model;
  int status = 0;
  std::string error_type;
  std::size_t redactions = 0;
  TokenUsage usage;
  std::int64_t cost_micros = 0;
  std::vector<std::string> redacted_rules;
  bool usage_injected = false;  // the proxy added stream_options.include_usage
  bool usage_reported = false;  // the upstream's reply carried usage
  std::size_t reply_text_bytes = 0;  // relayed, for an estimate when no usage came
  bool reply_started = false;   // a status line went to the client: errors can only close now
  SteadyClock::time_point started = SteadyClock::now();
  std::optional<std::int64_t> ttfb_ms;
  // Why the proxy answered 5xx itself or the upstream failed (refused, DNS, TLS, a timeout, a
  // status), for the log line: the proxy's own words and the system's error text, never content.
  std::string cause;
};

// A JSON reply with the proxy's usual headers.
http::response<http::string_body> json_response(const Request& req, http::status status, std::string body);

template <class Stream>
awaitable<void> send(Stream& stream, http::response<http::string_body> res) {
  beast::error_code ec;
  co_await http::async_write(stream, res, asio::redirect_error(use_awaitable, ec));
}

// An error reply in the caller's API shape, recorded in the outcome for the usage row and the log.
http::response<http::string_body> error_response(const Request& req, ErrorShape shape, int status,
                                                 std::string_view message, Outcome& outcome);

template <class Stream>
awaitable<void> send_error(Stream& stream, const Request& req, ErrorShape shape, int status,
                           std::string_view message, Outcome& outcome) {
  co_await send(stream, error_response(req, shape, status, message, outcome));
}

// After a request: its metrics, its usage row (when a key was verified) and its access-log line
// (none for no-log keys). Metadata only: never a body, a header value or a key. `route` is the
// route's pattern ("/v1/chat/completions", "other"), never the client's path: it names the
// request in the metrics and the log line alike.
void record_request(Proxy& p, const Request& req, std::string_view route, const Outcome& o);

}  // namespace x420::proxy
