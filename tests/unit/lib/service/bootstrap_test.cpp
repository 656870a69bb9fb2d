// lib/service/bootstrap: `x420 init` and opening a store with its master key.
#include <catch2/catch.hpp>

#include <filesystem>

#include "lib/common/clock.h"
#include "lib/crypto/aead.h"
#include "lib/crypto/master_key.h"
#include "lib/service/bootstrap.h"
#include "support/service_fixture.h"
#include "support/temp_dir.h"

using namespace x420;
using namespace x420::service;

namespace {

using Fixture = test::ServiceFixture;

}  // namespace

TEST_CASE("init is idempotent and issues the operator token only once") {
  Fixture f;
  auto again = initialize(f.db, f.source, f.clock);
  REQUIRE(again.ok());
  CHECK_FALSE(again->store_created);
  CHECK_FALSE(again->master_key_created);
  CHECK_FALSE(again->operator_token.has_value());
}

TEST_CASE("an initialised store whose master key is gone is never given a new one") {
  Fixture f;
  f.open = {};
  std::filesystem::remove(f.source.file);
  auto again = initialize(f.db, f.source, f.clock);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().kind == ErrorKind::auth);
  CHECK(again.error().message.find("will not make a new one") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(f.source.file));
  CHECK_FALSE(open_store(f.db, f.source).ok());
}

TEST_CASE("a wrong master key is refused with a clear error") {
  Fixture f;
  f.open = {};
  MasterKeySource wrong{crypto::encode_master_key(crypto::generate_key()), f.source.file};
  auto opened = open_store(f.db, wrong);
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.error().kind == ErrorKind::auth);
  CHECK(opened.error().message.find("X420_MASTER_KEY") != std::string::npos);
  MasterKeySource junk{std::string("not-a-key"), f.source.file};
  CHECK(open_store(f.db, junk).error().kind == ErrorKind::usage);
}

TEST_CASE("the master key from the environment wins and no key file is written") {
  test::TempDir dir;
  ManualClock clock{1'800'000'000};
  MasterKeySource env{crypto::encode_master_key(crypto::generate_key()), dir.path() / "master.key"};
  auto report = initialize(dir.file("x420.db"), env, clock);
  REQUIRE(report.ok());
  CHECK_FALSE(report->master_key_created);
  CHECK_FALSE(std::filesystem::exists(env.file));
  CHECK(open_store(dir.file("x420.db"), env).ok());
}
