#include "proxy/listen_address.h"

#include <arpa/inet.h>

#include <charconv>

namespace x420::proxy {
namespace {

Error bad(std::string_view text, std::string_view why) {
  return make_error(ErrorKind::usage,
                    "--listen '" + std::string(text) + "': " + std::string(why) +
                        " (expected HOST:PORT, e.g. 127.0.0.1:8420 or [::1]:8420)");
}

}  // namespace

Result<ListenAddress> parse_listen_address(std::string_view text) {
  std::string_view host, port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return bad(text, "an IPv6 address needs brackets and a port");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad(text, "put an IPv6 address in brackets");
  } else {
    host = "127.0.0.1";
    port = text;
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || port.empty() || value > 65535)
    return bad(text, "the port is not a number from 0 to 65535");

  ListenAddress out;
  out.host = std::string(host);
  out.port = static_cast<std::uint16_t>(value);
  if (host == "localhost") {
    out.loopback = true;
    return out;
  }
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, out.host.c_str(), &v4) == 1) {
    out.loopback = (ntohl(v4.s_addr) >> 24) == 127;
  } else if (inet_pton(AF_INET6, out.host.c_str(), &v6) == 1) {
    out.loopback = IN6_IS_ADDR_LOOPBACK(&v6);
  } else {
    return bad(text, "the host is not an IP address or localhost");
  }
  return out;
}

Status check_exposure(const ListenAddress& address, bool tls, bool allow_plaintext_remote) {
  if (address.loopback || tls || allow_plaintext_remote) return ok_status();
  return make_error(ErrorKind::usage,
                    "refusing to serve " + address.host +
                        " without TLS: keys and prompts would cross the network in clear text "
                        "(pass --tls-cert and --tls-key, or --allow-plaintext-remote)");
}

}  // namespace x420::proxy
