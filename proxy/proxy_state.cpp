#include "proxy/proxy_state.h"

#include <spdlog/spdlog.h>

#include "lib/service/kek_rotation.h"
#include "lib/service/redaction_keys.h"
#include "proxy/tls_client.h"

namespace x420::proxy {
namespace {
constexpr std::string_view kServerName = "x420";
}  // namespace

Proxy::Proxy(const ServeConfig& c, service::OpenStore& open, std::shared_ptr<const detect::Engine> e,
             std::shared_ptr<const detect::Engine> personal)
    : config(c),
      store(*open.store),
      keyring(*open.keyring),
      engine(std::move(e)),
      personal_engine(personal ? std::move(personal) : engine),
      service(*open.store, *open.keyring, clock, service::Actor::operator_actor()),
      keys(service, clock),
      upstream_rows(*open.store, clock),
      scratch(engine->make_scratch()),
      personal_scratch(personal_engine->make_scratch()),
      upstreams(upstream_tls, clock, UpstreamPool::Limits{.connect_timeout = std::chrono::seconds(c.upstream_connect_timeout_s)}),
      models(clock) {
  configure_tls_client(upstream_tls);
}

Result<detect::Pseudonymizer*> Proxy::pseudonymizer_for(const service::KeyInfo& key) {
  if (auto it = pseudonymizers.find(key.tenant_id); it != pseudonymizers.end()) return &it->second;
  auto derived = service::placeholder_key_by_id(store, keyring, key.tenant_id);
  if (!derived) return derived.error();
  return &pseudonymizers.emplace(key.tenant_id, detect::Pseudonymizer(std::move(derived.value()))).first->second;
}

bool Proxy::refresh_keyring() {
  if (!keyring.is_stale(store)) return true;
  if (auto refreshed = service::refresh_keyring(keyring, store, config.master_key); !refreshed) {
    spdlog::error("{}", refreshed.error().message);
    return false;
  }
  upstream_rows.clear();  // rows cached under the old wrapping
  spdlog::info("the master key was rotated; now using the new one");
  return true;
}

std::shared_ptr<detect::PlaceholderMap> Proxy::placeholders_for(const service::KeyInfo& key) {
  auto& held = placeholders[key.id];
  if (!held.map) held = {key.tenant_id, std::make_shared<detect::PlaceholderMap>(config.placeholder_budget)};
  return held.map;
}

void Proxy::forget_departed() {
  try {
    forget_departed_or_throw();
  } catch (const std::exception& e) {  // a busy or broken store: the next sweep asks again
    spdlog::error("checking for revoked keys and deleted tenants failed: {}", e.what());
  }
}

void Proxy::forget_departed_or_throw() {
  const UnixSeconds now = clock.now();
  std::unordered_map<std::string, bool> tenant_alive;  // one lookup per tenant held
  const auto alive = [&](const std::string& tenant_id) {
    auto [it, fresh] = tenant_alive.try_emplace(tenant_id, false);
    if (fresh) it->second = store.tenant_by_id(tenant_id).has_value();
    return it->second;
  };
  std::erase_if(placeholders, [&](const auto& entry) {
    const auto& [key_id, held] = entry;
    if (!alive(held.tenant_id)) return true;
    const auto row = store.key_by_id(key_id);
    return !row || row->tenant_id != held.tenant_id || row->revoked_at || (row->expires_at && *row->expires_at <= now);
  });
  std::erase_if(pseudonymizers, [&](const auto& entry) { return !alive(entry.first); });
  std::erase_if(conversation_keys, [&](const auto& entry) { return !alive(entry.first); });
}

void Proxy::age_placeholders() {
  std::erase_if(placeholders, [](auto& entry) {
    entry.second.map->next_generation();
    return entry.second.map->size() == 0;
  });
}

Result<const crypto::SecretBytes*> Proxy::conversation_key_for(const service::KeyInfo& key) {
  if (auto it = conversation_keys.find(key.tenant_id); it != conversation_keys.end()) return &it->second;
  auto derived = service::placeholder_key_by_id(store, keyring, key.tenant_id);
  if (!derived) return derived.error();
  return &conversation_keys.emplace(key.tenant_id, std::move(derived.value())).first->second;
}

std::string Proxy::masked(std::string text, std::string_view upstream_key) {
  if (!upstream_key.empty())
    for (std::size_t at; (at = text.find(upstream_key)) != std::string::npos;)
      text.replace(at, upstream_key.size(), "[REDACTED:upstream_key]");
  const auto findings = engine->scan(text, *scratch);
  if (findings.empty()) return text;
  return detect::redact(text, findings, *engine, detect::RedactMode::mask, nullptr, nullptr).text;
}

RedactionPolicy Proxy::redaction_for(const service::KeyInfo& key) const {
  if (!key.redaction) return config.redaction;
  if (*key.redaction == "mask") return RedactionPolicy::mask;
  if (*key.redaction == "block") return RedactionPolicy::block;
  if (*key.redaction == "off") return RedactionPolicy::off;
  return RedactionPolicy::pseudonymize;
}

Proxy::Detector Proxy::detector_for(const service::KeyInfo& key) {
  if (key.redact_personal.value_or(config.redact_personal)) return {*personal_engine, *personal_scratch};
  return {*engine, *scratch};
}

void Proxy::set_engines(std::shared_ptr<const detect::Engine> base, std::shared_ptr<const detect::Engine> personal) {
  engine = std::move(base);
  personal_engine = personal ? std::move(personal) : engine;
  scratch = engine->make_scratch();
  personal_scratch = personal_engine->make_scratch();
}

UnscannedPolicy Proxy::unscanned_for(const service::KeyInfo& key) const {
  if (!key.unscanned_payloads) return config.unscanned;
  return *key.unscanned_payloads == "refuse" ? UnscannedPolicy::refuse : UnscannedPolicy::forward;
}

http::response<http::string_body> json_response(const Request& req, http::status status, std::string body) {
  http::response<http::string_body> res{status, req.version()};
  res.set(http::field::server, bsv(kServerName));
  res.set(http::field::content_type, "application/json");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

http::response<http::string_body> error_response(const Request& req, ErrorShape shape, int status,
                                                 std::string_view message, Outcome& outcome) {
  outcome.status = status;
  outcome.error_type = std::string(error_type(shape, status));
  outcome.reply_started = true;
  return json_response(req, static_cast<http::status>(status), error_body(shape, status, message));
}

void record_request(Proxy& p, const Request& req, std::string_view route, const Outcome& o) {
  const auto elapsed = SteadyClock::now() - o.started;
  const bool upstream_failed = !o.upstream.empty() && (o.status >= 500 || o.status == 0);
  p.metrics.count(route, o.status, std::chrono::duration<double>(elapsed).count(), o.redacted_rules,
                  upstream_failed ? std::string_view(o.upstream) : std::string_view());
  const auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
  if (o.key) {
    store::UsageRow row;
    row.id = o.generation_id;
    row.tenant_id = o.key->tenant_id;
    row.key_id = o.key->id;
    row.created_at = p.clock.now();
    row.input_tokens = o.usage.input;
    row.output_tokens = o.usage.output;
    row.cached_tokens = o.usage.cached;
    row.reasoning_tokens = o.usage.reasoning;
    row.cost_usd_micros = o.cost_micros;
    row.status = o.status;
    if (!o.key->no_log) {  // a no-log key's row holds token counts and cost only
      row.upstream = o.upstream;
      row.model = o.model;
      row.latency_ms = latency;
      row.ttfb_ms = o.ttfb_ms;
      row.error_type = o.error_type;
      row.redactions = static_cast<std::int64_t>(o.redactions);
    }
    p.usage->submit(std::move(row));
    if (o.key->no_log) return;  // and no access-log line
  }
  // The route's pattern, never the path or its query, which a caller might have pasted a key
  // into (unauthenticated: anyone who can connect could write into the log).
  const std::string cause = o.status >= 500 && !o.cause.empty() ? " cause=\"" + o.cause + "\"" : "";
  spdlog::info("{} {} {} {}ms key={} upstream={} model={} in={} out={} redactions={} id={}{}",
               std::string(req.method_string()), route, o.status, latency,
               o.key ? o.key->id : "-", o.upstream.empty() ? "-" : o.upstream, o.model.empty() ? "-" : o.model,
               o.usage.input, o.usage.output, o.redactions, o.generation_id, cause);
}

}  // namespace x420::proxy
