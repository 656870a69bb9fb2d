// Step one of DESIGN.md's "One request", before anything leaves: authenticate the key, parse and
// redact the body in one walk (which also yields model, stream and the output limits), route,
// rate-limit and freeze the worst-case cost. No socket here: it takes the client's request and
// returns what to forward, or the refusal to send back in the caller's error shape.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "lib/metering/limits.h"
#include "lib/metering/prices.h"
#include "proxy/proxy_state.h"
#include "proxy/request_fields.h"
#include "proxy/upstream_request.h"

namespace x420::proxy {

// Where an exchange is stored, when it is (never for a no-log key).
struct Storing {
  std::string conversation_id;
  std::optional<UnixSeconds> ttl;
};

struct Admission {
  RedactionPolicy policy = RedactionPolicy::pseudonymize;
  std::string body;                    // what goes upstream: redacted, model routed, usage asked for
  std::string query;                   // the query string that goes upstream (with its '?'), redacted
  std::vector<ForwardedHeader> headers;  // forwarded headers sent redacted instead of the client's
  RequestFields fields;                // as the client sent them
  std::shared_ptr<detect::PlaceholderMap> placeholders;  // the key's map, when replies are restored
  std::shared_ptr<const std::vector<store::UpstreamRow>> upstreams;  // keeps `upstream` alive
  const store::UpstreamRow* upstream = nullptr;
  UpstreamKind kind = UpstreamKind::openai;
  metering::RequestEstimate estimate;
  metering::Price price;
  metering::Freeze key_freeze;         // the worst case held against the key's cap
  metering::Freeze tenant_freeze;      // and against the tenant's balance
  std::optional<Storing> storing;
};

struct Refusal {
  int status = 400;
  std::string message;            // for the caller; never a secret or a body byte
  int retry_after_seconds = 0;    // with 429
  bool keep_alive = true;         // false: something is wrong with this server, not the request
};

// Redacts the body, the query string and the forwarded header values alike; refuses a `model`
// that looks like a secret. Fills outcome.key, upstream, model, redactions and redacted_rules as
// it learns them. A refused
// request has reserved nothing (rate-limit reservation and freezes are given back).
std::variant<Admission, Refusal> admit(Proxy& p, const Request& req, const Endpoint& endpoint, Outcome& outcome);

// The presented key: "Authorization: Bearer …" or "x-api-key: …"; empty when neither.
std::string_view bearer_or_api_key(const Request& req);

}  // namespace x420::proxy
