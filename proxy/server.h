// `x420 serve`: the OpenAI- and Anthropic-compatible proxy. One I/O thread runs a coroutine
// per connection; each request goes through the steps of DESIGN.md's "One request":
// authenticate, route, redact, forward, relay (restoring placeholders), settle.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "lib/common/result.h"
#include "lib/detect/engine.h"
#include "lib/detect/redactor.h"
#include "proxy/listen_address.h"
#include "lib/service/bootstrap.h"

namespace x420::proxy {

enum class RedactionPolicy { pseudonymize, mask, block, off };
// What is done with a request's encoded payloads that cannot be scanned (images, PDF, audio,
// unknown media types): forwarded unscanned (counted), or the request refused with 400.
enum class UnscannedPolicy { forward, refuse };

// The proxy's engines: the rules it redacts by default (secrets, cards, IBANs, national
// numbers), and the same with the contact data (phone numbers, e-mail and IP addresses, dates of
// birth) for the keys, or the server, that redact personal data too. Two engines, not one whose
// findings are filtered: a contact-data finding could win an overlap against a secret and then
// be dropped, and the secret with it.
struct Engines {
  std::shared_ptr<const detect::Engine> base;
  std::shared_ptr<const detect::Engine> personal;
};

struct ServeConfig {
  ListenAddress listen;
  RedactionPolicy redaction = RedactionPolicy::pseudonymize;
  UnscannedPolicy unscanned = UnscannedPolicy::forward;  // a key's own setting wins
  bool redact_personal = false;                          // contact data too; a key's own setting wins
  std::size_t max_body_bytes = 10 * 1024 * 1024;
  int upstream_connect_timeout_s = 10;
  int upstream_first_byte_timeout_s = 300;
  int client_idle_timeout_s = 60;
  // Printed on stdout once listening ("listening 127.0.0.1:8420"), for scripts and tests.
  bool announce = true;
  // TLS on the listening side when both are set (PEM files): 1.3 preferred, 1.2 minimum.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Conversations (redacted, sealed per record) are kept for keys that ask, or for every key
  // but no-log ones when this is on; they live conversation_ttl_s (0: until deleted), and a
  // sweep every conversation_sweep_s deletes the expired.
  bool store_conversations = false;
  std::int64_t conversation_ttl_s = 24 * 3600;
  int conversation_sweep_s = 300;
  // A placeholder's mapping to its secret is kept in memory this long after its last use (between
  // this and twice this), for replies to restore; then forgotten.
  int placeholder_ttl_s = 3600;
  // And at most this many, in this many bytes, per key: past either the least recently used
  // are forgotten, so no client can grow the proxy without limit.
  detect::PlaceholderMap::Budget placeholder_budget;
  // How often what is held for keys and tenants is checked against the store, so a revoke or a
  // delete by another process drops it: the key cache's TTL.
  int departed_sweep_ms = 1000;
  // How long SIGTERM waits for in-flight requests before cutting them off.
  int drain_timeout_s = 30;
  // The store file, for the usage writer's own connection.
  std::string db_path;
  // Where the master key is read again when another process rotates it (x420 kek rotate).
  service::MasterKeySource master_key;
  // How often the store's KEK id is checked for a rotation (0: only on SIGHUP and on a failure).
  int kek_watch_s = 1;
  // SIGHUP rebuilds the engines with this (rules and allowlist files read again).
  std::function<Result<Engines>()> reload_engines;
};

// Runs until SIGTERM or SIGINT, then stops accepting, lets in-flight requests finish (their
// usage settled) and returns.
Status serve(const ServeConfig& config, service::OpenStore& store, Engines engines);

}  // namespace x420::proxy
