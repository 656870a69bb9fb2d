// Fuzz target: an upstream's reply, through the proxy's stream pipeline (proxy/sse_decoder, the
// usage tap, the conversation capture and proxy/sse_restorer) and the whole-reply restore
// (detect/json_restore). The first byte picks where the stream is cut into reads; the rest is
// the stream. Whatever the bytes: no crash, no unbounded recursion or memory, and with nothing
// to restore the bytes pass on exactly as they came.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/detect/json_restore.h"
#include "proxy/reply_stream.h"

using namespace x420;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 64;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

  static detect::PlaceholderMap map = [] {
    detect::PlaceholderMap m;
    m.add("X420_REDACTED_aws_access_key_id_3f9a1c2e", "AKIA\"\\/\n\xc3\xa9SECRET");
    m.add("X420_REDACTED_x_0a1b2c3d", "-----BEGIN KEY-----\nab\"c\n-----END KEY-----");
    return m;
  }();

  // Restoring, with usage dropped and the reply captured.
  proxy::ReplyCapture capture(4096);
  proxy::ReplyStream restoring(&map, (data[0] & 0x80) != 0, &capture);
  for (std::size_t i = 0; i < stream.size(); i += piece) restoring.feed(stream.substr(i, piece));
  restoring.finish();
  capture.finish();

  // Nothing to restore: the bytes pass on untouched.
  proxy::ReplyStream passing(nullptr, false, nullptr);
  std::string out;
  for (std::size_t i = 0; i < stream.size(); i += piece) out += passing.feed(stream.substr(i, piece));
  out += passing.finish();
  if (out != stream) __builtin_trap();

  // A whole reply.
  (void)detect::restore_json(stream, map);
  proxy::TokenUsage usage;
  proxy::read_usage(stream, usage);
  return 0;
}
