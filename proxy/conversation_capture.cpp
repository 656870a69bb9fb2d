#include "proxy/conversation_capture.h"

#include <nlohmann/json.hpp>

#include "lib/crypto/keyed_hash.h"
#include "lib/detect/json_body.h"

namespace x420::proxy {
namespace {

constexpr std::size_t kMaxEventDepth = 64;

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

// The text one SSE event adds, in the shapes of OpenAI chat and completions, Anthropic messages
// and OpenAI Responses streams.
void delta_text(const nlohmann::json& doc, std::string& out) {
  auto add = [&](const nlohmann::json& v) {
    if (v.is_string()) out += v.get_ref<const std::string&>();
  };
  if (auto choices = doc.find("choices"); choices != doc.end() && choices->is_array()) {
    for (const auto& choice : *choices) {
      if (!choice.is_object()) continue;
      if (auto t = choice.find("text"); t != choice.end()) add(*t);
      if (auto d = choice.find("delta"); d != choice.end() && d->is_object()) {
        if (auto c = d->find("content"); c != d->end()) add(*c);
        if (auto calls = d->find("tool_calls"); calls != d->end() && calls->is_array())
          for (const auto& call : *calls)
            if (call.is_object() && call.contains("function") && call["function"].is_object() &&
                call["function"].contains("arguments"))
              add(call["function"]["arguments"]);
      }
    }
    return;
  }
  const auto t = doc.find("type");
  const std::string type = t != doc.end() && t->is_string() ? t->get<std::string>() : std::string();
  if (type == "content_block_delta" && doc.contains("delta") && doc["delta"].is_object()) {
    const auto& d = doc["delta"];
    for (const char* field : {"text", "partial_json"})
      if (auto t = d.find(field); t != d.end()) add(*t);
  } else if (type == "response.output_text.delta" || type == "response.function_call_arguments.delta") {
    if (auto t = doc.find("delta"); t != doc.end()) add(*t);
  }
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
  const auto doc = nlohmann::json::parse(data, nullptr, false);
  if (!doc.is_object()) return;
  std::string text;
  delta_text(doc, text);
  append(text);
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
