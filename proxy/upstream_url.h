// An upstream's base URL taken apart for connecting: scheme, host, port and path prefix.
#pragma once

#include <string>
#include <string_view>

#include "lib/common/result.h"

namespace x420::proxy {

struct UpstreamUrl {
  bool tls = true;
  std::string host;  // without brackets for IPv6
  std::string port;
  std::string path;  // "" or "/v1", no trailing slash
  std::string host_header;  // what goes in Host: (brackets and non-default port kept)
};

Result<UpstreamUrl> parse_upstream_url(std::string_view url);

}  // namespace x420::proxy
