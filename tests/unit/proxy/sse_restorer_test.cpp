// proxy/sse_restorer: placeholders restored across SSE events, and the fast path for events
// that cannot touch one.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "proxy/sse_restorer.h"

using namespace x420;
using namespace x420::proxy;

namespace {

const std::string kPlaceholder = "X420_REDACTED_aws_access_key_id_3f9a1c2e";
const std::string kSecret = "AKIAIOSFODNN7EXAMPLE";

std::string chat_event(std::string_view delta) {
  return "data: " + nlohmann::json{{"choices", {{{"index", 0}, {"delta", {{"content", delta}}}}}}}.dump() + "\n\n";
}

// Joins the content deltas of every chat event in an SSE text.
std::string joined_content(std::string_view sse) {
  std::string out;
  std::size_t at = 0;
  while ((at = sse.find("data: {", at)) != std::string_view::npos) {
    const auto end = sse.find('\n', at);
    const auto doc = nlohmann::json::parse(sse.substr(at + 6, end - at - 6));
    for (const auto& c : doc["choices"])
      if (c.contains("delta") && c["delta"].contains("content")) out += c["delta"]["content"].get<std::string>();
    at = end;
  }
  return out;
}

}  // namespace

TEST_CASE("SseRestorer restores a placeholder split across events and fed in odd pieces") {
  detect::PlaceholderMap map;
  REQUIRE(map.add(kPlaceholder, kSecret));
  std::string stream;
  const std::string text = "key " + kPlaceholder + " done, no X here";
  for (std::size_t i = 0; i < text.size(); i += 7) stream += chat_event(text.substr(i, 7));
  stream += "data: [DONE]\n\n";

  for (std::size_t piece : {1, 5, 64, 100000}) {
    SseRestorer restorer(map);
    std::string out;
    for (std::size_t i = 0; i < stream.size(); i += piece) out += restorer.feed(std::string_view(stream).substr(i, piece));
    out += restorer.finish();
    CHECK(joined_content(out) == "key " + kSecret + " done, no X here");
    CHECK(out.find("X420_REDACTED") == std::string::npos);
    CHECK(out.ends_with("data: [DONE]\n\n"));
  }
}

TEST_CASE("SseRestorer passes events that cannot touch a placeholder byte for byte") {
  detect::PlaceholderMap map;
  REQUIRE(map.add(kPlaceholder, kSecret));
  SseRestorer restorer(map);
  const std::string event = "event: x\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"plain  text\"}}],\"id\":1}\n\n";
  CHECK(restorer.feed(event) == event);  // spacing and key order kept: it was not re-serialised
}

TEST_CASE("SseRestorer holds text that may start a placeholder, even across an event without X") {
  detect::PlaceholderMap map;
  REQUIRE(map.add(kPlaceholder, kSecret));
  SseRestorer restorer(map);
  std::string out = restorer.feed(chat_event("see X4"));
  out += restorer.feed(chat_event("20_REDACTED_aws_access_key_id_3f9a1c2e."));
  out += restorer.finish();
  CHECK(joined_content(out) == "see " + kSecret + ".");
}

TEST_CASE("SseRestorer drops the usage-only chunk the proxy asked for, and keeps the others") {
  detect::PlaceholderMap map;
  SseRestorer restorer(map, /*drop_usage_chunks=*/true);
  const std::string usage_chunk = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n";
  const std::string null_usage = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\n";
  CHECK(restorer.feed(usage_chunk).empty());
  CHECK(restorer.feed(null_usage) == null_usage);
}

TEST_CASE("SseRestorer puts held text before finish_reason, and sends finish_reason once") {
  detect::PlaceholderMap map;
  REQUIRE(map.add(kPlaceholder, kSecret));
  const std::string finish_chunk = "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
  const std::string shared_chunk = "data: " + nlohmann::json{{"choices", {{{"index", 0}, {"delta", {{"content", kPlaceholder.substr(20)}}}, {"finish_reason", "stop"}}}}}.dump() + "\n\n";
  for (bool shared : {false, true}) {
    INFO((shared ? "text and finish in one chunk" : "a finish chunk of its own"));
    SseRestorer restorer(map);
    std::string out = restorer.feed(chat_event("key " + kPlaceholder.substr(0, 20)));
    if (shared) {
      out += restorer.feed(shared_chunk);
    } else {
      out += restorer.feed(chat_event(kPlaceholder.substr(20)));
      out += restorer.feed(finish_chunk);
    }
    out += restorer.feed("data: [DONE]\n\n");
    out += restorer.finish();
    CHECK(joined_content(out) == "key " + kSecret);
    const auto finish_at = out.find("\"finish_reason\":\"stop\"");
    REQUIRE(finish_at != std::string::npos);
    CHECK(out.find("\"finish_reason\":\"stop\"", finish_at + 1) == std::string::npos);
    CHECK(out.find(kSecret) < finish_at);
  }
}

TEST_CASE("SseRestorer passes events of unexpected shape and depth on untouched") {
  detect::PlaceholderMap map;
  REQUIRE(map.add(kPlaceholder, kSecret));
  SseRestorer restorer(map);
  for (const std::string data : {"{\"type\":7,\"X\":1}", "{\"choices\":\"nope X\"}", "{\"choices\":[1,null,\"X\"]}",
                                 "{\"type\":\"content_block_delta\",\"index\":\"zero\",\"delta\":5,\"X\":0}",
                                 "[1,2,\"X\"]", "\"just X\"", "not json X",
                                 "{\"type\":\"response.output_text.delta\",\"item_id\":4,\"content_index\":\"a\",\"delta\":\"Xy\"}"}) {
    INFO(data);
    const std::string event = "data: " + data + "\n\n";
    const std::string out = restorer.feed(event);
    const auto doc = nlohmann::json::parse(data, nullptr, false);
    if (doc.is_discarded()) CHECK(out == event);
    else CHECK(nlohmann::json::parse(out.substr(6)) == doc);
  }
  const std::string deep = "data: {\"x\":" + std::string(100000, '[') + std::string(100000, ']') + ",\"X\":1}\n\n";
  CHECK(restorer.feed(deep) == deep);
}
