// The admin API, called as the server calls it (a parsed request in, a response out; no
// sockets): authentication, every route, tenant isolation, the shape of bodies and errors, and
// that no secret a caller sends comes back.
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "proxy/admin_api.h"
#include "lib/service/bootstrap.h"
#include "lib/service/json_views.h"
#include "lib/service/local_service.h"
#include "lib/service/usage_view.h"
#include "support/service_fixture.h"
#include "support/temp_dir.h"

using namespace x420;
namespace http = boost::beast::http;
using Json = nlohmann::json;

namespace {

struct Admin : test::ServiceFixture {

  struct Reply {
    int status;
    Json body;
    std::string raw;
    http::response<http::string_body> response;
  };

  Reply send(http::verb method, const std::string& target, const std::string& token,
             const std::string& body = "") {
    http::request<http::string_body> req{method, target, 11};
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    req.body() = body;
    req.prepare_payload();
    auto reply = proxy::handle_admin(*open.store, *open.keyring, clock, req);
    const auto& res = reply.response;
    CHECK(res[http::field::content_type] == "application/json");
    CHECK(res[http::field::cache_control] == "no-store");
    Json parsed = Json::parse(res.body(), nullptr, false);
    REQUIRE_FALSE(parsed.is_discarded());
    return {static_cast<int>(res.result_int()), parsed, res.body(), reply.response};
  }
  Reply get(const std::string& target, const std::string& token) { return send(http::verb::get, target, token); }
  Reply post(const std::string& target, const std::string& token, const Json& body) {
    return send(http::verb::post, target, token, body.dump());
  }
  Reply del(const std::string& target, const std::string& token) { return send(http::verb::delete_, target, token); }

  // A tenant and its admin token, made by the operator through the API.
  std::string tenant(const std::string& name) {
    auto r = post("/x420/v1/tenants", operator_token, {{"name", name}});
    REQUIRE(r.status == 201);
    return r.body["admin_token"].get<std::string>();
  }
};

std::string kind_of(const Admin::Reply& r) { return r.body["error"]["kind"].get<std::string>(); }

}  // namespace

TEST_CASE("admin API: no, malformed or wrong tokens get 401 before any route is looked at") {
  Admin a;
  auto none = a.get("/x420/v1/tenants", "");
  CHECK(none.status == 401);
  CHECK(kind_of(none) == "auth");
  CHECK(none.response[http::field::www_authenticate] == "Bearer realm=\"x420\"");
  CHECK(a.get("/x420/v1/no/such/route", "").status == 401);  // the route table is not revealed

  auto junk = a.get("/x420/v1/tenants", "x420m_notatoken");
  CHECK(junk.status == 401);
  auto forged = a.operator_token;
  forged[20] = forged[20] == 'A' ? 'B' : 'A';
  CHECK(a.get("/x420/v1/tenants", forged).status == 401);

  // An inference key is not a management token.
  auto key = a.post("/x420/v1/tenants/default/keys", a.operator_token, {{"name", "k"}});
  REQUIRE(key.status == 201);
  auto as_key = a.get("/x420/v1/tenants", key.body["key"].get<std::string>());
  CHECK(as_key.status == 401);
  CHECK(as_key.body["error"]["message"].get<std::string>().find("not a management token") != std::string::npos);

  // Basic auth, or a token in another header, is not accepted.
  http::request<http::string_body> basic{http::verb::get, "/x420/v1/tenants", 11};
  basic.set(http::field::authorization, "Basic " + a.operator_token);
  CHECK(proxy::handle_admin(*a.open.store, *a.open.keyring, a.clock, basic).response.result_int() == 401);
  CHECK(a.get("/x420/v1/tenants", a.operator_token).status == 200);
}

TEST_CASE("admin API: the key lifecycle answers with the CLI's JSON, the plaintext only at create and rotate") {
  Admin a;
  const auto& op = a.operator_token;
  auto created = a.post("/x420/v1/tenants/default/keys", op,
                        {{"name", "ci"}, {"cap_usd", "12.50"}, {"rpm", 60}, {"tpm", 5000},
                         {"expires_in_seconds", 86400}, {"no_log", true}, {"unscanned_payloads", "refuse"},
                         {"redact_personal", true}});
  REQUIRE(created.status == 201);
  CHECK(created.body["unscanned_payloads"] == "refuse");
  CHECK(created.body["redact_personal"] == true);
  CHECK(a.post("/x420/v1/tenants/default/keys", op, {{"name", "x"}, {"unscanned_payloads", "maybe"}}).status == 400);
  CHECK(a.post("/x420/v1/tenants/default/keys", op, {{"name", "x"}, {"redact_personal", "yes"}}).status == 400);
  const auto key = created.body["key"].get<std::string>();
  const auto id = created.body["id"].get<std::string>();
  CHECK(key.starts_with("x420_" + id + "_"));
  CHECK(created.body["cap_usd"] == 12.5);
  CHECK(created.body["rpm"] == 60);
  CHECK(created.body["no_log"] == true);
  CHECK(created.body["expires_at"] == "2027-01-16T08:00:00Z");

  // The same document LocalService's answer gives the CLI's --json.
  auto local = service::LocalService(*a.open.store, *a.open.keyring, a.clock, service::Actor::operator_actor());
  auto shown = a.get("/x420/v1/tenants/default/keys/" + id, op);
  REQUIRE(shown.status == 200);
  CHECK(shown.raw == service::key_json(*local.show_key("default", id)).dump());
  CHECK_FALSE(shown.body.contains("key"));
  CHECK(shown.raw.find(key.substr(18)) == std::string::npos);

  auto listed = a.get("/x420/v1/tenants/default/keys", op);
  REQUIRE(listed.status == 200);
  REQUIRE(listed.body.size() == 1);
  CHECK(listed.body[0]["id"] == id);
  CHECK(listed.raw.find(key.substr(18)) == std::string::npos);

  auto verified = a.post("/x420/v1/keys/verify", op, {{"key", key}});
  REQUIRE(verified.status == 200);
  CHECK(verified.body["valid"] == true);
  CHECK(verified.body["key"]["id"] == id);

  auto rotated = a.post("/x420/v1/tenants/default/keys/" + id + "/rotate", op, {{"grace_seconds", 3600}});
  REQUIRE(rotated.status == 200);
  const auto fresh = rotated.body["key"].get<std::string>();
  CHECK(fresh != key);
  CHECK(rotated.body["id"] == id);
  CHECK(rotated.body["grace_until"] == "2027-01-15T09:00:00Z");
  CHECK(a.post("/x420/v1/keys/verify", op, {{"key", key}}).body["valid"] == true);
  a.clock.advance(3600);
  auto old = a.post("/x420/v1/keys/verify", op, {{"key", key}});
  CHECK(old.status == 200);
  CHECK(old.body["valid"] == false);
  CHECK(old.body["reason"].get<std::string>().find("grace period has ended") != std::string::npos);

  // An empty body rotates without grace.
  auto again = a.send(http::verb::post, "/x420/v1/tenants/default/keys/" + id + "/rotate", op);
  REQUIRE(again.status == 200);
  CHECK(again.body["grace_until"].is_null());
  CHECK(a.post("/x420/v1/keys/verify", op, {{"key", fresh}}).body["valid"] == false);

  auto revoked = a.send(http::verb::post, "/x420/v1/tenants/default/keys/" + id + "/revoke", op);
  REQUIRE(revoked.status == 200);
  CHECK(revoked.body["status"] == "revoked");
  auto refused = a.post("/x420/v1/keys/verify", op, {{"key", again.body["key"].get<std::string>()}});
  CHECK(refused.body["valid"] == false);
  CHECK(refused.body["reason"].get<std::string>().find("revoked") != std::string::npos);

  auto rotate_revoked = a.post("/x420/v1/tenants/default/keys/" + id + "/rotate", op, Json::object());
  CHECK(rotate_revoked.status == 400);
  CHECK(kind_of(rotate_revoked) == "usage");
  auto missing = a.get("/x420/v1/tenants/default/keys/AAAAAAAAAAAA", op);
  CHECK(missing.status == 404);
  CHECK(missing.body["error"]["message"].get<std::string>().find("x420 keys list") != std::string::npos);
  CHECK(a.get("/x420/v1/tenants/default/keys/not-an-id", op).status == 400);
  CHECK(a.get("/x420/v1/tenants/nowhere/keys", op).status == 404);
}

TEST_CASE("admin API: a tenant admin sees and touches its own tenant only") {
  Admin a;
  const auto& op = a.operator_token;
  const auto acme = a.tenant("acme");
  auto theirs = a.post("/x420/v1/tenants/default/keys", op, {{"name", "default's"}});
  REQUIRE(theirs.status == 201);
  const auto their_id = theirs.body["id"].get<std::string>();
  const auto their_key = theirs.body["key"].get<std::string>();

  // Another tenant is as absent as one that does not exist: 404, never 403.
  CHECK(a.get("/x420/v1/tenants/default/keys", acme).status == 404);
  CHECK(a.get("/x420/v1/tenants/default/keys/" + their_id, acme).status == 404);
  CHECK(a.send(http::verb::post, "/x420/v1/tenants/default/keys/" + their_id + "/revoke", acme).status == 404);
  CHECK(a.post("/x420/v1/tenants/default/keys/" + their_id + "/rotate", acme, Json::object()).status == 404);
  CHECK(a.post("/x420/v1/tenants/default/keys", acme, {{"name", "sneaky"}}).status == 404);
  CHECK(a.get("/x420/v1/tenants/default/upstreams", acme).status == 404);
  CHECK(a.get("/x420/v1/tenants/default/usage", acme).status == 404);
  // Its own tenant's path does not reach the other's key either.
  CHECK(a.send(http::verb::post, "/x420/v1/tenants/acme/keys/" + their_id + "/revoke", acme).status == 404);
  auto verify_theirs = a.post("/x420/v1/keys/verify", acme, {{"key", their_key}});
  CHECK(verify_theirs.body["valid"] == false);
  CHECK(a.get("/x420/v1/tenants/default/keys/" + their_id, op).body["status"] == "active");

  // Operator-only actions are 403.
  auto create = a.post("/x420/v1/tenants", acme, {{"name", "evil"}});
  CHECK(create.status == 403);
  CHECK(kind_of(create) == "forbidden");
  CHECK(a.del("/x420/v1/tenants/default", acme).status == 403);

  auto listed = a.get("/x420/v1/tenants", acme);
  REQUIRE(listed.body.size() == 1);
  CHECK(listed.body[0]["name"] == "acme");
  CHECK(a.get("/x420/v1/tenants", op).body.size() == 2);

  auto own = a.post("/x420/v1/tenants/acme/keys", acme, {{"name", "mine"}});
  CHECK(own.status == 201);
  CHECK(a.get("/x420/v1/tenants/acme/keys", acme).body.size() == 1);

  // Deleting a tenant ends its admin token.
  CHECK(a.del("/x420/v1/tenants/acme", op).status == 200);
  CHECK(a.get("/x420/v1/tenants", acme).status == 401);
  CHECK(a.del("/x420/v1/tenants/acme", op).status == 404);
  CHECK(a.post("/x420/v1/tenants", op, {{"name", "default"}}).status == 409);
}

TEST_CASE("admin API: an upstream's secret is sealed at once and in no answer") {
  Admin a;
  const auto& op = a.operator_token;
  const std::string secret = "sk-canary-upstream-7Yq2LmNp0Rt5Vx8Za3Bc6De9Fg";
  auto added = a.post("/x420/v1/tenants/default/upstreams", op,
                      {{"name", "openai"}, {"kind", "openai"}, {"base_url", "https://api.openai.com/v1"},
                       {"models", {"gpt-*", "o*"}}, {"api_key", secret}});
  REQUIRE(added.status == 201);
  CHECK(added.body["name"] == "openai");
  CHECK(added.body["models"] == Json::array({"gpt-*", "o*"}));
  CHECK_FALSE(added.body.contains("api_key"));
  CHECK(added.raw.find(secret) == std::string::npos);

  auto listed = a.get("/x420/v1/tenants/default/upstreams", op);
  REQUIRE(listed.body.size() == 1);
  CHECK(listed.raw.find(secret) == std::string::npos);
  CHECK(listed.raw.find("sk-canary") == std::string::npos);

  auto duplicate = a.post("/x420/v1/tenants/default/upstreams", op,
                          {{"name", "openai"}, {"kind", "openai"}, {"base_url", "https://api.openai.com/v1"},
                           {"api_key", secret}});
  CHECK(duplicate.status == 409);
  CHECK(duplicate.raw.find(secret) == std::string::npos);
  auto bad_url = a.post("/x420/v1/tenants/default/upstreams", op,
                        {{"name", "plain"}, {"kind", "openai"}, {"base_url", "http://example.com/v1"}, {"api_key", secret}});
  CHECK(bad_url.status == 400);
  CHECK(bad_url.raw.find(secret) == std::string::npos);
  auto no_key = a.post("/x420/v1/tenants/default/upstreams", op,
                       {{"name", "nokey"}, {"kind", "openai"}, {"base_url", "https://api.openai.com/v1"}});
  CHECK(no_key.status == 400);
  CHECK(no_key.body["error"]["message"].get<std::string>().find("api_key") != std::string::npos);

  auto removed = a.del("/x420/v1/tenants/default/upstreams/openai", op);
  CHECK(removed.status == 200);
  CHECK(removed.raw.find(secret) == std::string::npos);
  CHECK(a.del("/x420/v1/tenants/default/upstreams/openai", op).status == 404);

  a.open.store.reset();  // checkpoint the WAL into the file
  CHECK(test::read_bytes(a.db).find(secret) == std::string::npos);
}

TEST_CASE("admin API: usage rows and one generation, own tenant only") {
  Admin a;
  const auto& op = a.operator_token;
  const auto acme = a.tenant("acme");
  auto key = a.post("/x420/v1/tenants/default/keys", op, {{"name", "k"}});
  const auto key_id = key.body["id"].get<std::string>();
  const auto tenant_id = a.open.store->tenant_by_name("default")->id;
  for (int i = 0; i < 3; ++i) {
    store::UsageRow row;
    row.id = "gen-test" + std::to_string(i);
    row.tenant_id = tenant_id;
    row.key_id = key_id;
    row.upstream = "mock";
    row.model = "gpt-4o";
    row.created_at = a.clock.now() - 100 * i;
    row.input_tokens = 10;
    row.cost_usd_micros = 1500;
    row.status = 200;
    a.open.store->write_transaction([&] { a.open.store->insert_usage(row); });
  }

  auto all = a.get("/x420/v1/tenants/default/usage", op);
  REQUIRE(all.status == 200);
  CHECK(all.body.size() == 3);
  auto local = service::LocalService(*a.open.store, *a.open.keyring, a.clock, service::Actor::operator_actor());
  CHECK(all.raw.starts_with("[" + service::usage_json(*local.generation("default", all.body[0]["id"])).dump()));
  CHECK(a.get("/x420/v1/tenants/default/usage?since=" + std::to_string(a.clock.now() - 150), op).body.size() == 2);
  CHECK(a.get("/x420/v1/tenants/default/usage?limit=1", op).body.size() == 1);
  CHECK(a.get("/x420/v1/tenants/default/usage?key=" + key_id + "&since=2020-01-01", op).body.size() == 3);
  CHECK(a.get("/x420/v1/tenants/default/usage?key=AAAAAAAAAAAA", op).body.empty());
  CHECK(a.get("/x420/v1/tenants/default/usage?limit=0", op).status == 400);
  CHECK(a.get("/x420/v1/tenants/default/usage?since=yesterday", op).status == 400);
  CHECK(a.get("/x420/v1/tenants/default/usage?keyid=x", op).status == 400);

  auto one = a.get("/x420/v1/tenants/default/generations/gen-test1", op);
  REQUIRE(one.status == 200);
  CHECK(one.body["cost_usd"] == 0.0015);
  CHECK(a.get("/x420/v1/tenants/default/generations/gen-nothing", op).status == 404);
  CHECK(a.get("/x420/v1/tenants/acme/generations/gen-test1", acme).status == 404);
  CHECK(a.get("/x420/v1/tenants/acme/usage", acme).body.empty());
}

TEST_CASE("admin API: bad bodies, methods and paths get precise statuses") {
  Admin a;
  const auto& op = a.operator_token;
  const std::string keys = "/x420/v1/tenants/default/keys";
  auto malformed = a.send(http::verb::post, keys, op, "{\"name\": ");
  CHECK(malformed.status == 400);
  CHECK(kind_of(malformed) == "usage");
  CHECK(a.send(http::verb::post, keys, op, "[1, 2]").status == 400);
  CHECK(a.send(http::verb::post, keys, op, std::string(40, '[') + std::string(40, ']')).status == 400);
  auto deep = a.send(http::verb::post, keys, op, "{\"name\":" + std::string(20, '[') + std::string(20, ']') + "}");
  CHECK(deep.status == 400);
  CHECK(deep.body["error"]["message"].get<std::string>().find("deeper") != std::string::npos);
  auto big = a.send(http::verb::post, keys, op, "{\"name\":\"" + std::string(70 * 1024, 'a') + "\"}");
  CHECK(big.status == 413);

  auto typo = a.post(keys, op, {{"name", "k"}, {"cap_usdd", 5}});
  CHECK(typo.status == 400);
  CHECK(typo.body["error"]["message"].get<std::string>().find("cap_usdd") != std::string::npos);
  CHECK(a.post(keys, op, {{"name", 7}}).status == 400);
  CHECK(a.post(keys, op, {{"name", "k"}, {"rpm", 1.5}}).status == 400);
  CHECK(a.post(keys, op, {{"name", "k"}, {"rpm", -1}}).status == 400);
  CHECK(a.post(keys, op, {{"name", "k"}, {"cap_usd", "-3"}}).status == 400);
  CHECK(a.post(keys, op, {{"name", "k"}, {"expires_in_seconds", 1LL << 62}}).status == 400);
  CHECK(a.post(keys, op, Json::object()).status == 400);
  CHECK(a.post("/x420/v1/keys/verify", op, {{"key", "nonsense"}}).body["valid"] == false);

  auto wrong_method = a.send(http::verb::put, keys, op);
  CHECK(wrong_method.status == 405);
  CHECK(wrong_method.response[http::field::allow] == "GET, POST");
  CHECK(a.get("/x420/v1/keys/verify", op).status == 405);
  CHECK(a.get("/x420/v1/nothing", op).status == 404);
  CHECK(a.get("/x420/v1/tenants//keys", op).status == 404);
  CHECK(a.get("/x420/v1/tenants/default%2Fx/keys", op).status == 400);
  CHECK(a.get("/x420/v1/tenants/%zz/keys", op).status == 400);
  CHECK(a.get("/x420/v1/tenants/d%65fault/keys", op).status == 200);  // percent-decoded
}
