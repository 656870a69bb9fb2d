#include <catch2/catch.hpp>

#include "lib/detect/context_rule.h"
#include "support/engines.h"

using namespace x420;
using namespace x420::detect;

namespace {

constexpr std::string_view kValue = "q8v2m0x7r4k9p1z6w3n5b8c2d4f6h0j1";  // 32 of [a-z0-9]

// An engine of the rules of a rule file's text.
std::unique_ptr<Engine> engine_of(std::string_view rule_file) {
  auto file = parse_rule_file(rule_file, "test.toml");
  if (!file) FAIL(file.error().message);
  EngineConfig c;
  c.rules = file.value().rules;
  return test::build(std::move(c));
}

std::unique_ptr<Engine> adafruit_engine() {
  return engine_of(R"(
[[rule]]
id = 'adafruit.api_key'
context = ['adafruit']
value = '[a-z0-9_-]{32}'
examples = ['adafruit_key = "q8v2m0x7r4k9p1z6w3n5b8c2d4f6h0j1"']
)");
}

// The value found, or "" when nothing is.
std::string found_in(const Engine& e, const std::string& text) {
  auto scratch = e.make_scratch();
  const auto f = e.scan(text, *scratch);
  if (f.empty()) return "";
  return text.substr(f.front().start, f.front().end - f.front().start);
}

}  // namespace

TEST_CASE("a context rule finds its value under every spelling of the name, in every syntax") {
  const auto e = adafruit_engine();
  const std::string v(kValue);
  const std::vector<std::string> texts = {
      "adafruitToken=\"" + v + "\"",                          // INI, camelCase
      "ADAFRUIT_API_KEY=" + v,                                 // .env, UPPER
      "adafruit-io-key: " + v,                                 // YAML, kebab
      "{\"adafruit_token\": \"" + v + "\"}",                   // JSON
      "{\"cfg\": \"ADAFRUIT_TOKEN=" + v + "\\nDEBUG=1\"}",     // escaped newline in JSON
      "<adafruitToken>" + v + "</adafruitToken>",              // XML element
      "<adafruitToken>\n    " + v + "\n</adafruitToken>",      // ... on lines of its own
      "<add key=\"AdafruitKey\" value=\"" + v + "\" />",       // XML attribute
      "adafruit_token = \"" + v + "\"",                        // TOML
      "adafruitToken := \"" + v + "\"",                        // Go
      "var adafruitToken string = \"" + v + "\"",              // Go, typed
      "val adafruitToken: String = \"" + v + "\"",             // Kotlin, typed
      "ADAFRUIT_TOKEN ::= " + v,                               // Make
      "ADAFRUIT_TOKEN ?= '" + v + "'",                         // Make
      "$adafruitToken .= '" + v + "';",                        // PHP
      "'adafruit_key' => '" + v + "',",                        // PHP array
      "\"adafruitToken\" -> \"" + v + "\"",                    // arrow
      "System.setProperty(\"ADAFRUIT_TOKEN\", \"" + v + "\")", // function argument
      "Client(adafruit_key=b'" + v + "')",                     // Python bytes, keyword argument
      "https://io.example.com/feeds?adafruit_key=" + v + "&x=1",  // URL query
      "curl -H \"X-Adafruit-Key: " + v + "\" https://io.example.com",  // header
      "tool --adafruit-key " + v + " --verbose",               // CLI flag
      "ENV ADAFRUIT_KEY " + v,                                 // Dockerfile
      "adafruit_token: |\n  " + v + "\n",                      // YAML block scalar
      "env:\n  - name: ADAFRUIT_TOKEN\n    value: " + v,        // Kubernetes env
      "my adafruit io key is " + v + ", please check it",      // prose
      "secret for adafruit: " + v,                             // secret word first
  };
  for (const auto& t : texts) {
    INFO(t);
    CHECK(found_in(*e, t) == v);
  }
}

TEST_CASE("a context rule wants the vendor, a secret word and a value of the exact shape") {
  const auto e = adafruit_engine();
  const std::string v(kValue);
  CHECK(found_in(*e, "adafruit_url = \"" + v + "\"").empty());          // no secret word
  CHECK(found_in(*e, "github_token = \"" + v + "\"").empty());          // no vendor word
  CHECK(found_in(*e, "adafruit_token = \"" + v + "abc\"").empty());     // longer than the shape
  CHECK(found_in(*e, "adafruit_token = \"" + v.substr(0, 31) + "\"").empty());
  CHECK(found_in(*e, "adafruit_token = \"ABCDEFGHIJKLMNOPQRSTUVWXYZ123456\"").empty());  // a placeholder run
  CHECK(found_in(*e, "adafruit_token = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"").empty());
}

TEST_CASE("a context word's underscore stands for any separator, and each spelling is a keyword") {
  const auto k = context_keywords({"new_relic"});
  CHECK(k == std::vector<std::string>{"newrelic", "new_relic", "new-relic", "new.relic", "new relic"});
  CHECK(context_word_problem("new_relic").empty());
  CHECK_FALSE(context_word_problem("NewRelic").empty());
  CHECK_FALSE(context_word_problem("_x").empty());
  CHECK_FALSE(context_word_problem("a").empty());
}

TEST_CASE("a rule file's context rule is refused when it is malformed, naming the rule and the reason") {
  auto with = [](const std::string& body) {
    return parse_rule_file("[[rule]]\nid = 'v.key'\n" + body, "r.toml");
  };
  const std::string ex = "examples = ['vendor_key = abcdefghij0123456789']\n";
  auto a = with("context = ['vendor']\nregex = 'x'\nvalue = '[a-z]{8}'\n" + ex);
  REQUIRE_FALSE(a.ok());
  CHECK_THAT(a.error().message, Catch::Contains("v.key") && Catch::Contains("not a regex"));
  auto b = with("context = ['vendor']\n" + ex);
  REQUIRE_FALSE(b.ok());
  CHECK_THAT(b.error().message, Catch::Contains("needs a value"));
  auto c = with("context = ['Vendor!']\nvalue = '[a-z]{8}'\n" + ex);
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(c.error().message, Catch::Contains("context word"));
  auto d = with("value = '[a-z]{8}'\nregex = 'x'\nkeywords = ['x']\n" + ex);
  REQUIRE_FALSE(d.ok());
  CHECK_THAT(d.error().message, Catch::Contains("value is for context rules"));
}

// With many context rules (the built-in set), the engine looks for their vendor words only just
// before where a context gate matched (Engine::build): this holds it to finding every match
// however the text around it lies. linear.client_secret is one of them: 'linear' and 32 hex.
TEST_CASE("a gated context rule is found wherever it stands among other assignments") {
  auto e = test::builtin_engine();
  auto scratch = e->make_scratch();
  const std::string v = "3f9c1a7e5b2d4c6f8a0e1b3d5f7a9c2e";
  // Lines the gates match (a secret word, an operator and a value) without a vendor word, dense.
  std::string noise;
  for (int i = 0; i < 40; ++i) noise += "private_key_" + std::to_string(i) + " = \"abcdefgh12345678\"\n";
  const std::vector<std::string> lines = {
      "linear_client_secret = \"" + v + "\"\n",           // the vendor first
      "secret for the linear app: " + v + "\n",             // the secret word first
      "LINEAR_CLIENT_SECRET " + v + "\n",                   // spaces only
      "- name: LINEAR_SECRET\n  value: " + v + "\n",        // the value on the next line
  };
  std::string text;
  std::size_t expected = 0;
  for (int round = 0; round < 3; ++round)
    for (const auto& line : lines) {
      text += noise.substr(0, static_cast<std::size_t>(round) * 333 % noise.size());
      text += line;
      ++expected;
    }
  // Two on one line: the second's window overlaps the first's.
  text += "linear_secret=" + v + " linear_token=" + v + "\n";
  expected += 2;
  const auto f = e->scan(text, *scratch);
  CHECK(f.size() == expected);
  for (const auto& finding : f) CHECK(text.substr(finding.start, finding.end - finding.start) == v);
  // At the very start of the buffer, and split into segments with the match in the second.
  const std::string first = "linear_secret: " + v;
  CHECK(found_in(*e, first) == v);
  const std::string joined = noise + first;
  const std::vector<std::uint64_t> starts = {0, noise.size()};
  CHECK(e->scan(joined, *scratch, starts).size() == 1);
  // A match may not reach across segments: the name in one, the value in the next.
  const std::vector<std::uint64_t> cut = {0, 10};
  CHECK(e->scan(first, *scratch, cut).empty());
}

TEST_CASE("a context rule whose values the gates cannot see is still found by its vendor words") {
  // Four digits: shorter than the value a gate wants after its operator.
  auto e = engine_of("[[rule]]\nid = 'acme.pin'\ncontext = ['acme']\nvalue = '[0-9]{4}'\nexamples = ['acme_key = 4821']\n");
  CHECK(found_in(*e, std::string(5000, ' ') + "\nACME_KEY = 7392\n") == "7392");
  CHECK(found_in(*e, "the acme key is 7392 now") == "7392");
}

TEST_CASE("the context gates match every syntax a context rule is written in") {
  // Each gate is a superset of one of the ways a context regex gives a value; this holds them
  // to the syntaxes of the first test case, checked on their own.
  const auto gates = context_gate_regexes();
  REQUIRE(gates.size() == 3);
  const std::string v(kValue);
  const std::vector<std::string> forms = {
      "adafruitToken := \"" + v + "\"",       "<adafruit_token>" + v + "</adafruit_token>",
      "setProperty(\"ADAFRUIT_TOKEN\", \"" + v + "\")", "--adafruit-token " + v,
      "adafruit_key = b'" + v + "'",          "\\\"adafruit_key\\\": \\\"" + v + "\\\"",
      "Authorization for adafruit: Bearer " + v, "adafruit_key <- \"" + v + "\"",
      "variable \"adafruit_token\" {\n  default = \"" + v + "\"", "adafruit_token: |\n  " + v,
      "my adafruit key is " + v,              "var adafruitKey string = \"" + v + "\"",
  };
  for (const auto& form : forms) {
    EngineConfig c;
    for (std::size_t i = 0; i < gates.size(); ++i) {
      Rule r;
      r.id = "gate" + std::to_string(i);
      r.regex = gates[i];
      c.rules.push_back(r);
    }
    auto e = test::build(std::move(c));
    auto scratch = e->make_scratch();
    INFO(form);
    CHECK_FALSE(e->scan(form, *scratch).empty());
  }
}
