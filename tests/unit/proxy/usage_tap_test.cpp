// proxy/usage_tap: token counts read from streams as they pass (through proxy/reply_stream's
// pipeline), in pieces cut anywhere.
#include <catch2/catch.hpp>

#include "proxy/reply_stream.h"
#include "proxy/usage_tap.h"

using namespace x420;
using namespace x420::proxy;

TEST_CASE("UsageTap reads OpenAI's final usage chunk and skips the usage:null ones") {
  ReplyStream tap(nullptr, false, nullptr);  // the relay's pipeline, nothing to restore
  const std::string stream =
      "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"usage\":null}\n\n"
      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":7,"
      "\"prompt_tokens_details\":{\"cached_tokens\":5},\"completion_tokens_details\":{\"reasoning_tokens\":2}}}\n\n"
      "data: [DONE]\n\n";
  for (std::size_t i = 0; i < stream.size(); i += 3) tap.feed(std::string_view(stream).substr(i, 3));
  CHECK(tap.usage().usage().input == 11);
  CHECK(tap.usage().usage().output == 7);
  CHECK(tap.usage().usage().cached == 5);
  CHECK(tap.usage().usage().reasoning == 2);
}

TEST_CASE("UsageTap reads Anthropic's message_start and message_delta, cache writes included") {
  ReplyStream tap(nullptr, false, nullptr);  // the relay's pipeline, nothing to restore
  tap.feed(
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":20,"
      "\"cache_read_input_tokens\":4,\"cache_creation_input_tokens\":9,"
      "\"cache_creation\":{\"ephemeral_5m_input_tokens\":6,\"ephemeral_1h_input_tokens\":3},\"output_tokens\":1}}}\n\n");
  tap.feed("event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":42}}\n\n");
  CHECK(tap.usage().usage().input == 20);
  CHECK(tap.usage().usage().cached == 4);
  CHECK(tap.usage().usage().cache_write == 9);
  CHECK(tap.usage().usage().cache_write_1h == 3);
  CHECK(tap.usage().usage().output == 42);
}

TEST_CASE("names_usage_object tells usage objects from usage:null without parsing") {
  CHECK(names_usage_object("{\"usage\":{\"input_tokens\":1}}"));
  CHECK_FALSE(names_usage_object("{\"usage\": null}"));
  CHECK_FALSE(names_usage_object("{\"text\":\"no counts\"}"));
  CHECK(names_usage_object("{\"usage\":null,\"response\":{\"usage\":{\"input_tokens\":1}}}"));
}
