#include "proxy/sse_decoder.h"

#include <cstring>

namespace x420::proxy {

void SseDecoder::reset_event() {
  event_.name.clear();
  event_.data.clear();
  event_.comments.clear();
  event_.has_data = false;
  event_.oversized = false;
}

void SseDecoder::field(std::string_view line) {
  if (skipping_) return;
  if (line.starts_with(':')) {
    event_.comments.append(line).push_back('\n');
    return;
  }
  const auto colon = line.find(':');
  const std::string_view name = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (value.starts_with(' ')) value.remove_prefix(1);
  if (name == "data") {
    if (event_.has_data) event_.data.push_back('\n');
    event_.data.append(value);
    event_.has_data = true;
  } else if (name == "event") {
    event_.name.assign(value);
  }  // id, retry and unknown fields stay in the raw bytes only
}

void SseDecoder::dispatch(std::size_t end, const Sink& sink) {
  event_.raw = std::string_view(buf_).substr(0, end);
  event_.oversized = skipping_;
  sink(event_);
  buf_.erase(0, end);
  line_ = 0;
  skipping_ = false;
  reset_event();
}

void SseDecoder::feed(std::string_view bytes, const Sink& sink) {
  if (skip_lf_ && !bytes.empty()) {
    skip_lf_ = false;
    // The CR that ended the last read was a CRLF's first half: the LF belongs to that line end,
    // not to a line of its own. It stays in the bytes (first in the next event's raw, when the
    // CR closed an event), so what passes on is exactly what came.
    if (bytes.front() == '\n') {
      buf_.push_back('\n');
      line_ = buf_.size();
      bytes.remove_prefix(1);
    }
  }
  std::size_t scan = buf_.size();
  buf_.append(bytes);
  for (;;) {
    const char* base = buf_.data();
    const char* end = base + buf_.size();
    const char* p = base + scan;
    while (p < end && *p != '\n' && *p != '\r') ++p;
    if (p == end) break;
    const std::size_t eol = static_cast<std::size_t>(p - base);
    std::size_t next = eol + 1;
    if (*p == '\r') {
      if (next < buf_.size()) {
        if (buf_[next] == '\n') ++next;
      } else {
        skip_lf_ = true;  // a LF may follow in the next read
      }
    }
    const std::string_view line(base + line_, eol - line_);
    if (line.empty()) {
      dispatch(next, sink);
      scan = 0;
      continue;
    }
    field(line);
    line_ = scan = next;
    if (skip_lf_) break;
  }
  if (buf_.size() > max_event_) {
    // Too large to hold: the whole lines here go on as they came (or all of it, when one line
    // alone is too long), and the rest of the event follows as further pieces.
    skipping_ = true;
    const std::size_t cut = line_ > 0 ? line_ : buf_.size();
    event_.raw = std::string_view(buf_).substr(0, cut);
    event_.oversized = true;
    sink(event_);
    buf_.erase(0, cut);
    line_ = 0;
  }
}

void SseDecoder::finish(const Sink& sink) {
  if (buf_.empty()) return;
  if (line_ < buf_.size()) field(std::string_view(buf_).substr(line_));
  dispatch(buf_.size(), sink);
}

}  // namespace x420::proxy
