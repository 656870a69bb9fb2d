// proxy/conversation_capture: what the proxy keeps of a reply to store (fed by the one SSE
// decoder of proxy/reply_stream), and the conversation id it derives from a request.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "lib/crypto/aead.h"
#include "lib/service/conversations.h"
#include "proxy/conversation_capture.h"
#include "proxy/reply_stream.h"

using namespace x420;
using namespace x420::service;

namespace {

std::string sse(const nlohmann::json& doc) { return "data: " + doc.dump() + "\n\n"; }

std::string chat_delta(std::string_view text) {
  return sse({{"choices", {{{"index", 0}, {"delta", {{"content", text}}}}}}});
}

// Feeds `stream` cut at `cut` (and the rest whole) and returns the stored document.
nlohmann::json captured(const std::string& stream, std::size_t cut) {
  proxy::ReplyCapture capture;
  proxy::ReplyStream reply(nullptr, false, &capture);  // the proxy's one SSE decoder feeds the capture
  reply.feed(std::string_view(stream).substr(0, cut));
  reply.feed(std::string_view(stream).substr(cut));
  reply.finish();
  return nlohmann::json::parse(capture.finish());
}

}  // namespace

TEST_CASE("reply capture keeps a whole body as it is, and cuts it at the limit", "[lifecycle]") {
  proxy::ReplyCapture whole;
  const std::string body = R"({"choices":[{"message":{"content":"hello"}}]})";
  whole.whole(body);
  CHECK(whole.finish() == body);

  proxy::ReplyCapture limited(10);
  limited.whole("0123456789abcdef");
  limited.whole("more");
  const auto kept = limited.finish();
  CHECK(kept.starts_with("0123456789\n"));
  CHECK(kept.find("abcdef") == std::string::npos);
  CHECK(kept.find("more") == std::string::npos);
  CHECK(kept.find("cut at 10 bytes") != std::string::npos);
}

TEST_CASE("reply capture joins streamed deltas cut at any byte", "[lifecycle]") {
  const std::string chat = ": keep-alive\n\n" + chat_delta("Hel") + chat_delta("lo, ") + chat_delta("w\u00f6rld") +
                           sse({{"choices", {{{"index", 0}, {"delta", nlohmann::json::object()}, {"finish_reason", "stop"}}}}}) +
                           "data: [DONE]\n\n";
  const std::string anthropic =
      "event: message_start\ndata: " +
      nlohmann::json{{"type", "message_start"}, {"message", {{"content", nlohmann::json::array()}}}}.dump() + "\n\n" +
      "event: content_block_delta\ndata: " +
      nlohmann::json{{"type", "content_block_delta"}, {"index", 0}, {"delta", {{"type", "text_delta"}, {"text", "Bon"}}}}.dump() +
      "\n\nevent: content_block_delta\ndata: " +
      nlohmann::json{{"type", "content_block_delta"}, {"index", 0}, {"delta", {{"type", "text_delta"}, {"text", "jour"}}}}.dump() +
      "\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  const std::string responses =
      "event: response.created\ndata: {\"type\":\"response.created\"}\n\n"
      "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Ha\"}\n\n"
      "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"llo\"}\n\n"
      "event: response.completed\ndata: {\"type\":\"response.completed\"}\n\n";

  for (const auto& [stream, text] : {std::pair{chat, std::string("Hello, w\u00f6rld")},
                                     std::pair{anthropic, std::string("Bonjour")},
                                     std::pair{responses, std::string("Hallo")}}) {
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
      INFO("cut at " << cut);
      const auto doc = captured(stream, cut);
      REQUIRE(doc["text"] == text);
      CHECK(doc["streamed"] == true);
      CHECK_FALSE(doc.contains("truncated"));
    }
    proxy::ReplyCapture bytewise;
    proxy::ReplyStream bytewise_reply(nullptr, false, &bytewise);
    for (char c : stream) bytewise_reply.feed(std::string_view(&c, 1));
    bytewise_reply.finish();
    CHECK(nlohmann::json::parse(bytewise.finish())["text"] == text);
    // The same stream with CRLF line ends, which SSE allows.
    std::string crlf;
    for (char c : stream) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    for (std::size_t cut = 0; cut <= crlf.size(); cut += 7) {
      INFO("CRLF, cut at " << cut);
      CHECK(captured(crlf, cut)["text"] == text);
    }
  }
}

TEST_CASE("reply capture cuts a streamed reply at the limit and marks it", "[lifecycle]") {
  proxy::ReplyCapture capture(8);
  proxy::ReplyStream reply(nullptr, false, &capture);
  reply.feed(chat_delta("12345"));
  reply.feed(chat_delta("67890"));
  reply.feed(chat_delta("abcde"));
  const auto doc = nlohmann::json::parse(capture.finish());
  CHECK(doc["text"] == "12345678");
  CHECK(doc["truncated"] == true);
}

TEST_CASE("a derived conversation id follows the first message and the tenant's key", "[lifecycle]") {
  const auto key = crypto::generate_key();
  const auto other_key = crypto::generate_key();
  const nlohmann::json first = {{"role", "user"}, {"content", "Plan a trip to Lisbon"}};
  const nlohmann::json turn1 = {{"model", "gpt-4o"}, {"messages", {first}}};
  const nlohmann::json turn2 = {
      {"model", "gpt-4o"},
      {"messages", {first, {{"role", "assistant"}, {"content", "Sure."}}, {{"role", "user"}, {"content", "In May"}}}}};

  const auto id = proxy::derived_conversation_id(key, turn1);
  CHECK(id.starts_with("conv-"));
  CHECK(is_valid_conversation_id(id));
  CHECK(proxy::derived_conversation_id(key, turn1) == id);
  CHECK(proxy::derived_conversation_id(key, turn2) == id);  // later messages do not change it
  CHECK(proxy::derived_conversation_id(other_key, turn1) != id);
  const nlohmann::json different = {{"messages", {{{"role", "user"}, {"content", "Plan a trip to Porto"}}}}};
  CHECK(proxy::derived_conversation_id(key, different) != id);
  CHECK(id.find("Lisbon") == std::string::npos);

  // Responses "input" and completions "prompt" are first messages too.
  const auto from_input = proxy::derived_conversation_id(key, {{"input", "Plan a trip to Lisbon"}});
  CHECK_FALSE(from_input.empty());
  CHECK(proxy::derived_conversation_id(key, {{"input", "Plan a trip to Lisbon"}, {"model", "o3"}}) == from_input);
  CHECK_FALSE(proxy::derived_conversation_id(key, {{"prompt", "Once upon"}}).empty());

  CHECK(proxy::derived_conversation_id(key, {{"messages", nlohmann::json::array()}}).empty());
  CHECK(proxy::derived_conversation_id(key, {{"model", "gpt-4o"}}).empty());
  CHECK(proxy::derived_conversation_id(key, nlohmann::json::array()).empty());
}
