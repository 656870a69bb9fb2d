#include "proxy/stream_events.h"

#include <catch2/catch.hpp>

using namespace x420::proxy;
using json = nlohmann::ordered_json;

namespace {

EventRole classify(const char* event) { return classify_event(json::parse(event)); }

}  // namespace

TEST_CASE("OpenAI chat events: content, reasoning and each tool call's arguments are channels of their choice") {
  const auto role = classify(R"({"choices":[{"index":0,"delta":{"content":"a","reasoning_content":"r",
      "tool_calls":[{"index":2,"function":{"arguments":"{\"x\""}}]}},{"index":1,"delta":{"content":"b"},"finish_reason":"stop"}]})");
  REQUIRE(role.deltas.size() == 4);
  CHECK(role.deltas[0].channel == "c0//delta/content");
  CHECK(role.deltas[0].kind == DeltaKind::text);
  CHECK(role.deltas[0].where.to_string() == "/choices/0/delta/content");
  CHECK(role.deltas[1].kind == DeltaKind::reasoning);
  CHECK(role.deltas[2].channel == "c0/tool/2");
  CHECK(role.deltas[2].kind == DeltaKind::tool_arguments);
  CHECK(role.deltas[2].json_text());
  CHECK_FALSE(role.deltas[0].json_text());
  CHECK(role.deltas[3].channel == "c1//delta/content");
  CHECK(role.closes == std::vector<std::string>{"c1/"});  // finish_reason closes its choice only
  CHECK_FALSE(role.ends_all);
}

TEST_CASE("completions text, Anthropic blocks and Responses deltas are classified by kind") {
  CHECK(classify(R"({"choices":[{"text":"t"}]})").deltas.at(0).kind == DeltaKind::text);

  const auto thinking = classify(R"({"type":"content_block_delta","index":3,"delta":{"type":"thinking_delta","thinking":"hm"}})");
  REQUIRE(thinking.deltas.size() == 1);
  CHECK(thinking.deltas[0].channel == "a3/");
  CHECK(thinking.deltas[0].kind == DeltaKind::reasoning);
  CHECK(classify(R"({"type":"content_block_delta","index":1,"delta":{"partial_json":"{"}})").deltas.at(0).kind ==
        DeltaKind::tool_arguments);
  CHECK(classify(R"({"type":"content_block_stop","index":1})").closes == std::vector<std::string>{"a1/"});
  CHECK(classify(R"({"type":"message_stop"})").ends_all);

  const auto text = classify(R"({"type":"response.output_text.delta","item_id":"m","content_index":0,"delta":"hi"})");
  REQUIRE(text.deltas.size() == 1);
  CHECK(text.deltas[0].channel == "rm:0/");
  CHECK(text.deltas[0].kind == DeltaKind::text);
  CHECK(classify(R"({"type":"response.function_call_arguments.delta","item_id":"f","delta":"{"})").deltas.at(0).kind ==
        DeltaKind::tool_arguments);
  CHECK(classify(R"({"type":"response.reasoning_summary_text.delta","item_id":"r","delta":"s"})").deltas.at(0).kind ==
        DeltaKind::other);
  CHECK(classify(R"({"type":"response.output_item.done","item":{"id":"m"}})").closes == std::vector<std::string>{"rm:"});
  CHECK(classify(R"({"type":"response.completed"})").ends_all);
}

TEST_CASE("events of unexpected types carry nothing and throw nothing") {
  for (const char* odd : {R"({"choices":7})", R"({"choices":[1,"x",null]})", R"({"choices":[{"delta":{"content":5}}]})",
                          R"({"choices":[{"delta":{"tool_calls":{"0":1}}}]})", R"({"type":7})",
                          R"({"type":"content_block_delta","delta":"x"})", R"({"type":"response.output_text.delta","delta":{}})",
                          R"({"type":"response.output_item.done","item":3})", R"([])", R"("x")"}) {
    INFO(odd);
    EventRole role;
    REQUIRE_NOTHROW(role = classify(odd));
    CHECK(role.deltas.empty());
  }
}
