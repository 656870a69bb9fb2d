// proxy/admit: the first step of a request, socket-free: authenticate, parse once and redact,
// route, limit and freeze. Run on a real store and the built-in rules, no network.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "lib/detect/rule.h"
#include "proxy/admit.h"
#include "support/service_fixture.h"

using namespace x420;
using namespace x420::proxy;

namespace {

std::shared_ptr<const detect::Engine> engine() {
  static const std::shared_ptr<const detect::Engine> e = [] {
    detect::EngineConfig c;
    c.rules = detect::builtin_rule_file().rules;
    c.allowlist = detect::builtin_rule_file().allowlist;
    auto built = detect::Engine::build(std::move(c));
    REQUIRE(built);
    return std::shared_ptr<const detect::Engine>(std::move(built.value()));
  }();
  return e;
}

struct AdmitFixture : test::ServiceFixture {
  ServeConfig config;
  std::unique_ptr<Proxy> proxy;
  std::string key;
  std::string capped;

  AdmitFixture() {
    auto svc = as_operator();
    REQUIRE(svc.add_upstream("default", {"mock", "openai", "http://127.0.0.1:9/v1", {"gpt-*"}, "sk-upstream"}));
    key = svc.create_key("default", {.name = "plain"})->plaintext;
    capped = svc.create_key("default", {.name = "capped", .cap_usd_micros = 1000})->plaintext;  // $0.001
    proxy = std::make_unique<Proxy>(config, open, engine());
  }

  std::variant<Admission, Refusal> admit_chat(const std::string& body, const std::string& bearer, Outcome& outcome) {
    Request req{http::verb::post, "/v1/chat/completions", 11};
    req.set(http::field::authorization, "Bearer " + bearer);
    req.body() = body;
    return admit(*proxy, req, *find_endpoint("/v1/chat/completions"), outcome);
  }
};

const Refusal& refused(const std::variant<Admission, Refusal>& r) {
  REQUIRE(std::holds_alternative<Refusal>(r));
  return std::get<Refusal>(r);
}
const Admission& admitted(const std::variant<Admission, Refusal>& r) {
  if (auto* no = std::get_if<Refusal>(&r)) FAIL("refused " << no->status << ": " << no->message);
  return std::get<Admission>(r);
}

}  // namespace

TEST_CASE("admit refuses a missing or unknown key the same way", "[proxy][admit]") {
  AdmitFixture f;
  Outcome o1, o2;
  CHECK(refused(f.admit_chat(R"({"model":"gpt-4o"})", "", o1)).status == 401);
  CHECK(refused(f.admit_chat(R"({"model":"gpt-4o"})", "x420_AAAAAAAAAAAA_nope", o2)).status == 401);
  CHECK_FALSE(o2.key);
}

TEST_CASE("admit redacts in the one walk and reads the fields from it", "[proxy][admit]") {
  AdmitFixture f;
  Outcome outcome;
  const std::string secret = "ghp_" + std::string("aB3dE5gH7jK9mN1pQ3sT5vX7zA9cD1fG3hJ5");
  const auto r = f.admit_chat(R"({"model":"mock/gpt-4o","stream":true,"max_tokens":7,)"
                              R"("messages":[{"role":"user","content":"token )" + secret + R"("}]})", f.key, outcome);
  const Admission& a = admitted(r);
  CHECK(a.body.find(secret) == std::string::npos);
  CHECK(outcome.redactions == 1);
  CHECK(a.placeholders != nullptr);
  CHECK(a.fields.stream);
  CHECK(a.fields.max_output == 7);
  CHECK(a.estimate.max_output_tokens == 7);
  CHECK(outcome.model == "gpt-4o");  // routed by upstream/model
  const auto sent = nlohmann::json::parse(a.body);
  CHECK(sent["model"] == "gpt-4o");
  CHECK(sent["stream_options"]["include_usage"] == true);  // asked for, to settle the cost
  CHECK(outcome.usage_injected);
}

TEST_CASE("admit refuses fields of the wrong type and unknown models before reserving anything", "[proxy][admit]") {
  AdmitFixture f;
  Outcome o1, o2;
  const auto result = f.admit_chat(R"({"model":"gpt-4o","stream":"true","messages":[]})", f.key, o1);
  const auto& bad = refused(result);
  CHECK(bad.status == 400);
  CHECK(bad.message.find("stream") != std::string::npos);
  CHECK(refused(f.admit_chat(R"({"model":"llama","messages":[]})", f.key, o2)).status == 404);
}

TEST_CASE("a capped key cannot pass its cap by request options", "[proxy][admit]") {
  AdmitFixture f;
  // Without max_tokens the default output budget is frozen; with a huge one even more.
  for (const std::string opts : {"", R"(,"max_tokens":1000000)", R"(,"stream":true,"stream_options":{"include_usage":false})"}) {
    INFO(opts);
    Outcome outcome;
    const auto r = f.admit_chat(R"({"model":"gpt-4o")" + opts + R"(,"messages":[{"role":"user","content":"hi"}]})", f.capped, outcome);
    CHECK(refused(r).status == 402);
  }
  Outcome outcome;
  const auto result = f.admit_chat(R"({"model":"gpt-4o","max_tokens":1,"messages":[{"role":"user","content":"hi"}]})",
                                   f.capped, outcome);
  const auto& a = admitted(result);
  CHECK(a.key_freeze.active());  // held until settled
}

namespace {

// An AWS access key id of the right shape (AKIA and 16 base32 characters); not a real one.
const std::string kAws = "AKIA" + std::string("Q3VHZ7NXK4TB2MWD");

std::string chat_with(const std::string& text) {
  return R"({"model":"gpt-4o","messages":[{"role":"user","content":"use )" + text + R"( now"}]})";
}

Request chat_request(const std::string& target, const std::string& bearer, const std::string& body) {
  Request req{http::verb::post, target, 11};
  req.set(http::field::authorization, "Bearer " + bearer);
  req.body() = body;
  return req;
}

}  // namespace

TEST_CASE("each key restores only its own placeholders while the tenant's pseudonymizer is shared", "[proxy][admit]") {
  AdmitFixture f;
  const std::string other = f.as_operator().create_key("default", {.name = "other"})->plaintext;
  Outcome o1, o2;
  const auto first = f.admit_chat(chat_with(kAws), f.key, o1);
  const auto second = f.admit_chat(chat_with(kAws), other, o2);
  const auto& a = admitted(first);
  const auto& b = admitted(second);
  REQUIRE(a.placeholders);
  REQUIRE(b.placeholders);
  CHECK(a.placeholders != b.placeholders);
  CHECK(a.body == b.body);  // the same secret, the same placeholder, for every key of the tenant
  CHECK(a.placeholders->size() == 1);
  CHECK(b.placeholders->size() == 1);
  CHECK(f.proxy->placeholders.size() == 2);
  CHECK(f.proxy->placeholders.at(o1.key->id).map == a.placeholders);
  CHECK(f.proxy->placeholders.at(o1.key->id).tenant_id == o1.key->tenant_id);
  CHECK(f.proxy->pseudonymizers.size() == 1);
  CHECK(f.proxy->pseudonymizers.contains(o1.key->tenant_id));  // by id, never by name
  // A third key that only sends the placeholder's text has nothing to restore it from.
  const std::string third = f.as_operator().create_key("default", {.name = "third"})->plaintext;
  const auto placeholder = nlohmann::json::parse(a.body)["messages"][0]["content"].get<std::string>();
  Outcome o3;
  const auto replay = f.admit_chat(R"({"model":"gpt-4o","messages":[{"role":"user","content":")" + placeholder + R"("}]})",
                                   third, o3);
  const auto& c = admitted(replay);
  REQUIRE(c.placeholders);
  CHECK(c.placeholders->size() == 0);
}

TEST_CASE("what is held for a revoked key or a deleted tenant is dropped", "[proxy][admit]") {
  AdmitFixture f;
  auto svc = f.as_operator();
  REQUIRE(svc.create_tenant("acme"));
  REQUIRE(svc.add_upstream("acme", {"mock", "openai", "http://127.0.0.1:9/v1", {"gpt-*"}, "sk-upstream"}));
  const auto acme = svc.create_key("acme", {.name = "a"});
  REQUIRE(acme);
  Outcome o1, o2;
  const auto kept = f.admit_chat(chat_with(kAws), f.key, o1);
  const auto held = f.admit_chat(chat_with(kAws), acme->plaintext, o2);
  const auto& in_flight = admitted(held);
  REQUIRE(f.proxy->placeholders.size() == 2);
  REQUIRE(f.proxy->pseudonymizers.size() == 2);

  SECTION("nothing changed: nothing is dropped") {
    f.proxy->forget_departed();
    CHECK(f.proxy->placeholders.size() == 2);
    CHECK(f.proxy->pseudonymizers.size() == 2);
  }
  SECTION("a revoked key's map goes; its tenant's pseudonymizer stays") {
    REQUIRE(svc.revoke_key("acme", acme->info.id));
    f.proxy->forget_departed();
    CHECK_FALSE(f.proxy->placeholders.contains(acme->info.id));
    CHECK(f.proxy->placeholders.contains(o1.key->id));
    CHECK(f.proxy->pseudonymizers.size() == 2);
    CHECK(in_flight.placeholders->size() == 1);  // a request being relayed keeps its map
  }
  SECTION("a deleted tenant's maps and keys go; a tenant made again under its name starts empty") {
    REQUIRE(svc.delete_account("acme"));
    f.proxy->forget_departed();
    CHECK(f.proxy->placeholders.size() == 1);
    CHECK(f.proxy->pseudonymizers.size() == 1);
    CHECK_FALSE(f.proxy->pseudonymizers.contains(o2.key->tenant_id));
    REQUIRE(svc.create_tenant("acme"));
    REQUIRE(svc.add_upstream("acme", {"mock", "openai", "http://127.0.0.1:9/v1", {"gpt-*"}, "sk-upstream"}));
    const auto again = svc.create_key("acme", {.name = "a"});
    Outcome o3;
    const auto fresh = f.admit_chat(chat_with(kAws), again->plaintext, o3);
    const auto& a = admitted(fresh);
    CHECK(o3.key->tenant_id != o2.key->tenant_id);
    CHECK(a.body != in_flight.body);  // a new tenant, a new pseudonymizer key
    CHECK(a.placeholders->size() == 1);
  }
}

TEST_CASE("admit scans the query string and the forwarded headers as it does the body", "[proxy][admit]") {
  AdmitFixture f;
  auto req = chat_request("/v1/chat/completions?api-version=2024-10-21&token=" + kAws, f.key, chat_with("nothing"));
  req.set("OpenAI-Organization", "org " + kAws);
  req.set("x-forwarded-for", kAws);  // not forwarded, so not the proxy's business
  const auto* endpoint = find_endpoint("/v1/chat/completions");

  SECTION("pseudonymize: replaced in both, restorable from the key's map") {
    Outcome outcome;
    const auto r = admit(*f.proxy, req, *endpoint, outcome);
    const auto& a = admitted(r);
    CHECK(a.query.starts_with("?api-version=2024-10-21&token=X420_REDACTED_"));
    CHECK(a.query.find(kAws) == std::string::npos);
    REQUIRE(a.headers.size() == 1);
    CHECK(a.headers[0].name == "OpenAI-Organization");
    CHECK(a.headers[0].value.starts_with("org X420_REDACTED_"));
    CHECK(a.placeholders->size() == 1);  // the same secret, one placeholder
    CHECK(outcome.redactions == 2);
  }
  SECTION("block: refused naming where, never the secret") {
    const std::string blocker = f.as_operator().create_key("default", {.name = "b", .redaction = "block"})->plaintext;
    req.set(http::field::authorization, "Bearer " + blocker);
    Outcome outcome;
    const auto r = admit(*f.proxy, req, *endpoint, outcome);
    const auto& no = refused(r);
    CHECK(no.status == 400);
    CHECK(no.message.find("in the query string") != std::string::npos);
    CHECK(no.message.find("in header openai-organization") != std::string::npos);
    CHECK(no.message.find(kAws) == std::string::npos);
  }
  SECTION("a query that is not percent-encoding is refused") {
    auto bad = chat_request("/v1/chat/completions?q=%zz", f.key, chat_with("nothing"));
    Outcome outcome;
    CHECK(refused(admit(*f.proxy, bad, *endpoint, outcome)).status == 400);
  }
}

TEST_CASE("a model that looks like a secret is refused and kept out of the outcome", "[proxy][admit]") {
  AdmitFixture f;
  Outcome outcome;
  const auto r = f.admit_chat(R"({"model":")" + kAws + R"(","messages":[{"role":"user","content":"hi"}]})", f.key, outcome);
  const auto& no = refused(r);
  CHECK(no.status == 400);
  CHECK(no.message.find("`model` looks like a secret (rule ") != std::string::npos);
  CHECK(no.message.find(kAws) == std::string::npos);
  CHECK(outcome.model.empty());
  CHECK(outcome.upstream.empty());
}

TEST_CASE("the unscanned-payload policy is the key's own, else the server's", "[proxy][admit]") {
  AdmitFixture f;
  auto svc = f.as_operator();
  const auto plain = svc.create_key("default", {.name = "p"});
  const auto refusing = svc.create_key("default", {.name = "r", .unscanned_payloads = "refuse"});
  const auto forwarding = svc.create_key("default", {.name = "f", .unscanned_payloads = "forward"});
  CHECK(f.proxy->unscanned_for(plain->info) == UnscannedPolicy::forward);
  CHECK(f.proxy->unscanned_for(refusing->info) == UnscannedPolicy::refuse);
  f.config.unscanned = UnscannedPolicy::refuse;  // the Proxy reads its config by reference
  CHECK(f.proxy->unscanned_for(plain->info) == UnscannedPolicy::refuse);
  CHECK(f.proxy->unscanned_for(forwarding->info) == UnscannedPolicy::forward);
  CHECK_FALSE(svc.create_key("default", {.name = "x", .unscanned_payloads = "sometimes"}));
}

TEST_CASE("payloads that cannot be scanned are forwarded or refused by the key's policy, and counted", "[proxy][admit]") {
  AdmitFixture f;
  const std::string refusing =
      f.as_operator().create_key("default", {.name = "r", .unscanned_payloads = "refuse"})->plaintext;
  const std::string body =
      R"({"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"what is this"},)"
      R"({"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo"}}]}]})";
  Outcome o1, o2;
  const auto forwarded = f.admit_chat(body, f.key, o1);
  CHECK(admitted(forwarded).body.find("iVBORw0KGgo") != std::string::npos);
  const auto result = f.admit_chat(body, refusing, o2);
  const auto& no = refused(result);
  CHECK(no.status == 400);
  CHECK(no.message.find("cannot be scanned") != std::string::npos);
  const auto text = f.proxy->metrics.text(0, 0);
  CHECK(text.find("x420_unscanned_payloads_total{action=\"forwarded\"} 1\n") != std::string::npos);
  CHECK(text.find("x420_unscanned_payloads_total{action=\"refused\"} 1\n") != std::string::npos);
}
