#include "proxy/sse_restorer.h"

#include <nlohmann/json.hpp>

#include <vector>

#include "lib/detect/json_body.h"
#include "lib/detect/json_restore.h"
#include "proxy/stream_events.h"
#include "proxy/usage_tap.h"

namespace x420::proxy {
namespace {

using json = nlohmann::ordered_json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

const json* member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
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
      for (const auto& d : classify_event(doc).deltas) doc[d.where] = d.channel == it->first ? text : std::string();
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
  const EventRole role = classify_event(doc);

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
          map_, d.json_text() ? detect::Restorer::Escape::json_string : detect::Restorer::Escape::none);
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
