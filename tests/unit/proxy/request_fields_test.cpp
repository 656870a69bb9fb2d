// proxy/request_fields: the body's top-level fields read from the one redaction walk, refused by
// name when of the wrong type, and the edit that asks an OpenAI stream for its usage.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "lib/detect/json_body.h"
#include "proxy/request_fields.h"

using namespace x420;
using namespace x420::proxy;

namespace {

Result<RequestFields> read(std::string_view body) {
  RequestFieldReader reader(body);
  // The walk refuses a key given twice on its own; without that check, the reader still does.
  detect::JsonLimits lax;
  lax.refuse_duplicate_keys = false;
  const auto error = detect::walk_json_strings(
      body, detect::ApiShape::openai_chat, [](auto, const auto&) {}, lax,
      [&](std::string_view key, std::size_t b, std::size_t e) { reader.member(key, b, e); });
  REQUIRE_FALSE(error);
  return reader.finish();
}

}  // namespace

TEST_CASE("request fields come from the walk: model, stream, output limits, stream_options", "[proxy]") {
  const auto f = read(R"( {"messages":[{"role":"user","content":"{\"stream\":false}"}],"model":"gpt-\u0034o",
                          "stream":true,"max_tokens":10,"max_completion_tokens":300,
                          "stream_options":{"include_usage":true},"nested":{"stream":"no"}})");
  REQUIRE(f);
  CHECK(f->model == "gpt-4o");
  CHECK(f->stream);
  CHECK(f->max_output == 300);
  CHECK(f->include_usage);
  CHECK(f->stream_options);
}

TEST_CASE("request fields of the wrong type are refused naming the field", "[proxy]") {
  for (const auto& [body, field] : std::vector<std::pair<std::string, std::string>>{
           {R"({"stream":"true"})", "stream"},
           {R"({"stream":1})", "stream"},
           {R"({"max_tokens":"5"})", "max_tokens"},
           {R"({"max_output_tokens":1.5})", "max_output_tokens"},
           {R"({"max_completion_tokens":-1})", "max_completion_tokens"},
           {R"({"stream_options":[]})", "stream_options"},
           {R"({"stream_options":{"include_usage":1}})", "include_usage"},
           {R"({"model":5})", "model"},
           {R"({"model":"a","model":"b"})", "model"}}) {
    INFO(body);
    const auto f = read(body);
    REQUIRE_FALSE(f);
    CHECK(f.error().kind == ErrorKind::usage);
    CHECK(f.error().message.find(field + "`") != std::string::npos);
  }
  CHECK(read(R"({"stream":null,"max_tokens":null,"model":null})"));
}

TEST_CASE("the stream usage edit asks for usage whatever stream_options held", "[proxy]") {
  for (std::string body : {R"({"model":"m","stream":true})", R"( {})", R"({"stream_options":{}})",
                           R"({"stream_options":null,"x":1})", R"({"stream_options":{"include_usage":false,"other":2}})"}) {
    INFO(body);
    const auto f = read(body);
    REQUIRE(f);
    const auto edit = stream_usage_edit(body, *f, f->stream_options);
    REQUIRE(edit);
    const auto out = nlohmann::json::parse(apply_edits(body, {*edit}));
    CHECK(out["stream_options"]["include_usage"] == true);
    if (body.find("other") != std::string::npos) CHECK(out["stream_options"]["other"] == 2);
  }
  const std::string asked = R"({"stream_options":{"include_usage":true}})";
  CHECK_FALSE(stream_usage_edit(asked, *read(asked), read(asked)->stream_options));
}
