// One streamed (SSE) reply on its way to the client: each event is decoded once, and that event
// feeds the usage tap, the conversation capture and the placeholder restorer. What comes out of
// feed() is every event the bytes completed, to be written and flushed at once.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "lib/detect/redactor.h"
#include "proxy/conversation_capture.h"
#include "proxy/sse_decoder.h"
#include "proxy/sse_restorer.h"
#include "proxy/usage_tap.h"

namespace x420::proxy {

class ReplyStream {
 public:
  // `placeholders`: restore from this map (null: nothing to restore). `drop_usage_chunks`: the
  // proxy asked for usage the client did not (SseRestorer). `capture`: the stored reply, if any.
  ReplyStream(const detect::PlaceholderMap* placeholders, bool drop_usage_chunks, ReplyCapture* capture);

  std::string feed(std::string_view bytes);  // what to send now
  std::string finish();                      // the stream ended (or broke): what was held back

  const UsageTap& usage() const { return tap_; }
  std::size_t events() const { return events_; }
  std::size_t text_bytes() const { return text_bytes_; }  // of the events' data, for an estimate

 private:
  void on_event(const SseEvent& event, std::string& out);
  SseDecoder decoder_;
  std::optional<SseRestorer> restorer_;
  UsageTap tap_;
  ReplyCapture* capture_;
  std::size_t events_ = 0;
  std::size_t text_bytes_ = 0;
};

}  // namespace x420::proxy
