// lib/service/keyring: the key material the master key unlocks in a store.
#include <catch2/catch.hpp>

#include "lib/service/keyring.h"
#include "support/service_fixture.h"

using namespace x420;
using namespace x420::service;

namespace {

using Fixture = test::ServiceFixture;

}  // namespace

TEST_CASE("each tenant's data key opens only as that tenant's") {
  Fixture f;
  auto op = f.as_operator();
  REQUIRE(op.create_tenant("acme").ok());
  auto acme = f.open.store->tenant_by_name("acme");
  auto dflt = f.open.store->tenant_by_name("default");
  CHECK(f.open.keyring->open_dek(*acme).ok());
  auto swapped = *acme;
  swapped.wrapped_dek = dflt->wrapped_dek;
  CHECK_FALSE(f.open.keyring->open_dek(swapped).ok());
}
