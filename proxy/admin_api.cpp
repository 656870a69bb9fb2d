#include "proxy/admin_api.h"

#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <type_traits>
#include <vector>

#include "lib/common/time_format.h"
#include "lib/crypto/secret_bytes.h"
#include "proxy/admin_input.h"
#include "lib/service/json_views.h"
#include "lib/service/local_service.h"
#include "lib/service/usage_view.h"

namespace x420::proxy {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
using ojson = nlohmann::ordered_json;
using admin::BodyFields;

constexpr std::size_t kMaxUsageLimit = 100000;
constexpr std::size_t kDefaultUsageLimit = 100;

http::status status_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage: return http::status::bad_request;
    case ErrorKind::auth: return http::status::unauthorized;
    case ErrorKind::forbidden: return http::status::forbidden;
    case ErrorKind::not_found: return http::status::not_found;
    case ErrorKind::conflict: return http::status::conflict;
    case ErrorKind::unavailable: return http::status::service_unavailable;
    case ErrorKind::internal: return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

Response json_reply(const Request& req, http::status status, const ojson& doc) {
  Response res{status, req.version()};
  res.set(http::field::server, "x420");
  res.set(http::field::content_type, "application/json");
  // Create and rotate answers carry a key's plaintext: no cache may keep any of these.
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

Response error_reply(const Request& req, const Error& error) {
  auto res = json_reply(req, status_for(error.kind), service::error_json(error));
  if (error.kind == ErrorKind::auth) res.set(http::field::www_authenticate, "Bearer realm=\"x420\"");
  return res;
}

// What one route's handler gets: the service as the caller's Actor, the {…} segments of the
// path in order, the query, and the body (an object; empty when none was sent).
struct Call {
  service::LocalService& service;
  std::vector<std::string> params;
  std::map<std::string, std::string> query;
  nlohmann::json body;
};

struct Answer {
  http::status status = http::status::ok;
  ojson doc;
  // The export: a body produced piece by piece while it is sent, never held whole.
  std::optional<service::AccountExport> stream = std::nullopt;
};

using Handler = Result<Answer> (*)(Call&);

template <class T>
Result<Answer> as_answer(const Result<T>& result, http::status status = http::status::ok) {
  if (!result) return result.error();
  if constexpr (std::is_same_v<T, service::KeyInfo>) return Answer{status, service::key_json(*result)};
  else if constexpr (std::is_same_v<T, service::TenantInfo>) return Answer{status, service::tenant_json(*result)};
  else if constexpr (std::is_same_v<T, service::UpstreamInfo>) return Answer{status, service::upstream_json(*result)};
  else if constexpr (std::is_same_v<T, service::UsageInfo>) return Answer{status, service::usage_json(*result)};
  else if constexpr (std::is_same_v<T, service::ConversationInfo>)
    return Answer{status, service::conversation_json(*result)};
  else if constexpr (std::is_same_v<T, service::ConversationDetail>)
    return Answer{status, service::conversation_detail_json(*result)};
  else {
    auto list = ojson::array();
    for (const auto& item : *result) list.push_back(as_answer(Result<typename T::value_type>(item))->doc);
    return Answer{status, std::move(list)};
  }
}

// The plaintext appears here and nowhere else: in the answer to create and rotate.
Result<Answer> issued_answer(Result<service::IssuedKey> issued, http::status status) {
  if (!issued) return issued.error();
  auto doc = service::key_json(issued->info);
  doc["key"] = issued->plaintext;
  crypto::wipe(issued->plaintext);
  return Answer{status, std::move(doc)};
}

Result<Answer> create_key(Call& c) {
  BodyFields f(c.body, {"name", "cap_usd", "rpm", "tpm", "expires_in_seconds", "no_log", "redaction",
                        "store_conversations", "conversation_ttl_seconds", "unscanned_payloads",
                        "redact_personal"});
  service::KeySpec spec;
  spec.name = f.text("name", true).value_or("");
  spec.cap_usd_micros = f.usd_micros("cap_usd");
  spec.rpm = f.integer("rpm");
  spec.tpm = f.integer("tpm");
  spec.expires_in = f.seconds("expires_in_seconds");
  spec.no_log = f.boolean("no_log");
  spec.redaction = f.text("redaction", false);
  if (f.find("store_conversations")) spec.store_conversations = f.boolean("store_conversations");
  spec.conversation_ttl = f.seconds("conversation_ttl_seconds");
  spec.unscanned_payloads = f.text("unscanned_payloads", false);
  if (f.find("redact_personal")) spec.redact_personal = f.boolean("redact_personal");
  if (auto s = f.status(); !s) return s.error();
  return issued_answer(c.service.create_key(c.params[0], spec), http::status::created);
}

Result<Answer> list_keys(Call& c) { return as_answer(c.service.list_keys(c.params[0])); }
Result<Answer> show_key(Call& c) { return as_answer(c.service.show_key(c.params[0], c.params[1])); }

Result<Answer> rotate_key(Call& c) {
  BodyFields f(c.body, {"grace_seconds"});
  const auto grace = f.seconds("grace_seconds");
  if (auto s = f.status(); !s) return s.error();
  return issued_answer(c.service.rotate_key(c.params[0], c.params[1], grace.value_or(0)), http::status::ok);
}

Result<Answer> revoke_key(Call& c) {
  BodyFields f(c.body, {});
  if (auto s = f.status(); !s) return s.error();
  return as_answer(c.service.revoke_key(c.params[0], c.params[1]));
}

// An invalid key is an answer, not a failed call: {"valid": false, "reason"}, as
// `x420 keys verify --json` prints it.
Result<Answer> verify_key(Call& c) {
  BodyFields f(c.body, {"key"});
  auto key = f.text("key", true);
  if (auto s = f.status(); !s) return s.error();
  auto verified = c.service.verify_key(*key);
  crypto::wipe(*key);
  if (!verified && verified.error().kind != ErrorKind::auth) return verified.error();
  if (!verified) return Answer{http::status::ok, ojson{{"valid", false}, {"reason", verified.error().message}}};
  return Answer{http::status::ok, ojson{{"valid", true}, {"key", service::key_json(*verified)}}};
}

Result<Answer> create_tenant(Call& c) {
  BodyFields f(c.body, {"name"});
  const auto name = f.text("name", true);
  if (auto s = f.status(); !s) return s.error();
  auto issued = c.service.create_tenant(*name);
  if (!issued) return issued.error();
  auto doc = service::tenant_json(issued->info);
  doc["admin_token"] = issued->admin_token;
  crypto::wipe(issued->admin_token);
  return Answer{http::status::created, std::move(doc)};
}

Result<Answer> list_tenants(Call& c) { return as_answer(c.service.list_tenants()); }
Result<Answer> delete_tenant(Call& c) { return as_answer(c.service.delete_tenant(c.params[0])); }

Result<Answer> add_tenant_credit(Call& c) {
  BodyFields f(c.body, {"add_usd", "unlimited"});
  const auto add = f.usd_micros("add_usd");
  const bool unlimited = f.boolean("unlimited");
  if (auto s = f.status(); !s) return s.error();
  if (add.has_value() == unlimited)
    return make_error(ErrorKind::usage, "give exactly one of add_usd and unlimited");
  return as_answer(c.service.add_tenant_credit(c.params[0], add));
}

// The provider's key arrives in the body, is sealed by the service at once, and is in no answer.
Result<Answer> add_upstream(Call& c) {
  BodyFields f(c.body, {"name", "kind", "base_url", "models", "api_key"});
  service::UpstreamSpec spec;
  spec.name = f.text("name", true).value_or("");
  spec.kind = f.text("kind", true).value_or("");
  spec.base_url = f.text("base_url", true).value_or("");
  spec.models = f.text_list("models");
  if (const auto* key = f.find("api_key"); key && key->is_string()) {
    auto& text = c.body["api_key"].get_ref<std::string&>();
    spec.api_key = std::move(text);
    crypto::wipe(text);
  } else {
    f.text("api_key", true);  // names the problem
  }
  if (auto s = f.status(); !s) {
    crypto::wipe(spec.api_key);
    return s.error();
  }
  return as_answer(c.service.add_upstream(c.params[0], std::move(spec)), http::status::created);
}

// Only the fields given change; "models": [] routes nothing by glob (upstream/model still works).
Result<Answer> update_upstream(Call& c) {
  BodyFields f(c.body, {"base_url", "models", "api_key"});
  service::UpstreamUpdate update;
  if (f.find("base_url")) update.base_url = f.text("base_url", true);
  if (f.find("models")) update.models = f.text_list("models");
  if (const auto* key = f.find("api_key"); key && key->is_string()) {
    auto& text = c.body["api_key"].get_ref<std::string&>();
    update.api_key = std::move(text);
    crypto::wipe(text);
  } else if (key) {
    f.text("api_key", true);  // names the problem
  }
  if (auto s = f.status(); !s) {
    if (update.api_key) crypto::wipe(*update.api_key);
    return s.error();
  }
  return as_answer(c.service.update_upstream(c.params[0], c.params[1], std::move(update)));
}

Result<Answer> list_upstreams(Call& c) { return as_answer(c.service.list_upstreams(c.params[0])); }
Result<Answer> remove_upstream(Call& c) { return as_answer(c.service.remove_upstream(c.params[0], c.params[1])); }

// ?limit=N: 1 to kMaxUsageLimit.
Result<std::size_t> limit_of(const std::string& value) {
  const bool digits = !value.empty() && value.size() <= 6 && value.find_first_not_of("0123456789") == std::string::npos;
  const std::size_t limit = digits ? std::stoul(value) : 0;
  if (limit < 1 || limit > kMaxUsageLimit) return make_error(ErrorKind::usage, "limit must be 1 to 100000");
  return limit;
}

// ?key=ID&since=T&limit=N; since is Unix seconds or an RFC 3339 time (default: everything).
Result<Answer> list_usage(Call& c) {
  UnixSeconds since = 0;
  std::size_t limit = kDefaultUsageLimit;
  std::string key;
  for (const auto& [name, value] : c.query) {
    if (name == "key") {
      key = value;
    } else if (name == "since") {
      const bool digits = !value.empty() && value.size() <= 12 && value.find_first_not_of("0123456789") == std::string::npos;
      const auto t = digits ? std::optional<UnixSeconds>(std::stoll(value)) : parse_timestamp(value);
      if (!t) return make_error(ErrorKind::usage, "since must be Unix seconds or a time like 2026-11-01T10:00:00Z");
      since = *t;
    } else if (name == "limit") {
      const auto n = limit_of(value);
      if (!n) return n.error();
      limit = *n;
    } else {
      return make_error(ErrorKind::usage, "unknown query parameter '" + name.substr(0, 64) + "' (usage takes key, since, limit)");
    }
  }
  return as_answer(c.service.list_usage(c.params[0], key, since, limit));
}

Result<Answer> generation(Call& c) { return as_answer(c.service.generation(c.params[0], c.params[1])); }

// ?limit=N (default 100).
Result<Answer> list_conversations(Call& c) {
  std::size_t limit = kDefaultUsageLimit;
  for (const auto& [name, value] : c.query) {
    if (name != "limit")
      return make_error(ErrorKind::usage, "unknown query parameter '" + name.substr(0, 64) + "' (conversations take limit)");
    const auto n = limit_of(value);
    if (!n) return n.error();
    limit = *n;
  }
  return as_answer(c.service.list_conversations(c.params[0], limit));
}

Result<Answer> show_conversation(Call& c) { return as_answer(c.service.show_conversation(c.params[0], c.params[1])); }
Result<Answer> delete_account(Call& c) { return as_answer(c.service.delete_account(c.params[0])); }

// Checked (tenant visible, its key opens) before the first byte, so a refusal is a proper error
// reply; the bundle itself is produced as the server sends it (AdminReply::stream).
Result<Answer> export_account(Call& c) {
  auto exporter = c.service.begin_export(c.params[0]);
  if (!exporter) return exporter.error();
  Answer answer{http::status::ok, nullptr};
  answer.stream.emplace(std::move(*exporter));
  return answer;
}

struct Route {
  http::verb method;
  // "{…}" stands for one path segment. An empty one is passed on, so that an empty name gets the
  // service's own answer ("no tenant named …"), as on the embedded store.
  std::string_view pattern;
  Handler handler;
  bool takes_body;
};

constexpr Route kRoutes[] = {
    {http::verb::post, "/x420/v1/keys/verify", verify_key, true},
    {http::verb::get, "/x420/v1/tenants", list_tenants, false},
    {http::verb::post, "/x420/v1/tenants", create_tenant, true},
    {http::verb::delete_, "/x420/v1/tenants/{tenant}", delete_tenant, false},
    {http::verb::post, "/x420/v1/tenants/{tenant}/credit", add_tenant_credit, true},
    {http::verb::get, "/x420/v1/tenants/{tenant}/keys", list_keys, false},
    {http::verb::post, "/x420/v1/tenants/{tenant}/keys", create_key, true},
    {http::verb::get, "/x420/v1/tenants/{tenant}/keys/{id}", show_key, false},
    {http::verb::post, "/x420/v1/tenants/{tenant}/keys/{id}/rotate", rotate_key, true},
    {http::verb::post, "/x420/v1/tenants/{tenant}/keys/{id}/revoke", revoke_key, true},
    {http::verb::get, "/x420/v1/tenants/{tenant}/upstreams", list_upstreams, false},
    {http::verb::post, "/x420/v1/tenants/{tenant}/upstreams", add_upstream, true},
    {http::verb::delete_, "/x420/v1/tenants/{tenant}/upstreams/{name}", remove_upstream, false},
    {http::verb::post, "/x420/v1/tenants/{tenant}/upstreams/{name}", update_upstream, true},
    {http::verb::get, "/x420/v1/tenants/{tenant}/usage", list_usage, false},
    {http::verb::get, "/x420/v1/tenants/{tenant}/generations/{id}", generation, false},
    {http::verb::get, "/x420/v1/tenants/{tenant}/conversations", list_conversations, false},
    {http::verb::get, "/x420/v1/tenants/{tenant}/conversations/{id}", show_conversation, false},
    {http::verb::get, "/x420/v1/tenants/{tenant}/export", export_account, false},
    {http::verb::delete_, "/x420/v1/tenants/{tenant}/account", delete_account, false},
};


AdminReply dispatch(store::Store& store, const service::Keyring& keyring, const Clock& clock, const Request& req) {
  const std::string_view target(req.target().data(), req.target().size());
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  constexpr std::string_view kUnmatched = "/x420/v1/*";

  // Who is calling comes first: without a valid token, not even the route table is revealed.
  auto actor = admin_actor(store, keyring, req);
  if (!actor) return {error_reply(req, actor.error()), kUnmatched};

  const auto segments = admin::split_path(path);
  const Route* found = nullptr;
  std::string allowed;
  std::vector<std::string> params;
  for (const auto& route : kRoutes) {
    const auto pattern = admin::split_path(route.pattern);
    if (pattern.size() != segments.size()) continue;
    std::vector<std::string> candidate;
    bool match = true;
    for (std::size_t i = 0; i < pattern.size() && match; ++i) {
      if (pattern[i].starts_with('{')) {
        auto decoded = admin::percent_decode(segments[i], false);
        if (!decoded) return {error_reply(req, decoded.error()), route.pattern};
        candidate.push_back(std::move(*decoded));
      } else {
        match = pattern[i] == segments[i];
      }
    }
    if (!match) continue;
    if (route.method != req.method()) {
      const auto name = http::to_string(route.method);
      allowed += (allowed.empty() ? "" : ", ") + std::string(name.data(), name.size());
      continue;
    }
    found = &route;
    params = std::move(candidate);
    break;
  }
  if (!found && !allowed.empty()) {
    auto res = error_reply(req, make_error(ErrorKind::usage, "use " + allowed + " for " + std::string(path.substr(0, 200))));
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, allowed);
    return {std::move(res), kUnmatched};
  }
  if (!found)
    return {error_reply(req, make_error(ErrorKind::not_found, "no admin route " + std::string(req.method_string().data(), req.method_string().size()) + " " +
                                                                  std::string(path.substr(0, 200)))),
            kUnmatched};

  auto parsed_query = admin::parse_query(query);
  if (!parsed_query) return {error_reply(req, parsed_query.error()), found->pattern};
  nlohmann::json body = nlohmann::json::object();
  if (found->takes_body) {
    if (req.body().size() > admin::kMaxBodyBytes) {
      auto res = error_reply(req, make_error(ErrorKind::usage, "the body is over " + std::to_string(admin::kMaxBodyBytes) + " bytes"));
      res.result(http::status::payload_too_large);
      return {std::move(res), found->pattern};
    }
    auto parsed = admin::parse_body(req.body());
    if (!parsed) return {error_reply(req, parsed.error()), found->pattern};
    body = std::move(*parsed);
  }

  service::LocalService service(store, keyring, clock, *actor);
  Call call{service, std::move(params), std::move(*parsed_query), std::move(body)};
  auto answer = found->handler(call);
  if (!answer) return {error_reply(req, answer.error()), found->pattern};
  if (answer->stream) {
    auto head = json_reply(req, answer->status, nullptr);
    head.body().clear();
    return {std::move(head), found->pattern, std::move(answer->stream)};
  }
  return {json_reply(req, answer->status, answer->doc), found->pattern};
}

}  // namespace

Result<service::Actor> admin_actor(store::Store& store, const service::Keyring& keyring, const Request& req) {
  const auto authorization = req[http::field::authorization];
  const auto token = admin::bearer_token({authorization.data(), authorization.size()});
  if (token.empty())
    return make_error(ErrorKind::auth, "missing management token: send Authorization: Bearer x420m_… "
                                       "(the operator token from x420 init, or a tenant's admin token)");
  return service::authenticate_token(store, keyring, token);
}

Response admin_error_response(const Request& req, const Error& error) { return error_reply(req, error); }

AdminReply handle_admin(store::Store& store, const service::Keyring& keyring, const Clock& clock, const Request& req) {
  try {
    return dispatch(store, keyring, clock, req);
  } catch (const Fatal& f) {
    // The store's own messages name files and states, never rows' contents or secrets.
    spdlog::error("admin API: {}", f.error().message);
    return {error_reply(req, f.error()), "/x420/v1/*"};
  } catch (const std::exception& e) {
    spdlog::error("admin API: internal error: {}", e.what());
    return {error_reply(req, make_error(ErrorKind::internal, "internal error (the server's log has the detail)")), "/x420/v1/*"};
  }
}

}  // namespace x420::proxy
