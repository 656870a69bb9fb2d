#include "proxy/admit.h"

#include <nlohmann/json.hpp>

#include <charconv>

#include "lib/common/json_text.h"
#include "proxy/conversation_capture.h"
#include "proxy/request_edges.h"
#include "proxy/routing.h"
#include "lib/service/conversations.h"

namespace x420::proxy {
namespace {

Refusal refuse(int status, std::string message) { return Refusal{status, std::move(message)}; }

std::string header_value(const Request& req, std::string_view name) {
  const auto it = req.find(bsv(name));
  return it == req.end() ? std::string() : std::string(it->value());
}

// Holds the worst-case cost against the key's cap and then the tenant's balance; false when
// either cannot cover it (a freeze already taken is given back when `a` goes).
bool freeze_cost(Proxy& p, const service::KeyInfo& key, std::int64_t worst_micros, Admission& a) {
  if (key.cap_usd_micros) {
    const std::int64_t spent = p.ledger.knows(key.id) ? 0 : p.store.spent_micros(key.id);
    const auto id = p.ledger.freeze(key.id, key.cap_usd_micros, spent, worst_micros);
    if (!id) return false;
    a.key_freeze = metering::Freeze(p.ledger, *id);
  }
  const auto tenant = p.store.tenant_by_id(key.tenant_id);
  if (tenant && tenant->credit_usd_micros) {
    const std::string account = "tenant:" + key.tenant_id;
    const std::int64_t spent = p.ledger.knows(account) ? 0 : p.store.tenant_spent_micros(key.tenant_id);
    const auto id = p.ledger.freeze(account, tenant->credit_usd_micros, spent, worst_micros);
    if (!id) return false;
    a.tenant_freeze = metering::Freeze(p.ledger, *id);
  }
  return true;
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

// Whether and where the exchange is stored: never for a no-log key; for a key that asks, or for
// every key when the server stores conversations.
Result<std::optional<Storing>> storing(Proxy& p, const Request& req, const service::KeyInfo& key,
                                       std::string_view forwarded_body, const std::string& generation_id) {
  if (key.no_log || !key.store_conversations.value_or(p.config.store_conversations)) return std::optional<Storing>();
  Storing s;
  s.conversation_id = header_value(req, kConversationHeader);
  if (!s.conversation_id.empty() && !service::is_valid_conversation_id(s.conversation_id))
    return make_error(ErrorKind::usage, "x420-conversation-id must be 1 to " +
                                            std::to_string(service::kMaxConversationIdLength) +
                                            " printable ASCII characters without spaces");
  if (s.conversation_id.empty()) {
    auto tenant_key = p.conversation_key_for(key);
    if (!tenant_key) return tenant_key.error();
    // Only when storing: the one DOM of the request, of a body the walk bounded in depth.
    s.conversation_id = derived_conversation_id(**tenant_key, nlohmann::json::parse(forwarded_body, nullptr, false));
  }
  if (s.conversation_id.empty()) s.conversation_id = "conv-" + generation_id;  // nothing to derive it from
  auto ttl = conversation_ttl(p, req, key);
  if (!ttl) return ttl.error();
  s.ttl = *ttl;
  return std::optional<Storing>(std::move(s));
}

// The query string of the client's request, from its '?'; empty when it has none.
std::string_view query_of(const Request& req) {
  const std::string_view target(req.target().data(), req.target().size());
  const auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q);
}

// The query string and the forwarded headers, scanned as the body was: redacted into a.query
// and a.headers, or (block) a refusal naming where, never what.
std::optional<Refusal> redact_edges_into(Proxy& p, const Request& req, const service::KeyInfo& key,
                                         const detect::Pseudonymizer* pseudonymizer, Admission& a, Outcome& outcome) {
  const bool block = a.policy == RedactionPolicy::block;
  const auto detector = p.detector_for(key);
  auto edges = redact_edges(req, query_of(req), detector.engine, detector.scratch, block,
                            pseudonymizer ? detect::RedactMode::pseudonymize : detect::RedactMode::mask, pseudonymizer,
                            a.placeholders.get());
  if (!edges) return refuse(400, edges.error().message);
  if (block && !edges->findings.empty()) {
    std::string what;
    for (const auto& f : edges->findings) what += (what.empty() ? "" : ", ") + f.rule + " in " + f.where;
    return refuse(400, "the request holds secrets and was not forwarded: " + what);
  }
  outcome.redactions += edges->findings.size();
  for (const auto& f : edges->findings) outcome.redacted_rules.push_back(f.rule);
  a.query = std::move(edges->query);
  a.headers = std::move(edges->replaced);
  return std::nullopt;
}

// A `model` the engine finds a secret in is refused: the walk leaves it unredacted so that
// routing works, and it would go upstream and into the usage row, the log and the metrics.
std::optional<Refusal> model_refusal(Proxy& p, const std::string& model) {
  if (model.empty()) return std::nullopt;
  const auto found = p.engine->scan(model, *p.scratch);
  if (found.empty()) return std::nullopt;
  return refuse(400, "`model` looks like a secret (rule " + p.engine->rule(found.front().rule).id +
                         "); the request was not forwarded");
}

// Payloads the walk could not scan (images, PDF, unknown media), by the key's policy or the
// server's: counted, and refused when the policy says so.
std::optional<Refusal> unscanned_refusal(Proxy& p, const service::KeyInfo& key, std::size_t unscanned) {
  if (unscanned == 0) return std::nullopt;
  const bool refuse_them = p.unscanned_for(key) == UnscannedPolicy::refuse;
  p.metrics.count_unscanned(unscanned, refuse_them);
  if (!refuse_them) return std::nullopt;
  return refuse(400, "the request holds " + std::to_string(unscanned) +
                         " encoded payload(s) that cannot be scanned for secrets (images, PDF or another "
                         "non-text media type), and this key refuses them (unscanned payloads: refuse)");
}

// Redacts (or, with redaction off, only walks) the body, reading the top-level fields on the way.
// Fills a.body and a.fields; the spans of `fields` are moved to where they are in a.body.
std::optional<Refusal> redact(Proxy& p, const Request& req, const Endpoint& endpoint, const service::KeyInfo& key,
                              Admission& a, Outcome& outcome, std::optional<ValueSpan>& stream_options_out,
                              std::optional<ValueSpan>& model_out) {
  const std::string& original = req.body();
  RequestFieldReader reader(original);
  const detect::TopMemberVisitor top = [&](std::string_view k, std::size_t b, std::size_t e) { reader.member(k, b, e); };
  if (a.policy == RedactionPolicy::off) {
    const auto invalid = detect::walk_json_strings(original, endpoint.shape, [](auto, const auto&) {}, {}, top);
    if (invalid)
      return refuse(400, "the request body is not valid JSON at byte " + std::to_string(invalid->offset) + ": " +
                             std::string(invalid->reason));
    a.body = original;
    a.query = std::string(query_of(req));
    auto fields = reader.finish();
    if (!fields) return refuse(400, fields.error().message);
    a.fields = std::move(*fields);
    stream_options_out = a.fields.stream_options;
    model_out = a.fields.model_span;
    return std::nullopt;
  }
  const detect::Pseudonymizer* pseudonymizer = nullptr;
  if (a.policy == RedactionPolicy::pseudonymize) {
    auto ps = p.pseudonymizer_for(key);
    if (!ps) return Refusal{500, "redaction is unavailable", 0, false};
    pseudonymizer = *ps;
    a.placeholders = p.placeholders_for(key);
  }
  Result<detect::BodyRedaction> redacted = make_error(ErrorKind::internal, "");
  try {
    const auto detector = p.detector_for(key);
    redacted = detect::redact_body(original, endpoint.shape, detector.engine, detector.scratch,
                                   pseudonymizer ? detect::RedactMode::pseudonymize : detect::RedactMode::mask,
                                   pseudonymizer, a.placeholders.get(), {}, top);
  } catch (const std::exception&) {
    redacted = make_error(ErrorKind::internal, "the detection engine failed");
  }
  if (!redacted) {  // fail closed: nothing is forwarded unredacted
    const bool bad_json = redacted.error().kind == ErrorKind::usage;
    return refuse(bad_json ? 400 : 500, bad_json ? redacted.error().message : "redaction failed; the request was not forwarded");
  }
  auto fields = reader.finish();
  if (!fields) return refuse(400, fields.error().message);
  a.fields = std::move(*fields);
  outcome.redactions = redacted->redactions;
  if (a.policy == RedactionPolicy::block && redacted->redactions > 0) {
    std::string what;
    for (const auto& [rule, offset] : redacted->findings)
      what += (what.empty() ? "" : ", ") + rule + " at byte " + std::to_string(offset);
    return refuse(400, "the request holds secrets and was not forwarded: " + what);
  }
  for (const auto& f : redacted->findings) outcome.redacted_rules.push_back(f.first);
  if (auto refused = unscanned_refusal(p, key, redacted->unscanned)) return refused;
  if (auto refused = redact_edges_into(p, req, key, pseudonymizer, a, outcome)) return refused;
  const auto moved = [&](std::optional<ValueSpan> span) -> std::optional<ValueSpan> {
    if (!span) return span;
    return ValueSpan{redacted->moved(span->begin), redacted->moved(span->end)};
  };
  stream_options_out = moved(a.fields.stream_options);
  model_out = moved(a.fields.model_span);
  a.body = a.policy == RedactionPolicy::block ? original : std::move(redacted->body);
  return std::nullopt;
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

std::variant<Admission, Refusal> admit(Proxy& p, const Request& req, const Endpoint& endpoint, Outcome& outcome) {
  // authenticate
  const auto presented = bearer_or_api_key(req);
  if (presented.empty()) return refuse(401, "missing API key (Authorization: Bearer x420_… or x-api-key)");
  auto key = p.keys.verify(presented);
  if (!key) return refuse(401, "invalid API key");  // the same answer whatever the reason
  outcome.key = *key;
  const service::KeyInfo& verified = *outcome.key;

  // parse once and redact
  Admission a;
  a.policy = p.redaction_for(verified);
  std::optional<ValueSpan> stream_options, model_span;
  if (auto refused = redact(p, req, endpoint, verified, a, outcome, stream_options, model_span)) return *refused;
  if (auto refused = model_refusal(p, a.fields.model)) return *refused;  // outcome.model stays empty

  // route
  a.upstreams = p.upstream_rows.get(verified.tenant_id);
  auto route = choose_upstream(*a.upstreams, kind_name(endpoint.upstream_kind), a.fields.model);
  if (!route) return refuse(route.error().kind == ErrorKind::not_found ? 404 : 400, route.error().message);
  a.upstream = route->upstream;
  a.kind = endpoint.upstream_kind;
  outcome.upstream = a.upstream->name;
  outcome.model = route->model;
  std::vector<BodyEdit> edits;
  if (route->model_rewritten && model_span)
    edits.push_back({model_span->begin, model_span->end, "\"" + json_string_body(route->model) + "\""});
  // OpenAI streams carry usage only when asked for it; the proxy always asks, to settle the cost.
  if (a.fields.stream && endpoint.shape == detect::ApiShape::openai_chat)
    if (auto edit = stream_usage_edit(a.body, a.fields, stream_options)) {
      edits.push_back(std::move(*edit));
      outcome.usage_injected = true;
    }
  if (!edits.empty()) a.body = apply_edits(std::move(a.body), std::move(edits));

  // limit: rpm/tpm, then freeze the worst-case cost against the key's cap and the tenant's
  // balance (DESIGN.md, Metering)
  a.estimate = metering::estimate_request(
      a.body.size(), a.fields.max_output,
      endpoint.shape == detect::ApiShape::openai_embeddings ? 0 : metering::kDefaultMaxOutputTokens);
  const auto decision =
      p.limiter.check_and_reserve(verified.id, verified.rpm, verified.tpm, a.estimate.total(), p.clock.steady_ms());
  if (!decision.allowed) {
    Refusal r = refuse(429, decision.limited_by == metering::Decision::Limit::requests
                                ? "rate limit: too many requests per minute for this key"
                                : "rate limit: too many tokens per minute for this key");
    r.retry_after_seconds = static_cast<int>(decision.retry_after_seconds);
    return r;
  }
  auto give_back_reservation = [&] { p.limiter.settle(verified.id, a.estimate.total(), 0, p.clock.steady_ms()); };
  a.price = p.prices.lookup(route->model).price;
  const std::int64_t worst = metering::cost_micros(a.price, metering::worst_case_tokens(a.estimate));
  if (!freeze_cost(p, verified, worst, a)) {
    give_back_reservation();
    return refuse(402, "the request's maximum cost is more than this key's spend cap or the tenant's balance leaves");
  }

  auto stored = storing(p, req, verified, a.body, outcome.generation_id);
  if (!stored) {
    give_back_reservation();
    return refuse(stored.error().kind == ErrorKind::usage ? 400 : 500, stored.error().message);
  }
  a.storing = std::move(*stored);
  return a;
}

}  // namespace x420::proxy
