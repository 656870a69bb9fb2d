#include "lib/service/local_service.h"

#include "lib/common/http_url.h"
#include "lib/common/time_format.h"
#include "lib/crypto/random.h"
#include "lib/keys/key_format.h"
#include "lib/service/usage_view.h"

namespace x420::service {
namespace {

constexpr size_t kMaxKeyNameLength = 128;

bool is_valid_key_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxKeyNameLength) return false;
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

Error invalid_key() { return make_error(ErrorKind::auth, "key is not valid"); }

Error no_key(const std::string& id, const std::string& tenant) {
  return make_error(ErrorKind::not_found, "no key with id " + id + " in tenant " + tenant +
                                              " (x420 keys list shows the ids)");
}

bool hash_equals(const store::Blob& stored, const crypto::Hash& computed) {
  return crypto::equal_constant_time(stored, computed);
}

}  // namespace

bool is_valid_tenant_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '-' && c != '_'))) return false;
  }
  return true;
}

Status LocalService::require_operator(std::string_view what) const {
  if (actor_.role == Actor::Role::operator_role) return ok_status();
  return make_error(ErrorKind::forbidden, std::string(what) + " needs the operator token");
}

Result<store::TenantRow> LocalService::visible_tenant(const std::string& name) {
  auto row = store_.tenant_by_name(name);
  // A tenant admin learns nothing about other tenants, not even whether they exist.
  if (!row || (actor_.role == Actor::Role::tenant_admin && row->id != actor_.tenant_id))
    return make_error(ErrorKind::not_found,
                      "no tenant named " + name + " (x420 tenants list shows the tenants)");
  return *row;
}

Result<store::KeyRow> LocalService::visible_key(const store::TenantRow& tenant,
                                                const std::string& id) {
  if (!keys::is_public_id(id)) {
    if (id.starts_with("x420"))
      return make_error(ErrorKind::usage,
                        "pass the key's id (the 12 characters after x420_), not the key itself");
    return make_error(ErrorKind::usage, "'" + id.substr(0, 40) +
                                            "' is not a key id (12 letters and digits; x420 keys "
                                            "list shows the ids)");
  }
  auto row = store_.key_by_id(id);
  if (!row || row->tenant_id != tenant.id) return no_key(id, tenant.name);
  return *row;
}

KeyInfo LocalService::info_of(const store::KeyRow& row, const std::string& tenant_name) const {
  const auto now = clock_.now();
  KeyInfo k;
  k.id = row.id;
  k.tenant = tenant_name;
  k.tenant_id = row.tenant_id;
  k.name = row.name;
  if (row.revoked_at) k.status = "revoked";
  else if (row.expires_at && now >= *row.expires_at) k.status = "expired";
  else k.status = "active";
  k.created_at = row.created_at;
  k.last_used_at = row.last_used_at;
  k.expires_at = row.expires_at;
  k.rotated_at = row.rotated_at;
  k.revoked_at = row.revoked_at;
  if (row.previous_valid_until && now < *row.previous_valid_until)
    k.previous_valid_until = row.previous_valid_until;
  k.cap_usd_micros = row.cap_usd_micros;
  k.rpm = row.rpm;
  k.tpm = row.tpm;
  k.no_log = row.no_log;
  k.redaction = row.redaction;
  k.store_conversations = row.store_conversations;
  k.conversation_ttl = row.conversation_ttl_s;
  k.unscanned_payloads = row.unscanned_payloads;
  k.redact_personal = row.redact_personal;
  return k;
}

bool is_redaction_mode(std::string_view mode) {
  return mode == "pseudonymize" || mode == "mask" || mode == "block" || mode == "off";
}

bool is_unscanned_policy(std::string_view policy) { return policy == "forward" || policy == "refuse"; }

Result<IssuedKey> LocalService::create_key(const std::string& tenant, const KeySpec& spec) {
  if (!is_valid_key_name(spec.name))
    return make_error(ErrorKind::usage, "--name must be 1 to 128 printable characters");
  if (spec.cap_usd_micros && *spec.cap_usd_micros < 0)
    return make_error(ErrorKind::usage, "--cap-usd must not be negative");
  if ((spec.rpm && *spec.rpm <= 0) || (spec.tpm && *spec.tpm <= 0))
    return make_error(ErrorKind::usage, "--rpm and --tpm must be positive");
  if (spec.expires_in && *spec.expires_in <= 0)
    return make_error(ErrorKind::usage, "--expires must be a positive duration");
  if (spec.redaction && !is_redaction_mode(*spec.redaction))
    return make_error(ErrorKind::usage, "--redact '" + *spec.redaction +
                                            "' is not a mode: pseudonymize, mask, block or off");
  if (spec.unscanned_payloads && !is_unscanned_policy(*spec.unscanned_payloads))
    return make_error(ErrorKind::usage, "--unscanned-payloads '" + *spec.unscanned_payloads +
                                            "' is not a policy: forward or refuse");
  if (spec.conversation_ttl && *spec.conversation_ttl < 0)
    return make_error(ErrorKind::usage, "--conversation-ttl must not be negative");
  auto t = visible_tenant(tenant);
  if (!t) return t.error();

  const auto now = clock_.now();
  auto minted = keys::mint(keys::TokenKind::api_key);
  store::KeyRow row;
  row.id = minted.public_id;
  row.tenant_id = t->id;
  row.name = spec.name;
  row.hash = keyring_.hash_blob(minted.plaintext);
  row.created_at = now;
  if (spec.expires_in) row.expires_at = now + *spec.expires_in;
  row.cap_usd_micros = spec.cap_usd_micros;
  row.rpm = spec.rpm;
  row.tpm = spec.tpm;
  row.no_log = spec.no_log;
  row.redaction = spec.redaction;
  row.store_conversations = spec.store_conversations;
  row.conversation_ttl_s = spec.conversation_ttl;
  row.unscanned_payloads = spec.unscanned_payloads;
  row.redact_personal = spec.redact_personal;
  store_.write_transaction([&] { store_.insert_key(row); });
  return IssuedKey{info_of(row, t->name), std::move(minted.plaintext)};
}

Result<std::vector<KeyInfo>> LocalService::list_keys(const std::string& tenant) {
  auto t = visible_tenant(tenant);
  if (!t) return t.error();
  std::vector<KeyInfo> out;
  for (const auto& row : store_.list_keys(t->id)) out.push_back(info_of(row, t->name));
  return out;
}

Result<KeyInfo> LocalService::show_key(const std::string& tenant, const std::string& id) {
  auto t = visible_tenant(tenant);
  if (!t) return t.error();
  auto row = visible_key(*t, id);
  if (!row) return row.error();
  return info_of(*row, t->name);
}

Result<IssuedKey> LocalService::rotate_key(const std::string& tenant, const std::string& id,
                                           UnixSeconds grace) {
  if (grace < 0) return make_error(ErrorKind::usage, "--grace must not be negative");
  auto t = visible_tenant(tenant);
  if (!t) return t.error();
  std::optional<Error> refused;
  std::optional<IssuedKey> issued;
  store_.write_transaction([&] {
    auto row = visible_key(*t, id);  // read inside the transaction: no lost update
    if (!row) {
      refused = row.error();
      return;
    }
    const auto now = clock_.now();
    if (row->revoked_at) {
      refused = make_error(ErrorKind::usage, "key " + id + " is revoked; create a new key instead");
      return;
    }
    if (row->expires_at && now >= *row->expires_at) {
      refused = make_error(ErrorKind::usage, "key " + id + " expired at " +
                                                 format_timestamp(*row->expires_at) +
                                                 "; create a new key instead");
      return;
    }
    auto minted = keys::mint_with_id(keys::TokenKind::api_key, row->id);
    if (grace > 0) {
      row->previous_hash = row->hash;
      row->previous_valid_until = now + grace;
    } else {
      row->previous_hash.reset();
      row->previous_valid_until.reset();
    }
    row->hash = keyring_.hash_blob(minted.plaintext);
    row->rotated_at = now;
    store_.update_key(*row);
    issued = IssuedKey{info_of(*row, t->name), std::move(minted.plaintext)};
  });
  if (refused) return *refused;
  return std::move(*issued);
}

Result<KeyInfo> LocalService::revoke_key(const std::string& tenant, const std::string& id) {
  auto t = visible_tenant(tenant);
  if (!t) return t.error();
  std::optional<Error> refused;
  std::optional<KeyInfo> info;
  store_.write_transaction([&] {
    auto row = visible_key(*t, id);
    if (!row) {
      refused = row.error();
      return;
    }
    if (!row->revoked_at) {  // revoking twice is not an error, and keeps the first time
      row->revoked_at = clock_.now();
      row->previous_hash.reset();
      row->previous_valid_until.reset();
      store_.update_key(*row);
    }
    info = info_of(*row, t->name);
  });
  if (refused) return *refused;
  return std::move(*info);
}

Result<KeyInfo> LocalService::verify_key(std::string_view plaintext) {
  auto parsed = keys::parse(plaintext);  // shape and checksum first: no lookup for junk
  if (!parsed) return parsed.error();
  if (parsed->kind != keys::TokenKind::api_key)
    return make_error(ErrorKind::auth, "this is a management token, not an API key");
  const auto row = store_.key_by_id(parsed->public_id);
  const auto computed = keyring_.hash(plaintext);
  if (!row) return invalid_key();
  if (actor_.role == Actor::Role::tenant_admin && row->tenant_id != actor_.tenant_id)
    return invalid_key();

  // Compare against both hashes every time, so timing does not tell which one matched.
  const bool current = hash_equals(row->hash, computed);
  const bool previous = row->previous_hash && hash_equals(*row->previous_hash, computed);
  if (!current && !previous) return invalid_key();

  // From here on the caller has proved it holds the key, so telling it why is safe.
  const auto now = clock_.now();
  if (row->revoked_at)
    return make_error(ErrorKind::auth, "key was revoked at " + format_timestamp(*row->revoked_at));
  if (row->expires_at && now >= *row->expires_at)
    return make_error(ErrorKind::auth, "key expired at " + format_timestamp(*row->expires_at));
  if (!current && !(row->previous_valid_until && now < *row->previous_valid_until))
    return make_error(ErrorKind::auth, "key was rotated and its grace period has ended");
  auto info = info_of(*row, row->tenant_name);
  info.verified_secret = current ? "current" : "previous";
  return info;
}

Status check_upstream_url(std::string_view kind, std::string_view url) {
  auto bad = [&](const std::string& why) {
    return make_error(ErrorKind::usage, "--base-url " + std::string(url.substr(0, 200)) + ": " + why);
  };
  const auto parsed = parse_http_url(url);
  if (!parsed) return bad(parsed.error().message);
  if (!parsed->tls && !parsed->is_loopback())
    return bad("plain http would send the provider's key in clear text; use https:// (http:// is for a "
               "local test server)");
  // The proxy appends /chat/completions, /responses … to the URL's path, as the OpenAI SDK does
  // to its base URL: any OpenAI-compatible API's base fits (Gemini's /v1beta/openai, OpenRouter's
  // /api/v1, Ollama's /v1). A URL with no path at all is almost always api.openai.com without /v1.
  if (kind == "openai" && (parsed->path.empty() || parsed->path == "/"))
    return bad("an openai-kind URL includes the API's path, as the OpenAI SDK's base URL does "
               "(https://api.openai.com/v1, https://generativelanguage.googleapis.com/v1beta/openai, "
               "http://127.0.0.1:11434/v1)");
  if (kind == "anthropic" && parsed->path.ends_with("/v1"))
    return bad("an anthropic-kind URL does not end in /v1, as the Anthropic SDK expects "
               "(https://api.anthropic.com)");
  return ok_status();
}

namespace {

UpstreamInfo upstream_info(const store::UpstreamRow& row, const std::string& tenant) {
  return UpstreamInfo{row.name, tenant, row.kind, row.base_url, row.models, row.created_at};
}

}  // namespace

Result<UpstreamInfo> LocalService::add_upstream(const std::string& tenant, UpstreamSpec spec) {
  struct Wipe {
    std::string& s;
    ~Wipe() { crypto::wipe(s); }
  } wipe_key{spec.api_key};
  if (!is_valid_tenant_name(spec.name))
    return make_error(ErrorKind::usage, "upstream name '" + spec.name.substr(0, 64) +
                                            "' is not valid (lowercase letters, digits, - and _)");
  if (spec.kind != "openai" && spec.kind != "anthropic")
    return make_error(ErrorKind::usage, "--kind must be openai or anthropic");
  if (auto s = check_upstream_url(spec.kind, spec.base_url); !s) return s.error();
  if (spec.api_key.empty()) return make_error(ErrorKind::usage, "the upstream's API key is empty");
  for (const auto& m : spec.models)
    if (m.empty() || m.size() > 200) return make_error(ErrorKind::usage, "--models globs must be 1 to 200 characters");
  auto t = visible_tenant(tenant);
  if (!t) return t.error();
  while (spec.base_url.ends_with('/')) spec.base_url.pop_back();

  std::optional<Error> refused;
  store::UpstreamRow row;
  row.tenant_id = t->id;
  row.name = spec.name;
  row.kind = spec.kind;
  row.base_url = spec.base_url;
  row.models = spec.models;
  row.created_at = clock_.now();
  row.sealed_secret = keyring_.seal_upstream_secret(t->id, spec.name, spec.api_key);
  store_.write_transaction([&] {
    if (auto current = keyring_.check_current(store_); !current) {
      refused = current.error();
      return;
    }
    if (store_.upstream_by_name(t->id, spec.name)) {
      refused = make_error(ErrorKind::conflict, "an upstream named " + spec.name +
                                                    " already exists (x420 upstreams remove it first)");
      return;
    }
    store_.insert_upstream(row);
  });
  if (refused) return *refused;
  return upstream_info(row, t->name);
}

Result<std::vector<UpstreamInfo>> LocalService::list_upstreams(const std::string& tenant) {
  auto t = visible_tenant(tenant);
  if (!t) return t.error();
  std::vector<UpstreamInfo> out;
  for (const auto& row : store_.list_upstreams(t->id)) out.push_back(upstream_info(row, t->name));
  return out;
}

Result<UpstreamInfo> LocalService::remove_upstream(const std::string& tenant, const std::string& name) {
  auto t = visible_tenant(tenant);
  if (!t) return t.error();
  std::optional<UpstreamInfo> removed;
  store_.write_transaction([&] {
    const auto row = store_.upstream_by_name(t->id, name);
    if (!row) return;
    removed = upstream_info(*row, t->name);
    store_.delete_upstream(t->id, name);
  });
  if (!removed)
    return make_error(ErrorKind::not_found, "no upstream named " + name + " in tenant " + t->name +
                                                " (x420 upstreams list shows them)");
  return std::move(*removed);
}

Result<UpstreamInfo> LocalService::update_upstream(const std::string& tenant, const std::string& name,
                                                   UpstreamUpdate update) {
  struct Wipe {
    std::optional<std::string>& s;
    ~Wipe() {
      if (s) crypto::wipe(*s);
    }
  } wipe_key{update.api_key};
  if (!update.base_url && !update.api_key && !update.models)
    return make_error(ErrorKind::usage, "nothing to change: give --base-url, a new key (--api-key-stdin or "
                                        "--api-key-env) or --models");
  if (update.api_key && update.api_key->empty()) return make_error(ErrorKind::usage, "the upstream's API key is empty");
  if (update.models)
    for (const auto& m : *update.models)
      if (m.empty() || m.size() > 200) return make_error(ErrorKind::usage, "--models globs must be 1 to 200 characters");
  auto t = visible_tenant(tenant);
  if (!t) return t.error();

  std::optional<Error> refused;
  std::optional<store::UpstreamRow> updated;
  store_.write_transaction([&] {
    if (auto current = keyring_.check_current(store_); !current) {
      refused = current.error();
      return;
    }
    auto row = store_.upstream_by_name(t->id, name);
    if (!row) {
      refused = make_error(ErrorKind::not_found, "no upstream named " + name + " in tenant " + t->name +
                                                     " (x420 upstreams list shows them)");
      return;
    }
    if (update.base_url) {
      if (auto s = check_upstream_url(row->kind, *update.base_url); !s) {
        refused = s.error();
        return;
      }
      row->base_url = *update.base_url;
      while (row->base_url.ends_with('/')) row->base_url.pop_back();
    }
    if (update.api_key) row->sealed_secret = keyring_.seal_upstream_secret(t->id, row->name, *update.api_key);
    if (update.models) row->models = *update.models;
    store_.update_upstream(*row);
    updated = std::move(row);
  });
  if (refused) return *refused;
  return upstream_info(*updated, t->name);
}

Result<std::vector<UsageInfo>> LocalService::list_usage(const std::string& tenant, const std::string& key_id,
                                                       UnixSeconds since, std::size_t limit) {
  auto t = visible_tenant(tenant);
  if (!t) return t.error();
  std::vector<UsageInfo> out;
  for (const auto& r : store_.list_usage(t->id, key_id, since, limit)) out.push_back(usage_info(r, t->name));
  return out;
}

Result<UsageInfo> LocalService::generation(const std::string& tenant, const std::string& id) {
  auto t = visible_tenant(tenant);
  if (!t) return t.error();
  const auto row = store_.usage_by_id(id);
  // Another tenant's generation is as absent as one that never was.
  if (!row || row->tenant_id != t->id)
    return make_error(ErrorKind::not_found, "no generation " + id.substr(0, 64) + " in tenant " + t->name);
  return usage_info(*row, t->name);
}

Result<IssuedTenant> LocalService::create_tenant(const std::string& name) {
  if (auto s = require_operator("creating a tenant"); !s) return s.error();
  if (!is_valid_tenant_name(name))
    return make_error(ErrorKind::usage, "tenant name '" + name.substr(0, 64) +
                                            "' is not valid (lowercase letters, digits, - and _, "
                                            "starting with a letter or digit, at most 63)");
  std::optional<IssuedTenant> issued;
  std::optional<Error> refused;
  store_.write_transaction([&] {
    if (auto current = keyring_.check_current(store_); !current) {
      refused = current.error();
      return;
    }
    if (store_.tenant_by_name(name)) {
      refused = make_error(ErrorKind::conflict, "a tenant named " + name + " already exists");
      return;
    }
    store::TenantRow row;
    row.id = "t" + crypto::random_base62(11);
    row.name = name;
    row.created_at = clock_.now();
    row.wrapped_dek = keyring_.seal_new_dek(row.id);
    store_.insert_tenant(row);
    auto token = issue_token(store_, keyring_, clock_, Actor::tenant_admin(row.id), name + " admin");
    issued = IssuedTenant{TenantInfo{row.id, row.name, row.created_at, 0, std::nullopt, 0}, std::move(token)};
  });
  if (refused) return *refused;
  return std::move(*issued);
}

Result<std::vector<TenantInfo>> LocalService::list_tenants() {
  std::vector<TenantInfo> out;
  for (const auto& row : store_.list_tenants()) {
    if (actor_.role == Actor::Role::tenant_admin && row.id != actor_.tenant_id) continue;
    out.push_back(tenant_info(row));
  }
  return out;
}

TenantInfo LocalService::tenant_info(const store::TenantRow& row) {
  return TenantInfo{row.id, row.name, row.created_at, store_.count_keys(row.id), row.credit_usd_micros,
                    store_.tenant_spent_micros(row.id)};
}

Result<TenantInfo> LocalService::add_tenant_credit(const std::string& name, std::optional<std::int64_t> add_micros) {
  if (auto s = require_operator("changing a tenant's credit"); !s) return s.error();
  if (add_micros && *add_micros <= 0) return make_error(ErrorKind::usage, "--add-usd must be a positive amount");
  std::optional<TenantInfo> changed;
  store_.write_transaction([&] {
    auto row = store_.tenant_by_name(name);
    if (!row) return;
    if (add_micros) row->credit_usd_micros = row->credit_usd_micros.value_or(0) + *add_micros;
    else row->credit_usd_micros.reset();
    store_.set_tenant_credit(row->id, row->credit_usd_micros);
    changed = tenant_info(*row);
  });
  if (!changed)
    return make_error(ErrorKind::not_found, "no tenant named " + name + " (x420 tenants list shows the tenants)");
  return std::move(*changed);
}

Result<TenantInfo> LocalService::delete_tenant(const std::string& name) {
  if (auto s = require_operator("deleting a tenant"); !s) return s.error();
  return erase_tenant(name);
}

std::string issue_token(store::Store& store, const Keyring& keyring, const Clock& clock,
                        const Actor& actor, std::string name) {
  auto minted = keys::mint(keys::TokenKind::management);
  store::TokenRow row;
  row.id = minted.public_id;
  row.role = actor.role == Actor::Role::operator_role ? store::TokenRole::operator_role
                                                       : store::TokenRole::tenant_admin;
  if (actor.role == Actor::Role::tenant_admin) row.tenant_id = actor.tenant_id;
  row.name = std::move(name);
  row.hash = keyring.hash_blob(minted.plaintext);
  row.created_at = clock.now();
  store.insert_token(row);
  return std::move(minted.plaintext);
}

Result<Actor> authenticate_token(store::Store& store, const Keyring& keyring,
                                 std::string_view plaintext) {
  const Error invalid = make_error(ErrorKind::auth, "management token is not valid");
  auto parsed = keys::parse(plaintext);
  if (!parsed) return parsed.error();
  if (parsed->kind != keys::TokenKind::management)
    return make_error(ErrorKind::auth, "this is an API key, not a management token");
  const auto row = store.token_by_id(parsed->public_id);
  const auto computed = keyring.hash(plaintext);
  if (!row || !hash_equals(row->hash, computed) || row->revoked_at) return invalid;
  if (row->role == store::TokenRole::operator_role) return Actor::operator_actor();
  return Actor::tenant_admin(*row->tenant_id);
}

}  // namespace x420::service
