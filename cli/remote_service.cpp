#include "cli/remote_service.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "lib/common/money.h"
#include "lib/crypto/secret_bytes.h"
#include "lib/service/json_views.h"

namespace x420::cli {
namespace {

using service::IssuedKey;
using service::KeyInfo;

ErrorKind kind_for_status(int status) {
  switch (status) {
    case 400: case 405: case 413: return ErrorKind::usage;
    case 401: return ErrorKind::auth;
    case 403: return ErrorKind::forbidden;
    case 404: return ErrorKind::not_found;
    case 409: return ErrorKind::conflict;
    default: return status >= 500 ? ErrorKind::unavailable : ErrorKind::internal;
  }
}

template <class T>
Result<std::vector<T>> list_of(Result<nlohmann::json> doc, Result<T> (*convert)(const nlohmann::json&)) {
  if (!doc) return doc.error();
  if (!doc->is_array())
    return make_error(ErrorKind::internal, "the server's answer is not a list (is it running another version of x420?)");
  std::vector<T> out;
  for (const auto& item : *doc) {
    auto one = convert(item);
    if (!one) return one.error();
    out.push_back(std::move(*one));
  }
  return out;
}

template <class T>
Result<T> one_of(Result<nlohmann::json> doc, Result<T> (*convert)(const nlohmann::json&)) {
  if (!doc) return doc.error();
  return convert(*doc);
}

// Create and rotate answer with the key's document plus its plaintext, shown once.
Result<IssuedKey> issued_of(Result<nlohmann::json> doc) {
  if (!doc) return doc.error();
  auto info = service::key_from_json(*doc);
  if (!info) return info.error();
  const auto it = doc->find("key");
  if (it == doc->end() || !it->is_string())
    return make_error(ErrorKind::internal, "the server's answer has no new key (is it running another version of x420?)");
  IssuedKey issued{std::move(*info), it->get<std::string>()};
  crypto::wipe(it->get_ref<std::string&>());
  return issued;
}

// A server's message goes to the terminal: no control characters (escape sequences), bounded.
std::string printable(std::string text) {
  if (text.size() > 1000) text.resize(1000);
  for (auto& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return text;
}

std::string dump(const nlohmann::json& body) {
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string tenant_path(const std::string& tenant) { return "/x420/v1/tenants/" + percent_encode(tenant); }

RemoteService::RemoteService(ServerUrl server, std::string token)
    : server_(std::move(server)), token_(std::move(token)) {}

RemoteService::~RemoteService() { crypto::wipe(token_); }

Result<nlohmann::json> RemoteService::call(HttpMethod method, const std::string& path, const std::string& body,
                                           const BodySink& sink) {
  std::vector<std::pair<std::string, std::string>> headers{{"Authorization", "Bearer " + token_}};
  auto reply = http_exchange(server_, method, path, headers, body, {}, sink);
  crypto::wipe(headers.front().second);
  if (!reply) return reply.error();
  if (sink && reply->status >= 200 && reply->status < 300) return nlohmann::json();  // the body went to the sink
  auto doc = nlohmann::json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
  crypto::wipe(reply->body);  // it may hold a new key or token
  const int status = reply->status;
  if (status >= 200 && status < 300 && !doc.is_discarded()) return doc;

  // {"error":{"kind","message"}}: the server's own words and kind, so exit codes match local mode.
  if (!doc.is_discarded() && doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
    const auto& e = doc["error"];
    const auto kind_it = e.find("kind");
    const auto message_it = e.find("message");
    const auto named = kind_it != e.end() && kind_it->is_string()
                           ? service::error_kind_named(kind_it->get_ref<const std::string&>())
                           : std::nullopt;
    std::string message = message_it != e.end() && message_it->is_string()
                              ? printable(message_it->get<std::string>())
                              : "HTTP " + std::to_string(status);
    if (status == 401)
      message += " (server " + server_.text + "; the token comes from X420_TOKEN or the credentials file)";
    return make_error(named.value_or(kind_for_status(status)), message);
  }
  return make_error(ErrorKind::unavailable, "the server at " + server_.text + " answered HTTP " + std::to_string(status) +
                                                " without x420's JSON: is it an x420 service (x420 serve)?");
}

Result<IssuedKey> RemoteService::create_key(const std::string& tenant, const service::KeySpec& spec) {
  nlohmann::json body = {{"name", spec.name}, {"no_log", spec.no_log}};
  if (spec.redaction) body["redaction"] = *spec.redaction;
  if (spec.store_conversations) body["store_conversations"] = *spec.store_conversations;
  if (spec.conversation_ttl) body["conversation_ttl_seconds"] = *spec.conversation_ttl;
  if (spec.unscanned_payloads) body["unscanned_payloads"] = *spec.unscanned_payloads;
  if (spec.redact_personal) body["redact_personal"] = *spec.redact_personal;
  if (spec.cap_usd_micros) body["cap_usd"] = format_usd_micros(*spec.cap_usd_micros);
  if (spec.rpm) body["rpm"] = *spec.rpm;
  if (spec.tpm) body["tpm"] = *spec.tpm;
  if (spec.expires_in) body["expires_in_seconds"] = *spec.expires_in;
  return issued_of(call(HttpMethod::post, tenant_path(tenant) + "/keys", dump(body)));
}

Result<std::vector<KeyInfo>> RemoteService::list_keys(const std::string& tenant) {
  return list_of(call(HttpMethod::get, tenant_path(tenant) + "/keys"), service::key_from_json);
}

Result<KeyInfo> RemoteService::show_key(const std::string& tenant, const std::string& id) {
  return one_of(call(HttpMethod::get, tenant_path(tenant) + "/keys/" + percent_encode(id)), service::key_from_json);
}

Result<IssuedKey> RemoteService::rotate_key(const std::string& tenant, const std::string& id, UnixSeconds grace) {
  const nlohmann::json body = {{"grace_seconds", grace}};
  return issued_of(call(HttpMethod::post, tenant_path(tenant) + "/keys/" + percent_encode(id) + "/rotate", dump(body)));
}

Result<KeyInfo> RemoteService::revoke_key(const std::string& tenant, const std::string& id) {
  return one_of(call(HttpMethod::post, tenant_path(tenant) + "/keys/" + percent_encode(id) + "/revoke", "{}"),
                service::key_from_json);
}

// The server answers {"valid": true, "key"} or {"valid": false, "reason"}; the latter is the
// ErrorKind::auth that LocalService would have returned.
Result<KeyInfo> RemoteService::verify_key(std::string_view plaintext) {
  auto body = dump(nlohmann::json{{"key", std::string(plaintext)}});
  auto doc = call(HttpMethod::post, "/x420/v1/keys/verify", body);
  crypto::wipe(body);
  if (!doc) return doc.error();
  const auto valid = doc->find("valid");
  if (valid == doc->end() || !valid->is_boolean())
    return make_error(ErrorKind::internal, "the server's answer to verify has no 'valid' (is it running another version of x420?)");
  if (!valid->get<bool>()) {
    const auto reason = doc->find("reason");
    return make_error(ErrorKind::auth,
                      reason != doc->end() && reason->is_string() ? printable(reason->get<std::string>()) : "key is not valid");
  }
  const auto key = doc->find("key");
  if (key == doc->end()) return make_error(ErrorKind::internal, "the server's answer to verify has no 'key'");
  return service::key_from_json(*key);
}

Result<service::UpstreamInfo> RemoteService::add_upstream(const std::string& tenant, service::UpstreamSpec spec) {
  nlohmann::json body = {{"name", spec.name},         {"kind", spec.kind},
                         {"base_url", spec.base_url}, {"models", spec.models},
                         {"api_key", spec.api_key}};
  crypto::wipe(spec.api_key);
  auto text = dump(body);
  crypto::wipe(body["api_key"].get_ref<std::string&>());
  auto doc = call(HttpMethod::post, tenant_path(tenant) + "/upstreams", text);
  crypto::wipe(text);
  return one_of(std::move(doc), service::upstream_from_json);
}

Result<std::vector<service::UpstreamInfo>> RemoteService::list_upstreams(const std::string& tenant) {
  return list_of(call(HttpMethod::get, tenant_path(tenant) + "/upstreams"), service::upstream_from_json);
}

Result<service::UpstreamInfo> RemoteService::update_upstream(const std::string& tenant, const std::string& name,
                                                             service::UpstreamUpdate update) {
  nlohmann::json body = nlohmann::json::object();
  if (update.base_url) body["base_url"] = *update.base_url;
  if (update.models) body["models"] = *update.models;
  if (update.api_key) {
    body["api_key"] = *update.api_key;
    crypto::wipe(*update.api_key);
  }
  auto text = dump(body);
  if (body.contains("api_key")) crypto::wipe(body["api_key"].get_ref<std::string&>());
  auto doc = call(HttpMethod::post, tenant_path(tenant) + "/upstreams/" + percent_encode(name), text);
  crypto::wipe(text);
  return one_of(std::move(doc), service::upstream_from_json);
}

Result<service::UpstreamInfo> RemoteService::remove_upstream(const std::string& tenant, const std::string& name) {
  return one_of(call(HttpMethod::del, tenant_path(tenant) + "/upstreams/" + percent_encode(name)),
                service::upstream_from_json);
}

Result<std::vector<service::UsageInfo>> RemoteService::list_usage(const std::string& tenant, const std::string& key_id,
                                                                 UnixSeconds since, std::size_t limit) {
  std::string path = tenant_path(tenant) + "/usage?since=" + std::to_string(std::max<UnixSeconds>(since, 0)) +
                     "&limit=" + std::to_string(limit);
  if (!key_id.empty()) path += "&key=" + percent_encode(key_id);
  return list_of(call(HttpMethod::get, path), service::usage_from_json);
}

Result<service::UsageInfo> RemoteService::generation(const std::string& tenant, const std::string& id) {
  return one_of(call(HttpMethod::get, tenant_path(tenant) + "/generations/" + percent_encode(id)),
                service::usage_from_json);
}

Result<service::IssuedTenant> RemoteService::create_tenant(const std::string& name) {
  auto doc = call(HttpMethod::post, "/x420/v1/tenants", dump(nlohmann::json{{"name", name}}));
  if (!doc) return doc.error();
  auto info = service::tenant_from_json(*doc);
  if (!info) return info.error();
  const auto token = doc->find("admin_token");
  if (token == doc->end() || !token->is_string())
    return make_error(ErrorKind::internal, "the server's answer has no admin token (is it running another version of x420?)");
  service::IssuedTenant issued{std::move(*info), token->get<std::string>()};
  crypto::wipe(token->get_ref<std::string&>());
  return issued;
}

Result<std::vector<service::TenantInfo>> RemoteService::list_tenants() {
  return list_of(call(HttpMethod::get, "/x420/v1/tenants"), service::tenant_from_json);
}

Result<service::TenantInfo> RemoteService::delete_tenant(const std::string& name) {
  return one_of(call(HttpMethod::del, tenant_path(name)), service::tenant_from_json);
}

Result<service::TenantInfo> RemoteService::add_tenant_credit(const std::string& name,
                                                             std::optional<std::int64_t> add_micros) {
  nlohmann::json body = nlohmann::json::object();
  if (add_micros) body["add_usd"] = format_usd_micros(*add_micros);
  else body["unlimited"] = true;
  return one_of(call(HttpMethod::post, tenant_path(name) + "/credit", dump(body)), service::tenant_from_json);
}

Result<std::vector<service::ConversationInfo>> RemoteService::list_conversations(const std::string& tenant,
                                                                                 std::size_t limit) {
  return list_of(call(HttpMethod::get, tenant_path(tenant) + "/conversations?limit=" + std::to_string(limit)),
                 service::conversation_from_json);
}

Result<service::ConversationDetail> RemoteService::show_conversation(const std::string& tenant, const std::string& id) {
  return one_of(call(HttpMethod::get, tenant_path(tenant) + "/conversations/" + percent_encode(id)),
                service::conversation_detail_from_json);
}

Status RemoteService::export_account(const std::string& tenant, const service::ExportSink& sink) {
  auto done = call(HttpMethod::get, tenant_path(tenant) + "/export", {}, sink);
  if (!done) return done.error();
  return ok_status();
}

Result<service::TenantInfo> RemoteService::delete_account(const std::string& tenant) {
  return one_of(call(HttpMethod::del, tenant_path(tenant) + "/account"), service::tenant_from_json);
}

}  // namespace x420::cli
