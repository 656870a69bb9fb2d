#include "proxy/conversation_capture.h"

#include <nlohmann/json.hpp>

#include "lib/crypto/keyed_hash.h"
#include "lib/detect/json_body.h"
#include "proxy/stream_events.h"

namespace x420::proxy {
namespace {

const nlohmann::json* first_message(const nlohmann::json& body) {
  if (!body.is_object()) return nullptr;
  for (const char* field : {"messages", "input", "prompt"}) {
    const auto it = body.find(field);
    if (it == body.end()) continue;
    if (it->is_array() && !it->empty()) return &it->front();
    if (it->is_string()) return &*it;
  }
  return nullptr;
}

}  // namespace

std::string derived_conversation_id(const crypto::SecretBytes& tenant_key, const nlohmann::json& body) {
  const auto* first = first_message(body);
  if (!first) return {};
  // Domain-separated from the key's other use (placeholders).
  const std::string input = "x420 conversation id\n" + first->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return "conv-" + crypto::hex_of(crypto::keyed_hash(tenant_key, input), 12);
}

void ReplyCapture::append(std::string_view text) {
  if (truncated_) return;
  if (text_.size() + text.size() > limit_) {
    text_.append(text.substr(0, limit_ - text_.size()));
    truncated_ = true;
    return;
  }
  text_.append(text);
}

void ReplyCapture::whole(std::string_view body) { append(body); }

void ReplyCapture::event(std::string_view data) {
  streamed_ = true;
  if (truncated_ || data.empty() || data.front() != '{') return;
  if (!detect::json_nesting_within(data, kMaxEventDepth)) return;
  const auto doc = nlohmann::ordered_json::parse(data, nullptr, false);
  if (!doc.is_object()) return;
  // What the model said and the tool calls it made; not its reasoning.
  for (const auto& d : classify_event(doc).deltas)
    if (d.kind == DeltaKind::text || d.kind == DeltaKind::tool_arguments)
      append(doc.at(d.where).get_ref<const std::string&>());
}

std::string ReplyCapture::finish() {
  std::string out = std::move(text_);
  if (streamed_) {
    nlohmann::json doc = {{"streamed", true}, {"text", out}};
    if (truncated_) doc["truncated"] = true;
    out = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else if (truncated_) {
    out += "\n[x420: reply cut at " + std::to_string(limit_) + " bytes]";
  }
  text_.clear();
  return out;
}

}  // namespace x420::proxy
