// cli/http_client: which --server URLs the CLI accepts, and how it takes them apart.
#include <catch2/catch.hpp>

#include "cli/http_client.h"
#include "support/cli_fixture.h"

using namespace x420;
using namespace x420::cli;
constexpr auto url = &x420::test::server_url;  // tests/unit/support/cli_fixture.h

TEST_CASE("server URLs: https anywhere, plain http only to this machine") {
  auto remote = url("https://x420.example.com/");
  CHECK(remote.tls);
  CHECK(remote.host == "x420.example.com");
  CHECK(remote.port == "443");
  CHECK(remote.path.empty());
  CHECK(remote.text == "https://x420.example.com");

  auto local = url("http://127.0.0.1:8420");
  CHECK_FALSE(local.tls);
  CHECK(local.port == "8420");
  auto v6 = url("http://[::1]:9000/gateway/");
  CHECK(v6.host == "::1");
  CHECK(v6.port == "9000");
  CHECK(v6.path == "/gateway");
  CHECK(url("HTTP://LocalHost").host == "localhost");

  for (const char* bad : {"x420.example.com", "ftp://h", "http://example.com", "http://10.0.0.5:8420",
                          "https://user:pw@h", "https://h/?q=1", "https://h#f", "https://", "https://h:0",
                          "https://h:99999", "https://h:12ab", "https://[::1", "https://h /x"}) {
    INFO(bad);
    auto parsed = parse_server_url(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().kind == ErrorKind::usage);
  }
}
