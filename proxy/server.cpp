#include "proxy/server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <map>
#include <unordered_set>
#include <limits>
#include <iostream>
#include <variant>

#include "common/clock.h"
#include "crypto/random.h"
#include "detect/json_body.h"
#include "detect/redactor.h"
#include "metering/limits.h"
#include "metering/prices.h"
#include "proxy/admin_api.h"
#include "proxy/endpoints.h"
#include "proxy/key_cache.h"
#include "proxy/routing.h"
#include "proxy/sse_restorer.h"
#include "proxy/upstream_url.h"
#include "proxy/usage_tap.h"
#include "proxy/usage_writer.h"
#include "service/local_service.h"
#include "service/redaction_keys.h"
#include "service/usage_view.h"

namespace x420::proxy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using Request = http::request<http::string_body>;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kMaxUpstreamReply = 64 * 1024 * 1024;
constexpr std::string_view kServerName = "x420";

// Beast in Boost 1.74 has its own string_view; these convert at the boundary.
beast::string_view bsv(std::string_view s) { return {s.data(), s.size()}; }
std::string_view ssv(beast::string_view s) { return {s.data(), s.size()}; }

// Headers a client may send that are passed on: the providers' own API options and the SDKs'
// telemetry, plus the controls of the test double in tests/mock_upstream. Nothing that can carry
// a credential: the client's key stays here and the upstream's key is added by the proxy.
bool forwardable(std::string_view name) {
  for (std::string_view prefix : {"anthropic-", "openai-", "x-stainless-", "x-mock-"})
    if (name.size() >= prefix.size() && beast::iequals(bsv(name.substr(0, prefix.size())), bsv(prefix))) return true;
  return false;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The state every connection shares. Everything runs on the one I/O thread, so none of it needs
// a lock.
struct Proxy {
  const ServeConfig& config;
  store::Store& store;
  const service::Keyring& keyring;
  std::shared_ptr<const detect::Engine> engine;  // swapped by SIGHUP between requests' steps
  SystemClock clock;
  service::LocalService service;
  KeyCache keys;
  detect::Engine::ScratchPtr scratch;
  ssl::context upstream_tls{ssl::context::tls_client};
  // Placeholders restored in replies: kept in memory only, per tenant.
  std::unordered_map<std::string, detect::PlaceholderMap> placeholders;
  std::unordered_map<std::string, detect::Pseudonymizer> pseudonymizers;
  std::size_t in_flight = 0;
  bool draining = false;
  std::unique_ptr<ssl::context> tls;                 // the listening side's, when configured
  std::unordered_set<tcp::socket*> connections;      // to close idle ones when draining
  std::unique_ptr<UsageWriter> usage;                // usage rows, written off this thread
  // Metering: in memory in one process (a Redis-backed twin comes with several replicas).
  metering::SteadyMilliClock milli_clock;
  metering::PriceTable prices = metering::PriceTable::with_builtin_prices();
  metering::InMemoryRateLimiter limiter;
  metering::InMemorySpendLedger ledger{milli_clock};

  // Prometheus counters: names of routes, statuses and rules only, never content or keys.
  struct Metrics {
    std::map<std::pair<std::string, int>, std::uint64_t> requests;  // (route, status)
    std::map<std::string, std::uint64_t> redactions;                 // rule id
    std::map<std::string, std::uint64_t> upstream_errors;            // upstream name
    static constexpr std::array<double, 10> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
    std::array<std::uint64_t, 10> latency_buckets{};
    std::uint64_t latency_count = 0;
    double latency_sum = 0;
  } metrics;

  Proxy(const ServeConfig& c, service::OpenStore& open, std::shared_ptr<const detect::Engine> e)
      : config(c),
        store(*open.store),
        keyring(*open.keyring),
        engine(std::move(e)),
        service(*open.store, *open.keyring, clock, service::Actor::operator_actor()),
        keys(service),
        scratch(engine->make_scratch()) {
    upstream_tls.set_default_verify_paths();
    upstream_tls.set_verify_mode(ssl::verify_peer);
    SSL_CTX_set_min_proto_version(upstream_tls.native_handle(), TLS1_2_VERSION);
  }

  Result<detect::Pseudonymizer*> pseudonymizer_for(const std::string& tenant) {
    if (auto it = pseudonymizers.find(tenant); it != pseudonymizers.end()) return &it->second;
    auto key = service::placeholder_key(store, keyring, tenant);
    if (!key) return key.error();
    return &pseudonymizers.emplace(tenant, detect::Pseudonymizer(std::move(key.value()))).first->second;
  }
};

// What the proxy learned about one request, for its usage row and access-log line.
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
  SteadyClock::time_point started = SteadyClock::now();
  std::optional<std::int64_t> ttfb_ms;
};

http::response<http::string_body> json_response(const Request& req, http::status status, std::string body) {
  http::response<http::string_body> res{status, req.version()};
  res.set(http::field::server, bsv(kServerName));
  res.set(http::field::content_type, "application/json");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

template <class Stream>
awaitable<void> send(Stream& stream, http::response<http::string_body> res) {
  beast::error_code ec;
  co_await http::async_write(stream, res, asio::redirect_error(use_awaitable, ec));
}

template <class Stream>
awaitable<void> send_error(Stream& stream, const Request& req, ErrorShape shape, int status,
                           std::string_view message, Outcome& outcome) {
  outcome.status = status;
  outcome.error_type = std::string(error_type(shape, status));
  auto res = json_response(req, static_cast<http::status>(status), error_body(shape, status, message));
  co_await send(stream, std::move(res));
}

std::string_view bearer_or_api_key(const Request& req) {
  if (auto it = req.find(http::field::authorization); it != req.end()) {
    std::string_view v(it->value().data(), it->value().size());
    if (v.size() > 7 && beast::iequals(bsv(v.substr(0, 7)), "Bearer ")) return v.substr(7);
  }
  if (auto it = req.find("x-api-key"); it != req.end()) return {it->value().data(), it->value().size()};
  return {};
}

// The value range of the top-level "model" string, to splice a routed model name in.
std::optional<std::pair<std::size_t, std::size_t>> model_value_range(std::string_view body,
                                                                     detect::ApiShape shape) {
  std::optional<std::pair<std::size_t, std::size_t>> range;
  detect::walk_json_strings(body, shape, [&](detect::JsonPath path, const detect::StringValue& v) {
    if (!v.is_key && path.size() == 1 && !path[0].is_index && path[0].key == "model")
      range = std::pair{v.begin, v.end};
  });
  return range;
}

std::string json_escape(std::string_view s) {
  const auto quoted = nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

void count(Proxy& p, std::string_view route, const Outcome& o) {
  auto& m = p.metrics;
  ++m.requests[{std::string(route), o.status}];
  for (const auto& rule : o.redacted_rules) ++m.redactions[rule];
  if (!o.upstream.empty() && (o.status >= 500 || o.status == 0)) ++m.upstream_errors[o.upstream];
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - o.started).count();
  for (std::size_t i = 0; i < m.kBuckets.size(); ++i)
    if (seconds <= m.kBuckets[i]) ++m.latency_buckets[i];
  ++m.latency_count;
  m.latency_sum += seconds;
}

std::string metrics_text(const Proxy& p) {
  const auto& m = p.metrics;
  std::string out;
  out += "# HELP x420_requests_total Requests by route and HTTP status.\n# TYPE x420_requests_total counter\n";
  for (const auto& [k, v] : m.requests)
    out += "x420_requests_total{route=\"" + k.first + "\",status=\"" + std::to_string(k.second) + "\"} " + std::to_string(v) + "\n";
  out += "# HELP x420_request_duration_seconds Time from request to the end of the reply.\n# TYPE x420_request_duration_seconds histogram\n";
  for (std::size_t i = 0; i < m.kBuckets.size(); ++i) {
    char le[32];
    std::snprintf(le, sizeof le, "%g", m.kBuckets[i]);
    out += "x420_request_duration_seconds_bucket{le=\"" + std::string(le) + "\"} " + std::to_string(m.latency_buckets[i]) + "\n";
  }
  out += "x420_request_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(m.latency_count) + "\n";
  out += "x420_request_duration_seconds_sum " + std::to_string(m.latency_sum) + "\n";
  out += "x420_request_duration_seconds_count " + std::to_string(m.latency_count) + "\n";
  out += "# HELP x420_redactions_total Secrets redacted from requests, by rule.\n# TYPE x420_redactions_total counter\n";
  for (const auto& [rule, v] : m.redactions) out += "x420_redactions_total{rule=\"" + rule + "\"} " + std::to_string(v) + "\n";
  out += "# HELP x420_upstream_errors_total Upstream failures (5xx, unreachable), by upstream.\n# TYPE x420_upstream_errors_total counter\n";
  for (const auto& [u, v] : m.upstream_errors) out += "x420_upstream_errors_total{upstream=\"" + u + "\"} " + std::to_string(v) + "\n";
  out += "# HELP x420_in_flight_requests Requests being served.\n# TYPE x420_in_flight_requests gauge\nx420_in_flight_requests " + std::to_string(p.in_flight) + "\n";
  return out;
}

void write_usage_and_log(Proxy& p, const Request& req, const Outcome& o) {
  const auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - o.started).count();
  if (o.key) {
    store::UsageRow row;
    row.id = o.generation_id;
    row.tenant_id = o.key->tenant_id;
    row.key_id = o.key->id;
    row.upstream = o.upstream;
    row.model = o.model;
    row.created_at = p.clock.now();
    row.input_tokens = o.usage.input;
    row.output_tokens = o.usage.output;
    row.cached_tokens = o.usage.cached;
    row.reasoning_tokens = o.usage.reasoning;
    row.cost_usd_micros = o.cost_micros;
    row.latency_ms = latency;
    row.ttfb_ms = o.ttfb_ms;
    row.status = o.status;
    row.error_type = o.error_type;
    row.redactions = static_cast<std::int64_t>(o.redactions);
    if (o.key->no_log) {  // token counts and cost only
      row.upstream.clear();
      row.model.clear();
      row.latency_ms = 0;
      row.ttfb_ms.reset();
    }
    p.usage->submit(std::move(row));
    if (o.key->no_log) return;  // no access-log line for no-log keys
  }
  // Metadata only: never a body, a header value or a key; the path without its query.
  const auto target = std::string_view(req.target().data(), req.target().size());
  spdlog::info("{} {} {} {}ms key={} upstream={} model={} in={} out={} redactions={} id={}",
               std::string(req.method_string()), target.substr(0, target.find('?')), o.status,
               latency, o.key ? o.key->id : "-", o.upstream.empty() ? "-" : o.upstream,
               o.model.empty() ? "-" : o.model, o.usage.input, o.usage.output, o.redactions,
               o.generation_id);
}

// Masks what an upstream's error reply may echo: secrets the engine finds, and the upstream's
// own key should a provider repeat it.
std::string redact_error_reply(Proxy& p, std::string body, std::string_view upstream_key) {
  if (!upstream_key.empty())
    for (std::size_t at; (at = body.find(upstream_key)) != std::string::npos;)
      body.replace(at, upstream_key.size(), "[REDACTED:upstream_key]");
  const auto findings = p.engine->scan(body, *p.scratch);
  return detect::redact(body, findings, *p.engine, detect::RedactMode::mask, nullptr, nullptr).text;
}

struct Upstream {
  std::variant<beast::tcp_stream, beast::ssl_stream<beast::tcp_stream>> stream;
};

template <class UpStream>
awaitable<void> upstream_write(UpStream& s, http::request<http::string_body>& req, beast::error_code& ec) {
  co_await http::async_write(s, req, asio::redirect_error(use_awaitable, ec));
}

// Forwards the request and relays the reply. Returns whether the client connection may be kept.
template <class Stream, class UpStream>
awaitable<bool> relay(Proxy& p, Stream& client, UpStream& up, beast::tcp_stream& up_tcp,
                      const Request& req, http::request<http::string_body>& up_req,
                      const Endpoint& endpoint, const detect::PlaceholderMap* map,
                      std::string_view upstream_key, Outcome& outcome) {
  beast::error_code ec;
  up_tcp.expires_after(std::chrono::seconds(p.config.upstream_first_byte_timeout_s));
  co_await upstream_write(up, up_req, ec);
  if (ec) {
    co_await send_error(client, req, endpoint.errors, 502, "the upstream could not be reached", outcome);
    co_return false;
  }
  beast::flat_buffer up_buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // streams are unbounded; whole replies are capped below
  co_await http::async_read_header(up, up_buffer, parser, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    spdlog::warn("upstream {}: no reply header: {}", outcome.upstream, ec.message());
    const bool timeout = ec == beast::error::timeout;
    co_await send_error(client, req, endpoint.errors, timeout ? 504 : 502,
                        timeout ? "the upstream did not answer in time" : "the upstream closed the connection",
                        outcome);
    co_return false;
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
    up_tcp.expires_after(std::chrono::seconds(p.config.upstream_first_byte_timeout_s));
    co_await http::async_read(up, up_buffer, parser, asio::redirect_error(use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    co_return std::string_view(chunk, sizeof chunk - head.body().size);
  };

  if (sse && !error_reply) {
    // Streamed as it arrives: each piece restored (placeholders split across events are held
    // back until whole) and written as one chunk.
    http::response<http::empty_body> res{static_cast<http::status>(status), req.version()};
    res.set(http::field::server, bsv(kServerName));
    res.set(http::field::content_type, content_type);
    res.set(http::field::cache_control, "no-cache");
    res.set("x420-redactions", std::to_string(outcome.redactions));
    res.set("x420-generation-id", outcome.generation_id);
    res.chunked(true);
    res.keep_alive(req.keep_alive());
    http::response_serializer<http::empty_body> sr{res};
    co_await http::async_write_header(client, sr, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return false;
    static const detect::PlaceholderMap kEmpty;
    SseRestorer restorer(map ? *map : kEmpty, outcome.usage_injected);
    const bool rewrite = (map && map->size()) || outcome.usage_injected;
    UsageTap tap;
    bool client_gone = false;
    for (;;) {
      const auto piece = co_await read_piece();
      if (ec) break;
      tap.feed(piece);
      // Nothing to restore for a tenant without placeholders: the bytes pass through as they are.
      std::string out = rewrite ? restorer.feed(piece) : std::string(piece);
      if (!out.empty()) {
        co_await asio::async_write(client, http::make_chunk(asio::buffer(out)), asio::redirect_error(use_awaitable, ec));
        if (ec) {
          client_gone = true;
          break;
        }
      }
      if (parser.is_done()) break;
    }
    outcome.usage = tap.usage();
    if (client_gone) {
      outcome.status = 499;
      outcome.error_type = "client_closed";
      co_return false;
    }
    if (ec) {
      outcome.error_type = "upstream_stream_broken";
      co_return false;
    }
    std::string tail = rewrite ? restorer.finish() : std::string();
    if (!tail.empty())
      co_await asio::async_write(client, http::make_chunk(asio::buffer(tail)), asio::redirect_error(use_awaitable, ec));
    co_await asio::async_write(client, http::make_chunk_last(), asio::redirect_error(use_awaitable, ec));
    co_return !ec && req.keep_alive();
  }

  // A whole reply: read it (bounded), restore or (for errors) redact, send.
  std::string body;
  for (;;) {
    const auto piece = co_await read_piece();
    if (ec) break;
    body.append(piece);
    if (body.size() > kMaxUpstreamReply) {
      co_await send_error(client, req, endpoint.errors, 502, "the upstream's reply is too large", outcome);
      co_return false;
    }
    if (parser.is_done()) break;
  }
  if (ec) {
    co_await send_error(client, req, endpoint.errors, 502, "the upstream's reply was cut off", outcome);
    co_return false;
  }
  if (error_reply) {
    outcome.error_type = "upstream_" + std::to_string(status);
    body = redact_error_reply(p, std::move(body), upstream_key);
  } else {
    read_usage(body, outcome.usage);
    if (map) body = detect::restore(body, *map, detect::Restorer::Escape::json_string);
  }
  http::response<http::string_body> res{static_cast<http::status>(status), req.version()};
  res.set(http::field::server, bsv(kServerName));
  res.set(http::field::content_type, content_type.empty() ? "application/json" : content_type);
  res.set("x420-redactions", std::to_string(outcome.redactions));
  res.set("x420-generation-id", outcome.generation_id);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  co_await http::async_write(client, res, asio::redirect_error(use_awaitable, ec));
  co_return !ec && req.keep_alive();
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

  // parse and redact the body once (this walk also validates it, bounded in depth)
  std::string body = req.body();
  detect::PlaceholderMap* map = nullptr;
  if (p.config.redaction != RedactionPolicy::off) {
    const detect::Pseudonymizer* pseudonymizer = nullptr;
    if (p.config.redaction == RedactionPolicy::pseudonymize) {
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
      const std::string message = bad_json ? redacted.error().message
                                           : "redaction failed; the request was not forwarded";
      co_await send_error(client, req, shape, bad_json ? 400 : 500, message, outcome);
      co_return req.keep_alive();
    }
    if (p.config.redaction == RedactionPolicy::block && redacted->redactions > 0) {
      std::string what;
      for (const auto& [rule, offset] : redacted->findings)
        what += (what.empty() ? "" : ", ") + rule + " at byte " + std::to_string(offset);
      outcome.redactions = redacted->redactions;
      const std::string message = "the request holds secrets and was not forwarded: " + what;
      co_await send_error(client, req, shape, 400, message, outcome);
      co_return req.keep_alive();
    }
    outcome.redactions = redacted->redactions;
    for (const auto& f : redacted->findings) outcome.redacted_rules.push_back(f.first);
    if (p.config.redaction != RedactionPolicy::block) body = std::move(redacted->body);
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
  const auto upstreams = p.store.list_upstreams(verified.tenant_id);
  auto route = choose_upstream(upstreams, endpoint.upstream_kind, model);
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

  // limit: rpm/tpm, then freeze the worst-case cost against the key's cap (DESIGN.md, Metering)
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
  metering::Freeze freeze;
  if (verified.cap_usd_micros) {
    const std::int64_t worst = metering::cost_micros(price, metering::worst_case_tokens(estimate));
    const auto id = p.ledger.freeze(verified.id, verified.cap_usd_micros, p.store.spent_micros(verified.id), worst);
    if (!id) {
      p.limiter.settle(verified.id, estimate.total(), 0, p.milli_clock.now_ms());
      co_await send_error(client, req, shape, 402,
                          "this key's spend cap cannot cover the request's maximum cost", outcome);
      co_return req.keep_alive();
    }
    freeze = metering::Freeze(p.ledger, *id);
  }

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

  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  beast::error_code ec;
  const auto endpoints = co_await resolver.async_resolve(url->host, url->port, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    co_await send_error(client, req, shape, 502, "the upstream's host could not be resolved", outcome);
    co_return req.keep_alive();
  }
  bool keep = false;
  if (url->tls) {
    beast::ssl_stream<beast::tcp_stream> up(executor, p.upstream_tls);
    SSL_set_tlsext_host_name(up.native_handle(), url->host.c_str());
    up.set_verify_callback(ssl::host_name_verification(url->host));
    beast::get_lowest_layer(up).expires_after(std::chrono::seconds(p.config.upstream_connect_timeout_s));
    co_await beast::get_lowest_layer(up).async_connect(endpoints, asio::redirect_error(use_awaitable, ec));
    if (!ec) beast::get_lowest_layer(up).socket().set_option(tcp::no_delay(true), ec);
    if (!ec) co_await up.async_handshake(ssl::stream_base::client, asio::redirect_error(use_awaitable, ec));
    if (ec) {
      co_await send_error(client, req, shape, 502, "the upstream could not be reached securely", outcome);
      co_return req.keep_alive();
    }
    keep = co_await relay(p, client, up, beast::get_lowest_layer(up), req, up_req, endpoint,
                          map, secret->view(), outcome);
  } else {
    beast::tcp_stream up(executor);
    up.expires_after(std::chrono::seconds(p.config.upstream_connect_timeout_s));
    co_await up.async_connect(endpoints, asio::redirect_error(use_awaitable, ec));
    if (!ec) up.socket().set_option(tcp::no_delay(true), ec);
    if (ec) {
      co_await send_error(client, req, shape, 502, "the upstream could not be reached", outcome);
      co_return req.keep_alive();
    }
    keep = co_await relay(p, client, up, up, req, up_req, endpoint, map, secret->view(), outcome);
  }
  // settle: the actual cost from the upstream's usage, for the ledger, the limiter and the row
  const auto& u = outcome.usage;
  const auto billed = upstream.kind == "anthropic"
                          ? metering::anthropic_tokens(u.input, u.cached, 0, 0, u.output)
                          : metering::openai_tokens(u.input, u.cached, u.output);
  outcome.cost_micros = metering::cost_micros(price, billed);
  if (freeze.active()) freeze.settle(outcome.cost_micros);
  p.limiter.settle(verified.id, estimate.total(), u.input + u.output, p.milli_clock.now_ms());
  co_return keep;
}

std::string query_param(std::string_view query, std::string_view name) {
  if (query.starts_with('?')) query.remove_prefix(1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    if (pair.starts_with(name) && pair.size() > name.size() && pair[name.size()] == '=')
      return std::string(pair.substr(name.size() + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

// GET /v1/models (OpenAI shape) and GET /v1/generation?id=gen-… (the caller's own tenant only).
// Not usage-metered: no usage row, but the access-log line.
http::response<http::string_body> read_only_route(Proxy& p, const Request& req, std::string_view path,
                                                  std::string_view query, Outcome& outcome) {
  auto fail = [&](int status, std::string_view message) {
    outcome.status = status;
    return json_response(req, static_cast<http::status>(status), error_body(ErrorShape::openai, status, message));
  };
  if (req.method() != http::verb::get) return fail(405, "use GET");
  const auto presented = bearer_or_api_key(req);
  auto key = presented.empty() ? Result<service::KeyInfo>(make_error(ErrorKind::auth, "")) : p.keys.verify(presented);
  if (!key) return fail(401, presented.empty() ? "missing API key" : "invalid API key");
  outcome.status = 200;
  if (path == "/v1/models") {
    nlohmann::json data = nlohmann::json::array();
    for (const auto& u : p.store.list_upstreams(key->tenant_id))
      for (const auto& glob : u.models)
        data.push_back({{"id", u.name + "/" + glob}, {"object", "model"}, {"created", u.created_at}, {"owned_by", u.name}});
    return json_response(req, http::status::ok, nlohmann::json{{"object", "list"}, {"data", data}}.dump());
  }
  const std::string id = query_param(query, "id");
  if (id.empty()) return fail(400, "give the generation's id: /v1/generation?id=gen-…");
  auto row = p.service.generation(key->tenant, id);
  if (!row) return fail(404, row.error().message);
  return json_response(req, http::status::ok,
                       nlohmann::ordered_json{{"data", service::usage_json(*row)}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

template <class Stream>
awaitable<bool> handle(Proxy& p, Stream& stream, const Request& req) {
  Outcome outcome;
  const std::string_view target(req.target().data(), req.target().size());
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q);
  bool keep = req.keep_alive();

  if (path == "/healthz") {
    auto res = json_response(req, http::status::ok, "{\"status\":\"ok\"}");
    co_await send(stream, std::move(res));
    co_return keep;
  }
  if (path == "/metrics") {
    auto res = json_response(req, http::status::ok, metrics_text(p));
    res.set(http::field::content_type, "text/plain; version=0.0.4");
    co_await send(stream, std::move(res));
    co_return keep;
  }
  if (is_admin_path(path)) {
    // Synchronous store calls, as the key cache's misses are; the access line names the route's
    // pattern, never the path, which a caller might have pasted a key into.
    auto admin = handle_admin(p.store, p.keyring, p.clock, req);
    outcome.status = static_cast<int>(admin.response.result_int());
    co_await send(stream, std::move(admin.response));
    count(p, admin.route, outcome);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - outcome.started).count();
    spdlog::info("{} {} {} {}ms admin", std::string(req.method_string()), admin.route, outcome.status, ms);
    co_return keep;
  }
  if (path == "/v1/models" || path == "/v1/generation") {
    auto res = read_only_route(p, req, path, query, outcome);
    co_await send(stream, std::move(res));
    count(p, path, outcome);
    write_usage_and_log(p, req, outcome);
    co_return keep;
  }
  if (const auto* endpoint = find_endpoint(path)) {
    if (req.method() != http::verb::post) {
      auto res = json_response(req, http::status::method_not_allowed,
                               error_body(endpoint->errors, 405, "use POST for " + std::string(path)));
      res.set(http::field::allow, "POST");
      outcome.status = 405;
      co_await send(stream, std::move(res));
    } else {
      ++p.in_flight;
      keep = co_await handle_inference(p, stream, req, *endpoint, query, outcome);
      --p.in_flight;
    }
  } else {
    outcome.status = 404;
    auto res = json_response(req, http::status::not_found,
                             error_body(ErrorShape::openai, 404, "no route " + std::string(path.substr(0, 200))));
    co_await send(stream, std::move(res));
  }
  count(p, find_endpoint(path) ? path : std::string_view("other"), outcome);
  write_usage_and_log(p, req, outcome);
  co_return keep;
}

// Serves one connection's requests in turn (HTTP/1.1 keep-alive) until the client closes, goes
// idle, or the server is draining.
template <class Stream>
awaitable<void> serve_requests(Proxy& p, Stream& stream, beast::tcp_stream& tcp) {
  beast::flat_buffer buffer;
  while (!p.draining) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(p.config.max_body_bytes);
    parser.header_limit(64 * 1024);
    tcp.expires_after(std::chrono::seconds(p.config.client_idle_timeout_s));
    beast::error_code ec;
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
        ec == asio::error::operation_aborted)
      break;
    if (ec == http::error::body_limit) {
      Request req;
      req.version(11);
      req.keep_alive(false);
      auto res = json_response(req, http::status::payload_too_large,
                               error_body(ErrorShape::openai, 413, "the request body is over " +
                                                                        std::to_string(p.config.max_body_bytes) + " bytes"));
      co_await send(stream, std::move(res));
      break;
    }
    if (ec) {
      Request req;
      req.version(11);
      req.keep_alive(false);
      auto res = json_response(req, http::status::bad_request,
                               error_body(ErrorShape::openai, 400, "malformed HTTP request"));
      co_await send(stream, std::move(res));
      break;
    }
    tcp.expires_never();
    const Request req = parser.release();
    const bool keep = co_await handle(p, stream, req);
    if (!keep) break;
  }
}

awaitable<void> session(Proxy& p, tcp::socket socket) {
  beast::error_code ec;
  if (p.tls) {
    beast::ssl_stream<beast::tcp_stream> tls(std::move(socket), *p.tls);
    auto& tcp = beast::get_lowest_layer(tls);
    tcp::socket* raw = &tcp.socket();
    p.connections.insert(raw);
    tcp.expires_after(std::chrono::seconds(p.config.client_idle_timeout_s));
    co_await tls.async_handshake(ssl::stream_base::server, asio::redirect_error(use_awaitable, ec));
    if (!ec) {
      co_await serve_requests(p, tls, tcp);
      tcp.expires_after(std::chrono::seconds(5));
      co_await tls.async_shutdown(asio::redirect_error(use_awaitable, ec));
    }
    p.connections.erase(raw);
    co_return;
  }
  beast::tcp_stream stream(std::move(socket));
  tcp::socket* raw = &stream.socket();
  p.connections.insert(raw);
  co_await serve_requests(p, stream, stream);
  p.connections.erase(raw);
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

awaitable<void> accept_loop(Proxy& p, tcp::acceptor& acceptor) {
  for (;;) {
    beast::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;
    // Replies go out in small writes (SSE events); Nagle plus delayed ACK would hold each one
    // back by ~40 ms.
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(acceptor.get_executor(), session(p, std::move(socket)), asio::detached);
  }
}

Result<std::unique_ptr<ssl::context>> server_tls(const ServeConfig& config) {
  if (config.tls_cert_file.empty() && config.tls_key_file.empty()) return std::unique_ptr<ssl::context>();
  if (config.tls_cert_file.empty() || config.tls_key_file.empty())
    return make_error(ErrorKind::usage, "--tls-cert and --tls-key go together");
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);  // 1.3 is negotiated when offered
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  beast::error_code ec;
  ctx->use_certificate_chain_file(config.tls_cert_file, ec);
  if (ec) return make_error(ErrorKind::usage, "--tls-cert " + config.tls_cert_file + ": " + ec.message());
  ctx->use_private_key_file(config.tls_key_file, ssl::context::pem, ec);
  if (ec) return make_error(ErrorKind::usage, "--tls-key " + config.tls_key_file + ": " + ec.message());
  return ctx;
}

}  // namespace

Status serve(const ServeConfig& config, service::OpenStore& open,
             std::shared_ptr<const detect::Engine> engine) {
  asio::io_context io{1};
  Proxy proxy(config, open, std::move(engine));
  proxy.usage = std::make_unique<UsageWriter>(store::open_sqlite_store(config.db_path, {}));
  auto tls = server_tls(config);
  if (!tls) return tls.error();
  proxy.tls = std::move(tls.value());
  tcp::acceptor acceptor(io);
  beast::error_code ec;
  const auto address = asio::ip::make_address(config.listen.host == "localhost" ? "127.0.0.1" : config.listen.host, ec);
  if (ec) return make_error(ErrorKind::usage, "--listen: " + config.listen.host + " is not an address");
  const tcp::endpoint endpoint{address, config.listen.port};
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(ErrorKind::usage, "cannot listen on " + config.listen.host + ":" +
                                            std::to_string(config.listen.port) + ": " + ec.message());
  const auto bound = acceptor.local_endpoint();

  // SIGTERM/SIGINT: stop accepting, close idle connections, let in-flight requests finish (their
  // usage rows are written as they end), then stop; after drain_timeout_s, stop anyway.
  asio::signal_set stop_signals(io, SIGINT, SIGTERM);
  asio::steady_timer drain_timer(io);
  const auto drain_deadline = std::make_shared<SteadyClock::time_point>();
  std::function<void()> poll_drain = [&] {
    if (proxy.in_flight == 0 || SteadyClock::now() >= *drain_deadline) {
      io.stop();
      return;
    }
    drain_timer.expires_after(std::chrono::milliseconds(50));
    drain_timer.async_wait([&](const beast::error_code&) { poll_drain(); });
  };
  stop_signals.async_wait([&](const beast::error_code& error, int) {
    if (error) return;
    spdlog::info("stopping: no new connections; finishing {} in-flight request(s)", proxy.in_flight);
    proxy.draining = true;
    acceptor.close();
    for (auto* socket : proxy.connections) {
      beast::error_code ignored;
      socket->cancel(ignored);  // idle reads end; a request being relayed is not reading
    }
    *drain_deadline = SteadyClock::now() + std::chrono::seconds(config.drain_timeout_s);
    poll_drain();
  });

  // SIGHUP: rebuild the engine from the rule files; on error keep the running one.
  asio::signal_set reload_signals(io, SIGHUP);
  std::function<void()> wait_reload = [&] {
    reload_signals.async_wait([&](const beast::error_code& error, int) {
      if (error) return;
      if (config.reload_engine) {
        auto fresh = config.reload_engine();
        if (!fresh) {
          spdlog::error("reload failed, keeping the current rules: {}", fresh.error().message);
        } else {
          proxy.engine = std::move(fresh.value());
          proxy.scratch = proxy.engine->make_scratch();
          spdlog::info("reloaded: {} rules", proxy.engine->rule_count());
        }
      }
      wait_reload();
    });
  };
  wait_reload();

  asio::co_spawn(io, accept_loop(proxy, acceptor), asio::detached);
  if (config.announce) {
    std::cout << "listening " << bound.address().to_string() << ":" << bound.port() << std::endl;
  }
  spdlog::info("x420 serving on {}:{}{}", bound.address().to_string(), bound.port(), proxy.tls ? " (TLS)" : "");
  io.run();
  return ok_status();
}

}  // namespace x420::proxy
