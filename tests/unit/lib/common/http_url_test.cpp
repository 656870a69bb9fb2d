#include "lib/common/http_url.h"

#include <catch2/catch.hpp>

using namespace x420;

namespace {

HttpUrl parsed(std::string_view text) {
  auto url = parse_http_url(text);
  INFO(text);
  REQUIRE(url.ok());
  return *url;
}

}  // namespace

TEST_CASE("http URLs come apart into scheme, host, port and path") {
  const auto openai = parsed("https://api.openai.com/v1/");
  CHECK(openai.tls);
  CHECK(openai.host == "api.openai.com");
  CHECK(openai.port == "443");
  CHECK(openai.path == "/v1");
  CHECK(openai.host_header() == "api.openai.com");

  const auto local = parsed("http://127.0.0.1:9000");
  CHECK_FALSE(local.tls);
  CHECK(local.port == "9000");
  CHECK(local.path.empty());
  CHECK(local.host_header() == "127.0.0.1:9000");
  CHECK(local.is_loopback());

  const auto v6 = parsed("http://[::1]:8420/gateway//");
  CHECK(v6.host == "::1");
  CHECK(v6.port == "8420");
  CHECK(v6.path == "/gateway");
  CHECK(v6.host_header() == "[::1]:8420");
  CHECK(v6.is_loopback());

  CHECK(parsed("HTTPS://API.Example.COM").host == "api.example.com");
  CHECK(parsed("https://h:443").host_header() == "h");  // the default port is not repeated
  CHECK(parsed("http://h:80/").host_header() == "h");
  CHECK(parsed("https://h:8443").host_header() == "h:8443");
  CHECK(parsed("http://localhost:1").is_loopback());
  CHECK_FALSE(parsed("https://10.0.0.1").is_loopback());
  CHECK(parsed("http://127.0.0.53").is_loopback());
  CHECK_FALSE(parsed("http://127.evil.example").is_loopback());  // a name, resolved anywhere
  CHECK_FALSE(parsed("http://127.0.0.1.nip.io").is_loopback());
  CHECK(parsed("https://h/a/b").path == "/a/b");
}

TEST_CASE("http URLs that are not http(s)://host[:port][/path] are refused with the reason") {
  struct Case {
    const char* url;
    const char* says;
  };
  const Case cases[] = {
      {"api.openai.com/v1", "https://"},     {"ftp://h/v1", "https://"},
      {"https://user:pw@h/v1", "credentials"}, {"https://h/v1?key=1", "query"},
      {"https://h/#f", "fragment"},          {"https://", "no host"},
      {"https:///v1", "no host"},            {"https://h:0", "1 to 65535"},
      {"https://h:65536", "1 to 65535"},     {"https://h:12ab", "1 to 65535"},
      {"https://h:", "1 to 65535"},          {"https://[::1", "unclosed ["},
      {"https://[::1]x", "after its [host]"}, {"https://[::1]:", "1 to 65535"},
      {"https://h /v1", "spaces"},           {"https://h/\x01", "control"},
  };
  for (const auto& c : cases) {
    INFO(c.url);
    const auto url = parse_http_url(c.url);
    REQUIRE_FALSE(url.ok());
    CHECK(url.error().kind == ErrorKind::usage);
    CHECK(url.error().message.find(c.says) != std::string::npos);
  }
}
