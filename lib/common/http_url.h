// The one parser of http(s) URLs: the upstreams' base URLs (checked when added, taken apart when
// the proxy connects) and the CLI's --server. Policy (plain http only to loopback, /v1 or not)
// stays with the callers.
#pragma once

#include <string>
#include <string_view>

#include "lib/common/result.h"

namespace x420 {

struct HttpUrl {
  bool tls = true;
  std::string host;  // lowercase; an IPv6 address without its brackets
  std::string port;  // as given, else "443" or "80"
  std::string path;  // "" or "/prefix", trailing slashes dropped

  // What goes in Host: brackets for IPv6, the port when it is not the scheme's default.
  std::string host_header() const;
  // localhost, an address in 127.0.0.0/8, or ::1.
  bool is_loopback() const;
};

// http(s)://host[:port][/path]. Refused with ErrorKind::usage and a message that completes a
// sentence about the URL ("must start with https:// or http://"): another scheme, spaces or
// control characters, a query or fragment, credentials, no host, a bad [IPv6] host, a port that
// is not 1 to 65535.
Result<HttpUrl> parse_http_url(std::string_view url);

}  // namespace x420
