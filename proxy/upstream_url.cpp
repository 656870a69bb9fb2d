#include "proxy/upstream_url.h"

namespace x420::proxy {

Result<UpstreamUrl> parse_upstream_url(std::string_view url) {
  UpstreamUrl out;
  if (url.starts_with("https://")) {
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    out.tls = false;
    url.remove_prefix(7);
  } else {
    return make_error(ErrorKind::internal, "upstream URL has no http(s) scheme");
  }
  const auto slash = url.find('/');
  const std::string_view authority = url.substr(0, slash);
  out.path = slash == std::string_view::npos ? "" : std::string(url.substr(slash));
  while (out.path.ends_with('/')) out.path.pop_back();
  out.host_header = std::string(authority);
  std::string_view host = authority, port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return make_error(ErrorKind::internal, "upstream URL has a bad IPv6 host");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return make_error(ErrorKind::internal, "upstream URL has no host");
  out.host = std::string(host);
  out.port = port.empty() ? (out.tls ? "443" : "80") : std::string(port);
  return out;
}

}  // namespace x420::proxy
