#include "proxy/sse_restorer.h"

#include <nlohmann/json.hpp>

#include <vector>

#include "lib/detect/json_body.h"
#include "lib/detect/json_restore.h"
#include "proxy/usage_tap.h"

namespace x420::proxy {
namespace {

using json = nlohmann::ordered_json;

// Deeper than any provider's event; nothing deeper reaches nlohmann's recursive dump.
constexpr std::size_t kMaxEventDepth = 64;

// One delta string of an event: its channel, where it sits, and whether its text is JSON itself
// (tool arguments), so a restored value must be escaped inside it.
struct Delta {
  std::string channel;
  json::json_pointer where;
  bool json_text;
};

// What an event does to the channels: the deltas it carries, the channels it closes (by key
// prefix), and whether it ends every channel (message_stop and the like).
struct EventRole {
  std::vector<Delta> deltas;
  std::vector<std::string> closes;
  bool ends_all = false;
};

std::string dump(const json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

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

// The delta strings of one event in the shapes of OpenAI chat and completions, Anthropic
// messages and OpenAI Responses streams, and the channels it closes.
EventRole classify(const json& doc) {
  EventRole role;
  if (const json* choices = member(doc, "choices"); choices && choices->is_array()) {
    for (std::size_t i = 0; i < choices->size(); ++i) {
      const json& choice = (*choices)[i];
      if (!choice.is_object()) continue;
      const std::string c = "c" + index_or(choice, i) + "/";
      const std::string base = "/choices/" + std::to_string(i);
      for (const char* field : {"/delta/content", "/delta/reasoning_content", "/delta/reasoning", "/text"})
        if (string_at(doc, base + field)) role.deltas.push_back({c + field, json::json_pointer(base + field), false});
      if (const json* delta = member(choice, "delta"))
        if (const json* calls = member(*delta, "tool_calls"); calls && calls->is_array())
          for (std::size_t j = 0; j < calls->size(); ++j) {
            const std::string p = base + "/delta/tool_calls/" + std::to_string(j) + "/function/arguments";
            if (string_at(doc, p))
              role.deltas.push_back({c + "tool/" + index_or((*calls)[j], j), json::json_pointer(p), true});
          }
      if (const json* finish = member(choice, "finish_reason"); finish && !finish->is_null()) role.closes.push_back(c);
    }
    return role;
  }
  const std::string type = string_or(doc, "type");
  if (type == "content_block_delta") {
    const std::string a = "a" + index_or(doc, 0) + "/";
    for (const char* field : {"text", "thinking", "partial_json"}) {
      const std::string p = std::string("/delta/") + field;
      if (string_at(doc, p)) role.deltas.push_back({a, json::json_pointer(p), field == std::string_view("partial_json")});
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
      role.deltas.push_back({r, json::json_pointer("/delta"), type == "response.function_call_arguments.delta"});
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

std::string event_text(std::string_view comments, const std::string& name, const std::string& data) {
  std::string out(comments);
  if (!name.empty()) out += "event: " + name + "\n";
  out += "data: " + data + "\n\n";
  return out;
}

// Every placeholder starts with "X420_REDACTED_"; data with no 'X' (nor a \u escape that could
// spell one) cannot hold or begin one. Most events of a reply are like that and pass as they
// came: no parse, no re-serialisation.
bool cannot_touch_placeholders(std::string_view data) {
  return data.find('X') == std::string_view::npos && data.find("\\u") == std::string_view::npos;
}

bool is_usage_only_chunk(const json& doc) {
  const json* choices = member(doc, "choices");
  const json* usage = member(doc, "usage");
  return choices && choices->is_array() && choices->empty() && usage && !usage->is_null();
}

}  // namespace

std::string SseRestorer::feed(std::string_view bytes) {
  std::string out;
  decoder_.feed(bytes, [&](const SseEvent& e) { out += on_event(e); });
  return out;
}

std::string SseRestorer::finish() {
  std::string out;
  decoder_.finish([&](const SseEvent& e) { out += on_event(e); });
  return out + flush_all();
}

std::string SseRestorer::flush_channel(Channels::iterator it) {
  Channel& ch = it->second;
  const std::string text = ch.restorer->finish();
  std::string out;
  if (!text.empty() && !ch.last_delta_json.empty()) {
    // The channel's last delta event again, carrying only the text that was held back.
    json doc = json::parse(ch.last_delta_json, nullptr, false);
    if (doc.is_object()) {
      for (const auto& d : classify(doc).deltas) doc[d.where] = d.channel == it->first ? text : std::string();
      out = event_text({}, ch.last_event_name, dump(doc));
    }
  }
  channels_.erase(it);
  return out;
}

std::string SseRestorer::flush_prefix(std::string_view prefix) {
  std::string out;
  for (auto it = channels_.lower_bound(prefix); it != channels_.end() && it->first.starts_with(prefix);)
    out += flush_channel(it++);
  return out;
}

std::string SseRestorer::flush_all() {
  std::string out;
  while (!channels_.empty()) out += flush_channel(channels_.begin());
  return out;
}

bool SseRestorer::holding() const {
  for (const auto& [key, ch] : channels_)
    if (ch.restorer && ch.restorer->holding()) return true;
  return false;
}

std::string SseRestorer::on_event(const SseEvent& event) {
  if (event.oversized) return detect::restore(event.raw, map_, detect::Restorer::Escape::json_string);
  if (!event.has_data) return std::string(event.raw);  // comments, keep-alives, lone fields
  const std::string& data = event.data;
  if (data == "[DONE]") return flush_all() + std::string(event.raw);
  const bool may_drop = drop_usage_chunks_ && names_usage_object(data);
  if (!may_drop && cannot_touch_placeholders(data) && !holding()) return std::string(event.raw);
  if (!detect::json_nesting_within(data, kMaxEventDepth))
    return detect::restore(event.raw, map_, detect::Restorer::Escape::json_string);

  json doc = json::parse(data, nullptr, false);
  if (!doc.is_object()) return detect::restore(event.raw, map_, detect::Restorer::Escape::json_string);
  if (may_drop && is_usage_only_chunk(doc)) return event.comments;
  const EventRole role = classify(doc);

  std::string out;
  if (role.ends_all) out += flush_all();
  auto closed_here = [&](const std::string& channel) {
    for (const auto& prefix : role.closes)
      if (channel.starts_with(prefix)) return true;
    return false;
  };
  for (const auto& d : role.deltas) {
    auto& ch = channels_[d.channel];
    if (!ch.restorer)
      ch.restorer = std::make_unique<detect::Restorer>(
          map_, d.json_text ? detect::Restorer::Escape::json_string : detect::Restorer::Escape::none);
    std::string text = ch.restorer->feed(doc[d.where].get_ref<const std::string&>());
    // Text and its channel's end in one event (finish_reason beside the last delta): the held
    // tail goes into this event, not into one after it.
    if (closed_here(d.channel)) text += ch.restorer->finish();
    doc[d.where] = std::move(text);
    ch.last_event_name = event.name;
    ch.last_delta_json = data;
  }
  for (const auto& d : role.deltas)
    if (closed_here(d.channel)) channels_.erase(d.channel);
  for (const auto& prefix : role.closes) out += flush_prefix(prefix);  // channels with no delta here
  // Placeholders whole inside one event (a ".done" event's full text, a final response object).
  return out + event_text(event.comments, event.name, detect::restore_json(dump(doc), map_));
}

}  // namespace x420::proxy
