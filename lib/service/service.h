// The operations both faces perform (the CLI, and the proxy's admin API), as one interface.
// LocalService implements it over a store; the remote implementation (cli/, with --server) sends
// the same calls to a running service. Every operation names its tenant; what the caller may
// touch is decided by the Actor the implementation was built for.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lib/common/clock.h"
#include "lib/common/result.h"

namespace x420::service {

inline constexpr std::string_view kDefaultTenant = "default";

struct KeySpec {
  std::string name;
  std::optional<std::int64_t> cap_usd_micros;
  std::optional<std::int64_t> rpm;
  std::optional<std::int64_t> tpm;
  std::optional<UnixSeconds> expires_in;  // from now
  bool no_log = false;
  // nullopt: the server's default
  std::optional<std::string> redaction;  // "pseudonymize", "mask", "block" or "off"
  std::optional<bool> store_conversations;
  std::optional<UnixSeconds> conversation_ttl;  // 0: kept until deleted
  // Encoded payloads the proxy cannot scan (images, PDF, unknown media): "forward" or "refuse".
  std::optional<std::string> unscanned_payloads;
  // Contact data (phone numbers, e-mail and IP addresses, dates of birth) redacted too.
  std::optional<bool> redact_personal;
};

// The redaction modes a server or a key may use (DESIGN.md, "Redaction modes").
bool is_redaction_mode(std::string_view mode);
// What a server or a key may do with payloads it cannot scan: "forward" or "refuse".
bool is_unscanned_policy(std::string_view policy);

// What may be shown of a key: never its secret, never its hash.
struct KeyInfo {
  std::string id;
  std::string tenant;  // tenant name
  std::string tenant_id;
  std::string name;
  std::string status;  // "active", "revoked" or "expired"
  UnixSeconds created_at = 0;
  std::optional<UnixSeconds> last_used_at;
  std::optional<UnixSeconds> expires_at;
  std::optional<UnixSeconds> rotated_at;
  std::optional<UnixSeconds> revoked_at;
  std::optional<UnixSeconds> previous_valid_until;  // end of a rotation's grace, while it lasts
  std::optional<std::int64_t> cap_usd_micros;
  std::optional<std::int64_t> rpm;
  std::optional<std::int64_t> tpm;
  bool no_log = false;
  std::optional<std::string> redaction;
  std::optional<bool> store_conversations;
  std::optional<UnixSeconds> conversation_ttl;
  std::optional<std::string> unscanned_payloads;
  std::optional<bool> redact_personal;
  // Set by verify_key only: "current", or "previous" for the old secret of a rotation in its
  // grace (which ends at previous_valid_until).
  std::optional<std::string> verified_secret;
};

// A key's plaintext, returned exactly once (create and rotate).
struct IssuedKey {
  KeyInfo info;
  std::string plaintext;
};

struct TenantInfo {
  std::string id;
  std::string name;
  UnixSeconds created_at = 0;
  std::int64_t key_count = 0;
  std::optional<std::int64_t> credit_usd_micros;  // prepaid credit granted; nullopt: no balance limit
  std::int64_t spent_usd_micros = 0;               // over all its usage rows
};

struct IssuedTenant {
  TenantInfo info;
  std::string admin_token;  // shown once
};

struct UpstreamSpec {
  std::string name;
  std::string kind;      // "openai" or "anthropic"
  std::string base_url;  // as each SDK takes it: OpenAI kind with its path (…/v1); Anthropic kind the host alone
  std::vector<std::string> models;  // globs routed to it
  std::string api_key;   // the provider's secret; sealed at once, never returned
};

// A change to an upstream: what is set changes, the rest stays (its name and kind always do).
struct UpstreamUpdate {
  std::optional<std::string> base_url;
  std::optional<std::string> api_key;  // sealed at once, never returned
  std::optional<std::vector<std::string>> models;
};

// What may be shown of an upstream: never its secret.
struct UpstreamInfo {
  std::string name;
  std::string tenant;
  std::string kind;
  std::string base_url;
  std::vector<std::string> models;
  UnixSeconds created_at = 0;
};

// One request's metadata, as `x420 usage` and GET /v1/generation show it.
struct UsageInfo {
  std::string id;
  std::string tenant;
  std::string key_id;
  std::string upstream;
  std::string model;
  UnixSeconds created_at = 0;
  std::int64_t input_tokens = 0, output_tokens = 0, cached_tokens = 0, reasoning_tokens = 0;
  std::int64_t cost_usd_micros = 0;
  std::int64_t latency_ms = 0;
  std::optional<std::int64_t> ttfb_ms;
  int status = 0;
  std::string error_type;
  std::int64_t redactions = 0;
};

// A stored conversation, as `x420 history list` shows it: metadata, no text.
struct ConversationInfo {
  std::string id;
  std::string tenant;
  std::string key_id;  // empty when none
  UnixSeconds created_at = 0;
  UnixSeconds updated_at = 0;
  std::optional<UnixSeconds> expires_at;  // nullopt: kept until deleted
  std::int64_t record_count = 0;
};

// One turn, decrypted: the redacted request or the upstream's reply (placeholders not restored).
struct ConversationRecord {
  std::string id;
  std::int64_t seq = 0;
  std::string kind;  // "request" or "response"
  std::string generation_id;
  UnixSeconds created_at = 0;
  std::string text;
};

struct ConversationDetail {
  ConversationInfo info;
  std::vector<ConversationRecord> records;
};

// Receives an export's bytes in order; an error it returns stops the export.
using ExportSink = std::function<Status(std::string_view chunk)>;

// Who is calling: the operator (every tenant) or a tenant's admin (that tenant only).
struct Actor {
  enum class Role { operator_role, tenant_admin } role = Role::operator_role;
  std::string tenant_id;  // for tenant_admin

  static Actor operator_actor() { return {}; }
  static Actor tenant_admin(std::string tenant_id) { return {Role::tenant_admin, std::move(tenant_id)}; }
};

class Service {
 public:
  virtual ~Service() = default;

  virtual Result<IssuedKey> create_key(const std::string& tenant, const KeySpec& spec) = 0;
  virtual Result<std::vector<KeyInfo>> list_keys(const std::string& tenant) = 0;
  virtual Result<KeyInfo> show_key(const std::string& tenant, const std::string& id) = 0;
  // New secret for the same id, caps and history. The previous secret keeps working for
  // `grace` seconds (0: refused at once).
  virtual Result<IssuedKey> rotate_key(const std::string& tenant, const std::string& id,
                                       UnixSeconds grace) = 0;
  virtual Result<KeyInfo> revoke_key(const std::string& tenant, const std::string& id) = 0;
  // Is this plaintext a key that works right now? ErrorKind::auth with the reason if not.
  virtual Result<KeyInfo> verify_key(std::string_view plaintext) = 0;

  virtual Result<UpstreamInfo> add_upstream(const std::string& tenant, UpstreamSpec spec) = 0;
  virtual Result<std::vector<UpstreamInfo>> list_upstreams(const std::string& tenant) = 0;
  virtual Result<UpstreamInfo> remove_upstream(const std::string& tenant, const std::string& name) = 0;
  virtual Result<UpstreamInfo> update_upstream(const std::string& tenant, const std::string& name,
                                               UpstreamUpdate update) = 0;

  virtual Result<std::vector<UsageInfo>> list_usage(const std::string& tenant, const std::string& key_id,
                                                   UnixSeconds since, std::size_t limit) = 0;
  virtual Result<UsageInfo> generation(const std::string& tenant, const std::string& id) = 0;

  virtual Result<IssuedTenant> create_tenant(const std::string& name) = 0;
  virtual Result<std::vector<TenantInfo>> list_tenants() = 0;
  virtual Result<TenantInfo> delete_tenant(const std::string& name) = 0;
  // Adds prepaid credit to the tenant's balance (operator only); nullopt lifts the limit.
  virtual Result<TenantInfo> add_tenant_credit(const std::string& name,
                                               std::optional<std::int64_t> add_micros) = 0;

  // Stored conversations, most recently updated first.
  virtual Result<std::vector<ConversationInfo>> list_conversations(const std::string& tenant, std::size_t limit) = 0;
  // One conversation with its records decrypted, in order.
  virtual Result<ConversationDetail> show_conversation(const std::string& tenant, const std::string& id) = 0;
  // The tenant's export bundle (man x420, EXPORT FORMAT), handed to `sink` piece by piece as it is
  // produced: memory does not grow with the account. On an error the bundle stops without its
  // "complete" trailer, so `x420 export check` can tell.
  virtual Status export_account(const std::string& tenant, const ExportSink& sink) = 0;
  // Deletes the tenant with every row of it in one transaction, no tombstone: its keys stop
  // working at once. The operator may delete any tenant; a tenant admin its own.
  virtual Result<TenantInfo> delete_account(const std::string& tenant) = 0;
};

}  // namespace x420::service
