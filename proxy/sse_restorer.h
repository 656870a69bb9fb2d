// Restoring placeholders in a streamed reply. A provider streams text in small deltas, so one
// placeholder arrives split across several events ("is X420", "_REDACT", "ED_aws_…"). This
// reads each SSE event, runs one Restorer per text channel (a choice's content, a tool call's
// arguments, an Anthropic content block, a Responses output item) over the decoded delta
// strings, and writes the event back with the restored text; text held back at the end of a
// channel is flushed in an extra delta event before the channel's closing event.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "detect/redactor.h"

namespace x420::proxy {

class SseRestorer {
 public:
  // `drop_usage_chunks`: the proxy asked an OpenAI upstream for usage the client did not ask
  // for; the usage-only chunk ("choices": []) is then kept from the client, whose code may read
  // choices[0] of every chunk.
  explicit SseRestorer(const detect::PlaceholderMap& map, bool drop_usage_chunks = false)
      : map_(map), drop_usage_chunks_(drop_usage_chunks) {}

  std::string feed(std::string_view bytes);  // complete events, restored; partial ones wait
  std::string finish();                      // what is left (an unterminated last event)
  std::size_t restored() const { return restored_; }

 private:
  struct Channel {
    std::unique_ptr<detect::Restorer> restorer;
    std::string last_event_name;  // "event:" line of its last delta event, if any
    std::string last_delta_json;  // that event's data, as a template for a flush
  };
  std::string process_event(std::string_view event);
  bool holding() const;
  std::string flush_channel(const std::string& key);
  std::string flush_all();

  const detect::PlaceholderMap& map_;
  bool drop_usage_chunks_;
  std::string pending_;
  std::map<std::string, Channel> channels_;
  std::size_t restored_ = 0;
};

}  // namespace x420::proxy
