#include "proxy/stream_events.h"

#include <utility>

namespace x420::proxy {
namespace {

using json = nlohmann::ordered_json;

// Typed reads that never throw on a value of another type: upstream events are outside input.
const json* member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}
std::string string_or(const json& obj, const char* key, std::string fallback = {}) {
  const json* v = member(obj, key);
  return v && v->is_string() ? v->get<std::string>() : fallback;
}
std::string index_or(const json& obj, std::size_t fallback) {
  const json* v = member(obj, "index");
  if (v && v->is_number_unsigned()) return std::to_string(v->get<std::uint64_t>());
  return std::to_string(fallback);
}
bool string_at(const json& doc, const std::string& pointer) {
  const json::json_pointer p(pointer);
  return doc.contains(p) && doc.at(p).is_string();
}

}  // namespace

EventRole classify_event(const json& doc) {
  EventRole role;
  if (const json* choices = member(doc, "choices"); choices && choices->is_array()) {
    for (std::size_t i = 0; i < choices->size(); ++i) {
      const json& choice = (*choices)[i];
      if (!choice.is_object()) continue;
      const std::string c = "c" + index_or(choice, i) + "/";
      const std::string base = "/choices/" + std::to_string(i);
      for (const char* field : {"/delta/content", "/delta/reasoning_content", "/delta/reasoning", "/text"})
        if (string_at(doc, base + field))
          role.deltas.push_back({c + field, json::json_pointer(base + field),
                                 std::string_view(field).starts_with("/delta/reasoning") ? DeltaKind::reasoning
                                                                                         : DeltaKind::text});
      if (const json* delta = member(choice, "delta"))
        if (const json* calls = member(*delta, "tool_calls"); calls && calls->is_array())
          for (std::size_t j = 0; j < calls->size(); ++j) {
            const std::string p = base + "/delta/tool_calls/" + std::to_string(j) + "/function/arguments";
            if (string_at(doc, p))
              role.deltas.push_back({c + "tool/" + index_or((*calls)[j], j), json::json_pointer(p), DeltaKind::tool_arguments});
          }
      if (const json* finish = member(choice, "finish_reason"); finish && !finish->is_null()) role.closes.push_back(c);
    }
    return role;
  }
  const std::string type = string_or(doc, "type");
  if (type == "content_block_delta") {
    const std::string a = "a" + index_or(doc, 0) + "/";
    for (const auto& [field, kind] : {std::pair{"text", DeltaKind::text}, std::pair{"thinking", DeltaKind::reasoning},
                                       std::pair{"partial_json", DeltaKind::tool_arguments}}) {
      const std::string p = std::string("/delta/") + field;
      if (string_at(doc, p)) role.deltas.push_back({a, json::json_pointer(p), kind});
    }
  } else if (type == "content_block_stop") {
    role.closes.push_back("a" + index_or(doc, 0) + "/");
  } else if (type == "message_delta" || type == "message_stop" || type == "response.completed" ||
             type == "response.incomplete" || type == "response.failed" || type == "error") {
    role.ends_all = true;
  } else if (type.starts_with("response.")) {
    const std::string item = string_or(doc, "item_id");
    std::string content_index = "0";
    if (const json* ci = member(doc, "content_index"); ci && ci->is_number_unsigned())
      content_index = std::to_string(ci->get<std::uint64_t>());
    const std::string r = "r" + item + ":" + content_index + "/";
    if (type.ends_with(".delta") && string_at(doc, "/delta")) {
      const DeltaKind kind = type == "response.function_call_arguments.delta" ? DeltaKind::tool_arguments
                             : type == "response.output_text.delta"         ? DeltaKind::text
                                                                            : DeltaKind::other;
      role.deltas.push_back({r, json::json_pointer("/delta"), kind});
    } else if (type.ends_with(".done")) {
      if (type == "response.output_item.done") {
        const json* it = member(doc, "item");
        role.closes.push_back("r" + (it ? string_or(*it, "id") : std::string()) + ":");
      } else {
        role.closes.push_back(r);
      }
    }
  }
  return role;
}

}  // namespace x420::proxy
