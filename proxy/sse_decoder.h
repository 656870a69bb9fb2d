// Splits a text/event-stream into events as the HTML standard's "event stream interpretation"
// reads them (https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream):
// lines end in LF, CRLF or CR; "field: value" lines; a blank line ends an event. Each event keeps
// its bytes as received, so an event nobody needs to change passes on untouched, comments
// (": ping" keep-alives) and unknown fields included. Memory is bounded by one event.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace x420::proxy {

struct SseEvent {
  std::string_view raw;   // the event's bytes as received, its closing blank line included
  std::string name;       // the "event:" field; "" when none
  std::string data;       // the "data:" lines' values joined with '\n'
  std::string comments;   // the event's comment lines (":" first), each ending in '\n'
  bool has_data = false;  // at least one "data:" line
  // Larger than the decoder's limit: `raw` is a piece of it, the fields are not read. Pass it on
  // as it is; the rest of it comes as further oversized pieces up to its blank line.
  bool oversized = false;
};

class SseDecoder {
 public:
  using Sink = std::function<void(const SseEvent&)>;

  explicit SseDecoder(std::size_t max_event_bytes = kDefaultMaxEventBytes) : max_event_(max_event_bytes) {}

  // Calls `sink` for each event that `bytes` completes, in order; keeps the unfinished rest.
  // The event passed is valid during the call only.
  void feed(std::string_view bytes, const Sink& sink);
  // The stream ended: an unfinished last event (no blank line after it) is passed as it is, as
  // an event when it has fields (the standard would drop it; the client can decide).
  void finish(const Sink& sink);

  static constexpr std::size_t kDefaultMaxEventBytes = 8 * 1024 * 1024;

 private:
  void field(std::string_view line);
  void dispatch(std::size_t end, const Sink& sink);
  void reset_event();

  std::size_t max_event_;
  std::string buf_;         // from the current event's first byte
  std::size_t line_ = 0;    // where the line being read starts in buf_
  bool skip_lf_ = false;    // the last byte was a CR: a LF right after it belongs to it
  bool skipping_ = false;   // inside an oversized event, passing it on in pieces
  SseEvent event_;
};

}  // namespace x420::proxy
