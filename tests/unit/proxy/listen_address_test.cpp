#include <catch2/catch.hpp>

#include "proxy/listen_address.h"

using namespace x420;
using namespace x420::proxy;

TEST_CASE("listen addresses parse and know whether they are loopback") {
  auto v4 = parse_listen_address("127.0.0.1:8420");
  REQUIRE(v4.ok());
  CHECK(v4->port == 8420);
  CHECK(v4->loopback);
  CHECK(parse_listen_address("[::1]:9000")->loopback);
  CHECK(parse_listen_address("localhost:1")->loopback);
  CHECK(parse_listen_address("127.8.9.10:80")->loopback);
  CHECK_FALSE(parse_listen_address("0.0.0.0:8420")->loopback);
  CHECK_FALSE(parse_listen_address("[::]:8420")->loopback);
  CHECK(parse_listen_address("8420")->host == "127.0.0.1");
}

TEST_CASE("malformed listen addresses are refused naming the flag") {
  for (const char* bad : {"", "127.0.0.1:", "127.0.0.1:99999", "::1:80", "[::1]80", "example.com:80",
                          "1.2.3.4:8x"}) {
    auto r = parse_listen_address(bad);
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("--listen") != std::string::npos);
  }
}

TEST_CASE("a non-loopback address without TLS is refused unless allowed") {
  auto any = *parse_listen_address("0.0.0.0:8420");
  CHECK_FALSE(check_exposure(any, false, false).ok());
  CHECK(check_exposure(any, true, false).ok());
  CHECK(check_exposure(any, false, true).ok());
  CHECK(check_exposure(*parse_listen_address("127.0.0.1:8420"), false, false).ok());
}
