// LocalService: the Service over a store on this machine. Used by the CLI on the embedded store
// and, per request, by the proxy's admin API with the Actor its token resolves to.
#pragma once

#include "lib/service/account_export.h"
#include "lib/service/keyring.h"
#include "lib/service/service.h"
#include "lib/store/store.h"

namespace x420::service {

class LocalService final : public Service {
 public:
  LocalService(store::Store& store, const Keyring& keyring, const Clock& clock, Actor actor)
      : store_(store), keyring_(keyring), clock_(clock), actor_(std::move(actor)) {}

  Result<IssuedKey> create_key(const std::string& tenant, const KeySpec& spec) override;
  Result<std::vector<KeyInfo>> list_keys(const std::string& tenant) override;
  Result<KeyInfo> show_key(const std::string& tenant, const std::string& id) override;
  Result<IssuedKey> rotate_key(const std::string& tenant, const std::string& id,
                               UnixSeconds grace) override;
  Result<KeyInfo> revoke_key(const std::string& tenant, const std::string& id) override;
  Result<KeyInfo> verify_key(std::string_view plaintext) override;

  Result<UpstreamInfo> add_upstream(const std::string& tenant, UpstreamSpec spec) override;
  Result<std::vector<UpstreamInfo>> list_upstreams(const std::string& tenant) override;
  Result<UpstreamInfo> remove_upstream(const std::string& tenant, const std::string& name) override;
  Result<UpstreamInfo> update_upstream(const std::string& tenant, const std::string& name,
                                       UpstreamUpdate update) override;

  Result<std::vector<UsageInfo>> list_usage(const std::string& tenant, const std::string& key_id,
                                           UnixSeconds since, std::size_t limit) override;
  Result<UsageInfo> generation(const std::string& tenant, const std::string& id) override;

  Result<IssuedTenant> create_tenant(const std::string& name) override;
  Result<std::vector<TenantInfo>> list_tenants() override;
  Result<TenantInfo> delete_tenant(const std::string& name) override;
  Result<TenantInfo> add_tenant_credit(const std::string& name, std::optional<std::int64_t> add_micros) override;

  // The data lifecycle (local_service_data.cpp).
  Result<std::vector<ConversationInfo>> list_conversations(const std::string& tenant, std::size_t limit) override;
  Result<ConversationDetail> show_conversation(const std::string& tenant, const std::string& id) override;
  Status export_account(const std::string& tenant, const ExportSink& sink) override;
  Result<TenantInfo> delete_account(const std::string& tenant) override;
  // The export as a producer the caller pulls from: the admin API streams it as HTTP chunks.
  Result<AccountExport> begin_export(const std::string& tenant);

 private:
  // Deletes the tenant named `name` and every row of it, then empties the write-ahead log.
  Result<TenantInfo> erase_tenant(const std::string& name);
  TenantInfo tenant_info(const store::TenantRow& row);
  Result<store::TenantRow> visible_tenant(const std::string& name);
  Result<store::KeyRow> visible_key(const store::TenantRow& tenant, const std::string& id);
  KeyInfo info_of(const store::KeyRow& row, const std::string& tenant_name) const;
  Status require_operator(std::string_view what) const;

  store::Store& store_;
  const Keyring& keyring_;
  const Clock& clock_;
  Actor actor_;
};

// The Actor a management token stands for, if it is valid (format, checksum, hash, not revoked,
// its tenant still there). ErrorKind::auth otherwise, without saying whether the id exists.
Result<Actor> authenticate_token(store::Store& store, const Keyring& keyring,
                                 std::string_view plaintext);

// Mints a management token and stores its hash (inside the caller's transaction).
std::string issue_token(store::Store& store, const Keyring& keyring, const Clock& clock,
                        const Actor& actor, std::string name);

bool is_valid_tenant_name(std::string_view name);  // also the rule for upstream names

// Checks an upstream's base URL: http(s), a host, no credentials or query; plain http only to
// a loopback host (the provider's key would cross the network in clear text); the path follows
// the SDK convention of its kind. The message names --base-url and says what to change.
Status check_upstream_url(std::string_view kind, std::string_view url);

}  // namespace x420::service
