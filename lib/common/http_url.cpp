#include "lib/common/http_url.h"

#include <cctype>

namespace x420 {
namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool valid_port(std::string_view port) {
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) return false;
  const int n = std::stoi(std::string(port));
  return n >= 1 && n <= 65535;
}

}  // namespace

std::string HttpUrl::host_header() const {
  const std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return port == (tls ? "443" : "80") ? name : name + ":" + port;
}

bool HttpUrl::is_loopback() const {
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8 as an address: a name that merely starts with "127." resolves anywhere.
  int dots = 0;
  for (char c : host) {
    if (c == '.') ++dots;
    else if (c < '0' || c > '9') return false;
  }
  return host.starts_with("127.") && dots == 3;
}

Result<HttpUrl> parse_http_url(std::string_view url) {
  auto bad = [](const char* why) { return make_error(ErrorKind::usage, why); };
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("holds spaces or control characters");
  HttpUrl out;
  const auto scheme_end = url.find("://");
  const auto scheme = scheme_end == std::string_view::npos ? std::string() : lowercase(url.substr(0, scheme_end));
  if (scheme == "https") out.tls = true;
  else if (scheme == "http") out.tls = false;
  else return bad("must start with https:// or http://");
  const auto rest = url.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) return bad("must not have a query or fragment");
  const auto slash = rest.find('/');
  const auto authority = rest.substr(0, slash);
  auto path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) return bad("must not carry credentials (user:password@)");
  std::string_view host = authority, port;
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return bad("has an unclosed [ in its host");
    const auto after = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) return bad("has something after its [host]");
      port = after.substr(1);
      if (port.empty()) return bad("has a port that is not 1 to 65535");
    }
  } else if (const auto colon = host.find(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
    if (port.empty()) return bad("has a port that is not 1 to 65535");
  }
  if (host.empty()) return bad("has no host");
  if (!port.empty() && !valid_port(port)) return bad("has a port that is not 1 to 65535");
  out.host = lowercase(host);
  out.port = port.empty() ? (out.tls ? "443" : "80") : std::string(port);
  while (path.ends_with('/')) path.remove_suffix(1);
  out.path = std::string(path);
  return out;
}

}  // namespace x420
