// proxy/key_cache: verified keys remembered for a TTL on the injected clock's monotonic line, so
// a hit costs no store read, and a revoke or rotation is seen once the entry has aged out (or at
// once after clear()).
#include <catch2/catch.hpp>

#include "lib/keys/key_format.h"
#include "lib/store/forwarding_store.h"
#include "proxy/key_cache.h"
#include "support/service_fixture.h"

using namespace x420;
using namespace x420::proxy;

namespace {

// Counts key lookups: each one is a verification that reached the store.
class CountingStore final : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  int key_lookups = 0;

  std::optional<store::KeyRow> key_by_id(std::string_view id) override {
    ++key_lookups;
    return inner_.key_by_id(id);
  }
};

struct Fixture : test::ServiceFixture {
  CountingStore counting{*open.store};
  service::LocalService svc{counting, *open.keyring, clock, service::Actor::operator_actor()};

  std::string new_key(const std::string& name) {
    service::KeySpec spec;
    spec.name = name;
    auto issued = svc.create_key("default", spec);
    REQUIRE(issued.ok());
    counting.key_lookups = 0;
    return issued->plaintext;
  }
};

}  // namespace

TEST_CASE("a verified key is answered from the cache until its TTL ends", "[proxy][key_cache]") {
  Fixture f;
  const auto key = f.new_key("laptop");
  KeyCache cache(f.svc, f.clock, 1000);

  auto first = cache.verify(key);
  REQUIRE(first.ok());
  CHECK(first->name == "laptop");
  CHECK(f.counting.key_lookups == 1);
  f.clock.advance_ms(999);
  for (int i = 0; i < 3; ++i) {
    auto again = cache.verify(key);
    REQUIRE(again.ok());
    CHECK(again->id == first->id);
  }
  CHECK(f.counting.key_lookups == 1);

  SECTION("at the TTL the store is asked again, and the new entry lasts a TTL from then") {
    f.clock.advance_ms(1);
    REQUIRE(cache.verify(key).ok());
    CHECK(f.counting.key_lookups == 2);
    f.clock.advance_ms(999);
    REQUIRE(cache.verify(key).ok());
    CHECK(f.counting.key_lookups == 2);
  }
  SECTION("each key has its own entry") {
    const auto other = f.new_key("ci");
    REQUIRE(cache.verify(other).ok());
    CHECK(f.counting.key_lookups == 1);
    CHECK(cache.verify(key)->name == "laptop");
    CHECK(cache.verify(other)->name == "ci");
    CHECK(f.counting.key_lookups == 1);
  }
  SECTION("clear() forgets every entry") {
    cache.clear();
    REQUIRE(cache.verify(key).ok());
    CHECK(f.counting.key_lookups == 2);
  }
  SECTION("the wall clock does not age an entry") {
    f.clock.set(f.clock.now() + 3600);  // a wall-clock step, the monotonic line unmoved
    REQUIRE(cache.verify(key).ok());
    CHECK(f.counting.key_lookups == 1);
  }
}

TEST_CASE("a refused key is not cached: each attempt asks the store", "[proxy][key_cache]") {
  Fixture f;
  const auto key = f.new_key("laptop");
  const auto forged = keys::mint_with_id(keys::TokenKind::api_key, f.svc.verify_key(key)->id).plaintext;
  f.counting.key_lookups = 0;
  KeyCache cache(f.svc, f.clock);
  for (int i = 1; i <= 3; ++i) {
    auto r = cache.verify(forged);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::auth);
    CHECK(f.counting.key_lookups == i);
  }
  // A malformed key never reaches the store, cached or not.
  auto junk = cache.verify("x420_not-a-key");
  REQUIRE_FALSE(junk.ok());
  CHECK(f.counting.key_lookups == 3);
}

TEST_CASE("a revoked key is refused once its cached entry has aged out or been cleared", "[proxy][key_cache]") {
  Fixture f;
  const auto key = f.new_key("laptop");
  const auto id = f.svc.verify_key(key)->id;
  KeyCache cache(f.svc, f.clock);  // the default TTL: one second
  REQUIRE(cache.verify(key).ok());
  REQUIRE(f.svc.revoke_key("default", id).ok());
  f.clock.advance_ms(999);
  CHECK(cache.verify(key).ok());  // at most one TTL stale: the documented bound

  SECTION("past the TTL") {
    f.clock.advance_ms(1);
    auto refused = cache.verify(key);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().kind == ErrorKind::auth);
    CHECK(refused.error().message.find("revoked") != std::string::npos);
  }
  SECTION("after clear()") {
    cache.clear();
    auto refused = cache.verify(key);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message.find("revoked") != std::string::npos);
  }
}

TEST_CASE("a secret rotated without grace is refused once the cache asks again", "[proxy][key_cache]") {
  Fixture f;
  const auto key = f.new_key("ci");
  const auto id = f.svc.verify_key(key)->id;
  KeyCache cache(f.svc, f.clock);
  REQUIRE(cache.verify(key).ok());
  auto rotated = f.svc.rotate_key("default", id, 0);
  REQUIRE(rotated.ok());
  CHECK(cache.verify(rotated->plaintext).ok());  // a new secret is a new entry
  f.clock.advance_ms(1000);
  auto old = cache.verify(key);
  REQUIRE_FALSE(old.ok());
  CHECK(old.error().kind == ErrorKind::auth);
  CHECK(cache.verify(rotated->plaintext).ok());
}
