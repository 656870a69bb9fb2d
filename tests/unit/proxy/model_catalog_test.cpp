// proxy/model_catalog: reading an upstream's model list, which comes from outside.
#include <catch2/catch.hpp>

#include "proxy/model_catalog.h"

using x420::proxy::parse_model_ids;
using Ids = x420::proxy::ModelCatalog::Ids;

TEST_CASE("model ids come from an OpenAI- or Anthropic-shaped list, in its order", "[proxy]") {
  CHECK(parse_model_ids(R"({"object":"list","data":[{"id":"gpt-4o","object":"model"},{"id":"o3"}]})") ==
        Ids{"gpt-4o", "o3"});
  CHECK(parse_model_ids(R"({"data":[{"type":"model","id":"claude-sonnet-4-5"}],"has_more":false})") ==
        Ids{"claude-sonnet-4-5"});
}

TEST_CASE("anything else in a model list is left out, never guessed at", "[proxy]") {
  CHECK(parse_model_ids("").empty());
  CHECK(parse_model_ids("not json").empty());
  CHECK(parse_model_ids(R"([{"id":"x"}])").empty());
  CHECK(parse_model_ids(R"({"data":{"id":"x"}})").empty());
  // Ids a client could not send back as a model: not strings, empty, too long, with spaces or
  // control characters.
  const std::string long_id(201, 'a');
  CHECK(parse_model_ids(R"({"data":[{"id":7},{"id":""},{"id":"has space"},{"id":"tab\t"},{"id":"ok-1"},"x",null,{"id":")" +
                        long_id + R"("}]})") == Ids{"ok-1"});
}
