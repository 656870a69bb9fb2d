// lib/service/kek_rotation: rotating the master key (KEK), and every point where it can be cut off.
#include <catch2/catch.hpp>

#include <filesystem>
#include <stdexcept>

#include "lib/crypto/master_key.h"
#include "lib/service/bootstrap.h"
#include "lib/service/kek_rotation.h"
#include "support/data_fixture.h"
#include "support/temp_dir.h"

using namespace x420;
using namespace x420::service;

namespace {

using Fixture = test::DataFixture;
using test::named;
using test::text_of;

struct RotationFixture : Fixture {
  std::string key_plaintext;
  const std::string upstream_secret = "sk-upstream-secret-rotation-4242";
  std::vector<store::ConversationRecordRow> sealed_before;
  std::string old_key_file;

  RotationFixture() {
    auto svc = as_operator();
    auto key = svc.create_key("default", named("ci"));
    REQUIRE(key.ok());
    key_plaintext = key->plaintext;
    REQUIRE(svc.add_upstream("default", {"openai", "openai", "https://api.openai.com/v1", {}, upstream_secret}).ok());
    REQUIRE(record_exchange(store(), keyring(), exchange("c", "before rotation", "reply before")).ok());
    sealed_before = records(default_id(), "c");
    old_key_file = test::read_bytes(source.file);
  }

  std::filesystem::path pending() const { return pending_key_path(source.file); }
};

void fail_at(std::string_view point, std::string_view wanted) {
  if (point == wanted) throw std::runtime_error("simulated crash at " + std::string(point));
}

// Everything sealed before the rotation opens through a freshly opened store.
void check_everything_opens(RotationFixture& f, OpenStore& reopened) {
  LocalService svc(*reopened.store, *reopened.keyring, f.clock, Actor::operator_actor());
  CHECK(svc.verify_key(f.key_plaintext).ok());
  const auto upstream = reopened.store->upstream_by_name(f.default_id(), "openai");
  REQUIRE(upstream);
  auto secret = reopened.keyring->open_upstream_secret(*upstream);
  REQUIRE(secret.ok());
  CHECK(secret->view() == f.upstream_secret);
  auto dek = open_tenant_dek(*reopened.store, *reopened.keyring, f.default_id());
  REQUIRE(dek.ok());
  std::vector<store::ConversationRecordRow> after;
  reopened.store->for_each_conversation_record(f.default_id(), "c", 0, 100,
                                               [&](const store::ConversationRecordRow& r) { after.push_back(r); });
  REQUIRE(after.size() == 2);
  CHECK(text_of(open_record(*dek, after[0])) == "before rotation");
  CHECK(text_of(open_record(*dek, after[1])) == "reply before");
  CHECK(after[0].sealed == f.sealed_before[0].sealed);  // under the DEK: not re-encrypted
  CHECK(after[1].sealed == f.sealed_before[1].sealed);
  CHECK(reopened.keyring->check_current(*reopened.store).ok());
}

}  // namespace

TEST_CASE("KEK rotation: the new key opens everything, the old one nothing", "[lifecycle]") {
  RotationFixture f;
  const auto old_copy = f.dir.path() / "old.key";
  std::filesystem::copy_file(f.source.file, old_copy);

  std::vector<std::string> points;
  auto rotated = rotate_kek(f.db, f.source, [&](std::string_view p) { points.emplace_back(p); });
  REQUIRE(rotated.ok());
  CHECK(rotated->tenants == 1);
  CHECK(rotated->upstreams == 1);
  CHECK(points == std::vector<std::string>{"key-written", "in-transaction", "committed"});
  // The key from before is kept beside the new one, with the same care (mode 0600).
  CHECK(rotated->old_key_file == old_key_path(f.source.file));
  CHECK(test::read_bytes(rotated->old_key_file) == f.old_key_file);
  CHECK((std::filesystem::status(rotated->old_key_file).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  CHECK(test::read_bytes(f.source.file) != f.old_key_file);
  CHECK_FALSE(std::filesystem::exists(f.pending()));

  auto old = open_store(f.db, MasterKeySource{std::nullopt, old_copy});
  REQUIRE_FALSE(old.ok());
  CHECK(old.error().kind == ErrorKind::auth);

  auto reopened = open_store(f.db, f.source);
  REQUIRE(reopened.ok());
  check_everything_opens(f, *reopened);
}

TEST_CASE("KEK rotation refuses a master key from X420_MASTER_KEY", "[lifecycle]") {
  RotationFixture f;
  auto key = crypto::read_master_key_file(f.source.file);
  REQUIRE(key.ok());
  MasterKeySource env{crypto::encode_master_key(*key), f.source.file};
  bool called = false;
  auto r = rotate_kek(f.db, env, [&](std::string_view) { called = true; });
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::usage);
  CHECK(r.error().message.find("X420_MASTER_KEY") != std::string::npos);
  CHECK_FALSE(called);
  CHECK(test::read_bytes(f.source.file) == f.old_key_file);
  CHECK_FALSE(std::filesystem::exists(f.pending()));
}

TEST_CASE("KEK rotation stopped inside its transaction leaves the store on the old key", "[lifecycle]") {
  RotationFixture f;
  CHECK_THROWS_AS(rotate_kek(f.db, f.source, [](std::string_view p) { fail_at(p, "in-transaction"); }),
                  std::runtime_error);
  CHECK_FALSE(std::filesystem::exists(f.pending()));
  CHECK(test::read_bytes(f.source.file) == f.old_key_file);
  CHECK(f.keyring().check_current(f.store()).ok());  // the old keyring is still the store's

  auto reopened = open_store(f.db, f.source);
  REQUIRE(reopened.ok());
  check_everything_opens(f, *reopened);
  CHECK(f.as_operator().create_tenant("acme").ok());
}

TEST_CASE("KEK rotation cut off after its commit is finished by the next open", "[lifecycle]") {
  RotationFixture f;
  CHECK_THROWS_AS(rotate_kek(f.db, f.source, [](std::string_view p) { fail_at(p, "committed"); }),
                  std::runtime_error);
  REQUIRE(std::filesystem::exists(f.pending()));
  CHECK(test::read_bytes(f.source.file) == f.old_key_file);
  const auto new_key_file = test::read_bytes(f.pending());
  CHECK(new_key_file != f.old_key_file);

  auto reopened = open_store(f.db, f.source);
  REQUIRE(reopened.ok());
  CHECK(test::read_bytes(f.source.file) == new_key_file);
  CHECK_FALSE(std::filesystem::exists(f.pending()));
  check_everything_opens(f, *reopened);
}

TEST_CASE("a service holding the pre-rotation keyring refuses to seal anything new", "[lifecycle]") {
  RotationFixture f;
  REQUIRE(rotate_kek(f.db, f.source, [](std::string_view) {}).ok());
  auto stale = f.as_operator();  // the fixture's keyring is the old one

  auto tenant = stale.create_tenant("acme");
  REQUIRE_FALSE(tenant.ok());
  CHECK(tenant.error().kind == ErrorKind::conflict);
  CHECK(tenant.error().message.find("restart") != std::string::npos);
  auto upstream = stale.add_upstream("default", {"second", "openai", "https://api.openai.com/v1", {}, "sk-another-1234"});
  REQUIRE_FALSE(upstream.ok());
  CHECK(upstream.error().kind == ErrorKind::conflict);
  CHECK(f.keyring().check_current(f.store()).error().kind == ErrorKind::conflict);
  CHECK_FALSE(f.store().tenant_by_name("acme"));
  CHECK_FALSE(f.store().upstream_by_name(f.default_id(), "second"));
}
