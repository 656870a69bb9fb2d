// lib/service/json_views (and usage_view): the JSON both faces speak, read back as written.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "lib/service/json_views.h"
#include "lib/service/usage_view.h"

using namespace x420;
using Json = nlohmann::json;

TEST_CASE("the JSON views read back what they write") {
  service::KeyInfo k;
  k.id = "AbCdEfGhIjKl";
  k.name = "ci";
  k.tenant = "default";
  k.status = "active";
  k.created_at = 1'800'000'000;
  k.previous_valid_until = 1'800'003'600;
  k.cap_usd_micros = 12'500'001;
  k.rpm = 60;
  k.no_log = true;
  k.redaction = "block";
  k.unscanned_payloads = "refuse";
  k.redact_personal = false;
  auto back = service::key_from_json(Json::parse(service::key_json(k).dump()));
  REQUIRE(back.ok());
  CHECK(service::key_json(*back) == service::key_json(k));
  CHECK(back->unscanned_payloads == "refuse");
  CHECK(back->redact_personal == false);

  service::UsageInfo u;
  u.id = "gen-x";
  u.tenant = "default";
  u.key_id = "AbCdEfGhIjKl";
  u.created_at = 1'800'000'000;
  u.cost_usd_micros = 123'457;
  u.ttfb_ms = 12;
  u.status = 502;
  u.error_type = "upstream_502";
  auto usage = service::usage_from_json(Json::parse(service::usage_json(u).dump()));
  REQUIRE(usage.ok());
  CHECK(service::usage_json(*usage) == service::usage_json(u));

  auto broken = service::key_from_json(Json{{"id", 7}});
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().kind == ErrorKind::internal);
  CHECK(service::error_kind_named("not_found") == ErrorKind::not_found);
  CHECK_FALSE(service::error_kind_named("nope"));
}
