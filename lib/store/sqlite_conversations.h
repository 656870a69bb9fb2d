// The conversation tables of the SQLite store (schema v2): the statements behind Store's
// conversation methods, as functions of the connection so that sqlite_store.cpp stays about keys,
// tenants and usage. Internal to lib/store.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "lib/store/records.h"

namespace x420::store::sqlite {

void upsert_conversation(SQLite::Database& db, const ConversationRow& row);
std::int64_t next_record_seq(SQLite::Database& db, std::string_view tenant_id, std::string_view conversation_id);
void insert_conversation_record(SQLite::Database& db, const ConversationRecordRow& row);
std::vector<ConversationRow> list_conversations(SQLite::Database& db, std::string_view tenant_id, std::size_t limit);
std::optional<ConversationRow> conversation_by_id(SQLite::Database& db, std::string_view tenant_id,
                                                  std::string_view id);
std::int64_t delete_expired_conversations(SQLite::Database& db, UnixSeconds now);
void for_each_conversation(SQLite::Database& db, std::string_view tenant_id, const std::optional<PagePosition>& after,
                           std::size_t limit, const std::function<void(const ConversationRow&)>& visit);
void for_each_conversation_record(SQLite::Database& db, std::string_view tenant_id, std::string_view conversation_id,
                                  std::int64_t after_seq, std::size_t limit,
                                  const std::function<void(const ConversationRecordRow&)>& visit);

}  // namespace x420::store::sqlite
