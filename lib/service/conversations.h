// Stored conversations (DESIGN.md, "Data lifecycle"): each turn sealed with its tenant's DEK
// (ChaCha20-Poly1305, a fresh random 12-byte nonce, associated data binding tenant, conversation,
// record id, seq and kind), written with the conversation's upsert in one transaction; and the
// sweep that hard-deletes expired ones. Only redacted text ever reaches this file.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "lib/common/clock.h"
#include "lib/common/result.h"
#include "lib/crypto/secret_bytes.h"
#include "lib/service/keyring.h"
#include "lib/store/store.h"

namespace x420::service {

// A conversation id comes from a client header: 1 to 128 printable ASCII characters.
inline constexpr std::size_t kMaxConversationIdLength = 128;
bool is_valid_conversation_id(std::string_view id);

struct ConversationWrite {
  std::string tenant_id, conversation_id, key_id, generation_id;
  UnixSeconds now = 0;
  std::optional<UnixSeconds> ttl;  // nullopt or 0: kept until deleted
  std::string request_text;        // already redacted by the proxy
  std::string response_text;       // the upstream's reply text, before placeholders are restored
};

// Seals both records with the tenant's DEK (fresh random 12-byte nonce; associated data binds
// tenant id, conversation id and record id) and writes them with the conversation upsert in ONE
// write transaction. ErrorKind::usage for a bad conversation id or a negative TTL, not_found for
// an unknown tenant, internal when the tenant's DEK does not open.
Status record_exchange(store::Store& store, const Keyring& keyring, const ConversationWrite& write);
// The same for many exchanges in one transaction (all or none): for a writer that batches, and
// for generating large test accounts quickly.
Status record_exchanges(store::Store& store, const Keyring& keyring, std::span<const ConversationWrite> writes);

// Hard-deletes conversations whose expires_at <= now, with their records; returns how many.
// Then empties the write-ahead log, so the deleted pages' old images do not linger in it.
std::int64_t sweep_expired_conversations(store::Store& store, UnixSeconds now);

// The tenant's DEK, opened with the KEK. ErrorKind::not_found for an unknown tenant; internal
// (naming the tenant) when it does not open.
Result<crypto::SecretBytes> open_tenant_dek(store::Store& store, const Keyring& keyring, std::string_view tenant_id);

// One record's text. A record that was altered, moved to another row, conversation or tenant,
// or sealed under another key is ErrorKind::internal naming the record — never garbage.
Result<crypto::SecretBytes> open_record(const crypto::SecretBytes& dek, const store::ConversationRecordRow& row);

}  // namespace x420::service
