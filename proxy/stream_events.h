// The one table of what an upstream SSE event carries, in the shapes of OpenAI chat and
// completions, Anthropic messages and OpenAI Responses streams: its delta strings, grouped into
// channels, and the channels it closes. The restorer restores along it; the capture stores the
// text and tool arguments it names.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace x420::proxy {

enum class DeltaKind {
  text,            // what the model says
  reasoning,       // its thinking (reasoning_content, thinking)
  tool_arguments,  // tool-call arguments: JSON text themselves
  other,           // other Responses deltas (refusals, reasoning summaries, transcripts)
};

// One delta string of an event: its channel (a key; channels sharing a prefix belong to one
// choice, content block or output item), where in the event it sits, and what it is.
struct Delta {
  std::string channel;
  nlohmann::ordered_json::json_pointer where;
  DeltaKind kind;

  // A restored value inside it must be escaped once more.
  bool json_text() const { return kind == DeltaKind::tool_arguments; }
};

// What an event does to the channels: the deltas it carries, the channels it closes (by key
// prefix), and whether it ends every channel (message_stop and the like).
struct EventRole {
  std::vector<Delta> deltas;
  std::vector<std::string> closes;
  bool ends_all = false;
};

// Deeper than any provider's event; nothing deeper reaches nlohmann's recursive parse and dump.
inline constexpr std::size_t kMaxEventDepth = 64;

// Never throws on a value of an unexpected type: upstream events are outside input.
EventRole classify_event(const nlohmann::ordered_json& doc);

}  // namespace x420::proxy
