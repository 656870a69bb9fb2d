// cli/remote_service: the service spoken over --server, as far as it needs no server: names
// become path segments, and an unreachable server is ErrorKind::unavailable (exit 5).
#include <catch2/catch.hpp>

#include "cli/http_client.h"
#include "cli/remote_service.h"
#include "support/cli_fixture.h"

using namespace x420;
using namespace x420::cli;
constexpr auto url = &x420::test::server_url;  // tests/unit/support/cli_fixture.h

TEST_CASE("names become single path segments") {
  CHECK(percent_encode("default") == "default");
  CHECK(percent_encode("a/b c%") == "a%2Fb%20c%25");
  CHECK(tenant_path("../x") == "/x420/v1/tenants/..%2Fx");
}

TEST_CASE("a server that is not there is ErrorKind::unavailable, naming it") {
  // Port 1 on loopback: nothing listens there, so the connection is refused at once.
  RemoteService remote(url("http://127.0.0.1:1"), "x420m_token");
  auto keys = remote.list_keys("default");
  REQUIRE_FALSE(keys.ok());
  CHECK(keys.error().kind == ErrorKind::unavailable);
  CHECK(keys.error().message.find("http://127.0.0.1:1") != std::string::npos);
  CHECK(exit_code_for(keys.error().kind) == 5);
}
