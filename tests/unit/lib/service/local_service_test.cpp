// lib/service/local_service: keys (create, verify, rotate, revoke, expire), tenants and their
// admins, management tokens, and upstreams with their sealed secrets.
#include <catch2/catch.hpp>

#include "lib/keys/key_format.h"
#include "lib/store/forwarding_store.h"
#include "lib/service/local_service.h"
#include "support/service_fixture.h"
#include "support/temp_dir.h"

using namespace x420;
using namespace x420::service;

namespace {

// Counts lookups, to prove that malformed keys never reach the store.
class CountingStore final : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  int key_lookups = 0;

  std::optional<store::KeyRow> key_by_id(std::string_view i) override {
    ++key_lookups;
    return inner_.key_by_id(i);
  }
};

using Fixture = test::ServiceFixture;

KeySpec named(std::string name) {
  KeySpec s;
  s.name = std::move(name);
  return s;
}

}  // namespace

TEST_CASE("a created key verifies, and its plaintext is not in the store") {
  Fixture f;
  auto svc = f.as_operator();
  auto issued = svc.create_key("default", named("laptop"));
  REQUIRE(issued.ok());
  CHECK(issued->info.status == "active");
  auto verified = svc.verify_key(issued->plaintext);
  REQUIRE(verified.ok());
  CHECK(verified->id == issued->info.id);
  CHECK(verified->tenant == "default");

  f.open.store.reset();  // close, so the WAL is checkpointed into the file
  const auto bytes = test::read_bytes(f.db);
  CHECK(bytes.find(issued->plaintext) == std::string::npos);
  CHECK(bytes.find(issued->plaintext.substr(18, 32)) == std::string::npos);  // the secret part
}

TEST_CASE("rotated key: the old secret verifies until its grace ends, the new one at once") {
  Fixture f;
  auto svc = f.as_operator();
  auto issued = svc.create_key("default", named("ci"));
  REQUIRE(issued.ok());
  auto rotated = svc.rotate_key("default", issued->info.id, 3600);
  REQUIRE(rotated.ok());
  CHECK(rotated->info.id == issued->info.id);
  CHECK(rotated->plaintext != issued->plaintext);
  CHECK(rotated->info.previous_valid_until == f.clock.now() + 3600);

  CHECK(svc.verify_key(issued->plaintext).ok());
  CHECK(svc.verify_key(rotated->plaintext).ok());
  f.clock.advance(3599);
  CHECK(svc.verify_key(issued->plaintext).ok());
  f.clock.advance(1);
  auto old = svc.verify_key(issued->plaintext);
  REQUIRE_FALSE(old.ok());
  CHECK(old.error().kind == ErrorKind::auth);
  CHECK(old.error().message.find("grace") != std::string::npos);
  CHECK(svc.verify_key(rotated->plaintext).ok());
}

TEST_CASE("rotation without grace refuses the old secret at once and keeps the key's limits") {
  Fixture f;
  auto svc = f.as_operator();
  auto spec = named("ci");
  spec.rpm = 10;
  spec.cap_usd_micros = 5'000'000;
  auto issued = svc.create_key("default", spec);
  auto rotated = svc.rotate_key("default", issued->info.id, 0);
  REQUIRE(rotated.ok());
  CHECK_FALSE(svc.verify_key(issued->plaintext).ok());
  CHECK(rotated->info.rpm == 10);
  CHECK(rotated->info.cap_usd_micros == 5'000'000);
  CHECK(rotated->info.created_at == issued->info.created_at);
}

TEST_CASE("a revoked key is refused, also during a rotation's grace") {
  Fixture f;
  auto svc = f.as_operator();
  auto issued = svc.create_key("default", named("ci"));
  auto rotated = svc.rotate_key("default", issued->info.id, 3600);
  auto revoked = svc.revoke_key("default", issued->info.id);
  REQUIRE(revoked.ok());
  CHECK(revoked->status == "revoked");
  auto v = svc.verify_key(rotated->plaintext);
  REQUIRE_FALSE(v.ok());
  CHECK(v.error().message.find("revoked") != std::string::npos);
  CHECK_FALSE(svc.verify_key(issued->plaintext).ok());
  CHECK(svc.revoke_key("default", issued->info.id).ok());  // twice is fine
  CHECK_FALSE(svc.rotate_key("default", issued->info.id, 0).ok());
}

TEST_CASE("an expired key is refused and listed as expired") {
  Fixture f;
  auto svc = f.as_operator();
  auto spec = named("short");
  spec.expires_in = 60;
  auto issued = svc.create_key("default", spec);
  CHECK(svc.verify_key(issued->plaintext).ok());
  f.clock.advance(60);
  auto v = svc.verify_key(issued->plaintext);
  REQUIRE_FALSE(v.ok());
  CHECK(v.error().message.find("expired") != std::string::npos);
  CHECK(svc.show_key("default", issued->info.id)->status == "expired");
}

TEST_CASE("a key with a wrong checksum is refused before any store lookup") {
  Fixture f;
  CountingStore counting(*f.open.store);
  LocalService svc(counting, *f.open.keyring, f.clock, Actor::operator_actor());
  auto issued = svc.create_key("default", named("ci"));
  auto broken = issued->plaintext;
  broken.back() = broken.back() == 'A' ? 'B' : 'A';
  auto v = svc.verify_key(broken);
  REQUIRE_FALSE(v.ok());
  CHECK(v.error().message.find("checksum") != std::string::npos);
  CHECK(counting.key_lookups == 0);
  CHECK(svc.verify_key(issued->plaintext).ok());
  CHECK(counting.key_lookups == 1);
}

TEST_CASE("a forged key with a valid checksum but a wrong secret is not valid") {
  Fixture f;
  auto svc = f.as_operator();
  auto issued = svc.create_key("default", named("ci"));
  auto forged = keys::mint_with_id(keys::TokenKind::api_key, issued->info.id);
  auto v = svc.verify_key(forged.plaintext);
  REQUIRE_FALSE(v.ok());
  CHECK(v.error().message == "key is not valid");
}

TEST_CASE("bad key specs are refused naming the flag") {
  Fixture f;
  auto svc = f.as_operator();
  CHECK(svc.create_key("default", named("")).error().message.find("--name") != std::string::npos);
  auto spec = named("x");
  spec.rpm = 0;
  CHECK(svc.create_key("default", spec).error().kind == ErrorKind::usage);
  CHECK(svc.rotate_key("default", "AAAAAAAAAAAA", -1).error().message.find("--grace") !=
        std::string::npos);
  CHECK(svc.show_key("default", "AAAAAAAAAAAA").error().kind == ErrorKind::not_found);
  CHECK(svc.create_key("nosuch", named("x")).error().kind == ErrorKind::not_found);
}

TEST_CASE("a tenant admin sees and touches only its own tenant") {
  Fixture f;
  auto op = f.as_operator();
  auto acme = op.create_tenant("acme");
  REQUIRE(acme.ok());
  auto globex = op.create_tenant("globex");
  REQUIRE(globex.ok());
  auto globex_key = op.create_key("globex", named("g"));

  auto acme_actor = authenticate_token(*f.open.store, *f.open.keyring, acme->admin_token);
  REQUIRE(acme_actor.ok());
  CHECK(acme_actor->role == Actor::Role::tenant_admin);
  auto acme_admin = f.as(*acme_actor);

  CHECK(acme_admin.create_key("acme", named("a")).ok());
  CHECK(acme_admin.list_keys("globex").error().kind == ErrorKind::not_found);
  CHECK(acme_admin.show_key("globex", globex_key->info.id).error().kind == ErrorKind::not_found);
  CHECK(acme_admin.revoke_key("globex", globex_key->info.id).error().kind == ErrorKind::not_found);
  CHECK(acme_admin.rotate_key("globex", globex_key->info.id, 0).error().kind ==
        ErrorKind::not_found);
  CHECK_FALSE(acme_admin.verify_key(globex_key->plaintext).ok());
  CHECK(acme_admin.create_tenant("evil").error().kind == ErrorKind::forbidden);
  CHECK(acme_admin.delete_tenant("globex").error().kind == ErrorKind::forbidden);
  auto visible = acme_admin.list_tenants();
  REQUIRE(visible->size() == 1);
  CHECK(visible->front().name == "acme");
  CHECK(op.verify_key(globex_key->plaintext).ok());  // untouched
}

TEST_CASE("management tokens authenticate to their role, and nothing else does") {
  Fixture f;
  auto op = authenticate_token(*f.open.store, *f.open.keyring, f.operator_token);
  REQUIRE(op.ok());
  CHECK(op->role == Actor::Role::operator_role);
  auto key = f.as_operator().create_key("default", named("k"));
  CHECK(authenticate_token(*f.open.store, *f.open.keyring, key->plaintext).error().kind ==
        ErrorKind::auth);
  auto forged = keys::mint_with_id(keys::TokenKind::management, f.operator_token.substr(6, 12));
  CHECK_FALSE(authenticate_token(*f.open.store, *f.open.keyring, forged.plaintext).ok());
  CHECK_FALSE(f.as_operator().verify_key(f.operator_token).ok());
}

TEST_CASE("deleting a tenant stops its keys at once and keeps the others") {
  Fixture f;
  auto op = f.as_operator();
  REQUIRE(op.create_tenant("acme").ok());
  auto k = op.create_key("acme", named("a"));
  auto d = op.create_key("default", named("d"));
  auto deleted = op.delete_tenant("acme");
  REQUIRE(deleted.ok());
  CHECK(deleted->key_count == 1);
  CHECK_FALSE(op.verify_key(k->plaintext).ok());
  CHECK(op.verify_key(d->plaintext).ok());
  CHECK(op.delete_tenant("acme").error().kind == ErrorKind::not_found);
  CHECK(op.create_tenant("Bad Name").error().kind == ErrorKind::usage);
  CHECK(op.create_tenant("default").error().kind == ErrorKind::conflict);
}

TEST_CASE("an upstream's key is sealed, bound to its row, and never returned") {
  Fixture f;
  auto svc = f.as_operator();
  UpstreamSpec spec{"openai", "openai", "https://api.openai.com/v1/", {"gpt-4o*"}, "sk-upstream-secret-123456"};
  auto added = svc.add_upstream("default", spec);
  REQUIRE(added.ok());
  CHECK(added->base_url == "https://api.openai.com/v1");
  CHECK(added->models == std::vector<std::string>{"gpt-4o*"});
  auto row = f.open.store->upstream_by_name("tdefault", "openai");
  REQUIRE(row.has_value());
  auto opened = f.open.keyring->open_upstream_secret(*row);
  REQUIRE(opened.ok());
  CHECK(opened->view() == "sk-upstream-secret-123456");
  auto moved = *row;
  moved.name = "other";
  CHECK_FALSE(f.open.keyring->open_upstream_secret(moved).ok());  // bound to its name
  CHECK(svc.add_upstream("default", {"openai", "openai", "https://api.openai.com/v1", {}, "k2-000000"}).error().kind ==
        ErrorKind::conflict);
  CHECK(svc.list_upstreams("default")->size() == 1);
  CHECK(svc.remove_upstream("default", "openai").ok());
  CHECK(svc.remove_upstream("default", "openai").error().kind == ErrorKind::not_found);

  f.open.store.reset();
  CHECK(test::read_bytes(f.db).find("sk-upstream-secret-123456") == std::string::npos);
}

TEST_CASE("an upstream's URL, key and globs change in place, and what is not given stays") {
  Fixture f;
  auto svc = f.as_operator();
  REQUIRE(svc.add_upstream("default", {"openai", "openai", "https://api.openai.com/v1", {"gpt-*"}, "sk-old-key-0001"}).ok());
  const auto created = f.open.store->upstream_by_name("tdefault", "openai");
  REQUIRE(created);

  UpstreamUpdate key_only;
  key_only.api_key = "sk-new-key-0002";
  auto updated = svc.update_upstream("default", "openai", key_only);
  REQUIRE(updated.ok());
  CHECK(updated->base_url == "https://api.openai.com/v1");
  CHECK(updated->models == std::vector<std::string>{"gpt-*"});
  auto row = f.open.store->upstream_by_name("tdefault", "openai");
  REQUIRE(row);
  CHECK(row->id == created->id);
  CHECK(row->created_at == created->created_at);
  CHECK(f.open.keyring->open_upstream_secret(*row)->view() == "sk-new-key-0002");

  UpstreamUpdate url_and_models;
  url_and_models.base_url = "https://generativelanguage.googleapis.com/v1beta/openai/";
  url_and_models.models = std::vector<std::string>{"gemini-*"};
  updated = svc.update_upstream("default", "openai", url_and_models);
  REQUIRE(updated.ok());
  CHECK(updated->base_url == "https://generativelanguage.googleapis.com/v1beta/openai");
  CHECK(updated->models == std::vector<std::string>{"gemini-*"});
  row = f.open.store->upstream_by_name("tdefault", "openai");
  CHECK(f.open.keyring->open_upstream_secret(*row)->view() == "sk-new-key-0002");  // the key stayed

  // Refused, and nothing changed: nothing to change, a bad URL, an empty key, an unknown name.
  CHECK(svc.update_upstream("default", "openai", {}).error().kind == ErrorKind::usage);
  UpstreamUpdate bad_url;
  bad_url.base_url = "http://api.example.com/v1";
  CHECK(svc.update_upstream("default", "openai", bad_url).error().message.find("clear text") != std::string::npos);
  UpstreamUpdate empty_key;
  empty_key.api_key = "";
  CHECK(svc.update_upstream("default", "openai", empty_key).error().kind == ErrorKind::usage);
  CHECK(svc.update_upstream("default", "nosuch", key_only).error().kind == ErrorKind::not_found);
  CHECK(svc.list_upstreams("default")->front().base_url == "https://generativelanguage.googleapis.com/v1beta/openai");

  f.open.store.reset();
  const auto bytes = test::read_bytes(f.db);
  CHECK(bytes.find("sk-new-key-0002") == std::string::npos);
  CHECK(bytes.find("sk-old-key-0001") == std::string::npos);
}

TEST_CASE("upstream base URLs follow each SDK's convention and never go out in clear text") {
  CHECK(check_upstream_url("openai", "https://api.openai.com/v1").ok());
  CHECK(check_upstream_url("anthropic", "https://api.anthropic.com").ok());
  CHECK(check_upstream_url("openai", "http://127.0.0.1:9000/v1").ok());
  CHECK(check_upstream_url("anthropic", "http://[::1]:9000").ok());
  CHECK(check_upstream_url("openai", "https://api.openai.com").error().message.find("/v1") != std::string::npos);
  CHECK(check_upstream_url("openai", "https://api.openai.com/").error().message.find("/v1") != std::string::npos);
  // Any OpenAI-compatible API's base URL: Gemini, OpenRouter, Ollama, vLLM, LM Studio.
  for (const auto* url : {"https://generativelanguage.googleapis.com/v1beta/openai", "https://openrouter.ai/api/v1",
                          "http://127.0.0.1:11434/v1", "http://localhost:8000/v1", "http://127.0.0.1:1234/v1"}) {
    INFO(url);
    CHECK(check_upstream_url("openai", url).ok());
  }
  CHECK_FALSE(check_upstream_url("anthropic", "https://api.anthropic.com/v1").ok());
  CHECK(check_upstream_url("openai", "http://api.example.com/v1").error().message.find("clear text") != std::string::npos);
  CHECK_FALSE(check_upstream_url("openai", "https://user:pw@api.example.com/v1").ok());
  CHECK_FALSE(check_upstream_url("openai", "ftp://x/v1").ok());
  CHECK_FALSE(check_upstream_url("openai", "https://x/v1?key=1").ok());
}
