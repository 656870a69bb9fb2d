// The rows the store keeps, as plain values: no SQLite (or PostgreSQL) type appears here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/common/clock.h"

namespace x420::store {

using Blob = std::vector<std::uint8_t>;

struct TenantRow {
  std::string id;
  std::string name;
  UnixSeconds created_at = 0;
  Blob wrapped_dek;  // the tenant's data key, sealed under the KEK
  std::optional<std::int64_t> credit_usd_micros;  // prepaid credit granted; nullopt: unlimited
};

// An inference key. Only its keyed hash is kept; while a rotation's grace lasts the previous
// hash is kept too, with the moment it stops being accepted.
struct KeyRow {
  std::string id;  // public id
  std::string tenant_id;
  std::string tenant_name;  // read with the key (a join), so verification is one lookup; not written
  std::string name;
  Blob hash;
  std::optional<Blob> previous_hash;
  std::optional<UnixSeconds> previous_valid_until;
  UnixSeconds created_at = 0;
  std::optional<UnixSeconds> last_used_at;
  std::optional<UnixSeconds> expires_at;
  std::optional<UnixSeconds> rotated_at;
  std::optional<UnixSeconds> revoked_at;
  std::optional<std::int64_t> cap_usd_micros;
  std::optional<std::int64_t> rpm;
  std::optional<std::int64_t> tpm;
  bool no_log = false;
  // Per-key settings; nullopt: the server's default.
  std::optional<std::string> redaction;  // "pseudonymize", "mask", "block" or "off"
  std::optional<bool> store_conversations;
  std::optional<std::int64_t> conversation_ttl_s;  // 0: kept until deleted
  std::optional<std::string> unscanned_payloads;  // "forward" or "refuse"
  std::optional<bool> redact_personal;             // contact data redacted too; unset: the server's
};

enum class TokenRole { operator_role, tenant_admin };

struct TokenRow {
  std::string id;  // public id
  TokenRole role = TokenRole::tenant_admin;
  std::optional<std::string> tenant_id;  // set for tenant_admin, empty for operator
  std::string name;
  Blob hash;
  UnixSeconds created_at = 0;
  std::optional<UnixSeconds> revoked_at;
};

// A provider the proxy forwards to. Its API key is sealed under the KEK; the plaintext never
// reaches this struct's users except the proxy's upstream client.
struct UpstreamRow {
  std::int64_t id = 0;
  std::string tenant_id;
  std::string name;
  std::string kind;  // "openai" or "anthropic"
  std::string base_url;
  Blob sealed_secret;
  std::vector<std::string> models;  // globs routed here ("gpt-4o*", "claude-*")
  UnixSeconds created_at = 0;
};

// One proxied request's metadata: never a prompt, a completion, a header or a key.
struct UsageRow {
  std::string id;  // "gen-…"
  std::string tenant_id;
  std::string key_id;
  std::string upstream;
  std::string model;
  UnixSeconds created_at = 0;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t cached_tokens = 0;
  std::int64_t reasoning_tokens = 0;
  std::int64_t cost_usd_micros = 0;
  std::int64_t latency_ms = 0;
  std::optional<std::int64_t> ttfb_ms;
  int status = 0;
  std::string error_type;  // empty when none
  std::int64_t redactions = 0;
};

// A stored conversation (issue 5): metadata only; its text lives in its records, sealed.
struct ConversationRow {
  std::string id;
  std::string tenant_id;
  std::string key_id;  // empty when none
  UnixSeconds created_at = 0;
  UnixSeconds updated_at = 0;
  std::optional<UnixSeconds> expires_at;  // nullopt: kept until deleted
  std::int64_t record_count = 0;           // read only (counted), never written
};

// One sealed turn of a conversation: the redacted request or the upstream's reply.
struct ConversationRecordRow {
  std::string id;
  std::string tenant_id;
  std::string conversation_id;
  std::int64_t seq = 0;        // 1, 2, … within the conversation
  std::string kind;            // "request" or "response"
  std::string generation_id;   // the usage row's id; empty when none
  UnixSeconds created_at = 0;
  Blob sealed;                 // crypto/aead.h envelope under the tenant's DEK
};

// Where a page of rows ordered by (created_at, id) resumes: after this row.
struct PagePosition {
  UnixSeconds created_at = 0;
  std::string id;
};

}  // namespace x420::store
