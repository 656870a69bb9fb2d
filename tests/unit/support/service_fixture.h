// A fresh, initialised store in a temporary folder, opened as a service would open it: shared by
// the tests of lib/service. Its clock is manual, its master key in a file of its own.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "lib/common/clock.h"
#include "lib/service/bootstrap.h"
#include "lib/service/local_service.h"
#include "support/temp_dir.h"

namespace x420::test {

struct ServiceFixture {
  TempDir dir;
  ManualClock clock{1'800'000'000};
  service::MasterKeySource source{std::nullopt, dir.path() / "config" / "master.key"};
  std::string db = dir.file("x420.db");
  std::string operator_token;
  service::OpenStore open;

  ServiceFixture() {
    auto report = service::initialize(db, source, clock);
    REQUIRE(report.ok());
    operator_token = *report->operator_token;
    auto opened = service::open_store(db, source);
    REQUIRE(opened.ok());
    open = std::move(opened.value());
  }

  service::LocalService as(service::Actor actor) {
    return service::LocalService(*open.store, *open.keyring, clock, actor);
  }
  service::LocalService as_operator() { return as(service::Actor::operator_actor()); }
};

}  // namespace x420::test
