#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "lib/common/json_text.h"
#include "lib/crypto/base64.h"
#include "lib/detect/json_body.h"

using namespace x420;
using namespace x420::detect;

namespace {

// Split so this file is not itself a finding.
const std::string kGithub = "ghp_" + std::string("aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A");
const std::string kAws = "AKIA" + std::string("Q3ZR7XW2LPMN4TUV");
const std::string kOpenAI = "sk-proj-" + std::string("MaABvMQ5w_yxPDrufMwZAPo_d888VBCGEwI166wfPW269CZNFHsml8EUannh8l2C9BuBBDHz_JT3BlbkFJCJwj9IBRTl");
const std::string kAnthropic = "sk-ant-" + std::string("api03-BQN_4SlXCeqpG6hrzzGsZOLeW4x_gXh4CxgYcGfoAjv_46AoYqGbGa9DAc9MzpRYS6N4zotxVr_y0Y4MeJhmtCVvT55bNAA");
const std::string kPassword = "Tr0ub4dor&3xyz";
// A PEM key as it stands inside a JSON string: newlines are "\n" escapes.
const std::string kPemEscaped =
    "-----BEGIN " "PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\\n"
    "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\\n-----END PRIVATE KEY-----";

const std::string kMaskGithub = "[REDACTED:github.pat]";
const std::string kMaskAws = "[REDACTED:aws.access_key_id]";
const std::string kMaskPassword = "[REDACTED:generic.password_quoted]";

const Engine& builtin() {
  static const std::unique_ptr<Engine> engine = [] {
    EngineConfig c;
    c.rules = builtin_rule_file().rules;
    c.allowlist = builtin_rule_file().allowlist;
    auto e = Engine::build(std::move(c));
    if (!e) throw std::runtime_error(e.error().message);
    return std::move(e.value());
  }();
  return *engine;
}

// Small and quick: registered secrets with the characters JSON must escape, and one rule whose
// match crosses a line.
const Engine& escapes_engine() {
  static const std::unique_ptr<Engine> engine = [] {
    EngineConfig c;
    Rule cross;
    cross.id = "test.cross";
    cross.regex = "zz\\nyy[a-z]{6}";
    cross.keywords = {"zz"};
    c.rules = {cross};
    c.known_secrets = {{"env:DB_PASSWORD", "Sup3r\"Secret\\Pass/42"},
                       {"env:QUOTE_FIRST", "\"quoted-start-9Kq"},
                       {"env:HALF_CHAR", "token-caf\xC3"},
                       {"env:HALF_EMOJI", "\x80tail-Zq8x"}};
    auto e = Engine::build(std::move(c));
    if (!e) throw std::runtime_error(e.error().message);
    return std::move(e.value());
  }();
  return *engine;
}

// Replaces each {NAME} in `t` with its value.
std::string fill(std::string t, const std::map<std::string, std::string>& values) {
  for (const auto& [name, value] : values) {
    const std::string marker = "{" + name + "}";
    for (std::size_t at = t.find(marker); at != std::string::npos; at = t.find(marker, at + value.size()))
      t.replace(at, marker.size(), value);
  }
  return t;
}

BodyRedaction redact_ok(const std::string& body, ApiShape shape, const Engine& e = builtin(),
                        RedactMode mode = RedactMode::mask, const Pseudonymizer* p = nullptr,
                        PlaceholderMap* map = nullptr) {
  auto scratch = e.make_scratch();
  auto r = redact_body(body, shape, e, *scratch, mode, p, map);
  if (!r) FAIL(r.error().message);
  CHECK_NOTHROW(nlohmann::json::parse(r->body));
  return std::move(r.value());
}

std::optional<JsonError> walk(std::string_view body, const JsonLimits& limits = {}) {
  return walk_json_strings(body, ApiShape::openai_chat, [](JsonPath, const StringValue&) {}, limits);
}

// path → carries_user_text (keys of free-form objects marked with a trailing '@')
std::map<std::string, bool> classify(std::string_view body, ApiShape shape) {
  std::map<std::string, bool> out;
  auto e = walk_json_strings(body, shape, [&](JsonPath path, const StringValue& v) {
    out[path_string(path) + (v.is_key ? "@" : "")] = v.carries_user_text;
  });
  if (e) FAIL("walk failed at " << e->offset << ": " << e->reason);
  return out;
}

Pseudonymizer test_pseudonymizer() {
  return Pseudonymizer(crypto::SecretBytes(reinterpret_cast<const std::uint8_t*>("0123456789abcdef0123456789abcdef"), 32));
}

// A tiny base64 "image" with a secret-shaped run inside ('+' gives it word boundaries).
const std::string kPngWithRun = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB+" + kAws + "+CAYAAAAfFcSJAAAADUlEQVR42mNk";

}  // namespace

// ---- The walk ----

TEST_CASE("the walk reports each string value with its path and raw span") {
  const std::string body = R"({"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"a\"b"}]}],"n":1})";
  std::vector<std::pair<std::string, std::string>> seen;
  auto e = walk_json_strings(body, ApiShape::openai_chat, [&](JsonPath path, const StringValue& v) {
    seen.emplace_back(path_string(path), body.substr(v.begin, v.end - v.begin));
  });
  REQUIRE_FALSE(e);
  // Keys too, each just before its value.
  using P = std::pair<std::string, std::string>;
  CHECK(seen == std::vector<P>{P{"model", "model"}, P{"model", "gpt-4o"}, P{"messages", "messages"},
                               P{"messages[0].role", "role"}, P{"messages[0].role", "user"},
                               P{"messages[0].content", "content"}, P{"messages[0].content[0].type", "type"},
                               P{"messages[0].content[0].type", "text"}, P{"messages[0].content[0].text", "text"},
                               P{"messages[0].content[0].text", "a\\\"b"}, P{"n", "n"}});
}

TEST_CASE("the walk accepts what RFC 8259 accepts") {
  for (const char* ok : {"{}", "[]", "0", "-0", "-0.5e+10", "1E5", "12.25", "true", "false", "null",
                         "\"\"", " \t\r\n{ \"a\" : [ 1 , { } , [ ] , \"x\" ] } \n",
                         "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"", "\"\\ud800 lone\"",
                         "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"", "[[[[[]]]]]"}) {
    INFO(ok);
    CHECK_FALSE(walk(ok));
  }
}

TEST_CASE("the walk refuses malformed JSON with the offset and a reason") {
  struct Case {
    std::string body;
    std::size_t offset;
  };
  const std::vector<Case> cases = {
      {"", 0},          {"   ", 3},          {"{", 1},           {"[1,", 3},
      {"{\"a\":1,}", 7}, {"[1,]", 3},         {"[1 2]", 3},        {"{\"a\" 1}", 5},
      {"{a:1}", 1},     {"\"abc", 4},        {"\"a\\x\"", 2},     {"\"a\\u12G4\"", 2},
      {"\"a\\u12", 2},  {"\"a\tb\"", 2},     {"\"a\nb\"", 2},     {"01", 1},
      {"1.", 2},        {"-", 1},            {"1e", 2},           {"1e+", 3},
      {".5", 0},        {"+1", 0},           {"tru", 0},          {"nul", 0},
      {"{\"a\":1} x", 8}, {"{} {}", 3},       {"\xEF\xBB\xBF{}", 0}, {"{,}", 1},
      {"[\"a\" \"b\"]", 5}, {"\"\\", 1},      {"{\"a\":}", 5},     {"[}", 1},
      {std::string("\"a\0b\"", 5), 2}, {"\x80", 0},
      // Not UTF-8 (RFC 8259 section 8.1): the offset is the string's opening quote.
      {"\"caf\xC3\xA9 \xFF\xFE\"", 0}, {"{\"a\":\"\xC3\"}", 5}, {"[\"\xC0\xAF\"]", 1},
      {"\"\xED\xA0\x80\"", 0},    {"\"\xF4\x90\x80\x80\"", 0}, {"{\"\xFF\":1}", 1},
  };
  for (const auto& c : cases) {
    INFO("body: " << c.body);
    auto e = walk(c.body);
    REQUIRE(e);
    CHECK(e->offset == c.offset);
    CHECK_FALSE(e->reason.empty());
  }
}

TEST_CASE("nesting is bounded without recursion: a depth bomb is an error, not a crash") {
  CHECK(walk(std::string(100'000, '['))->reason == "nesting deeper than the limit");
  std::string objects;
  for (int i = 0; i < 100'000; ++i) objects += "{\"a\":";
  CHECK(walk(objects)->offset == 64 * 5);
  CHECK_FALSE(walk(std::string(64, '[') + std::string(64, ']')));
  CHECK(walk(std::string(65, '[') + std::string(65, ']'))->offset == 64);
  JsonLimits shallow;
  shallow.max_depth = 2;
  CHECK_FALSE(walk("[[1]]", shallow));
  CHECK(walk("[[[1]]]", shallow));
}

TEST_CASE("a body over the size limit is refused before it is read") {
  JsonLimits small;
  small.max_bytes = 10;
  CHECK_FALSE(walk("[1,2,3,4]", small));
  auto e = walk("[1,2,3,4,5]", small);
  REQUIRE(e);
  CHECK(e->offset == 10);
}

TEST_CASE("every proper prefix of a request body is refused") {
  const std::string body = fill(R"({"model":"gpt-4o","messages":[{"role":"user","content":"x {GH} \u00e9 \n"}],"temperature":0.5,"stream":true})", {{"GH", kGithub}});
  REQUIRE_FALSE(walk(body));
  for (std::size_t n = 0; n < body.size(); ++n) {
    INFO("prefix of " << n);
    CHECK(walk(body.substr(0, n)));
  }
}

// ---- The policy ----

TEST_CASE("OpenAI chat: every string and key is text but model and media payloads") {
  const std::string body = R"({"model":"gpt-4o","messages":[
    {"role":"system","content":"be brief"},
    {"role":"user","name":"alice","content":[{"type":"text","text":"hi"},
      {"type":"image_url","image_url":{"url":"data:image/png;base64,)" + kPngWithRun + R"(","detail":"low"}},
      {"type":"image_url","image_url":{"url":"https://example.com/a.png?sig=abc"}},
      {"type":"input_audio","input_audio":{"data":"UklGRiQAAABXQVZF","format":"wav"}},
      {"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0xLjQK","filename":"a.pdf"}}]},
    {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"q\":1}"}}]},
    {"role":"tool","tool_call_id":"call_1","content":"result"}],
    "tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{"model":{"type":"string"}}}}}],
    "stop":["END"],"user":"u-1","metadata":{"user_id":"x"},"reasoning_effort":"low"})";
  const auto c = classify(body, ApiShape::openai_chat);
  CHECK_FALSE(c.at("model"));
  CHECK(c.at("messages[0].role"));  // enumerations are scanned too: no rule matches their words
  CHECK(c.at("messages[0].content"));
  CHECK(c.at("messages[0].content@"));  // and the keys
  CHECK(c.at("messages[1].name"));
  CHECK(c.at("messages[1].content[0].type"));
  CHECK(c.at("messages[1].content[0].text"));
  CHECK_FALSE(c.at("messages[1].content[1].image_url.url"));
  CHECK(c.at("messages[1].content[1].image_url.detail"));
  CHECK(c.at("messages[1].content[2].image_url.url"));  // a URL can carry a signature
  CHECK_FALSE(c.at("messages[1].content[3].input_audio.data"));
  CHECK(c.at("messages[1].content[3].input_audio.format"));
  CHECK_FALSE(c.at("messages[1].content[4].file.file_data"));
  CHECK(c.at("messages[1].content[4].file.filename"));
  CHECK(c.at("messages[2].tool_calls[0].id"));  // ids come back: one placeholder keeps them paired
  CHECK(c.at("messages[2].tool_calls[0].function.name"));
  CHECK(c.at("messages[2].tool_calls[0].function.arguments"));
  CHECK(c.at("messages[3].tool_call_id"));
  CHECK(c.at("tools[0].function.description"));
  // Inside a JSON schema the keys are the developer's: "type" and "model" there are text.
  CHECK(c.at("tools[0].function.parameters.type"));
  CHECK(c.at("tools[0].function.parameters.properties.model.type"));
  CHECK(c.at("tools[0].function.parameters.properties@"));
  CHECK(c.at("stop[0]"));
  CHECK(c.at("user"));
  CHECK(c.at("metadata.user_id"));
  CHECK(c.at("metadata.user_id@"));
  CHECK(c.at("reasoning_effort"));
}

TEST_CASE("a string that merely starts with data: is text") {
  const auto c = classify(R"({"messages":[{"role":"user","content":"data: my key is below"},{"role":"user","content":"data:text/plain,hello"},{"role":"user","content":"data:image/png;base64,not base64!"}]})", ApiShape::openai_chat);
  CHECK(c.at("messages[0].content"));
  CHECK(c.at("messages[1].content"));
  CHECK(c.at("messages[2].content"));
}

TEST_CASE("Anthropic: source.data is media only when its sibling type says base64, in any order") {
  const std::string body = R"({"model":"claude-sonnet-4-5","system":[{"type":"text","text":"s"}],"messages":[{"role":"user","content":[
      {"type":"image","source":{"data":"iVBORw0KGgo","media_type":"image/png","type":"base64"}},
      {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo"}},
      {"type":"document","source":{"data":"plain","type":"text","media_type":"text/plain"}},
      {"type":"document","source":{"type":"text","media_type":"text/plain","data":"Zm9vYmFy"}},
      {"type":"image","source":{"type":"url","url":"https://x/y.png"}},
      {"type":"redacted_thinking","data":"EmwKAhgBEgy3"},
      {"data":"EmwKAhgBEgy3","type":"redacted_thinking"},
      {"type":"thinking","thinking":"hmm","signature":"EqQBCgIYAhIM"},
      {"type":"tool_use","id":"toolu_1","name":"deploy","input":{"model":"m","type":"t","data":"d"}},
      {"type":"tool_result","tool_use_id":"toolu_1","content":"done"}]}],
    "metadata":{"user_id":"u"},"stop_sequences":["\n\nHuman:"]})";
  for (auto shape : {ApiShape::anthropic_messages, ApiShape::anthropic_count_tokens}) {
    const auto c = classify(body, shape);
    CHECK(c.at("system[0].text"));
    CHECK_FALSE(c.at("messages[0].content[0].source.data"));  // decided when the object closed
    CHECK_FALSE(c.at("messages[0].content[1].source.data"));
    CHECK(c.at("messages[0].content[2].source.data"));        // a plain-text document
    CHECK(c.at("messages[0].content[3].source.data"));        // base64-looking, but type text
    CHECK(c.at("messages[0].content[4].source.url"));
    CHECK_FALSE(c.at("messages[0].content[5].data"));
    CHECK_FALSE(c.at("messages[0].content[6].data"));
    CHECK(c.at("messages[0].content[7].thinking"));
    CHECK_FALSE(c.at("messages[0].content[7].signature"));
    CHECK(c.at("messages[0].content[8].id"));
    CHECK(c.at("messages[0].content[8].name"));
    CHECK(c.at("messages[0].content[8].input.model"));  // the tool's input: the user's keys
    CHECK(c.at("messages[0].content[8].input.type"));
    CHECK(c.at("messages[0].content[8].input.data"));
    CHECK(c.at("messages[0].content[8].input.model@"));
    CHECK(c.at("messages[0].content[9].tool_use_id"));
    CHECK(c.at("metadata.user_id"));
    CHECK(c.at("stop_sequences[0]"));
  }
}

TEST_CASE("keys written with escapes are recognised by what they mean") {
  const auto c = classify(R"({"\u006dodel":"m","messages":[{"content":[{"\u0074ype":"image","source":{"data":"QUJD","type":"\u0062ase64"}}]}]})", ApiShape::anthropic_messages);
  CHECK_FALSE(c.at("\\u006dodel"));
  CHECK_FALSE(c.at("messages[0].content[0].source.data"));
}

TEST_CASE("Responses, embeddings and completions: inputs and prompts are text") {
  auto r = classify(R"({"model":"gpt-4.1","instructions":"i","input":[{"role":"user","content":[{"type":"input_text","text":"t"},{"type":"input_image","image_url":"data:image/jpeg;base64,/9j/4AAQ"},{"type":"input_file","file_id":"file-1"}]},{"type":"function_call","call_id":"c1","name":"n","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"o"},{"type":"reasoning","id":"rs_1","encrypted_content":"gAAAAB"}],"previous_response_id":"resp_1"})", ApiShape::openai_responses);
  CHECK(r.at("instructions"));
  CHECK(r.at("input[0].role"));
  CHECK(r.at("input[0].role@"));
  CHECK(r.at("input[0].content[0].text"));
  CHECK_FALSE(r.at("input[0].content[1].image_url"));
  CHECK(r.at("input[0].content[2].file_id"));
  CHECK(r.at("input[1].call_id"));
  CHECK(r.at("input[1].arguments"));
  CHECK(r.at("input[2].output"));
  CHECK_FALSE(r.at("input[3].encrypted_content"));
  CHECK(r.at("previous_response_id"));
  CHECK(classify(R"({"model":"m","input":"hello"})", ApiShape::openai_responses).at("input"));

  auto e = classify(R"({"model":"text-embedding-3-small","input":["a","b"],"encoding_format":"float","user":"u"})", ApiShape::openai_embeddings);
  CHECK(e.at("input[0]"));
  CHECK(e.at("input[1]"));
  CHECK(e.at("encoding_format"));
  CHECK(e.at("user"));

  auto p = classify(R"({"model":"gpt-3.5-turbo-instruct","prompt":["a"],"suffix":"s","stop":"\n"})", ApiShape::openai_completions);
  CHECK(p.at("prompt[0]"));
  CHECK(p.at("suffix"));
  CHECK(p.at("stop"));
}

// ---- Redaction ----

TEST_CASE("OpenAI chat: secrets in messages and in tool-call arguments are replaced in place") {
  const std::string t = R"({"model": "gpt-4o", "messages": [
  {"role": "system", "content": "You are a deploy bot.\nToken:\n{GH}"},
  {"role": "user", "content": [{"type": "text", "text": "deploy with {AWS}"},
    {"type": "image_url", "image_url": {"url": "data:image/png;base64,{PNG}"}}]},
  {"role": "assistant", "content": null, "tool_calls": [{"id": "call_abc123", "type": "function",
    "function": {"name": "run_sql", "arguments": "{\"query\": \"select 1\", \"password\": \"{PW}\"}"}}]},
  {"role": "tool", "tool_call_id": "call_abc123", "content": "ok"}],
 "tools": [{"type": "function", "function": {"name": "run_sql", "description": "Runs SQL",
   "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}}],
 "temperature": 0.2, "max_tokens": 1024, "stop": ["\n\nEND"], "user": "user-42"})";
  const std::string body = fill(t, {{"GH", kGithub}, {"AWS", kAws}, {"PNG", kPngWithRun}, {"PW", kPassword}});
  const auto r = redact_ok(body, ApiShape::openai_chat);
  CHECK(r.body == fill(t, {{"GH", kMaskGithub}, {"AWS", kMaskAws}, {"PNG", kPngWithRun}, {"PW", kMaskPassword}}));
  CHECK(r.redactions == 3);
  // The image's bytes are untouched although they hold a key-shaped run the engine would find.
  auto scratch = builtin().make_scratch();
  REQUIRE(builtin().scan(kPngWithRun, *scratch).size() == 1);
  CHECK(r.body.find(kPngWithRun) != std::string::npos);
  // The arguments are still JSON inside the JSON.
  const auto args = nlohmann::json::parse(
      nlohmann::json::parse(r.body)["messages"][2]["tool_calls"][0]["function"]["arguments"].get<std::string>());
  CHECK(args["password"] == kMaskPassword);
}

TEST_CASE("block mode gets each rule and raw offset, never the secret") {
  const std::string body = fill(R"({"model":"gpt-4o","messages":[{"role":"user","content":"a {GH}\nb {AWS}"}]})", {{"GH", kGithub}, {"AWS", kAws}});
  const auto r = redact_ok(body, ApiShape::openai_chat);
  REQUIRE(r.findings.size() == 2);
  CHECK(r.findings[0].first == "github.pat");
  CHECK(body.compare(r.findings[0].second, kGithub.size(), kGithub) == 0);
  CHECK(r.findings[1].first == "aws.access_key_id");
  CHECK(body.compare(r.findings[1].second, kAws.size(), kAws) == 0);
}

TEST_CASE("Responses: input as a string and as items, reasoning and images untouched") {
  const std::string t1 = R"({"model":"gpt-4.1","input":"here is {AWS}","store":false})";
  CHECK(redact_ok(fill(t1, {{"AWS", kAws}}), ApiShape::openai_responses).body == fill(t1, {{"AWS", kMaskAws}}));

  const std::string t2 = R"({"model":"gpt-4.1","instructions":"Be brief.","input":[
    {"role":"user","content":[{"type":"input_text","text":"my token\n{GH}"},
      {"type":"input_image","image_url":"data:image/jpeg;base64,{PNG}"}]},
    {"type":"function_call","call_id":"call_1","name":"lookup","arguments":"{\"key\":\"{AWS}\"}"},
    {"type":"function_call_output","call_id":"call_1","output":"found {GH}"},
    {"type":"reasoning","id":"rs_1","encrypted_content":"gAAAAB{PNG}"}],
    "previous_response_id":"resp_123"})";
  const auto r = redact_ok(fill(t2, {{"GH", kGithub}, {"AWS", kAws}, {"PNG", kPngWithRun}}), ApiShape::openai_responses);
  CHECK(r.body == fill(t2, {{"GH", kMaskGithub}, {"AWS", kMaskAws}, {"PNG", kPngWithRun}}));
  CHECK(r.redactions == 3);
}

TEST_CASE("embeddings and completions: every input and prompt string is scanned") {
  const std::string e = R"({"model":"text-embedding-3-small","input":["first {GH}","second {AWS}"],"encoding_format":"float"})";
  CHECK(redact_ok(fill(e, {{"GH", kGithub}, {"AWS", kAws}}), ApiShape::openai_embeddings).body ==
        fill(e, {{"GH", kMaskGithub}, {"AWS", kMaskAws}}));
  const std::string c = R"({"model":"gpt-3.5-turbo-instruct","prompt":["Complete: {GH}","x"],"suffix":"{AWS}","stop":["\n"],"max_tokens":16})";
  CHECK(redact_ok(fill(c, {{"GH", kGithub}, {"AWS", kAws}}), ApiShape::openai_completions).body ==
        fill(c, {{"GH", kMaskGithub}, {"AWS", kMaskAws}}));
}

TEST_CASE("Anthropic messages: system, tool_use input and documents redacted, media and signatures not") {
  const std::string t = R"({"model":"claude-sonnet-4-5","max_tokens":1024,
 "system":"You help with ops.\nANTHROPIC key:\n{ANT}",
 "messages":[
  {"role":"user","content":[
    {"type":"image","source":{"data":"{PNG}","media_type":"image/png","type":"base64"}},
    {"type":"image","source":{"type":"base64","media_type":"image/png","data":"{PNG}"}},
    {"type":"document","source":{"type":"text","media_type":"text/plain","data":"creds: {AWS}"}},
    {"type":"text","text":"deploy please, token {GH}"}]},
  {"role":"assistant","content":[
    {"type":"thinking","thinking":"The user shared a token.","signature":"EqQBCgIYAhIM{PNG}"},
    {"type":"redacted_thinking","data":"EmwKAhgBEgy3{PNG}"},
    {"type":"tool_use","id":"toolu_01","name":"deploy","input":{"model":"{OAI}","env":{"password":"{PW}"}}}]},
  {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":"deployed with {AWS}"}]}],
 "tools":[{"name":"deploy","description":"Deploys","input_schema":{"type":"object","properties":{"model":{"type":"string"}}}}],
 "metadata":{"user_id":"{GH}"}})";
  const std::map<std::string, std::string> real = {{"ANT", kAnthropic}, {"PNG", kPngWithRun}, {"AWS", kAws},
                                                   {"GH", kGithub}, {"OAI", kOpenAI}, {"PW", kPassword}};
  const std::map<std::string, std::string> masked = {
      {"ANT", "[REDACTED:anthropic.api_key]"}, {"PNG", kPngWithRun}, {"AWS", kMaskAws}, {"GH", kMaskGithub},
      {"OAI", "[REDACTED:openai.project_key]"}, {"PW", kMaskPassword}};
  for (auto shape : {ApiShape::anthropic_messages, ApiShape::anthropic_count_tokens}) {
    const auto r = redact_ok(fill(t, real), shape);
    CHECK(r.body == fill(t, masked));
    CHECK(r.redactions == 7);
  }

  const std::string blocks = R"({"model":"claude-haiku-4-5","system":[{"type":"text","text":"key {AWS}","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"hi"}]})";
  CHECK(redact_ok(fill(blocks, real), ApiShape::anthropic_messages).body == fill(blocks, masked));
}

TEST_CASE("a secret in a non-text field is not user text and stays") {
  const std::string body = fill(R"({"model":"{GH}","messages":[{"role":"user","content":"hi"}]})", {{"GH", kGithub}});
  const auto r = redact_ok(body, ApiShape::openai_chat);
  CHECK(r.body == body);
  CHECK(r.redactions == 0);
}

TEST_CASE("a PEM key written with \\n escapes is found and replaced whole") {
  const std::string t = R"({"model":"gpt-4o","messages":[{"role":"user","content":"Why does this fail?\n{PEM}\n\nThanks"}]})";
  const auto r = redact_ok(fill(t, {{"PEM", kPemEscaped}}), ApiShape::openai_chat);
  CHECK(r.body == fill(t, {{"PEM", "[REDACTED:private_key.pkcs8]"}}));
}

TEST_CASE("numbers, whitespace and key order go through byte for byte") {
  const std::string t = "{ \"z\" : 1.50E+3 ,\n\t\"a\":[ -0 , 1e-7 ,true,null ],\"messages\" : [ {\"content\" :  \"x {GH} y\"\t} ] ,\"model\":\"m\" }\r\n";
  CHECK(redact_ok(fill(t, {{"GH", kGithub}}), ApiShape::openai_chat).body == fill(t, {{"GH", kMaskGithub}}));
  const std::string clean = R"({"b":2,"a":1.0,"messages":[{"role":"user","content":"nothing here \u00e9\/"}]})";
  CHECK(redact_ok(clean, ApiShape::openai_chat).body == clean);
}

TEST_CASE("a span that starts or ends inside an escape is widened to the whole escape") {
  const Engine& e = escapes_engine();
  // Decoded: Sup3r"Secret\Pass/42 — three escapes inside the secret.
  {
    const std::string t = R"({"messages":[{"role":"user","content":"db: {S}!"}]})";
    const auto r = redact_ok(fill(t, {{"S", R"(Sup3r\"Secret\\Pass\/42)"}}), ApiShape::openai_chat, e);
    CHECK(r.body == fill(t, {{"S", "[REDACTED:known_secret]"}}));
  }
  // The secret starts with '"': the whole \" goes, no lone backslash is left behind.
  {
    const std::string t = R"({"messages":[{"role":"user","content":"x {S}\" y"}]})";
    const auto r = redact_ok(fill(t, {{"S", R"(\"quoted-start-9Kq)"}}), ApiShape::openai_chat, e);
    CHECK(r.body == fill(t, {{"S", "[REDACTED:known_secret]"}}));
  }
  // It ends in the middle of é: as \u00e9 the whole escape goes, as raw UTF-8 the whole character.
  for (const std::string& s : {std::string("token-caf\\u00e9"), std::string("token-caf\xC3\xA9")}) {
    const std::string t = R"({"messages":[{"role":"user","content":"a {S} b"}]})";
    const auto r = redact_ok(fill(t, {{"S", s}}), ApiShape::openai_chat, e);
    CHECK(r.body == fill(t, {{"S", "[REDACTED:known_secret]"}}));
  }
  // It starts in the last byte of an emoji written as a surrogate pair: the pair goes.
  {
    const std::string t = R"({"messages":[{"role":"user","content":"a {S} b"}]})";
    const auto r = redact_ok(fill(t, {{"S", R"(\ud83d\ude00tail-Zq8x)"}}), ApiShape::openai_chat, e);
    CHECK(r.body == fill(t, {{"S", "[REDACTED:known_secret]"}}));
  }
}

TEST_CASE("a match across two values is not a secret of either") {
  const std::string body = R"({"messages":[{"role":"user","content":"aa zz"},{"role":"user","content":"yyqmvkrt"}]})";
  auto scratch = escapes_engine().make_scratch();
  REQUIRE(escapes_engine().scan("aa zz\nyyqmvkrt", *scratch).size() == 1);
  const auto r = redact_ok(body, ApiShape::openai_chat, escapes_engine());
  CHECK(r.body == body);
}

TEST_CASE("pseudonymize records the decoded secret, so restoring gives back the same JSON") {
  const Pseudonymizer p = test_pseudonymizer();
  PlaceholderMap map;
  const std::string body = fill(
      R"({"model":"gpt-4o","messages":[{"role":"user","content":"key:\n{PEM}\nand {GH} twice {GH}"}]})",
      {{"PEM", kPemEscaped}, {"GH", kGithub}});
  const auto r = redact_ok(body, ApiShape::openai_chat, builtin(), RedactMode::pseudonymize, &p, &map);
  CHECK(r.redactions == 3);
  CHECK(map.size() == 2);  // the same secret gets the same placeholder
  CHECK(r.body.find(kGithub) == std::string::npos);
  CHECK(r.body.find("BEGIN PRIVATE KEY") == std::string::npos);
  bool pem_has_newlines = false;
  for (const auto& [placeholder, secret] : map.entries()) {
    CHECK(placeholder.rfind(kPlaceholderPrefix, 0) == 0);
    if (secret.find("PRIVATE KEY") != std::string::npos) pem_has_newlines = secret.find('\n') != std::string::npos;
  }
  CHECK(pem_has_newlines);
  CHECK(nlohmann::json::parse(restore(r.body, map, Restorer::Escape::json_string)) == nlohmann::json::parse(body));

  // Quotes, backslashes and slashes: escaped again on the way back.
  PlaceholderMap map2;
  const std::string quoted = R"({"messages":[{"role":"user","content":"db: Sup3r\"Secret\\Pass\/42!"}]})";
  const auto r2 = redact_ok(quoted, ApiShape::openai_chat, escapes_engine(), RedactMode::pseudonymize, &p, &map2);
  REQUIRE(map2.size() == 1);
  CHECK(map2.entries().begin()->second == "Sup3r\"Secret\\Pass/42");
  CHECK(nlohmann::json::parse(restore(r2.body, map2, Restorer::Escape::json_string)) == nlohmann::json::parse(quoted));
}

TEST_CASE("redaction fails closed: a body it cannot parse gets an error and no body") {
  const std::string body = fill(R"({"model":"gpt-4o","messages":[{"role":"user","content":"{GH}"}]})", {{"GH", kGithub}});
  auto scratch = builtin().make_scratch();
  for (const std::string& bad : {body.substr(0, body.size() - 1), body.substr(0, 40), body + ",", std::string(100'000, '[')}) {
    auto r = redact_body(bad, ApiShape::openai_chat, builtin(), *scratch, RedactMode::mask, nullptr, nullptr);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::usage);
    CHECK(r.error().message.find("at byte ") != std::string::npos);
    CHECK(r.error().message.find(kGithub.substr(0, 10)) == std::string::npos);
  }
  JsonLimits small;
  small.max_bytes = 16;
  auto r = redact_body(body, ApiShape::openai_chat, builtin(), *scratch, RedactMode::mask, nullptr, nullptr, small);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("over the limit") != std::string::npos);
}

// ---- Arbitrary bytes (the fuzz target's diet, in small) ----

namespace {

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (n < 0 || i + n >= s.size()) return false;
    for (int k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n + 1;
  }
  return true;
}

bool has_surrogate_escape(std::string_view s) {
  return s.find("\\ud") != std::string_view::npos || s.find("\\uD") != std::string_view::npos;
}

}  // namespace

TEST_CASE("arbitrary and mutated bodies never crash, and agree with nlohmann where both apply") {
  const std::vector<std::string> seeds = {
      fill(R"({"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"a\n{GH} \"q\" \u00e9"},{"type":"image_url","image_url":{"url":"data:image/png;base64,{PNG}"}}]}],"temperature":0.7,"n":-1.5e3})", {{"GH", kGithub}, {"PNG", kPngWithRun}}),
      fill(R"({"system":[{"type":"text","text":"{AWS}"}],"messages":[{"role":"user","content":[{"type":"image","source":{"data":"{PNG}","type":"base64"}},{"type":"tool_use","id":"t","name":"n","input":{"k":["{GH}",1,true,null,{}]}}]}]})", {{"GH", kGithub}, {"AWS", kAws}, {"PNG", kPngWithRun}}),
  };
  const std::string alphabet = "{}[]\",:\\/0123456789-+.eEtrufalsn u\xC3\xA9\x01\x7F\xFF";
  std::mt19937 rng(420);
  auto scratch = builtin().make_scratch();
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string body;
    if (i % 10 == 0) {  // random bytes from a JSON-ish alphabet
      const std::size_t n = rng() % 64;
      for (std::size_t k = 0; k < n; ++k) body += alphabet[rng() % alphabet.size()];
    } else {            // a seed with a few mutations
      body = seeds[rng() % seeds.size()];
      for (int m = 1 + rng() % 3; m > 0 && !body.empty(); --m) {
        const std::size_t at = rng() % body.size();
        switch (rng() % 4) {
          case 0: body[at] = alphabet[rng() % alphabet.size()]; break;
          case 1: body.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
          case 2: body.erase(at, 1 + rng() % 4); break;
          case 3: body.resize(at); break;
        }
      }
    }
    INFO("body: " << body);
    const auto ours = walk(body);
    const bool theirs = nlohmann::json::accept(body) && body.rfind("\xEF\xBB\xBF", 0) != 0;
    if (!ours) CHECK(valid_utf8(body));  // what the walk accepts is UTF-8
    if (theirs) {
      ++accepted;
      CHECK_FALSE(ours);
    } else if (!ours) {
      // Only what RFC 8259's grammar allows and nlohmann refuses: lone surrogate escapes.
      CHECK(has_surrogate_escape(body));
    }
    if (i % 10 == 1) {
      auto r = redact_body(body, ApiShape::anthropic_messages, builtin(), *scratch, RedactMode::mask, nullptr, nullptr);
      CHECK(r.ok() == !ours);
      if (r && theirs) CHECK(nlohmann::json::accept(r->body));
    }
  }
  CHECK(accepted > 1000);  // the comparison was not vacuous
}

// ---- Issue 11: what the walk and the redaction must not let out ----

namespace {

std::string b64(std::string_view text) { return crypto::base64_encode(text, {}); }

// Decoded standard base64; "" when it is not.
std::string unb64(std::string_view text) { return crypto::base64_decode(text, {}).value_or(""); }

// Every string of a JSON document, decoded, at every level: the values and keys, and the text of
// each string that is JSON itself.
void all_strings(const nlohmann::json& j, std::vector<std::string>& out, int depth = 0) {
  if (j.is_string()) {
    out.push_back(j.get<std::string>());
    if (depth < 4) {
      const auto inner = nlohmann::json::parse(out.back(), nullptr, false);
      if (!inner.is_discarded() && (inner.is_object() || inner.is_array())) all_strings(inner, out, depth + 1);
    }
  } else if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      out.push_back(k);
      all_strings(v, out, depth);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) all_strings(v, out, depth);
  }
}

bool leaks(const std::string& body, std::string_view secret) {
  if (body.find(secret) != std::string::npos) return true;
  std::vector<std::string> strings;
  all_strings(nlohmann::json::parse(body), strings);
  for (const auto& s : strings)
    if (s.find(secret) != std::string::npos || unb64(s.substr(s.find(',') == std::string::npos ? 0 : s.find(',') + 1)).find(secret) != std::string::npos)
      return true;
  return false;
}

}  // namespace

TEST_CASE("a key given twice in one object is refused, named when it is a plain name") {
  CHECK(walk(R"({"a":1,"b":2,"a":3})")->reason == std::string_view("a key given twice in one object"));
  CHECK(walk(R"({"a":1,"b":2,"a":3})")->key == "a");
  CHECK(walk(R"({"a":1,"b":2,"a":3})")->kind == JsonError::Kind::duplicate_key);
  // The same key however it is written.
  CHECK(walk(R"({"messages":[{"type":"text","\u0074ype":"image"}]})")->key == "type");
  // Not named when it could be the user's text.
  const auto e = walk("{\"input\":{\"" + kAws + "\":1,\"" + kAws + "\":2}}");
  REQUIRE(e);
  CHECK(e->key.empty());
  // The same key in different objects is fine; so is a replies' walk that allows them.
  CHECK_FALSE(walk(R"({"a":{"a":1},"b":[{"a":1},{"a":2}]})"));
  JsonLimits lax;
  lax.refuse_duplicate_keys = false;
  CHECK_FALSE(walk(R"({"a":1,"a":2})", lax));
  // An object with many keys is checked as well.
  std::string wide = "{";
  for (int i = 0; i < 100; ++i) wide += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  CHECK_FALSE(walk(wide + "\"end\":0}"));
  CHECK(walk(wide + "\"k7\":0}"));
  // Redaction refuses it, naming the key.
  auto scratch = builtin().make_scratch();
  auto r = redact_body(R"({"model":"m","messages":[{"role":"user","content":"a","content":"b"}]})", ApiShape::openai_chat,
                       builtin(), *scratch, RedactMode::mask, nullptr, nullptr);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("\"content\"") != std::string::npos);
}

TEST_CASE("keys and ids are scanned everywhere, and one secret keeps one placeholder") {
  const Pseudonymizer p = test_pseudonymizer();
  PlaceholderMap map;
  const std::string body = fill(R"({"model":"gpt-4o","messages":[
    {"role":"assistant","content":null,"tool_calls":[{"id":"{GH}","type":"function","function":{"name":"f","arguments":"{}"}}]},
    {"role":"tool","tool_call_id":"{GH}","content":"ok","{AWS}":true}]})", {{"GH", kGithub}, {"AWS", kAws}});
  const auto r = redact_ok(body, ApiShape::openai_chat, builtin(), RedactMode::pseudonymize, &p, &map);
  CHECK_FALSE(leaks(r.body, kGithub));
  CHECK_FALSE(leaks(r.body, kAws));
  const auto doc = nlohmann::json::parse(r.body);
  CHECK(doc["messages"][0]["tool_calls"][0]["id"] == doc["messages"][1]["tool_call_id"]);
  CHECK(map.size() == 2);
}

TEST_CASE("JSON inside a string is scanned at every level, and both levels stay valid") {
  const Pseudonymizer p = test_pseudonymizer();
  // The known secret Sup3r"Secret\Pass/42 written inside arguments: its quote and backslash are
  // escaped twice, and the slash as \\\/ — a one-level scan sees none of it.
  const std::string t = R"({"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"db","arguments":"{\"dsn\": \"host=db pw={S}\", \"n\": [1, {\"deep\": \"{S}\"}]}"}}]}]})";
  const std::string body = fill(t, {{"S", R"(Sup3r\\\"Secret\\\\Pass\\\/42)"}});
  REQUIRE(nlohmann::json::parse(body).is_object());
  PlaceholderMap map;
  const auto r = redact_ok(body, ApiShape::openai_chat, escapes_engine(), RedactMode::pseudonymize, &p, &map);
  CHECK(r.redactions == 2);
  CHECK_FALSE(leaks(r.body, "Sup3r\"Secret\\Pass/42"));
  CHECK_FALSE(leaks(r.body, "Secret"));
  const auto args = nlohmann::json::parse(
      nlohmann::json::parse(r.body)["messages"][0]["tool_calls"][0]["function"]["arguments"].get<std::string>());
  CHECK(args["n"][0] == 1);
  // Restoring the arguments as the reply's restorer does gives back the original value.
  const std::string restored_args = restore(args.dump(), map, Restorer::Escape::json_string);
  CHECK(nlohmann::json::parse(restored_args)["n"][1]["deep"] == "Sup3r\"Secret\\Pass/42");

  // A string that only looks like JSON is scanned as the text it is.
  const std::string text = fill(R"({"messages":[{"role":"user","content":"{not json {AWS}}"}]})", {{"AWS", kAws}});
  CHECK(redact_ok(text, ApiShape::openai_chat).body == fill(R"({"messages":[{"role":"user","content":"{not json {AWS}}"}]})", {{"AWS", kMaskAws}}));

  // JSON in a string in a string ... more than four levels down is refused, not half-scanned.
  std::string deep = "{\"k\":1}";
  for (int i = 0; i < 5; ++i) deep = "{\"a\":\"" + x420::json_string_body(deep) + "\"}";
  auto scratch = builtin().make_scratch();
  auto refused = redact_body(deep, ApiShape::openai_chat, builtin(), *scratch, RedactMode::mask, nullptr, nullptr);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("levels deep") != std::string::npos);
}

TEST_CASE("PEM blocks: cut before their END line, or longer than any window, go whole") {
  const std::string begin = "-----BEGIN " "RSA PRIVATE KEY-----";
  std::string body64;
  for (int i = 0; i < 400; ++i) body64 += "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun" + std::to_string(i % 10) + "\\n";
  // Cut: no END line, then a second message with a key of its own.
  const std::string cut = R"({"messages":[{"role":"tool","content":")" + begin + "\\n" + body64.substr(0, 700) +
                          "[output truncated]\"},{\"role\":\"user\",\"content\":\"also " + kAws + "\"}]}";
  const auto r = redact_ok(cut, ApiShape::openai_chat);
  CHECK(r.redactions == 2);
  CHECK(r.body.find("MIIEow") == std::string::npos);
  CHECK_FALSE(leaks(r.body, kAws));
  // Long: 26,000 characters of body, END line and all.
  const std::string end = "-----END " "RSA PRIVATE KEY-----";
  const std::string long_key = R"({"messages":[{"role":"user","content":"key:\n)" + begin + "\\n" + body64 + end + "\\nthanks\"}]}";
  REQUIRE(long_key.size() > 26000);
  const auto l = redact_ok(long_key, ApiShape::openai_chat);
  CHECK(l.redactions == 1);
  CHECK(l.body == R"({"messages":[{"role":"user","content":"key:\n[REDACTED:private_key.rsa]\nthanks"}]})");
}

TEST_CASE("base64 text payloads are decoded, scanned and encoded again, media is counted") {
  const std::string env = "DEBUG=1\nAWS_ACCESS_KEY_ID=" + kAws + "\nGITHUB_TOKEN=" + kGithub + "\n";
  SECTION("Anthropic document, base64 text/plain") {
    const std::string body = R"({"model":"claude","messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"text/plain","data":")" +
                             b64(env) + R"("}},{"type":"image","source":{"data":")" + b64("\x89PNG\r\n\x1a\n\x01\x02") +
                             R"(","type":"base64","media_type":"image/png"}}]}]})";
    const auto r = redact_ok(body, ApiShape::anthropic_messages);
    CHECK(r.redactions == 2);
    CHECK(r.unscanned == 1);
    const auto data = nlohmann::json::parse(r.body)["messages"][0]["content"][0]["source"]["data"].get<std::string>();
    CHECK(unb64(data) == "DEBUG=1\nAWS_ACCESS_KEY_ID=" + kMaskAws + "\nGITHUB_TOKEN=" + kMaskGithub + "\n");
    CHECK_FALSE(leaks(r.body, kAws));
  }
  SECTION("chat file.file_data and Responses input_file.file_data as data: URLs") {
    const std::string chat = R"({"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"file","file":{"filename":".env","file_data":"data:text/plain;base64,)" + b64(env) + R"("}}]}]})";
    const auto c = redact_ok(chat, ApiShape::openai_chat);
    CHECK(c.redactions == 2);
    const auto url = nlohmann::json::parse(c.body)["messages"][0]["content"][0]["file"]["file_data"].get<std::string>();
    REQUIRE(url.rfind("data:text/plain;base64,", 0) == 0);
    CHECK(unb64(url.substr(23)).find(kMaskAws) != std::string::npos);
    const std::string responses = R"({"model":"gpt-4.1","input":[{"role":"user","content":[{"type":"input_file","filename":"c.json","file_data":"data:application\/json;base64,)" + b64("{\"token\": \"" + kGithub + "\"}") + R"("}]}]})";
    const auto rs = redact_ok(responses, ApiShape::openai_responses);
    CHECK(rs.redactions == 1);
    CHECK_FALSE(leaks(rs.body, kGithub));
  }
  SECTION("an undeclared payload that reads as text is scanned; PDF and binary are counted") {
    const std::string body = R"({"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"file","file":{"file_data":")" + b64(env) +
                             R"("}},{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0xLjQK"}},{"type":"image_url","image_url":{"url":"data:image/png;base64,)" + kPngWithRun + R"("}}]}]})";
    const auto r = redact_ok(body, ApiShape::openai_chat);
    CHECK(r.redactions == 2);
    CHECK(r.unscanned == 2);
    CHECK(r.body.find(kPngWithRun) != std::string::npos);  // media goes through byte for byte
  }
  SECTION("a payload declared as text that does not decode is refused") {
    auto scratch = builtin().make_scratch();
    auto r = redact_body(R"({"messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"text/plain","data":"QUJD="}}]}]})",
                         ApiShape::anthropic_messages, builtin(), *scratch, RedactMode::mask, nullptr, nullptr);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("does not decode") != std::string::npos);
  }
}

TEST_CASE("a secret split across adjacent text parts of one message is found in their concatenation") {
  const std::string head = kAws.substr(0, 9), tail = kAws.substr(9);
  for (auto shape : {ApiShape::openai_chat, ApiShape::anthropic_messages}) {
    const std::string body = R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"my key is )" + head +
                             R"("},{"type":"text","text":")" + tail + R"( thanks"}]}]})";
    const Pseudonymizer p = test_pseudonymizer();
    PlaceholderMap map;
    const auto r = redact_ok(body, shape, builtin(), RedactMode::pseudonymize, &p, &map);
    CHECK(r.redactions == 1);
    CHECK(r.body.find(head) == std::string::npos);
    CHECK(r.body.find(tail) == std::string::npos);
    const auto doc = nlohmann::json::parse(r.body);
    const std::string first = doc["messages"][0]["content"][0]["text"], second = doc["messages"][0]["content"][1]["text"];
    CHECK(second == " thanks");
    // The whole secret is behind the first part's placeholder.
    CHECK(restore(first, map) == "my key is " + kAws);
  }
  // Parts that are not adjacent (an image between) or in different messages are not joined.
  const std::string apart = R"({"messages":[{"role":"user","content":[{"type":"text","text":")" + head +
                            R"("},{"type":"image_url","image_url":{"url":"https://x/y.png"}},{"type":"text","text":")" + tail + R"("}]}]})";
  CHECK(redact_ok(apart, ApiShape::openai_chat).redactions == 0);
}

TEST_CASE("a secret hidden by a zero-width space, a colour code or percent-encoding is found and restored byte for byte") {
  const Pseudonymizer p = test_pseudonymizer();
  for (const std::string& hidden : {kAws.substr(0, 6) + "\\u200b" + kAws.substr(6), kAws.substr(0, 6) + "\xE2\x80\x8B" + kAws.substr(6),
                                    kAws.substr(0, 5) + "\\u001b[31m" + kAws.substr(5), "%41" + kAws.substr(1)}) {
    INFO(hidden);
    const std::string body = R"({"model":"m","messages":[{"role":"user","content":"deploy with )" + hidden + R"( please"}]})";
    PlaceholderMap map;
    const auto r = redact_ok(body, ApiShape::openai_chat, builtin(), RedactMode::pseudonymize, &p, &map);
    CHECK(r.redactions == 1);
    CHECK(r.body.find(kAws.substr(8)) == std::string::npos);
    // Restoring gives back exactly what was sent, the hiding characters included.
    CHECK(nlohmann::json::parse(restore(r.body, map, Restorer::Escape::json_string)) == nlohmann::json::parse(body));
  }
}
