// What of an exchange is kept when conversations are stored (DESIGN.md, "Data lifecycle"): the
// request as forwarded (already redacted) and the reply as the upstream sent it, before any
// placeholder is restored, so no secret is ever written. A streamed reply is kept as the text
// its deltas join to, not as its events.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "lib/common/result.h"
#include "lib/crypto/secret_bytes.h"

namespace x420::proxy {

inline constexpr std::string_view kConversationHeader = "x420-conversation-id";
inline constexpr std::string_view kConversationTtlHeader = "x420-conversation-ttl";

// The id of a conversation whose client names none: a keyed hash of the request's first message
// (chat and Anthropic "messages", Responses "input", completions "prompt"), so every turn of one
// chat, which resends the history, lands in the same conversation; "" when the body has none.
// The key is the tenant's own, so ids are stable across restarts and unguessable across tenants.
std::string derived_conversation_id(const crypto::SecretBytes& tenant_key, const nlohmann::json& body);

// Collects a reply for storing, bounded: past the limit the text is cut and marked.
class ReplyCapture {
 public:
  explicit ReplyCapture(std::size_t limit = 8 * 1024 * 1024) : limit_(limit) {}

  void whole(std::string_view body);  // a non-streamed reply, kept as it is
  void event(std::string_view data);   // one SSE event's data: the text its deltas add
  std::string finish();                // the text to store

 private:
  void append(std::string_view text);
  std::size_t limit_;
  std::string text_;
  bool streamed_ = false;
  bool truncated_ = false;
};

}  // namespace x420::proxy
