// proxy/upstream_cache: a tenant's upstreams remembered for a TTL on the injected clock, so
// routing costs a map lookup; a change is seen once the entry has aged out, or at once after
// clear().
#include <catch2/catch.hpp>

#include "lib/store/forwarding_store.h"
#include "proxy/upstream_cache.h"
#include "support/service_fixture.h"

using namespace x420;
using namespace x420::proxy;

namespace {

// Counts upstream listings: each one is a refresh that reached the store.
class CountingStore final : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  int listings = 0;

  std::vector<store::UpstreamRow> list_upstreams(std::string_view tenant_id) override {
    ++listings;
    return inner_.list_upstreams(tenant_id);
  }
};

struct Fixture : test::ServiceFixture {
  CountingStore counting{*open.store};

  std::string tenant_id(const std::string& name) { return open.store->tenant_by_name(name)->id; }
  void add_upstream(const std::string& tenant, const std::string& name) {
    REQUIRE(as_operator().add_upstream(tenant, {name, "openai", "https://api.openai.com/v1", {"gpt-*"}, "sk-" + name + "-0000"}).ok());
  }
};

}  // namespace

TEST_CASE("a tenant's upstreams are read once per TTL and shared", "[proxy][upstream_cache]") {
  Fixture f;
  f.add_upstream("default", "openai");
  UpstreamCache cache(f.counting, f.clock, 1000);
  const auto id = f.tenant_id("default");

  const auto first = cache.get(id);
  REQUIRE(first->size() == 1);
  CHECK(first->at(0).name == "openai");
  f.clock.advance_ms(999);
  const auto second = cache.get(id);
  CHECK(second == first);  // the same rows, not a copy
  CHECK(f.counting.listings == 1);

  SECTION("a change is seen once the TTL has passed, while a holder keeps the old rows") {
    f.add_upstream("default", "backup");
    CHECK(cache.get(id)->size() == 1);
    f.clock.advance_ms(1);
    CHECK(cache.get(id)->size() == 2);
    CHECK(f.counting.listings == 2);
    CHECK(first->size() == 1);
  }
  SECTION("clear() drops the entry at once") {
    f.add_upstream("default", "backup");
    cache.clear();
    CHECK(cache.get(id)->size() == 2);
    CHECK(f.counting.listings == 2);
  }
  SECTION("each tenant has its own entry") {
    REQUIRE(f.as_operator().create_tenant("acme").ok());
    f.add_upstream("acme", "acme-openai");
    const auto acme = cache.get(f.tenant_id("acme"));
    REQUIRE(acme->size() == 1);
    CHECK(acme->at(0).name == "acme-openai");
    CHECK(cache.get(id)->at(0).name == "openai");
    CHECK(f.counting.listings == 2);
  }
}

TEST_CASE("an unknown tenant has no upstreams", "[proxy][upstream_cache]") {
  Fixture f;
  UpstreamCache cache(f.counting, f.clock);
  CHECK(cache.get("tnosuch")->empty());
}
