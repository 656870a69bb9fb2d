#include "lib/service/conversations.h"

#include <vector>

#include "lib/crypto/aead.h"
#include "lib/crypto/random.h"

namespace x420::service {
namespace {

// Each variable field carries its length, so that no two records' associated data are equal
// unless every field is: a conversation id (which a client chooses) cannot imitate another's.
std::string record_ad(const store::ConversationRecordRow& r) {
  std::string ad = "x420/conversation-record/v1";
  auto field = [&](std::string_view name, std::string_view value) {
    ad += '|';
    ad += name;
    ad += ':';
    ad += std::to_string(value.size());
    ad += ':';
    ad += value;
  };
  field("tenant", r.tenant_id);
  field("conversation", r.conversation_id);
  field("record", r.id);
  field("seq", std::to_string(r.seq));
  field("kind", r.kind);
  return ad;
}

Status check_write(const ConversationWrite& w) {
  if (!is_valid_conversation_id(w.conversation_id))
    return make_error(ErrorKind::usage, "a conversation id is 1 to " + std::to_string(kMaxConversationIdLength) +
                                            " printable ASCII characters");
  if (w.ttl && *w.ttl < 0) return make_error(ErrorKind::usage, "a conversation's TTL must not be negative");
  return ok_status();
}

store::ConversationRecordRow sealed_record(store::Store& store, const crypto::SecretBytes& dek,
                                           const ConversationWrite& w, std::string_view kind, std::string_view text) {
  store::ConversationRecordRow r;
  r.id = "rec-" + crypto::random_base62(20);
  r.tenant_id = w.tenant_id;
  r.conversation_id = w.conversation_id;
  r.seq = store.next_record_seq(w.tenant_id, w.conversation_id);
  r.kind = std::string(kind);
  r.generation_id = w.generation_id;
  r.created_at = w.now;
  r.sealed = crypto::seal(dek, text, record_ad(r));
  return r;
}

// The DEKs of the tenants one batch writes to, each opened once.
class DekCache {
 public:
  DekCache(store::Store& store, const Keyring& keyring) : store_(store), keyring_(keyring) {}

  Result<const crypto::SecretBytes*> get(const std::string& tenant_id) {
    for (const auto& [id, dek] : deks_)
      if (id == tenant_id) return &dek;
    auto dek = open_tenant_dek(store_, keyring_, tenant_id);
    if (!dek) return dek.error();
    deks_.emplace_back(tenant_id, std::move(dek.value()));
    return &deks_.back().second;
  }

 private:
  store::Store& store_;
  const Keyring& keyring_;
  std::vector<std::pair<std::string, crypto::SecretBytes>> deks_;
};

}  // namespace

bool is_valid_conversation_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxConversationIdLength) return false;
  for (unsigned char c : id)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

Result<crypto::SecretBytes> open_tenant_dek(store::Store& store, const Keyring& keyring, std::string_view tenant_id) {
  const auto tenant = store.tenant_by_id(tenant_id);
  if (!tenant) return make_error(ErrorKind::not_found, "no tenant with id " + std::string(tenant_id));
  auto dek = keyring.open_dek(*tenant);
  if (!dek)
    return make_error(ErrorKind::internal, "the data key of tenant " + tenant->name +
                                               " does not open with this master key (the store was "
                                               "altered, or its key was rotated by another process: restart)");
  return dek;
}

Result<crypto::SecretBytes> open_record(const crypto::SecretBytes& dek, const store::ConversationRecordRow& row) {
  auto text = crypto::open(dek, row.sealed, record_ad(row));
  if (!text)
    return make_error(ErrorKind::internal, "conversation record " + row.id + " (conversation " +
                                               row.conversation_id.substr(0, kMaxConversationIdLength) +
                                               ", seq " + std::to_string(row.seq) +
                                               ") failed authentication: it was altered or moved, or "
                                               "sealed under another key");
  return text;
}

Status record_exchanges(store::Store& store, const Keyring& keyring, std::span<const ConversationWrite> writes) {
  for (const auto& w : writes)
    if (auto s = check_write(w); !s) return s;
  // A refusal inside the transaction throws, so that the whole batch rolls back.
  struct Refused {
    Error error;
  };
  try {
    store.write_transaction([&] {
      DekCache deks(store, keyring);
      for (const auto& w : writes) {
        auto dek = deks.get(w.tenant_id);
        if (!dek) throw Refused{dek.error()};
        store::ConversationRow conversation;
        conversation.id = w.conversation_id;
        conversation.tenant_id = w.tenant_id;
        conversation.key_id = w.key_id;
        conversation.created_at = w.now;
        conversation.updated_at = w.now;
        if (w.ttl && *w.ttl > 0) conversation.expires_at = w.now + *w.ttl;
        store.upsert_conversation(conversation);
        store.insert_conversation_record(sealed_record(store, **dek, w, "request", w.request_text));
        store.insert_conversation_record(sealed_record(store, **dek, w, "response", w.response_text));
      }
    });
  } catch (const Refused& r) {
    return r.error;
  } catch (const Fatal& f) {
    return f.error();
  } catch (const std::exception& e) {
    // The store's messages name states and constraints, never a row's text.
    return make_error(ErrorKind::internal, std::string("cannot store the conversation: ") + e.what());
  }
  return ok_status();
}

Status record_exchange(store::Store& store, const Keyring& keyring, const ConversationWrite& write) {
  return record_exchanges(store, keyring, std::span<const ConversationWrite>(&write, 1));
}

std::int64_t sweep_expired_conversations(store::Store& store, UnixSeconds now) {
  std::int64_t deleted = 0;
  store.write_transaction([&] { deleted = store.delete_expired_conversations(now); });
  if (deleted > 0) store.reclaim_deleted();
  return deleted;
}

}  // namespace x420::service
