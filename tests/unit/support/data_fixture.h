// The data lifecycle's fixture (DESIGN.md, "Data lifecycle"), shared by the tests of
// lib/service/conversations, account_export, kek_rotation and lib/export/bundle_check: a service
// fixture with helpers to record exchanges, read their sealed rows back, and export an account.
#pragma once

#include <catch2/catch.hpp>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "lib/common/result.h"
#include "lib/export/bundle_check.h"
#include "lib/service/conversations.h"
#include "lib/service/local_service.h"
#include "support/service_fixture.h"

namespace x420::test {

struct DataFixture : ServiceFixture {
  store::Store& store() { return *open.store; }
  const service::Keyring& keyring() { return *open.keyring; }

  std::string default_id() { return store().tenant_by_name("default")->id; }

  service::ConversationWrite exchange(std::string conversation, std::string request, std::string response,
                                      std::optional<UnixSeconds> ttl = std::nullopt) {
    service::ConversationWrite w;
    w.tenant_id = default_id();
    w.conversation_id = std::move(conversation);
    w.now = clock.now();
    w.ttl = ttl;
    w.request_text = std::move(request);
    w.response_text = std::move(response);
    return w;
  }

  std::vector<store::ConversationRecordRow> records(const std::string& tenant_id, const std::string& conversation) {
    std::vector<store::ConversationRecordRow> out;
    store().for_each_conversation_record(tenant_id, conversation, 0, 10'000,
                                         [&](const store::ConversationRecordRow& r) { out.push_back(r); });
    return out;
  }

  crypto::SecretBytes dek(const std::string& tenant_id) {
    auto d = service::open_tenant_dek(store(), keyring(), tenant_id);
    REQUIRE(d.ok());
    return std::move(d.value());
  }

  void insert_usage(const std::string& id, UnixSeconds at) {
    store::UsageRow row;
    row.id = id;
    row.tenant_id = default_id();
    row.key_id = "AAAAAAAAAAAA";
    row.upstream = "openai";
    row.model = "gpt-4o";
    row.created_at = at;
    row.input_tokens = 10;
    row.status = 200;
    store().write_transaction([&] { store().insert_usage(row); });
  }
};

inline std::string text_of(const Result<crypto::SecretBytes>& r) { return std::string(r->view()); }

inline service::KeySpec named(std::string name) {
  service::KeySpec s;
  s.name = std::move(name);
  return s;
}

// The whole export, and the chunks the sink received.
struct Exported {
  Status status = ok_status();
  std::string bytes;
  std::vector<std::size_t> chunk_sizes;
};

inline Exported export_of(service::LocalService& svc, const std::string& tenant) {
  Exported e;
  e.status = svc.export_account(tenant, [&](std::string_view chunk) {
    e.bytes.append(chunk);
    e.chunk_sizes.push_back(chunk.size());
    return ok_status();
  });
  return e;
}

inline Result<exporting::BundleSummary> check(const std::string& bundle) {
  std::istringstream in(bundle);
  return exporting::check_bundle(in);
}

}  // namespace x420::test
