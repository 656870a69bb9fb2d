#include "proxy/reply_stream.h"

namespace x420::proxy {

ReplyStream::ReplyStream(const detect::PlaceholderMap* placeholders, bool drop_usage_chunks, ReplyCapture* capture)
    : capture_(capture) {
  static const detect::PlaceholderMap kEmpty;
  if ((placeholders && placeholders->size()) || drop_usage_chunks)
    restorer_.emplace(placeholders ? *placeholders : kEmpty, drop_usage_chunks);
}

void ReplyStream::on_event(const SseEvent& event, std::string& out) {
  if (event.has_data && !event.oversized) {
    ++events_;
    text_bytes_ += event.data.size();
    tap_.event(event.data);
    if (capture_) capture_->event(event.data);
  }
  if (restorer_) out += restorer_->on_event(event);
  else out.append(event.raw);  // nothing to restore: the bytes pass as they came
}

std::string ReplyStream::feed(std::string_view bytes) {
  std::string out;
  decoder_.feed(bytes, [&](const SseEvent& e) { on_event(e, out); });
  return out;
}

std::string ReplyStream::finish() {
  std::string out;
  decoder_.finish([&](const SseEvent& e) { on_event(e, out); });
  if (restorer_) out += restorer_->finish();
  return out;
}

}  // namespace x420::proxy
