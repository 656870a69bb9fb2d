#include "lib/store/schema.h"

#include <array>

namespace x420::store {
namespace {

// Times are Unix seconds; money is micro-USD (integers, so sums are exact).
constexpr std::string_view kV1 = R"sql(
CREATE TABLE meta (
  name  TEXT PRIMARY KEY,
  value BLOB NOT NULL
);

CREATE TABLE tenants (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL,
  wrapped_dek BLOB NOT NULL
);

CREATE TABLE api_keys (
  id                   TEXT PRIMARY KEY,
  tenant_id            TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name                 TEXT NOT NULL,
  hash                 BLOB NOT NULL,
  previous_hash        BLOB,
  previous_valid_until INTEGER,
  created_at           INTEGER NOT NULL,
  last_used_at         INTEGER,
  expires_at           INTEGER,
  rotated_at           INTEGER,
  revoked_at           INTEGER,
  cap_usd_micros       INTEGER,
  rpm                  INTEGER,
  tpm                  INTEGER,
  no_log               INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_by_tenant ON api_keys(tenant_id);

CREATE TABLE management_tokens (
  id         TEXT PRIMARY KEY,
  role       TEXT NOT NULL CHECK (role IN ('operator', 'tenant_admin')),
  tenant_id  TEXT REFERENCES tenants(id) ON DELETE CASCADE,
  name       TEXT NOT NULL,
  hash       BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  CHECK ((role = 'operator') = (tenant_id IS NULL))
);

CREATE TABLE upstreams (
  id            INTEGER PRIMARY KEY,
  tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  kind          TEXT NOT NULL CHECK (kind IN ('openai', 'anthropic')),
  base_url      TEXT NOT NULL,
  sealed_secret BLOB NOT NULL,
  models        TEXT NOT NULL DEFAULT '[]',
  created_at    INTEGER NOT NULL,
  UNIQUE (tenant_id, name)
);

CREATE TABLE usage_events (
  id               TEXT PRIMARY KEY,
  tenant_id        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  key_id           TEXT,
  upstream         TEXT,
  model            TEXT,
  created_at       INTEGER NOT NULL,
  input_tokens     INTEGER NOT NULL DEFAULT 0,
  output_tokens    INTEGER NOT NULL DEFAULT 0,
  cached_tokens    INTEGER NOT NULL DEFAULT 0,
  reasoning_tokens INTEGER NOT NULL DEFAULT 0,
  cost_usd_micros  INTEGER NOT NULL DEFAULT 0,
  latency_ms       INTEGER,
  ttfb_ms          INTEGER,
  status           INTEGER NOT NULL,
  error_type       TEXT,
  redactions       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX usage_events_by_tenant_time ON usage_events(tenant_id, created_at);
CREATE INDEX usage_events_by_key_time ON usage_events(key_id, created_at);
)sql";

// v2: per-key redaction and conversation settings, tenant credit, and the conversation store
// (issue 5). A NULL setting means "the server's default".
constexpr std::string_view kV2 = R"sql(
ALTER TABLE tenants ADD COLUMN credit_usd_micros INTEGER;
ALTER TABLE api_keys ADD COLUMN redaction TEXT
  CHECK (redaction IN ('pseudonymize', 'mask', 'block', 'off'));
ALTER TABLE api_keys ADD COLUMN store_conversations INTEGER;
ALTER TABLE api_keys ADD COLUMN conversation_ttl_s INTEGER;

CREATE TABLE conversations (
  id         TEXT NOT NULL,
  tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  key_id     TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX conversations_by_expiry ON conversations(expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE conversation_records (
  id              TEXT PRIMARY KEY,
  tenant_id       TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  seq             INTEGER NOT NULL,
  kind            TEXT NOT NULL CHECK (kind IN ('request', 'response')),
  generation_id   TEXT,
  created_at      INTEGER NOT NULL,
  sealed          BLOB NOT NULL,
  FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX conversation_records_by_conversation
  ON conversation_records(tenant_id, conversation_id, seq);
)sql";

// v3: what the proxy does with a key's encoded payloads it cannot scan (images, PDF, unknown
// media; issue 11). NULL: the server's --unscanned-payloads.
constexpr std::string_view kV3 = R"sql(
ALTER TABLE api_keys ADD COLUMN unscanned_payloads TEXT
  CHECK (unscanned_payloads IN ('forward', 'refuse'));
)sql";

// v4: whether the proxy redacts a key's contact data too (phone numbers, e-mail and IP
// addresses, dates of birth; issue 12). NULL: the server's --redact-personal.
constexpr std::string_view kV4 = R"sql(
ALTER TABLE api_keys ADD COLUMN redact_personal INTEGER CHECK (redact_personal IN (0, 1));
)sql";

constexpr std::array<std::string_view, 4> kMigrations = {kV1, kV2, kV3, kV4};

}  // namespace

std::span<const std::string_view> sqlite_migrations() { return kMigrations; }

}  // namespace x420::store
