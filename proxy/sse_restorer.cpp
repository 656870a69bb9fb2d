#include "proxy/sse_restorer.h"

#include <nlohmann/json.hpp>

#include <vector>

#include "proxy/usage_tap.h"

namespace x420::proxy {
namespace {

using json = nlohmann::ordered_json;

constexpr std::size_t kMaxPendingEvent = 4 * 1024 * 1024;

// One delta string of an event: which channel it belongs to, where it sits, and whether its
// text is itself JSON (tool arguments), so a restored value must be escaped inside it.
struct Delta {
  std::string channel;
  json::json_pointer where;
  bool json_text;
};

std::string dump(const json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

bool is_string_at(const json& doc, const json::json_pointer& p) {
  return doc.contains(p) && doc.at(p).is_string();
}

// The delta strings of one event, in the shapes of OpenAI chat and completions, Anthropic
// messages and OpenAI Responses streams; and the channels the event closes.
void classify(const json& doc, std::vector<Delta>& deltas, std::vector<std::string>& closes) {
  if (auto choices = doc.find("choices"); choices != doc.end() && choices->is_array()) {
    for (std::size_t i = 0; i < choices->size(); ++i) {
      const auto& choice = (*choices)[i];
      const std::string c = "c" + std::to_string(choice.value("index", i));
      const std::string base = "/choices/" + std::to_string(i);
      for (const char* field : {"/delta/content", "/delta/reasoning_content", "/text"}) {
        json::json_pointer p(base + field);
        if (is_string_at(doc, p)) deltas.push_back({c + field, p, false});
      }
      if (choice.contains("delta") && choice["delta"].contains("tool_calls") && choice["delta"]["tool_calls"].is_array()) {
        const auto& calls = choice["delta"]["tool_calls"];
        for (std::size_t j = 0; j < calls.size(); ++j) {
          json::json_pointer p(base + "/delta/tool_calls/" + std::to_string(j) + "/function/arguments");
          if (is_string_at(doc, p))
            deltas.push_back({c + "/tool/" + std::to_string(calls[j].value("index", j)), p, true});
        }
      }
      if (choice.contains("finish_reason") && !choice["finish_reason"].is_null()) closes.push_back(c);
    }
    return;
  }
  const std::string type = doc.value("type", "");
  if (type == "content_block_delta") {
    const std::string a = "a" + std::to_string(doc.value("index", 0));
    if (is_string_at(doc, json::json_pointer("/delta/text"))) deltas.push_back({a, json::json_pointer("/delta/text"), false});
    if (is_string_at(doc, json::json_pointer("/delta/thinking"))) deltas.push_back({a, json::json_pointer("/delta/thinking"), false});
    if (is_string_at(doc, json::json_pointer("/delta/partial_json")))
      deltas.push_back({a, json::json_pointer("/delta/partial_json"), true});
  } else if (type == "content_block_stop") {
    closes.push_back("a" + std::to_string(doc.value("index", 0)));
  } else if (type == "response.output_text.delta" || type == "response.function_call_arguments.delta" ||
             type == "response.reasoning_summary_text.delta") {
    const std::string r = "r" + doc.value("item_id", std::string()) + ":" + std::to_string(doc.value("content_index", 0));
    if (is_string_at(doc, json::json_pointer("/delta")))
      deltas.push_back({r, json::json_pointer("/delta"), type == "response.function_call_arguments.delta"});
  } else if (type.ends_with(".done")) {
    closes.push_back("r" + doc.value("item_id", std::string()) + ":" + std::to_string(doc.value("content_index", 0)));
  }
}

std::string event_text(const std::string& name, const std::string& data) {
  std::string out;
  if (!name.empty()) out += "event: " + name + "\n";
  out += "data: " + data + "\n\n";
  return out;
}

}  // namespace

std::string SseRestorer::feed(std::string_view bytes) {
  pending_.append(bytes);
  std::string out;
  for (;;) {
    std::size_t end = pending_.find("\n\n");
    std::size_t sep = 2;
    if (const auto crlf = pending_.find("\r\n\r\n"); crlf != std::string::npos && crlf < end) {
      end = crlf;
      sep = 4;
    }
    if (end == std::string::npos) break;
    out += process_event(std::string_view(pending_).substr(0, end));
    pending_.erase(0, end + sep);
  }
  if (pending_.size() > kMaxPendingEvent) {  // not SSE as we know it: pass it on untouched
    out += detect::restore(pending_, map_, detect::Restorer::Escape::json_string);
    pending_.clear();
  }
  return out;
}

std::string SseRestorer::finish() {
  std::string out = flush_all();
  if (!pending_.empty()) out += process_event(pending_) ;
  pending_.clear();
  return out;
}

std::string SseRestorer::flush_channel(const std::string& key) {
  auto it = channels_.find(key);
  if (it == channels_.end()) return {};
  Channel& ch = it->second;
  std::string text = ch.restorer->finish();
  restored_ += ch.restorer->restored();
  std::string out;
  if (!text.empty() && !ch.last_delta_json.empty()) {
    // Re-emit the channel's last delta event with the text that was held back.
    json doc = json::parse(ch.last_delta_json, nullptr, false);
    std::vector<Delta> deltas;
    std::vector<std::string> closes;
    if (doc.is_object()) classify(doc, deltas, closes);
    for (const auto& d : deltas)
      if (d.channel == key) doc[d.where] = text;
    out = event_text(ch.last_event_name, dump(doc));
  }
  channels_.erase(it);
  return out;
}

std::string SseRestorer::flush_all() {
  std::string out;
  while (!channels_.empty()) out += flush_channel(channels_.begin()->first);
  return out;
}

bool SseRestorer::holding() const {
  for (const auto& [key, ch] : channels_)
    if (ch.restorer && ch.restorer->holding()) return true;
  return false;
}

// Every placeholder starts with "X420_REDACTED_"; an event whose data has no 'X' (nor a \u escape
// that could spell one) cannot hold or begin one, and with nothing held back from earlier events
// it passes as it is: no JSON parse, no re-serialisation. Most events of a reply are like that.
static bool cannot_touch_placeholders(std::string_view data) {
  return data.find('X') == std::string_view::npos && data.find("\\u") == std::string_view::npos;
}

std::string SseRestorer::process_event(std::string_view event) {
  std::string name, data;
  std::vector<std::string_view> other;
  bool has_data = false;
  std::size_t at = 0;
  while (at <= event.size()) {
    auto nl = event.find('\n', at);
    if (nl == std::string_view::npos) nl = event.size();
    std::string_view line = event.substr(at, nl - at);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.starts_with("data:")) {
      auto v = line.substr(5);
      if (v.starts_with(' ')) v.remove_prefix(1);
      if (has_data) data += '\n';
      data.append(v);
      has_data = true;
    } else if (line.starts_with("event:")) {
      auto v = line.substr(6);
      if (v.starts_with(' ')) v.remove_prefix(1);
      name = std::string(v);
    } else if (!line.empty()) {
      other.push_back(line);
    }
    at = nl + 1;
  }
  std::string prefix;
  for (auto line : other) prefix.append(line).append("\n");
  if (!has_data) return prefix.empty() ? std::string() : prefix + "\n";
  if (data == "[DONE]") return flush_all() + prefix + event_text(name, data);
  if (cannot_touch_placeholders(data) && !holding() && !(drop_usage_chunks_ && names_usage_object(data)))
    return std::string(event) + "\n\n";

  json doc = json::parse(data, nullptr, false);
  if (!doc.is_object())
    return prefix + event_text(name, detect::restore(data, map_, detect::Restorer::Escape::json_string));
  if (drop_usage_chunks_ && doc.contains("choices") && doc["choices"].is_array() && doc["choices"].empty() &&
      doc.contains("usage") && !doc["usage"].is_null())
    return prefix;
  std::vector<Delta> deltas;
  std::vector<std::string> closes;
  classify(doc, deltas, closes);
  std::string out;
  for (const auto& key : closes) out += flush_channel(key);
  for (const auto& d : deltas) {
    auto& ch = channels_[d.channel];
    if (!ch.restorer)
      ch.restorer = std::make_unique<detect::Restorer>(
          map_, d.json_text ? detect::Restorer::Escape::json_string : detect::Restorer::Escape::none);
    doc[d.where] = ch.restorer->feed(doc[d.where].get<std::string>());
  }
  for (const auto& d : deltas) {
    auto& ch = channels_[d.channel];
    ch.last_event_name = name;
    ch.last_delta_json = data;
  }
  // Placeholders whole inside one event (a ".done" event's full text, a final response object).
  std::string restored = detect::restore(dump(doc), map_, detect::Restorer::Escape::json_string);
  return out + prefix + event_text(name, restored);
}

}  // namespace x420::proxy
