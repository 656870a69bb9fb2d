// LocalService's data lifecycle operations: stored conversations, export, account deletion.
#include "lib/service/conversations.h"
#include "lib/service/local_service.h"

namespace x420::service {
namespace {

ConversationInfo conversation_info(const store::ConversationRow& row, const std::string& tenant) {
  return ConversationInfo{row.id, tenant, row.key_id, row.created_at, row.updated_at, row.expires_at, row.record_count};
}

Error no_conversation(const std::string& id, const std::string& tenant) {
  return make_error(ErrorKind::not_found, "no conversation " + id.substr(0, kMaxConversationIdLength) + " in tenant " +
                                              tenant + " (x420 history list shows them)");
}

}  // namespace

Result<std::vector<ConversationInfo>> LocalService::list_conversations(const std::string& tenant, std::size_t limit) {
  auto t = visible_tenant(tenant);
  if (!t) return t.error();
  std::vector<ConversationInfo> out;
  for (const auto& row : store_.list_conversations(t->id, limit)) out.push_back(conversation_info(row, t->name));
  return out;
}

Result<ConversationDetail> LocalService::show_conversation(const std::string& tenant, const std::string& id) {
  auto t = visible_tenant(tenant);
  if (!t) return t.error();
  const auto row = store_.conversation_by_id(t->id, id);
  if (!row) return no_conversation(id, t->name);
  auto dek = open_tenant_dek(store_, keyring_, t->id);
  if (!dek) return dek.error();
  ConversationDetail detail{conversation_info(*row, t->name), {}};
  std::optional<Error> failed;
  store_.for_each_conversation_record(t->id, row->id, 0, static_cast<std::size_t>(row->record_count) + 1,
                                      [&](const store::ConversationRecordRow& r) {
                                        if (failed) return;
                                        auto text = open_record(*dek, r);
                                        if (!text) {
                                          failed = text.error();
                                          return;
                                        }
                                        detail.records.push_back(ConversationRecord{
                                            r.id, r.seq, r.kind, r.generation_id, r.created_at, std::string(text->view())});
                                      });
  if (failed) return *failed;
  return detail;
}

Result<AccountExport> LocalService::begin_export(const std::string& tenant) {
  auto t = visible_tenant(tenant);
  if (!t) return t.error();
  auto dek = open_tenant_dek(store_, keyring_, t->id);
  if (!dek) return dek.error();
  AccountExport::Start start;
  start.account = tenant_info(*t);
  for (const auto& row : store_.list_keys(t->id)) start.keys.push_back(info_of(row, t->name));
  auto upstreams = list_upstreams(tenant);
  if (!upstreams) return upstreams.error();
  start.upstreams = std::move(*upstreams);
  start.tenant = std::move(*t);
  start.dek = std::move(dek.value());
  start.now = clock_.now();
  return AccountExport(store_, std::move(start));
}

Status LocalService::export_account(const std::string& tenant, const ExportSink& sink) {
  auto exporter = begin_export(tenant);
  if (!exporter) return exporter.error();
  std::string chunk;
  for (;;) {
    chunk.clear();
    auto more = exporter->next(chunk);
    if (!more) return more.error();
    if (!chunk.empty())
      if (auto s = sink(chunk); !s) return s;
    if (!*more) return ok_status();
  }
}

Result<TenantInfo> LocalService::delete_account(const std::string& tenant) {
  auto t = visible_tenant(tenant);  // a tenant admin reaches its own tenant only
  if (!t) return t.error();
  return erase_tenant(t->name);
}

Result<TenantInfo> LocalService::erase_tenant(const std::string& name) {
  std::optional<TenantInfo> deleted;
  store_.write_transaction([&] {
    const auto row = store_.tenant_by_name(name);
    if (!row) return;
    deleted = tenant_info(*row);
    // One statement; the schema's ON DELETE CASCADE takes keys, tokens, upstreams, usage,
    // conversations and their records with it. secure_delete zeroes the freed bytes.
    store_.delete_tenant(row->id);
  });
  if (!deleted)
    return make_error(ErrorKind::not_found, "no tenant named " + name + " (x420 tenants list shows the tenants)");
  store_.reclaim_deleted();
  return std::move(*deleted);
}

}  // namespace x420::service
