// The store interface: everything x420 persists goes through it. A Store object is used by one
// thread at a time; several processes (and later replicas) may share the same data. SQLite implements it now,
// PostgreSQL will later; both must pass the same test suite, so nothing engine-specific leaks.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/store/records.h"

namespace x420::store {

class Store {
 public:
  virtual ~Store() = default;

  // Runs `work` as one write transaction: every change in it commits together, or (if it
  // throws) none does. Waits for other writers up to the busy timeout. Not reentrant.
  virtual void write_transaction(const std::function<void()>& work) = 0;

  // Small named values: the sealed hashing key, store identity.
  virtual std::optional<Blob> meta(std::string_view name) = 0;
  virtual void set_meta(std::string_view name, const Blob& value) = 0;

  virtual void insert_tenant(const TenantRow& row) = 0;
  virtual std::optional<TenantRow> tenant_by_name(std::string_view name) = 0;
  virtual std::optional<TenantRow> tenant_by_id(std::string_view id) = 0;
  virtual std::vector<TenantRow> list_tenants() = 0;
  // Deletes the tenant and, by cascade, every row that belongs to it. False if it did not exist.
  virtual bool delete_tenant(std::string_view id) = 0;
  virtual std::int64_t count_keys(std::string_view tenant_id) = 0;
  // The tenant's prepaid credit (total granted); nullopt: no balance limit.
  virtual void set_tenant_credit(std::string_view tenant_id, std::optional<std::int64_t> credit_micros) = 0;
  // What the tenant has spent, over all its usage rows (balance = credit - spent).
  virtual std::int64_t tenant_spent_micros(std::string_view tenant_id) = 0;

  virtual void insert_key(const KeyRow& row) = 0;
  virtual std::optional<KeyRow> key_by_id(std::string_view id) = 0;
  virtual std::vector<KeyRow> list_keys(std::string_view tenant_id) = 0;
  // Rewrites every mutable field of the key with this id (hashes, timestamps, caps, flags).
  virtual void update_key(const KeyRow& row) = 0;

  virtual void insert_token(const TokenRow& row) = 0;
  virtual std::optional<TokenRow> token_by_id(std::string_view id) = 0;

  virtual void insert_upstream(const UpstreamRow& row) = 0;
  virtual std::vector<UpstreamRow> list_upstreams(std::string_view tenant_id) = 0;
  virtual std::optional<UpstreamRow> upstream_by_name(std::string_view tenant_id,
                                                      std::string_view name) = 0;
  virtual bool delete_upstream(std::string_view tenant_id, std::string_view name) = 0;
  // The base URL, sealed secret and model globs of the upstream row.id (its name and kind stay).
  virtual void update_upstream(const UpstreamRow& row) = 0;

  virtual void insert_usage(const UsageRow& row) = 0;
  // Records that the key was used at `at` (keys' last_used_at never moves back).
  virtual void touch_key(std::string_view key_id, UnixSeconds at) = 0;
  virtual std::optional<UsageRow> usage_by_id(std::string_view id) = 0;
  // What a key has spent, over all its usage rows.
  virtual std::int64_t spent_micros(std::string_view key_id) = 0;
  // Newest first; `key_id` empty for every key; at most `limit` rows.
  virtual std::vector<UsageRow> list_usage(std::string_view tenant_id, std::string_view key_id,
                                           UnixSeconds since, std::size_t limit) = 0;

  // KEK rotation rewraps these in place (in the caller's transaction).
  virtual void set_tenant_dek(std::string_view tenant_id, const Blob& wrapped_dek) = 0;
  virtual void set_upstream_secret(std::int64_t upstream_id, const Blob& sealed_secret) = 0;

  // Conversations. Creates the conversation, or sets an existing one's updated_at and expires_at
  // to the row's (key_id and created_at stay as first written).
  virtual void upsert_conversation(const ConversationRow& row) = 0;
  // The seq the next record of this conversation takes: 1 for the first.
  virtual std::int64_t next_record_seq(std::string_view tenant_id, std::string_view conversation_id) = 0;
  virtual void insert_conversation_record(const ConversationRecordRow& row) = 0;
  // Most recently updated first, with their record counts; at most `limit`.
  virtual std::vector<ConversationRow> list_conversations(std::string_view tenant_id, std::size_t limit) = 0;
  virtual std::optional<ConversationRow> conversation_by_id(std::string_view tenant_id, std::string_view id) = 0;
  // Deletes every conversation whose expires_at <= now, with its records; returns how many.
  virtual std::int64_t delete_expired_conversations(UnixSeconds now) = 0;
  // Moves the write-ahead log into the database and empties it, so that the old images of pages
  // whose rows were deleted (secure_delete zeroes the new images) do not linger in the log. Best
  // effort: a reader that holds an old snapshot keeps the frames it needs.
  virtual void reclaim_deleted() = 0;

  // Streaming reads, for export: the rows after `after` (from the first when nullopt) in order,
  // at most `limit`, one call of `visit` each. Nothing is collected, so a caller that pages
  // through an account holds one page at a time.
  virtual void for_each_conversation(std::string_view tenant_id, const std::optional<PagePosition>& after,
                                     std::size_t limit, const std::function<void(const ConversationRow&)>& visit) = 0;
  // By seq, after `after_seq`.
  virtual void for_each_conversation_record(std::string_view tenant_id, std::string_view conversation_id,
                                            std::int64_t after_seq, std::size_t limit,
                                            const std::function<void(const ConversationRecordRow&)>& visit) = 0;
  virtual void for_each_usage(std::string_view tenant_id, const std::optional<PagePosition>& after,
                              std::size_t limit, const std::function<void(const UsageRow&)>& visit) = 0;
};

struct OpenOptions {
  bool create = false;  // create the file if missing (x420 init); otherwise a missing store is an error
};

// Opens (and migrates) the SQLite store at `path`. Throws x420::Fatal with a message that names
// the file when it is missing, is not an x420 store, or has a newer schema than this binary.
std::unique_ptr<Store> open_sqlite_store(const std::string& path, const OpenOptions& options);

// The schema version this binary writes and understands.
int current_schema_version();

}  // namespace x420::store
