// detect/json_restore: placeholders restored inside JSON with the secret escaped for where it
// lands, so tool-call arguments (JSON inside a string) still parse.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "lib/detect/json_body.h"
#include "lib/detect/json_restore.h"

using namespace x420;

TEST_CASE("restored secrets keep JSON and JSON-inside-a-string valid", "[detect][restore]") {
  const std::string placeholder = "X420_REDACTED_known_secret_0a1b2c3d";
  for (const std::string secret : {"line\nbreak", "quo\"te", "back\\slash", "sl/ash", "n\u00f6n-\u00e4scii \U0001F600",
                                   "-----BEGIN KEY-----\nabc\n-----END KEY-----\n"}) {
    INFO(secret);
    detect::PlaceholderMap map;
    REQUIRE(map.add(placeholder, secret));
    const nlohmann::json args = {{"text", "use " + placeholder + " now"}};
    const nlohmann::json reply = {
        {"choices", {{{"message", {{"content", "say " + placeholder},
                                   {"tool_calls", {{{"function", {{"name", "run"}, {"arguments", args.dump()}}}}}}}}}}},
        {"output", {{{"type", "function_call"}, {"arguments", args.dump()}}}}};
    const auto restored = nlohmann::json::parse(detect::restore_json(reply.dump(), map));
    CHECK(restored["choices"][0]["message"]["content"] == "say " + secret);
    const auto call_args = nlohmann::json::parse(restored["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"].get<std::string>());
    CHECK(call_args["text"] == "use " + secret + " now");
    CHECK(nlohmann::json::parse(restored["output"][0]["arguments"].get<std::string>())["text"] == "use " + secret + " now");
  }
}

TEST_CASE("restore_json leaves text without placeholders and survives what is not JSON", "[detect][restore]") {
  detect::PlaceholderMap map;
  REQUIRE(map.add("X420_REDACTED_x_0a1b2c3d", "s\"ecret"));
  CHECK(detect::restore_json(R"({"a": 1,  "b":"plain"})", map) == R"({"a": 1,  "b":"plain"})");
  const std::string deep = std::string(100000, '[') + "\"X420_REDACTED_x_0a1b2c3d\"" + std::string(100000, ']');
  CHECK(detect::restore_json(deep, map).find("s\\\"ecret") != std::string::npos);  // one level, no recursion
  CHECK(detect::restore_json("not json X420_REDACTED_x_0a1b2c3d", map) == "not json s\\\"ecret");
  CHECK(detect::json_nesting_within("[[[\"]]]]]]\"]]]", 3));
  CHECK_FALSE(detect::json_nesting_within("[[[[]]]]", 3));
}
