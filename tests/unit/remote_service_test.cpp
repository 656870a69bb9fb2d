// The CLI's side of --server that needs no server: which URLs it accepts, where the token comes
// from, how names become path segments, and that an unreachable server is exit 5.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "cli/credentials.h"
#include "cli/http_client.h"
#include "cli/remote_service.h"
#include "support/temp_dir.h"

using namespace x420;
using namespace x420::cli;

namespace {

ServerUrl url(std::string_view text) {
  auto parsed = parse_server_url(text);
  REQUIRE(parsed.ok());
  return *parsed;
}

// Sets or unsets X420_TOKEN for one test and restores it after.
struct TokenEnv {
  std::optional<std::string> saved;
  explicit TokenEnv(const char* value) {
    if (const char* v = std::getenv("X420_TOKEN")) saved = v;
    if (value) ::setenv("X420_TOKEN", value, 1);
    else ::unsetenv("X420_TOKEN");
  }
  ~TokenEnv() {
    if (saved) ::setenv("X420_TOKEN", saved->c_str(), 1);
    else ::unsetenv("X420_TOKEN");
  }
};

}  // namespace

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

TEST_CASE("the token comes from X420_TOKEN, else the server's line in the credentials file") {
  test::TempDir dir;
  const auto file = dir.path() / "credentials";
  const auto server = url("http://127.0.0.1:8420");
  auto path = [&] { return file; };

  {
    TokenEnv env("x420m_from_env");
    auto token = management_token(server, [] () -> std::filesystem::path { FAIL("the file is not read"); return {}; });
    REQUIRE(token.ok());
    CHECK(*token == "x420m_from_env");
  }
  TokenEnv env(nullptr);
  auto missing = management_token(server, path);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == ErrorKind::auth);
  CHECK(missing.error().message.find("X420_TOKEN") != std::string::npos);

  std::ofstream(file) << "# x420 credentials\n\nhttps://other.example.com x420m_other\n"
                      << "  http://127.0.0.1:8420/   x420m_local  \n";
  ::chmod(file.c_str(), 0644);
  auto unsafe = management_token(server, path);
  REQUIRE_FALSE(unsafe.ok());
  CHECK(unsafe.error().kind == ErrorKind::usage);
  CHECK(unsafe.error().message.find("chmod 600") != std::string::npos);

  ::chmod(file.c_str(), 0600);
  auto found = management_token(server, path);
  REQUIRE(found.ok());
  CHECK(*found == "x420m_local");
  auto unknown = management_token(url("http://127.0.0.1:9999"), path);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().kind == ErrorKind::auth);

  auto malformed = token_from_credentials("http://127.0.0.1:8420 x420m_a extra\n", server, "creds");
  REQUIRE_FALSE(malformed.ok());
  CHECK(malformed.error().message == "creds line 1 is not 'URL TOKEN' (one server URL, spaces, one token)");
  CHECK(token_from_credentials("http://127.0.0.1:8420\n", server, "creds").error().kind == ErrorKind::usage);
}

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
