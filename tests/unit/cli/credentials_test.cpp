// cli/credentials: where the CLI's management token comes from, X420_TOKEN or the credentials
// file, and what it refuses in that file.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include "cli/credentials.h"
#include "cli/http_client.h"
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
