#include <catch2/catch.hpp>

#include "lib/detect/engine.h"
#include "lib/detect/prefilter_pattern.h"
#include "lib/detect/redactor.h"
#include "lib/detect/validators.h"

using namespace x420;
using namespace x420::detect;

namespace {

Rule rule(std::string id, std::string regex, int group = 0) {
  Rule r;
  r.id = std::move(id);
  r.regex = std::move(regex);
  r.secret_group = group;
  r.keywords = {"x"};
  return r;
}

std::unique_ptr<Engine> build(EngineConfig config) {
  auto e = Engine::build(std::move(config));
  if (!e) FAIL(e.error().message);
  return std::move(e.value());
}

std::unique_ptr<Engine> builtin_engine() {
  EngineConfig c;
  c.rules = builtin_rule_file().rules;
  c.allowlist = builtin_rule_file().allowlist;
  return build(std::move(c));
}

const std::string kGithub = "ghp_" + std::string("aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A");  // 36 chars

}  // namespace

TEST_CASE("findings are byte spans of the secret group, with a fingerprint") {
  EngineConfig c;
  c.rules = {rule("t.assign", R"(token=([a-z0-9]{12}))", 1)};
  auto e = build(std::move(c));
  auto s = e->make_scratch();
  const std::string text = "a\ntoken=abcdef123456\n";
  auto f = e->scan(text, *s);
  REQUIRE(f.size() == 1);
  CHECK(text.substr(f[0].start, f[0].end - f[0].start) == "abcdef123456");
  CHECK(text.substr(f[0].match_start, f[0].match_end - f[0].match_start) == "token=abcdef123456");
  CHECK(f[0].fingerprint.size() == 16);
  CHECK(e->scan("a\ntoken=abcdef123456\n", *s)[0].fingerprint == f[0].fingerprint);
}

TEST_CASE("every occurrence is found, also far apart in a large input") {
  auto e = builtin_engine();
  auto s = e->make_scratch();
  std::string text;
  for (int i = 0; i < 50; ++i) text += std::string(10000, 'x') + "\n" + kGithub + "\n";
  CHECK(e->scan(text, *s).size() == 50);
}

TEST_CASE("overlapping findings resolve to the most specific rule") {
  EngineConfig c;
  Rule generic = rule("generic.any", R"re(secret = "([A-Za-z0-9_]{20,60})")re", 1);
  generic.entropy_min = 1.0;
  c.rules = {generic, rule("github.pat", R"(ghp_[A-Za-z0-9]{36})")};
  auto e = build(std::move(c));
  auto s = e->make_scratch();
  auto f = e->scan("secret = \"" + kGithub + "\"", *s);
  REQUIRE(f.size() == 1);
  CHECK(e->rule(f[0].rule).id == "github.pat");
}

TEST_CASE("entropy, length and stopwords gate generic findings") {
  EngineConfig c;
  Rule r = rule("generic.password", R"(password=(\S{4,64}))", 1);
  r.entropy_min = 3.0;
  r.min_len = 8;
  c.rules = {r};
  c.allowlist.stopwords = {"changeme"};
  auto e = build(std::move(c));
  auto s = e->make_scratch();
  CHECK(e->scan("password=aaaaaaaaaaaa", *s).empty());          // low entropy
  CHECK(e->scan("password=x9!Q", *s).empty());                  // too short
  CHECK(e->scan("password=CHANGEME-please-9x!", *s).empty());   // stopword, any case
  CHECK(e->scan("password=Tr0ub4dor&3-horse", *s).size() == 1);
}

TEST_CASE("allowlisted values, regexes, fingerprints and inline markers are accepted") {
  EngineConfig base;
  base.rules = {rule("github.pat", R"(ghp_[A-Za-z0-9]{36})")};
  auto plain = build(EngineConfig{base.rules, {}, {}, {}, true, nullptr});
  auto s0 = plain->make_scratch();
  const auto fp = plain->scan(kGithub, *s0).at(0).fingerprint;

  auto with = [&](AllowlistSpec a) { return build(EngineConfig{base.rules, std::move(a), {}, {}, true, nullptr}); };
  auto by_value = with(AllowlistSpec{{}, {}, {kGithub}, {}, {}});
  auto by_regex = with(AllowlistSpec{{}, {"^ghp_aB3d"}, {}, {}, {}});
  auto by_fp = with(AllowlistSpec{{}, {}, {}, {}, {fp}});
  for (auto* e : {by_value.get(), by_regex.get(), by_fp.get()}) {
    auto s = e->make_scratch();
    CHECK(e->scan("t = " + kGithub, *s).empty());
  }
  CHECK(plain->scan("t = " + kGithub + " // x420:allow", *s0).empty());
  CHECK(plain->scan("t = " + kGithub + "\n// x420:allow on the next line does not count", *s0).size() == 1);
}

TEST_CASE("known secrets are found exactly, and short ones are refused") {
  EngineConfig c;
  c.rules = {rule("noop.rule", "zzzz_never_zzzz")};
  c.known_secrets = {{"env:DB_PASSWORD", "correct horse battery"}};
  auto e = build(std::move(c));
  auto s = e->make_scratch();
  const std::string text = "the password is correct horse battery, right?";
  auto f = e->scan(text, *s);
  REQUIRE(f.size() == 1);
  CHECK(e->rule(f[0].rule).id == "known_secret");
  CHECK(e->rule(f[0].rule).description.find("env:DB_PASSWORD") != std::string::npos);
  CHECK(text.substr(f[0].start, f[0].end - f[0].start) == "correct horse battery");

  EngineConfig shortc;
  shortc.rules = {rule("noop.rule", "zzzz_never_zzzz")};
  shortc.known_secrets = {{"env:PIN", "1234"}};
  auto refused = Engine::build(std::move(shortc));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("env:PIN") != std::string::npos);
}

TEST_CASE("a rule whose regex does not compile is refused with its id") {
  EngineConfig c;
  c.rules = {rule("user.broken", "(unclosed")};
  auto e = Engine::build(std::move(c));
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().message.find("rule user.broken") != std::string::npos);
  EngineConfig empty;
  empty.rules = {rule("user.empty", "a*")};
  CHECK(Engine::build(std::move(empty)).error().message.find("empty") != std::string::npos);
}

TEST_CASE("a vendor token with a bad checksum is still reported, marked as such") {
  auto e = builtin_engine();
  auto s = e->make_scratch();
  auto f = e->scan("token " + kGithub, *s);
  REQUIRE(f.size() == 1);
  CHECK(f[0].checksum_failed);
  CHECK(f[0].confidence == Confidence::low);
}

TEST_CASE("a secret split across two stream chunks is found once, at its absolute offset") {
  auto e = builtin_engine();
  auto s = e->make_scratch();
  const std::string text = std::string(5000, 'a') + " " + kGithub + " " + std::string(3000, 'b');
  for (std::size_t cut : {5001ul, 5010ul, 5020ul, 5040ul, 5041ul, 2000ul}) {
    StreamScanner stream(*e, *s);
    std::vector<Finding> found;
    auto collect = [&](const Finding& f, std::string_view) { found.push_back(f); };
    stream.feed(std::string_view(text).substr(0, cut), collect);
    stream.feed(std::string_view(text).substr(cut), collect);
    stream.finish(collect);
    INFO("cut at " << cut);
    REQUIRE(found.size() == 1);
    CHECK(found[0].start == 5001);
    CHECK(found[0].end == 5001 + kGithub.size());
  }
}

TEST_CASE("a stream fed byte by byte keeps bounded memory and finds each secret once") {
  auto e = builtin_engine();
  auto s = e->make_scratch();
  std::string text;
  for (int i = 0; i < 3; ++i) text += "line " + std::to_string(i) + " " + kGithub + "\n";
  StreamScanner stream(*e, *s);
  int count = 0;
  for (char c : text) stream.feed(std::string_view(&c, 1), [&](const Finding&, std::string_view) { ++count; });
  stream.finish([&](const Finding&, std::string_view) { ++count; });
  CHECK(count == 3);
}

TEST_CASE("redaction masks or pseudonymizes each span, and the restorer undoes it across chunks") {
  auto e = builtin_engine();
  auto s = e->make_scratch();
  const std::string text = "use " + kGithub + " and " + kGithub + " please";
  const auto found = e->scan(text, *s);
  REQUIRE(found.size() == 2);
  CHECK(redact(text, found, *e, RedactMode::mask, nullptr, nullptr).text ==
        "use [REDACTED:github.pat] and [REDACTED:github.pat] please");

  Pseudonymizer p(crypto::SecretBytes(reinterpret_cast<const std::uint8_t*>("0123456789abcdef0123456789abcdef"), 32));
  PlaceholderMap map;
  const auto red = redact(text, found, *e, RedactMode::pseudonymize, &p, &map);
  CHECK(red.replaced == 2);
  CHECK(map.size() == 1);
  CHECK(red.text.find(kGithub) == std::string::npos);
  const auto placeholder = map.entries().begin()->first;
  CHECK(placeholder.starts_with("X420_REDACTED_github_pat_"));
  CHECK(placeholder.size() == std::string("X420_REDACTED_github_pat_").size() + 8);

  for (std::size_t cut = 0; cut <= red.text.size(); ++cut) {
    Restorer r(map);
    std::string out = r.feed(std::string_view(red.text).substr(0, cut));
    out += r.feed(std::string_view(red.text).substr(cut));
    out += r.finish();
    INFO("cut at " << cut);
    REQUIRE(out == text);
  }
}

TEST_CASE("the restorer escapes for JSON strings and leaves unknown placeholders alone") {
  PlaceholderMap map;
  map.add("X420_REDACTED_generic_password_0a1b2c3d", "p\"w\\d\n");
  CHECK(restore("{\"a\":\"X420_REDACTED_generic_password_0a1b2c3d\"}", map, Restorer::Escape::json_string) ==
        "{\"a\":\"p\\\"w\\\\d\\n\"}");
  CHECK(restore("X420_REDACTED_generic_password_0a1b2c3d_suffix", map) == "p\"w\\d\n_suffix");
  CHECK(restore("X420_REDACTED_other_rule_ffffffff stays", map) == "X420_REDACTED_other_rule_ffffffff stays");
  CHECK(restore("partial X420_REDAC", map) == "partial X420_REDAC");
}

TEST_CASE("structural validators decide") {
  CHECK(luhn_valid("4111111111111111"));
  CHECK(luhn_valid("4111-1111-1111-1111"));
  CHECK_FALSE(luhn_valid("4111111111111112"));
  CHECK(iban_valid("GB82WEST12345698765432"));
  CHECK(iban_valid("GB82 WEST 1234 5698 7654 32"));
  CHECK_FALSE(iban_valid("GB82WEST12345698765433"));
  CHECK(jwt_shaped("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"));
  CHECK_FALSE(jwt_shaped("eyJub3RhbGciOjF9.eyJzdWIiOiIxIn0.c2ln"));
  CHECK(shannon_entropy("aaaa") == 0);
  CHECK(shannon_entropy("abcd") == Approx(2.0));
}

TEST_CASE("prefilter patterns relax large counted repeats and nothing else") {
  CHECK(relax_for_prefilter("ghp_[A-Za-z0-9]{36}") == "ghp_[A-Za-z0-9]{16,}");
  CHECK(relax_for_prefilter("a{2,8}b{64,8000}") == "a{2,8}b{16,}");
  CHECK(relax_for_prefilter("x{30,}") == "x{16,}");
  CHECK(relax_for_prefilter(R"(\{40\}[{]{40})") == R"(\{40\}[{]{16,})");
  CHECK(relax_for_prefilter("[a{40}]") == "[a{40}]");
  CHECK(relax_for_prefilter("a{,5}{x}") == "a{,5}{x}");
  CHECK(relax_for_prefilter("[a-z]{0,40}mail[a-z]{0,30}") == "[a-z]*mail[a-z]*");
  CHECK(relax_for_prefilter("x{0,5}") == "x{0,5}");
}

TEST_CASE("a match far into the input behind two large {0,N} repeats is found") {
  // vectorscan 5.4.9 misses this one when compiled as written; the relaxed prefilter finds it.
  EngineConfig c;
  c.rules = {rule("php.mailer", R"(\$[a-z]{0,40}mail[a-z]{0,30}->Password)")};
  auto e = build(std::move(c));
  auto s = e->make_scratch();
  CHECK(e->scan(std::string(64, 'x') + "\n$mail->Password", *s).size() == 1);
}

TEST_CASE("rule files report the line of a syntax error and unknown fields") {
  auto syntax = parse_rule_file("[[rule]]\nid = \"a\"\nregex = \"b\"\nbroken = = 1\n", "user.toml");
  REQUIRE_FALSE(syntax.ok());
  CHECK(syntax.error().message.starts_with("user.toml:4"));
  auto unknown = parse_rule_file("[[rule]]\nid = \"a\"\nregex = \"b\"\ncolour = \"red\"\n", "user.toml");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message.find("colour") != std::string::npos);
  auto misspelt = parse_rule_file("[[rule]]\nid = \"a.b\"\nregex = \"b\"\nexample = [\"b\"]\n", "user.toml");
  REQUIRE_FALSE(misspelt.ok());
  CHECK(misspelt.error().message ==
        "user.toml:4: rule a.b: unknown field 'example' (did you mean 'examples'?)");
  auto dup = parse_rule_file("[[rule]]\nid = \"a\"\nregex = \"b\"\n[[rule]]\nid = \"a\"\nregex = \"c\"\n", "u.toml");
  CHECK(dup.error().message.find("twice") != std::string::npos);
  auto ok = parse_rule_file("[[rule]]\nid = \"a.b\"\nregex = \"b+\"\nseverity = \"low\"\n[allowlist]\nvalues = [\"x\"]\n", "u.toml");
  REQUIRE(ok.ok());
  CHECK(ok->rules.at(0).severity == Severity::low);
  CHECK(ok->allowlist.values.at(0) == "x");
}

TEST_CASE("reading a rule file goes on past a bad rule, and merging refuses a taken id") {
  std::vector<RuleFileIssue> issues;
  const auto file = read_rule_file(
      "[[rule]]\nid = \"a.one\"\nregex = \"b\"\nseverity = \"urgent\"\n"
      "[[rule]]\nid = \"a.two\"\nregex = \"c\"\n"
      "[[rule]]\nid = \"a.three\"\n"
      "[allowlist]\ncolour = []\n",
      "u.toml", issues);
  REQUIRE(issues.size() == 3);
  CHECK(issues[0].rule.empty());  // toml++ orders keys: [allowlist] is read before [[rule]]
  CHECK(issues[0].message.find("unknown allowlist field 'colour'") != std::string::npos);
  CHECK(issues[1].rule == "a.one");
  CHECK(issues[1].message.starts_with("u.toml:4: rule a.one: severity"));
  CHECK(issues[2].message == "u.toml:8: rule a.three needs a regex");
  REQUIRE(file.rules.size() == 1);
  CHECK(file.rules[0].id == "a.two");

  RuleFile into = file;
  RuleFile more;
  more.rules = {file.rules[0], file.rules[0]};
  more.rules[1].id = "a.four";
  more.allowlist.values = {"v"};
  const auto taken = merge_rule_file(into, more, "more.toml");
  REQUIRE(taken.size() == 1);
  CHECK(taken[0].rule == "a.two");
  CHECK(taken[0].message.starts_with("more.toml: rule id 'a.two' is already defined"));
  REQUIRE(into.rules.size() == 2);
  CHECK(into.rules[1].id == "a.four");
  CHECK(into.allowlist.values == std::vector<std::string>{"v"});
}

TEST_CASE("placeholder mappings age out by generations unless used again") {
  PlaceholderMap map;
  REQUIRE(map.add("X420_REDACTED_a_00000001", "first"));
  REQUIRE(map.add("X420_REDACTED_b_00000002", "second"));
  map.next_generation();  // both now in the previous generation: still restored
  CHECK(map.size() == 2);
  CHECK(*map.find("X420_REDACTED_a_00000001") == "first");
  REQUIRE(map.add("X420_REDACTED_a_00000001", "first"));  // seen again: young again
  CHECK_FALSE(map.add("X420_REDACTED_b_00000002", "other"));  // a placeholder never changes meaning
  map.next_generation();
  CHECK(map.find("X420_REDACTED_a_00000001") != nullptr);
  CHECK(map.find("X420_REDACTED_b_00000002") == nullptr);  // unused for two generations: gone
  map.next_generation();
  CHECK(map.size() == 0);
}

TEST_CASE("the placeholder map keeps within its budget, forgetting the least recently used") {
  PlaceholderMap by_count(PlaceholderMap::Budget{.max_entries = 3, .max_bytes = 1 << 20});
  for (int i = 0; i < 5; ++i) REQUIRE(by_count.add("X420_REDACTED_a_0000000" + std::to_string(i), "secret" + std::to_string(i)));
  CHECK(by_count.size() == 3);
  CHECK(by_count.evicted() == 2);
  CHECK(by_count.find("X420_REDACTED_a_00000000") == nullptr);
  REQUIRE(by_count.add("X420_REDACTED_a_00000002", "secret2"));  // used again: now the most recent
  REQUIRE(by_count.add("X420_REDACTED_a_00000009", "secret9"));
  CHECK(by_count.find("X420_REDACTED_a_00000002") != nullptr);
  CHECK(by_count.find("X420_REDACTED_a_00000003") == nullptr);

  const std::size_t per_entry = 24 + 100 + PlaceholderMap::kEntryOverhead;
  PlaceholderMap by_bytes(PlaceholderMap::Budget{.max_entries = 1000, .max_bytes = 10 * per_entry});
  for (int i = 0; i < 100; ++i) by_bytes.add("X420_REDACTED_b_" + std::to_string(10000000 + i), std::string(100, 'x'));
  CHECK(by_bytes.size() == 10);
  CHECK(by_bytes.bytes() <= 10 * per_entry);
  CHECK(by_bytes.entries().front().first == "X420_REDACTED_b_10000099");
}
