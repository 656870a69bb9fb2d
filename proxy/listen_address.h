// The address `x420 serve --listen` binds: parsing, and the rule that only loopback may be
// served without TLS (DESIGN.md, "The service").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/common/result.h"

namespace x420::proxy {

struct ListenAddress {
  std::string host;  // an IPv4 or IPv6 literal, or "localhost"
  std::uint16_t port = 0;
  bool loopback = false;
};

// "127.0.0.1:8420", "[::1]:8420", "localhost:8420", "0.0.0.0:8420". A bare port means
// 127.0.0.1. Host names other than localhost are refused: bind to an address.
Result<ListenAddress> parse_listen_address(std::string_view text);

// Refuses a non-loopback address without TLS unless plaintext was explicitly allowed.
Status check_exposure(const ListenAddress& address, bool tls, bool allow_plaintext_remote);

}  // namespace x420::proxy
