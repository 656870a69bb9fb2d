// The SQLite implementation of Store, on SQLiteCpp. One connection per Store; WAL so readers and
// the one writer do not block each other; IMMEDIATE transactions so two processes writing at
// once queue on the busy timeout instead of failing on a lock upgrade.
#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

#include "lib/common/result.h"
#include "lib/store/schema.h"
#include "lib/store/sqlite_binding.h"
#include "lib/store/sqlite_conversations.h"
#include "lib/store/store.h"

namespace x420::store {
namespace {

using namespace sqlite;

constexpr int kBusyTimeoutMs = 10000;

std::string role_text(TokenRole role) {
  return role == TokenRole::operator_role ? "operator" : "tenant_admin";
}

constexpr const char* kKeyColumns =
    "id, tenant_id, name, hash, previous_hash, previous_valid_until, created_at, last_used_at, "
    "expires_at, rotated_at, revoked_at, cap_usd_micros, rpm, tpm, no_log, redaction, "
    "store_conversations, conversation_ttl_s, unscanned_payloads, redact_personal";

// The key's columns, its tenant's name (column 15), then the v2, v3 and v4 settings.
constexpr const char* kSelectKeys =
    "SELECT k.id, k.tenant_id, k.name, k.hash, k.previous_hash, k.previous_valid_until, "
    "k.created_at, k.last_used_at, k.expires_at, k.rotated_at, k.revoked_at, k.cap_usd_micros, "
    "k.rpm, k.tpm, k.no_log, t.name, k.redaction, k.store_conversations, k.conversation_ttl_s, "
    "k.unscanned_payloads, k.redact_personal "
    "FROM api_keys k JOIN tenants t ON t.id = k.tenant_id ";

KeyRow key_from(SQLite::Statement& st) {
  KeyRow r;
  r.id = st.getColumn(0).getString();
  r.tenant_id = st.getColumn(1).getString();
  r.name = st.getColumn(2).getString();
  r.hash = blob_of(st.getColumn(3));
  r.previous_hash = opt_blob(st.getColumn(4));
  r.previous_valid_until = opt_int(st.getColumn(5));
  r.created_at = st.getColumn(6).getInt64();
  r.last_used_at = opt_int(st.getColumn(7));
  r.expires_at = opt_int(st.getColumn(8));
  r.rotated_at = opt_int(st.getColumn(9));
  r.revoked_at = opt_int(st.getColumn(10));
  r.cap_usd_micros = opt_int(st.getColumn(11));
  r.rpm = opt_int(st.getColumn(12));
  r.tpm = opt_int(st.getColumn(13));
  r.no_log = st.getColumn(14).getInt() != 0;
  r.tenant_name = st.getColumn(15).getString();
  if (!st.getColumn(16).isNull()) r.redaction = st.getColumn(16).getString();
  if (!st.getColumn(17).isNull()) r.store_conversations = st.getColumn(17).getInt() != 0;
  r.conversation_ttl_s = opt_int(st.getColumn(18));
  if (!st.getColumn(19).isNull()) r.unscanned_payloads = st.getColumn(19).getString();
  if (!st.getColumn(20).isNull()) r.redact_personal = st.getColumn(20).getInt() != 0;
  return r;
}

TenantRow tenant_from(SQLite::Statement& st) {
  return TenantRow{st.getColumn(0).getString(), st.getColumn(1).getString(),
                   st.getColumn(2).getInt64(), blob_of(st.getColumn(3)), opt_int(st.getColumn(4))};
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const std::string& path, int flags) : db_(path, flags, kBusyTimeoutMs) {}

  void prepare(const std::string& path) {
    try {
      db_.exec("PRAGMA foreign_keys = ON");
      db_.exec("PRAGMA secure_delete = ON");
      check_identity(path);
      db_.exec("PRAGMA journal_mode = WAL");
      db_.exec("PRAGMA synchronous = NORMAL");
      migrate(path);
    } catch (const SQLite::Exception& e) {
      if (e.getErrorCode() == SQLITE_NOTADB)
        throw Fatal(ErrorKind::usage, path + " is not an x420 store (not an SQLite database)");
      throw Fatal(ErrorKind::internal, "cannot open store " + path + ": " + e.what());
    }
  }

  void write_transaction(const std::function<void()>& work) override {
    SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
    work();
    tx.commit();
  }

  std::optional<Blob> meta(std::string_view name) override {
    SQLite::Statement st(db_, "SELECT value FROM meta WHERE name = ?");
    st.bind(1, std::string(name));
    if (!st.executeStep()) return std::nullopt;
    return blob_of(st.getColumn(0));
  }

  void set_meta(std::string_view name, const Blob& value) override {
    SQLite::Statement st(db_,
                         "INSERT INTO meta(name, value) VALUES(?, ?) "
                         "ON CONFLICT(name) DO UPDATE SET value = excluded.value");
    st.bind(1, std::string(name));
    bind_blob(st, 2, value);
    st.exec();
  }

  void insert_tenant(const TenantRow& row) override {
    SQLite::Statement st(db_,
                         "INSERT INTO tenants(id, name, created_at, wrapped_dek) VALUES(?,?,?,?)");
    st.bind(1, row.id);
    st.bind(2, row.name);
    st.bind(3, static_cast<std::int64_t>(row.created_at));
    bind_blob(st, 4, row.wrapped_dek);
    st.exec();
  }

  std::optional<TenantRow> tenant_by_name(std::string_view name) override {
    return one_tenant("SELECT id, name, created_at, wrapped_dek, credit_usd_micros FROM tenants WHERE name = ?", name);
  }

  // On the proxy's request path (the tenant's balance): prepared once, like key_by_id.
  std::optional<TenantRow> tenant_by_id(std::string_view id) override {
    auto& st = prepared(tenant_by_id_, "SELECT id, name, created_at, wrapped_dek, credit_usd_micros FROM tenants WHERE id = ?");
    const std::string tenant_id(id);
    st.bindNoCopy(1, tenant_id);
    std::optional<TenantRow> out;
    if (st.executeStep()) out = tenant_from(st);
    done(st);
    return out;
  }

  std::vector<TenantRow> list_tenants() override {
    SQLite::Statement st(db_,
                         "SELECT id, name, created_at, wrapped_dek, credit_usd_micros FROM tenants ORDER BY name");
    std::vector<TenantRow> out;
    while (st.executeStep()) out.push_back(tenant_from(st));
    return out;
  }

  bool delete_tenant(std::string_view id) override {
    SQLite::Statement st(db_, "DELETE FROM tenants WHERE id = ?");
    st.bind(1, std::string(id));
    return st.exec() > 0;
  }

  std::int64_t count_keys(std::string_view tenant_id) override {
    SQLite::Statement st(db_, "SELECT count(*) FROM api_keys WHERE tenant_id = ?");
    st.bind(1, std::string(tenant_id));
    st.executeStep();
    return st.getColumn(0).getInt64();
  }

  void insert_key(const KeyRow& r) override {
    SQLite::Statement st(db_, std::string("INSERT INTO api_keys(") + kKeyColumns +
                                  ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    st.bind(1, r.id);
    st.bind(2, r.tenant_id);
    bind_key_fields(st, r, 3);
    st.exec();
  }

  // The hot path of verification: a statement prepared once and reused.
  std::optional<KeyRow> key_by_id(std::string_view id) override {
    if (!key_by_id_) key_by_id_.emplace(db_, std::string(kSelectKeys) + "WHERE k.id = ?");
    auto& st = *key_by_id_;
    st.reset();
    const std::string key_id(id);
    st.bindNoCopy(1, key_id);  // text, not blob: ids are TEXT and SQLite compares by type
    std::optional<KeyRow> out;
    if (st.executeStep()) out = key_from(st);
    st.reset();
    st.clearBindings();
    return out;
  }

  std::vector<KeyRow> list_keys(std::string_view tenant_id) override {
    SQLite::Statement st(db_, std::string(kSelectKeys) +
                                  "WHERE k.tenant_id = ? ORDER BY k.created_at, k.id");
    st.bind(1, std::string(tenant_id));
    std::vector<KeyRow> out;
    while (st.executeStep()) out.push_back(key_from(st));
    return out;
  }

  void update_key(const KeyRow& r) override {
    SQLite::Statement st(db_,
                         "UPDATE api_keys SET name = ?, hash = ?, previous_hash = ?, "
                         "previous_valid_until = ?, created_at = ?, last_used_at = ?, "
                         "expires_at = ?, rotated_at = ?, revoked_at = ?, cap_usd_micros = ?, "
                         "rpm = ?, tpm = ?, no_log = ?, redaction = ?, store_conversations = ?, "
                         "conversation_ttl_s = ?, unscanned_payloads = ?, redact_personal = ? WHERE id = ?");
    bind_key_fields(st, r, 1);
    st.bind(19, r.id);
    if (st.exec() != 1) throw Fatal(ErrorKind::internal, "key " + r.id + " vanished during update");
  }

  void insert_token(const TokenRow& r) override {
    SQLite::Statement st(db_,
                         "INSERT INTO management_tokens(id, role, tenant_id, name, hash, "
                         "created_at, revoked_at) VALUES(?,?,?,?,?,?,?)");
    st.bind(1, r.id);
    st.bind(2, role_text(r.role));
    bind_opt(st, 3, r.tenant_id);
    st.bind(4, r.name);
    bind_blob(st, 5, r.hash);
    st.bind(6, static_cast<std::int64_t>(r.created_at));
    bind_opt(st, 7, r.revoked_at);
    st.exec();
  }

  std::optional<TokenRow> token_by_id(std::string_view id) override {
    SQLite::Statement st(db_,
                         "SELECT id, role, tenant_id, name, hash, created_at, revoked_at "
                         "FROM management_tokens WHERE id = ?");
    st.bind(1, std::string(id));
    if (!st.executeStep()) return std::nullopt;
    TokenRow r;
    r.id = st.getColumn(0).getString();
    r.role = st.getColumn(1).getString() == "operator" ? TokenRole::operator_role
                                                       : TokenRole::tenant_admin;
    if (!st.getColumn(2).isNull()) r.tenant_id = st.getColumn(2).getString();
    r.name = st.getColumn(3).getString();
    r.hash = blob_of(st.getColumn(4));
    r.created_at = st.getColumn(5).getInt64();
    r.revoked_at = opt_int(st.getColumn(6));
    return r;
  }

  void insert_upstream(const UpstreamRow& r) override {
    SQLite::Statement st(db_,
                         "INSERT INTO upstreams(tenant_id, name, kind, base_url, sealed_secret, "
                         "models, created_at) VALUES(?,?,?,?,?,?,?)");
    st.bind(1, r.tenant_id);
    st.bind(2, r.name);
    st.bind(3, r.kind);
    st.bind(4, r.base_url);
    bind_blob(st, 5, r.sealed_secret);
    st.bind(6, nlohmann::json(r.models).dump());
    st.bind(7, static_cast<std::int64_t>(r.created_at));
    st.exec();
  }

  // On the proxy's request path (routing): prepared once, like key_by_id.
  void update_upstream(const UpstreamRow& r) override {
    SQLite::Statement st(db_, "UPDATE upstreams SET base_url = ?, sealed_secret = ?, models = ? WHERE id = ?");
    st.bind(1, r.base_url);
    bind_blob(st, 2, r.sealed_secret);
    st.bind(3, nlohmann::json(r.models).dump());
    st.bind(4, r.id);
    if (st.exec() != 1) throw Fatal(ErrorKind::internal, "upstream " + r.name + " vanished during an update");
  }

  std::vector<UpstreamRow> list_upstreams(std::string_view tenant_id) override {
    if (!list_upstreams_)
      list_upstreams_.emplace(db_, std::string(kSelectUpstreams) + "WHERE tenant_id = ? ORDER BY name");
    auto& st = *list_upstreams_;
    st.reset();
    st.bind(1, std::string(tenant_id));
    std::vector<UpstreamRow> out;
    while (st.executeStep()) out.push_back(upstream_from(st));
    st.reset();
    st.clearBindings();
    return out;
  }

  std::optional<UpstreamRow> upstream_by_name(std::string_view tenant_id,
                                              std::string_view name) override {
    SQLite::Statement st(db_, std::string(kSelectUpstreams) + "WHERE tenant_id = ? AND name = ?");
    st.bind(1, std::string(tenant_id));
    st.bind(2, std::string(name));
    if (!st.executeStep()) return std::nullopt;
    return upstream_from(st);
  }

  bool delete_upstream(std::string_view tenant_id, std::string_view name) override {
    SQLite::Statement st(db_, "DELETE FROM upstreams WHERE tenant_id = ? AND name = ?");
    st.bind(1, std::string(tenant_id));
    st.bind(2, std::string(name));
    return st.exec() > 0;
  }

  // Once per proxied request (by the usage writer): prepared once.
  void touch_key(std::string_view key_id, UnixSeconds at) override {
    auto& st = prepared(touch_key_,
                        "UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1)");
    st.bind(1, static_cast<std::int64_t>(at));
    st.bind(2, std::string(key_id));
    st.exec();
    done(st);
  }

  void insert_usage(const UsageRow& r) override {
    auto& st = prepared(insert_usage_,
                        "INSERT INTO usage_events(id, tenant_id, key_id, upstream, model, created_at, "
                        "input_tokens, output_tokens, cached_tokens, reasoning_tokens, "
                        "cost_usd_micros, latency_ms, ttfb_ms, status, error_type, redactions) "
                        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    int i = 1;
    st.bind(i++, r.id);
    st.bind(i++, r.tenant_id);
    st.bind(i++, r.key_id);
    st.bind(i++, r.upstream);
    st.bind(i++, r.model);
    st.bind(i++, static_cast<std::int64_t>(r.created_at));
    st.bind(i++, r.input_tokens);
    st.bind(i++, r.output_tokens);
    st.bind(i++, r.cached_tokens);
    st.bind(i++, r.reasoning_tokens);
    st.bind(i++, r.cost_usd_micros);
    st.bind(i++, r.latency_ms);
    bind_opt(st, i++, r.ttfb_ms);
    st.bind(i++, r.status);
    if (r.error_type.empty()) st.bind(i++);
    else st.bind(i++, r.error_type);
    st.bind(i++, r.redactions);
    st.exec();
    done(st);
  }

  std::optional<UsageRow> usage_by_id(std::string_view id) override {
    SQLite::Statement st(db_, std::string(kSelectUsage) + "WHERE id = ?");
    st.bind(1, std::string(id));
    if (!st.executeStep()) return std::nullopt;
    return usage_from(st);
  }

  void set_tenant_credit(std::string_view tenant_id, std::optional<std::int64_t> credit_micros) override {
    SQLite::Statement st(db_, "UPDATE tenants SET credit_usd_micros = ? WHERE id = ?");
    bind_opt(st, 1, credit_micros);
    st.bind(2, std::string(tenant_id));
    if (st.exec() != 1) throw Fatal(ErrorKind::not_found, "tenant " + std::string(tenant_id) + " vanished");
  }

  std::int64_t tenant_spent_micros(std::string_view tenant_id) override {
    SQLite::Statement st(db_, "SELECT coalesce(sum(cost_usd_micros), 0) FROM usage_events WHERE tenant_id = ?");
    st.bind(1, std::string(tenant_id));
    st.executeStep();
    return st.getColumn(0).getInt64();
  }

  std::int64_t spent_micros(std::string_view key_id) override {
    SQLite::Statement st(db_, "SELECT coalesce(sum(cost_usd_micros), 0) FROM usage_events WHERE key_id = ?");
    st.bind(1, std::string(key_id));
    st.executeStep();
    return st.getColumn(0).getInt64();
  }

  std::vector<UsageRow> list_usage(std::string_view tenant_id, std::string_view key_id,
                                   UnixSeconds since, std::size_t limit) override {
    SQLite::Statement st(db_, std::string(kSelectUsage) +
                                  "WHERE tenant_id = ?1 AND created_at >= ?2 AND (?3 = '' OR key_id = ?3) "
                                  "ORDER BY created_at DESC, rowid DESC LIMIT ?4");
    st.bind(1, std::string(tenant_id));
    st.bind(2, static_cast<std::int64_t>(since));
    st.bind(3, std::string(key_id));
    st.bind(4, static_cast<std::int64_t>(limit));
    std::vector<UsageRow> out;
    while (st.executeStep()) out.push_back(usage_from(st));
    return out;
  }

  void set_tenant_dek(std::string_view tenant_id, const Blob& wrapped_dek) override {
    SQLite::Statement st(db_, "UPDATE tenants SET wrapped_dek = ? WHERE id = ?");
    bind_blob(st, 1, wrapped_dek);
    st.bind(2, std::string(tenant_id));
    if (st.exec() != 1) throw Fatal(ErrorKind::internal, "tenant " + std::string(tenant_id) + " vanished during a rewrap");
  }

  void set_upstream_secret(std::int64_t upstream_id, const Blob& sealed_secret) override {
    SQLite::Statement st(db_, "UPDATE upstreams SET sealed_secret = ? WHERE id = ?");
    bind_blob(st, 1, sealed_secret);
    st.bind(2, upstream_id);
    if (st.exec() != 1)
      throw Fatal(ErrorKind::internal, "upstream " + std::to_string(upstream_id) + " vanished during a rewrap");
  }

  void upsert_conversation(const ConversationRow& row) override { sqlite::upsert_conversation(db_, row); }
  std::int64_t next_record_seq(std::string_view tenant_id, std::string_view conversation_id) override {
    return sqlite::next_record_seq(db_, tenant_id, conversation_id);
  }
  void insert_conversation_record(const ConversationRecordRow& row) override {
    sqlite::insert_conversation_record(db_, row);
  }
  std::vector<ConversationRow> list_conversations(std::string_view tenant_id, std::size_t limit) override {
    return sqlite::list_conversations(db_, tenant_id, limit);
  }
  std::optional<ConversationRow> conversation_by_id(std::string_view tenant_id, std::string_view id) override {
    return sqlite::conversation_by_id(db_, tenant_id, id);
  }
  std::int64_t delete_expired_conversations(UnixSeconds now) override {
    return sqlite::delete_expired_conversations(db_, now);
  }

  void reclaim_deleted() override {
    // TRUNCATE: copy every frame into the database, then cut the log to zero bytes.
    db_.execAndGet("PRAGMA wal_checkpoint(TRUNCATE)");
  }

  void for_each_conversation(std::string_view tenant_id, const std::optional<PagePosition>& after, std::size_t limit,
                             const std::function<void(const ConversationRow&)>& visit) override {
    sqlite::for_each_conversation(db_, tenant_id, after, limit, visit);
  }
  void for_each_conversation_record(std::string_view tenant_id, std::string_view conversation_id,
                                    std::int64_t after_seq, std::size_t limit,
                                    const std::function<void(const ConversationRecordRow&)>& visit) override {
    sqlite::for_each_conversation_record(db_, tenant_id, conversation_id, after_seq, limit, visit);
  }

  void for_each_usage(std::string_view tenant_id, const std::optional<PagePosition>& after, std::size_t limit,
                      const std::function<void(const UsageRow&)>& visit) override {
    SQLite::Statement st(db_, std::string(kSelectUsage) +
                                  "WHERE tenant_id = ?1 AND (?2 = 0 OR (created_at, id) > (?3, ?4)) "
                                  "ORDER BY created_at, id LIMIT ?5");
    st.bind(1, std::string(tenant_id));
    st.bind(2, after ? 1 : 0);
    st.bind(3, static_cast<std::int64_t>(after ? after->created_at : 0));
    st.bind(4, after ? after->id : std::string());
    st.bind(5, static_cast<std::int64_t>(std::min<std::size_t>(limit, 1u << 30)));
    while (st.executeStep()) visit(usage_from(st));
  }

 private:
  static constexpr const char* kSelectUsage =
      "SELECT id, tenant_id, key_id, upstream, model, created_at, input_tokens, output_tokens, "
      "cached_tokens, reasoning_tokens, cost_usd_micros, latency_ms, ttfb_ms, status, error_type, "
      "redactions FROM usage_events ";

  static UsageRow usage_from(SQLite::Statement& st) {
    UsageRow r;
    r.id = st.getColumn(0).getString();
    r.tenant_id = st.getColumn(1).getString();
    r.key_id = st.getColumn(2).getString();
    r.upstream = st.getColumn(3).getString();
    r.model = st.getColumn(4).getString();
    r.created_at = st.getColumn(5).getInt64();
    r.input_tokens = st.getColumn(6).getInt64();
    r.output_tokens = st.getColumn(7).getInt64();
    r.cached_tokens = st.getColumn(8).getInt64();
    r.reasoning_tokens = st.getColumn(9).getInt64();
    r.cost_usd_micros = st.getColumn(10).getInt64();
    r.latency_ms = st.getColumn(11).getInt64();
    r.ttfb_ms = opt_int(st.getColumn(12));
    r.status = st.getColumn(13).getInt();
    r.error_type = st.getColumn(14).isNull() ? "" : st.getColumn(14).getString();
    r.redactions = st.getColumn(15).getInt64();
    return r;
  }

  static constexpr const char* kSelectUpstreams =
      "SELECT id, tenant_id, name, kind, base_url, sealed_secret, models, created_at FROM upstreams ";

  static UpstreamRow upstream_from(SQLite::Statement& st) {
    UpstreamRow r;
    r.id = st.getColumn(0).getInt64();
    r.tenant_id = st.getColumn(1).getString();
    r.name = st.getColumn(2).getString();
    r.kind = st.getColumn(3).getString();
    r.base_url = st.getColumn(4).getString();
    r.sealed_secret = blob_of(st.getColumn(5));
    const auto models = nlohmann::json::parse(st.getColumn(6).getString(), nullptr, false);
    if (models.is_array())
      for (const auto& m : models)
        if (m.is_string()) r.models.push_back(m.get<std::string>());
    r.created_at = st.getColumn(7).getInt64();
    return r;
  }

  // Binds name..redact_personal (18 values) starting at `first`.
  static void bind_key_fields(SQLite::Statement& st, const KeyRow& r, int first) {
    int i = first;
    st.bind(i++, r.name);
    bind_blob(st, i++, r.hash);
    bind_opt(st, i++, r.previous_hash);
    bind_opt(st, i++, r.previous_valid_until);
    st.bind(i++, static_cast<std::int64_t>(r.created_at));
    bind_opt(st, i++, r.last_used_at);
    bind_opt(st, i++, r.expires_at);
    bind_opt(st, i++, r.rotated_at);
    bind_opt(st, i++, r.revoked_at);
    bind_opt(st, i++, r.cap_usd_micros);
    bind_opt(st, i++, r.rpm);
    bind_opt(st, i++, r.tpm);
    st.bind(i++, r.no_log ? 1 : 0);
    bind_opt(st, i++, r.redaction);
    if (r.store_conversations) st.bind(i++, *r.store_conversations ? 1 : 0);
    else st.bind(i++);
    bind_opt(st, i++, r.conversation_ttl_s);
    bind_opt(st, i++, r.unscanned_payloads);
    if (r.redact_personal) st.bind(i++, *r.redact_personal ? 1 : 0);
    else st.bind(i++);
  }

  // A statement of the hot paths, prepared on first use and kept; reset before it is used.
  SQLite::Statement& prepared(std::optional<SQLite::Statement>& slot, const char* sql) {
    if (!slot) slot.emplace(db_, sql);
    slot->reset();
    return *slot;
  }

  // Ends a use of a kept statement, so that it holds no read snapshot and no bound values.
  static void done(SQLite::Statement& st) {
    st.reset();
    st.clearBindings();
  }

  std::optional<TenantRow> one_tenant(const char* sql, std::string_view value) {
    SQLite::Statement st(db_, sql);
    st.bind(1, std::string(value));
    if (!st.executeStep()) return std::nullopt;
    return tenant_from(st);
  }

  int pragma_int(const char* name) { return db_.execAndGet(std::string("PRAGMA ") + name).getInt(); }

  void check_identity(const std::string& path) {
    const int app_id = pragma_int("application_id");
    if (app_id == kApplicationId) return;
    const int tables = db_.execAndGet("SELECT count(*) FROM sqlite_master").getInt();
    if (app_id == 0 && tables == 0) return;  // empty database: ours to initialise
    throw Fatal(ErrorKind::usage,
                path + " is not an x420 store (an SQLite database of another program); "
                       "pass --db with the path of an x420 store");
  }

  void migrate(const std::string& path) {
    const auto migrations = sqlite_migrations();
    const int known = static_cast<int>(migrations.size());
    auto check_version = [&](int version) {
      if (version > known)
        throw Fatal(ErrorKind::usage, path + " has store schema v" + std::to_string(version) +
                                          ", newer than this x420 understands (v" +
                                          std::to_string(known) + "); upgrade x420");
    };
    check_version(pragma_int("user_version"));
    if (pragma_int("user_version") == known) return;
    write_transaction([&] {
      int version = pragma_int("user_version");  // again: another process may have migrated
      check_version(version);
      for (; version < known; ++version) db_.exec(std::string(migrations[version]));
      db_.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
      db_.exec("PRAGMA user_version = " + std::to_string(known));
    });
  }

  SQLite::Database db_;
  std::optional<SQLite::Statement> key_by_id_;
  std::optional<SQLite::Statement> list_upstreams_;
  std::optional<SQLite::Statement> tenant_by_id_;
  std::optional<SQLite::Statement> insert_usage_;
  std::optional<SQLite::Statement> touch_key_;
};

}  // namespace

int current_schema_version() { return static_cast<int>(sqlite_migrations().size()); }

std::unique_ptr<Store> open_sqlite_store(const std::string& path, const OpenOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  if (!exists && !options.create)
    throw Fatal(ErrorKind::usage,
                "no x420 store at " + path + " (run `x420 init` to create one, or pass --db PATH)");
  if (exists && fs::is_directory(path, ec))
    throw Fatal(ErrorKind::usage, path + " is a directory, not an x420 store");
  if (!exists) {
    const auto parent = fs::path(path).parent_path();
    if (!parent.empty()) {
      fs::create_directories(parent, ec);
      if (ec) throw Fatal(ErrorKind::usage, "cannot create " + parent.string() + ": " + ec.message());
    }
  }
  // One Store per thread (the CLI has one; the proxy gives each worker its own), so SQLite's
  // own per-call mutex would only cost time on the verification path.
  int flags = SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX;
  if (options.create) flags |= SQLite::OPEN_CREATE;
  std::unique_ptr<SqliteStore> store;
  try {
    store = std::make_unique<SqliteStore>(path, flags);
  } catch (const SQLite::Exception& e) {
    throw Fatal(ErrorKind::usage, "cannot open store " + path + ": " + e.what());
  }
  if (!exists) {
    // The store holds key hashes and sealed secrets: keep it to its owner (the WAL and shm files
    // SQLite creates beside it take the same mode).
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, ec);
  }
  store->prepare(path);
  return store;
}

}  // namespace x420::store
