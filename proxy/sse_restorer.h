// Restoring placeholders in a streamed reply. A provider streams text in small deltas, so one
// placeholder arrives split across several events ("is X420", "_REDACT", "ED_aws_…"). Each
// event's delta strings go through one Restorer per text channel (a choice's content or a tool
// call's arguments, an Anthropic content block, a Responses output item), which holds back only
// a tail that could still begin a placeholder. Held text is put into the event that closes its
// channel, or into a delta event of its own just before it, so it always arrives before
// finish_reason / content_block_stop / message_stop / response.completed. Strings outside
// deltas (a ".done" event's full text, a final response) are restored whole, escaped twice where
// they are JSON inside a string. Events of a shape this does not know pass on untouched.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "lib/detect/redactor.h"
#include "proxy/sse_decoder.h"

namespace x420::proxy {

class SseRestorer {
 public:
  // `drop_usage_chunks`: the proxy asked an OpenAI upstream for usage the client did not ask
  // for; the usage-only chunk ("choices": []) is then kept from the client, whose code may read
  // choices[0] of every chunk.
  explicit SseRestorer(const detect::PlaceholderMap& map, bool drop_usage_chunks = false)
      : map_(map), drop_usage_chunks_(drop_usage_chunks) {}

  // The bytes to send for one event: the event (restored, or as it came), after any held text
  // that must go before it.
  std::string on_event(const SseEvent& event);
  // The stream is over: text still held back, as delta events.
  std::string finish();

  // The same over raw bytes, with a decoder of its own.
  std::string feed(std::string_view bytes);

 private:
  struct Channel {
    std::unique_ptr<detect::Restorer> restorer;
    std::string last_event_name;  // the "event:" field of its last delta event, if any
    std::string last_delta_json;  // that event's data, as a template for a flush
  };
  using Channels = std::map<std::string, Channel, std::less<>>;
  bool holding() const;
  std::string flush_channel(Channels::iterator it);
  std::string flush_prefix(std::string_view prefix);
  std::string flush_all();

  const detect::PlaceholderMap& map_;
  bool drop_usage_chunks_;
  SseDecoder decoder_;
  Channels channels_;
};

}  // namespace x420::proxy
