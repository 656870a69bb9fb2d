#include "proxy/inference.h"

#include <nlohmann/json.hpp>

#include <charconv>

#include "detect/json_body.h"
#include "proxy/conversation_capture.h"
#include "service/conversations.h"
#include "proxy/relay.h"
#include "proxy/routing.h"
#include "proxy/upstream_url.h"

namespace x420::proxy {
namespace {

// Headers a client may send that are passed on: the providers' own API options and the SDKs'
// telemetry, plus the controls of the test double in tests/mock_upstream. Nothing that can carry
// a credential: the client's key stays here and the upstream's key is added by the proxy.
bool forwardable(std::string_view name) {
  for (std::string_view prefix : {"anthropic-", "openai-", "x-stainless-", "x-mock-"})
    if (name.size() >= prefix.size() && beast::iequals(bsv(name.substr(0, prefix.size())), bsv(prefix))) return true;
  return false;
}

// The value range of the top-level "model" string, to splice a routed model name in.
std::optional<std::pair<std::size_t, std::size_t>> model_value_range(std::string_view body, detect::ApiShape shape) {
  std::optional<std::pair<std::size_t, std::size_t>> range;
  detect::walk_json_strings(body, shape, [&](detect::JsonPath path, const detect::StringValue& v) {
    if (!v.is_key && path.size() == 1 && !path[0].is_index && path[0].key == "model") range = std::pair{v.begin, v.end};
  });
  return range;
}

std::string json_escape(std::string_view s) {
  const auto quoted = nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

// Holds the worst-case cost against the key's cap and then the tenant's balance; empty when
// either cannot cover it (the key's freeze is then given back by its destructor).
std::optional<std::pair<metering::Freeze, metering::Freeze>> freeze_cost(Proxy& p, const service::KeyInfo& key,
                                                                         std::int64_t worst_micros) {
  std::pair<metering::Freeze, metering::Freeze> held;
  if (key.cap_usd_micros) {
    const std::int64_t spent = p.ledger.knows(key.id) ? 0 : p.store.spent_micros(key.id);
    const auto id = p.ledger.freeze(key.id, key.cap_usd_micros, spent, worst_micros);
    if (!id) return std::nullopt;
    held.first = metering::Freeze(p.ledger, *id);
  }
  const auto tenant = p.store.tenant_by_id(key.tenant_id);
  if (tenant && tenant->credit_usd_micros) {
    const std::string account = "tenant:" + key.tenant_id;
    const std::int64_t spent = p.ledger.knows(account) ? 0 : p.store.tenant_spent_micros(key.tenant_id);
    const auto id = p.ledger.freeze(account, tenant->credit_usd_micros, spent, worst_micros);
    if (!id) return std::nullopt;
    held.second = metering::Freeze(p.ledger, *id);
  }
  return held;
}

// Where this exchange is stored, if it is: never for a no-log key; for a key that asks, or for
// every key when the server stores conversations.
struct Storing {
  std::string conversation_id;
  std::optional<UnixSeconds> ttl;
};

std::string header_value(const Request& req, std::string_view name) {
  const auto it = req.find(bsv(name));
  return it == req.end() ? std::string() : std::string(it->value());
}

// The TTL: the key's own, else the server's; a client's x420-conversation-ttl header may shorten
// it (positive seconds), never lengthen it.
Result<std::optional<UnixSeconds>> conversation_ttl(Proxy& p, const Request& req, const service::KeyInfo& key) {
  std::int64_t ttl = key.conversation_ttl.value_or(p.config.conversation_ttl_s);
  const std::string asked = header_value(req, kConversationTtlHeader);
  if (!asked.empty()) {
    std::int64_t seconds = 0;
    const auto [end, ec] = std::from_chars(asked.data(), asked.data() + asked.size(), seconds);
    if (ec != std::errc() || end != asked.data() + asked.size() || seconds <= 0)
      return make_error(ErrorKind::usage, "x420-conversation-ttl must be a positive number of seconds");
    ttl = ttl == 0 ? seconds : std::min(ttl, seconds);
  }
  if (ttl == 0) return std::optional<UnixSeconds>();
  return std::optional<UnixSeconds>(ttl);
}

Result<std::optional<Storing>> storing(Proxy& p, const Request& req, const service::KeyInfo& key,
                                       const nlohmann::json& body, const std::string& generation_id) {
  if (key.no_log || !key.store_conversations.value_or(p.config.store_conversations)) return std::optional<Storing>();
  Storing s;
  s.conversation_id = header_value(req, kConversationHeader);
  if (!s.conversation_id.empty() && !service::is_valid_conversation_id(s.conversation_id))
    return make_error(ErrorKind::usage, "x420-conversation-id must be 1 to " +
                                            std::to_string(service::kMaxConversationIdLength) +
                                            " printable ASCII characters without spaces");
  if (s.conversation_id.empty()) {
    auto tenant_key = p.conversation_key_for(key.tenant);
    if (!tenant_key) return tenant_key.error();
    s.conversation_id = derived_conversation_id(**tenant_key, body);
  }
  if (s.conversation_id.empty()) s.conversation_id = "conv-" + generation_id;  // nothing to derive it from
  auto ttl = conversation_ttl(p, req, key);
  if (!ttl) return ttl.error();
  s.ttl = *ttl;
  return std::optional<Storing>(std::move(s));
}

}  // namespace

std::string_view bearer_or_api_key(const Request& req) {
  if (auto it = req.find(http::field::authorization); it != req.end()) {
    std::string_view v(it->value().data(), it->value().size());
    if (v.size() > 7 && beast::iequals(bsv(v.substr(0, 7)), "Bearer ")) return v.substr(7);
  }
  if (auto it = req.find("x-api-key"); it != req.end()) return {it->value().data(), it->value().size()};
  return {};
}

template <class Stream>
awaitable<bool> handle_inference(Proxy& p, Stream& client, const Request& req, const Endpoint& endpoint,
                                 std::string_view query, Outcome& outcome) {
  const auto shape = endpoint.errors;
  // authenticate
  const auto presented = bearer_or_api_key(req);
  if (presented.empty()) {
    co_await send_error(client, req, shape, 401, "missing API key (Authorization: Bearer x420_… or x-api-key)", outcome);
    co_return req.keep_alive();
  }
  auto key = p.keys.verify(presented);
  if (!key) {  // the same answer whatever the reason: nothing about which ids exist
    co_await send_error(client, req, shape, 401, "invalid API key", outcome);
    co_return req.keep_alive();
  }
  outcome.key = *key;
  const service::KeyInfo& verified = *outcome.key;
  const RedactionPolicy policy = p.redaction_for(verified);

  // parse and redact the body once (this walk also validates it, bounded in depth)
  std::string body = req.body();
  detect::PlaceholderMap* map = nullptr;
  if (policy != RedactionPolicy::off) {
    const detect::Pseudonymizer* pseudonymizer = nullptr;
    if (policy == RedactionPolicy::pseudonymize) {
      auto ps = p.pseudonymizer_for(verified.tenant);
      if (!ps) {
        co_await send_error(client, req, shape, 500, "redaction is unavailable", outcome);
        co_return false;
      }
      pseudonymizer = *ps;
      map = &p.placeholders[verified.tenant];
    }
    Result<detect::BodyRedaction> redacted = make_error(ErrorKind::internal, "");
    try {
      redacted = detect::redact_body(body, endpoint.shape, *p.engine, *p.scratch,
                                     pseudonymizer ? detect::RedactMode::pseudonymize : detect::RedactMode::mask,
                                     pseudonymizer, map);
    } catch (const std::exception&) {
      redacted = make_error(ErrorKind::internal, "the detection engine failed");
    }
    if (!redacted) {  // fail closed: nothing is forwarded unredacted
      const bool bad_json = redacted.error().kind == ErrorKind::usage;
      // Named, not a temporary: GCC 12 can destroy a temporary in a co_await expression twice.
      const std::string message = bad_json ? redacted.error().message : "redaction failed; the request was not forwarded";
      co_await send_error(client, req, shape, bad_json ? 400 : 500, message, outcome);
      co_return req.keep_alive();
    }
    outcome.redactions = redacted->redactions;
    if (policy == RedactionPolicy::block && redacted->redactions > 0) {
      std::string what;
      for (const auto& [rule, offset] : redacted->findings)
        what += (what.empty() ? "" : ", ") + rule + " at byte " + std::to_string(offset);
      const std::string message = "the request holds secrets and was not forwarded: " + what;
      co_await send_error(client, req, shape, 400, message, outcome);
      co_return req.keep_alive();
    }
    for (const auto& f : redacted->findings) outcome.redacted_rules.push_back(f.first);
    if (policy != RedactionPolicy::block) body = std::move(redacted->body);
  } else {
    std::optional<detect::JsonError> invalid = detect::walk_json_strings(body, endpoint.shape, [](auto, const auto&) {});
    if (invalid) {
      co_await send_error(client, req, shape, 400, "the request body is not valid JSON", outcome);
      co_return req.keep_alive();
    }
  }

  // route
  const auto doc = nlohmann::json::parse(body, nullptr, false);  // depth already bounded by the walk
  const std::string model = doc.is_object() && doc.contains("model") && doc["model"].is_string() ? doc["model"].get<std::string>() : "";
  const bool stream = doc.is_object() && doc.value("stream", false);
  const auto upstreams = p.upstream_rows.get(verified.tenant_id);  // held until the request ends
  auto route = choose_upstream(*upstreams, endpoint.upstream_kind, model);
  if (!route) {
    co_await send_error(client, req, shape, route.error().kind == ErrorKind::not_found ? 404 : 400,
                        route.error().message, outcome);
    co_return req.keep_alive();
  }
  const auto& upstream = *route->upstream;
  outcome.upstream = upstream.name;
  outcome.model = route->model;
  if (route->model_rewritten)
    if (auto range = model_value_range(body, endpoint.shape))
      body.replace(range->first, range->second - range->first, json_escape(route->model));
  // OpenAI streams carry usage only when asked for it; the proxy asks, to settle the cost.
  if (stream && endpoint.shape == detect::ApiShape::openai_chat && !doc.contains("stream_options") && body.starts_with('{')) {
    body.insert(1, "\"stream_options\":{\"include_usage\":true},");
    outcome.usage_injected = true;
  }

  // limit: rpm/tpm, then freeze the worst-case cost against the key's cap and the tenant's
  // balance (DESIGN.md, Metering)
  std::optional<std::int64_t> max_output;
  for (const char* field : {"max_tokens", "max_completion_tokens", "max_output_tokens"})
    if (doc.is_object() && doc.contains(field) && doc[field].is_number_integer())
      max_output = std::max(max_output.value_or(0), doc[field].get<std::int64_t>());
  const auto estimate = metering::estimate_request(
      body.size(), max_output,
      endpoint.shape == detect::ApiShape::openai_embeddings ? 0 : metering::kDefaultMaxOutputTokens);
  const auto decision = p.limiter.check_and_reserve(verified.id, verified.rpm, verified.tpm, estimate.total(),
                                                    p.milli_clock.now_ms());
  if (!decision.allowed) {
    const std::string message = decision.limited_by == metering::Decision::Limit::requests
                                    ? "rate limit: too many requests per minute for this key"
                                    : "rate limit: too many tokens per minute for this key";
    outcome.status = 429;
    outcome.error_type = std::string(error_type(shape, 429));
    auto res = json_response(req, http::status::too_many_requests, error_body(shape, 429, message));
    res.set(http::field::retry_after, std::to_string(decision.retry_after_seconds));
    co_await send(client, std::move(res));
    co_return req.keep_alive();
  }
  const auto price = p.prices.lookup(route->model).price;
  const std::int64_t worst = metering::cost_micros(price, metering::worst_case_tokens(estimate));
  auto freezes = freeze_cost(p, verified, worst);
  if (!freezes) {
    p.limiter.settle(verified.id, estimate.total(), 0, p.milli_clock.now_ms());
    co_await send_error(client, req, shape, 402,
                        "the request's maximum cost is more than this key's spend cap or the tenant's balance leaves",
                        outcome);
    co_return req.keep_alive();
  }

  auto stored = storing(p, req, verified, doc, outcome.generation_id);
  if (!stored) {
    const std::string message = stored.error().message;
    co_await send_error(client, req, shape, stored.error().kind == ErrorKind::usage ? 400 : 500, message, outcome);
    co_return req.keep_alive();
  }
  std::optional<ReplyCapture> capture;
  if (*stored) capture.emplace();

  auto url = parse_upstream_url(upstream.base_url);
  auto secret = p.keyring.open_upstream_secret(upstream);
  if (!url || !secret) {
    co_await send_error(client, req, shape, 500, "the upstream is misconfigured", outcome);
    co_return false;
  }

  // forward
  http::request<http::string_body> up_req{http::verb::post, url->path + std::string(endpoint.upstream_path) + std::string(query), 11};
  up_req.set(http::field::host, url->host_header);
  up_req.set(http::field::user_agent, "x420/0.1");
  up_req.set(http::field::content_type, "application/json");
  up_req.set(http::field::accept, req[http::field::accept].empty() ? "application/json" : std::string(req[http::field::accept]));
  for (const auto& field : req)
    if (forwardable(ssv(field.name_string()))) up_req.set(field.name_string(), field.value());
  if (upstream.kind == "anthropic") {
    up_req.set("x-api-key", bsv(secret->view()));
    if (req["anthropic-version"].empty()) up_req.set("anthropic-version", "2023-06-01");
  } else {
    up_req.set(http::field::authorization, "Bearer " + std::string(secret->view()));
  }
  up_req.body() = std::move(body);
  up_req.prepare_payload();

  const RelayRequest relay_request{req, up_req, endpoint, map, secret->view(), capture ? &*capture : nullptr};
  RelayResult relayed;
  for (int attempt = 0; attempt < 2; ++attempt) {  // a second time only on a fresh connection
    auto connection = co_await p.upstreams.acquire(*url);
    if (!connection) {
      const std::string message = connection.error().message;
      co_await send_error(client, req, shape, 502, message, outcome);
      co_return req.keep_alive();
    }
    relayed = co_await relay(p, client, **connection, relay_request, outcome);
    if (relayed.upstream_reusable) p.upstreams.release(*url, std::move(connection.value()));
    if (!relayed.retry) break;
  }
  if (relayed.retry) {  // even a fresh connection closed at once
    co_await send_error(client, req, shape, 502, "the upstream closed the connection", outcome);
    co_return req.keep_alive();
  }

  if (capture && outcome.status > 0 && outcome.status < 400) {
    service::ConversationWrite exchange;
    exchange.tenant_id = verified.tenant_id;
    exchange.conversation_id = (*stored)->conversation_id;
    exchange.key_id = verified.id;
    exchange.generation_id = outcome.generation_id;
    exchange.now = p.clock.now();
    exchange.ttl = (*stored)->ttl;
    // Only redacted text is stored: the request is as forwarded (unredacted under a key whose
    // mode is off), and the reply is as the upstream wrote it, which may hold secrets of its own.
    exchange.request_text = p.masked(std::move(up_req.body()), secret->view());
    exchange.response_text = p.masked(capture->finish(), secret->view());
    p.usage->submit(std::move(exchange));
  }

  // settle: the actual cost from the upstream's usage, for the ledger, the limiter and the row
  const auto& u = outcome.usage;
  const auto billed = upstream.kind == "anthropic"
                          ? metering::anthropic_tokens(u.input, u.cached, u.cache_write, u.cache_write_1h, u.output)
                          : metering::openai_tokens(u.input, u.cached, u.output);
  outcome.cost_micros = metering::cost_micros(price, billed);
  if (freezes->first.active()) freezes->first.settle(outcome.cost_micros);
  if (freezes->second.active()) freezes->second.settle(outcome.cost_micros);
  p.limiter.settle(verified.id, estimate.total(), u.input + u.output, p.milli_clock.now_ms());
  co_return relayed.keep_client;
}

template awaitable<bool> handle_inference(Proxy&, beast::tcp_stream&, const Request&, const Endpoint&, std::string_view,
                                          Outcome&);
template awaitable<bool> handle_inference(Proxy&, TlsStream&, const Request&, const Endpoint&, std::string_view, Outcome&);

}  // namespace x420::proxy
