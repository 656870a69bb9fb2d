#include "lib/store/sqlite_conversations.h"

#include <limits>

#include "lib/store/sqlite_binding.h"

namespace x420::store::sqlite {
namespace {

// Conversation columns, then the number of its records (column 6).
constexpr const char* kSelectConversations =
    "SELECT c.id, c.tenant_id, c.key_id, c.created_at, c.updated_at, c.expires_at, "
    "(SELECT count(*) FROM conversation_records r WHERE r.tenant_id = c.tenant_id "
    "AND r.conversation_id = c.id) FROM conversations c ";

ConversationRow conversation_from(SQLite::Statement& st) {
  ConversationRow r;
  r.id = st.getColumn(0).getString();
  r.tenant_id = st.getColumn(1).getString();
  r.key_id = text_or_empty(st.getColumn(2));
  r.created_at = st.getColumn(3).getInt64();
  r.updated_at = st.getColumn(4).getInt64();
  r.expires_at = opt_int(st.getColumn(5));
  r.record_count = st.getColumn(6).getInt64();
  return r;
}

// SQLite's LIMIT is a signed 64-bit value.
std::int64_t limit_value(std::size_t limit) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(limit > kMax ? kMax : limit);
}

}  // namespace

void upsert_conversation(SQLite::Database& db, const ConversationRow& row) {
  SQLite::Statement st(db,
                       "INSERT INTO conversations(id, tenant_id, key_id, created_at, updated_at, expires_at) "
                       "VALUES(?,?,?,?,?,?) ON CONFLICT(tenant_id, id) DO UPDATE SET "
                       "updated_at = excluded.updated_at, expires_at = excluded.expires_at");
  st.bind(1, row.id);
  st.bind(2, row.tenant_id);
  bind_text_or_null(st, 3, row.key_id);
  st.bind(4, static_cast<std::int64_t>(row.created_at));
  st.bind(5, static_cast<std::int64_t>(row.updated_at));
  bind_opt(st, 6, row.expires_at);
  st.exec();
}

std::int64_t next_record_seq(SQLite::Database& db, std::string_view tenant_id, std::string_view conversation_id) {
  SQLite::Statement st(db,
                       "SELECT coalesce(max(seq), 0) + 1 FROM conversation_records "
                       "WHERE tenant_id = ? AND conversation_id = ?");
  st.bind(1, std::string(tenant_id));
  st.bind(2, std::string(conversation_id));
  st.executeStep();
  return st.getColumn(0).getInt64();
}

void insert_conversation_record(SQLite::Database& db, const ConversationRecordRow& r) {
  SQLite::Statement st(db,
                       "INSERT INTO conversation_records(id, tenant_id, conversation_id, seq, kind, "
                       "generation_id, created_at, sealed) VALUES(?,?,?,?,?,?,?,?)");
  st.bind(1, r.id);
  st.bind(2, r.tenant_id);
  st.bind(3, r.conversation_id);
  st.bind(4, r.seq);
  st.bind(5, r.kind);
  bind_text_or_null(st, 6, r.generation_id);
  st.bind(7, static_cast<std::int64_t>(r.created_at));
  bind_blob(st, 8, r.sealed);
  st.exec();
}

std::vector<ConversationRow> list_conversations(SQLite::Database& db, std::string_view tenant_id, std::size_t limit) {
  SQLite::Statement st(db, std::string(kSelectConversations) +
                               "WHERE c.tenant_id = ? ORDER BY c.updated_at DESC, c.id LIMIT ?");
  st.bind(1, std::string(tenant_id));
  st.bind(2, limit_value(limit));
  std::vector<ConversationRow> out;
  while (st.executeStep()) out.push_back(conversation_from(st));
  return out;
}

std::optional<ConversationRow> conversation_by_id(SQLite::Database& db, std::string_view tenant_id,
                                                  std::string_view id) {
  SQLite::Statement st(db, std::string(kSelectConversations) + "WHERE c.tenant_id = ? AND c.id = ?");
  st.bind(1, std::string(tenant_id));
  st.bind(2, std::string(id));
  if (!st.executeStep()) return std::nullopt;
  return conversation_from(st);
}

std::int64_t delete_expired_conversations(SQLite::Database& db, UnixSeconds now) {
  // The records go by ON DELETE CASCADE, in the same statement.
  SQLite::Statement st(db, "DELETE FROM conversations WHERE expires_at IS NOT NULL AND expires_at <= ?");
  st.bind(1, static_cast<std::int64_t>(now));
  return st.exec();
}

void for_each_conversation(SQLite::Database& db, std::string_view tenant_id, const std::optional<PagePosition>& after,
                           std::size_t limit, const std::function<void(const ConversationRow&)>& visit) {
  SQLite::Statement st(db, std::string(kSelectConversations) +
                               "WHERE c.tenant_id = ?1 AND (?2 = 0 OR (c.created_at, c.id) > (?3, ?4)) "
                               "ORDER BY c.created_at, c.id LIMIT ?5");
  st.bind(1, std::string(tenant_id));
  st.bind(2, after ? 1 : 0);
  st.bind(3, static_cast<std::int64_t>(after ? after->created_at : 0));
  st.bind(4, after ? after->id : std::string());
  st.bind(5, limit_value(limit));
  while (st.executeStep()) visit(conversation_from(st));
}

void for_each_conversation_record(SQLite::Database& db, std::string_view tenant_id, std::string_view conversation_id,
                                  std::int64_t after_seq, std::size_t limit,
                                  const std::function<void(const ConversationRecordRow&)>& visit) {
  SQLite::Statement st(db,
                       "SELECT id, tenant_id, conversation_id, seq, kind, generation_id, created_at, sealed "
                       "FROM conversation_records WHERE tenant_id = ? AND conversation_id = ? AND seq > ? "
                       "ORDER BY seq LIMIT ?");
  st.bind(1, std::string(tenant_id));
  st.bind(2, std::string(conversation_id));
  st.bind(3, after_seq);
  st.bind(4, limit_value(limit));
  ConversationRecordRow r;  // reused: its buffers keep their capacity from row to row
  while (st.executeStep()) {
    r.id = st.getColumn(0).getString();
    r.tenant_id = st.getColumn(1).getString();
    r.conversation_id = st.getColumn(2).getString();
    r.seq = st.getColumn(3).getInt64();
    r.kind = st.getColumn(4).getString();
    r.generation_id = text_or_empty(st.getColumn(5));
    r.created_at = st.getColumn(6).getInt64();
    const auto sealed = st.getColumn(7);
    const auto* p = static_cast<const std::uint8_t*>(sealed.getBlob());
    r.sealed.assign(p, p + sealed.getBytes());
    visit(r);
  }
}

}  // namespace x420::store::sqlite
