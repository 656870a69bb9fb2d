#include "proxy/request_edges.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "lib/crypto/secret_bytes.h"

namespace x420::proxy {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 percent-decoding. '+' stays '+': a token holding one is scanned as it was typed.
std::optional<std::string> percent_decoded(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    const int hi = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// Everything but RFC 3986's unreserved characters is escaped.
std::string percent_encoded(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// The findings of `all` wholly inside [begin, end), moved to start at `begin`.
std::vector<detect::Finding> within(const std::vector<detect::Finding>& all, std::size_t begin, std::size_t end) {
  std::vector<detect::Finding> out;
  for (auto f : all) {
    if (f.start < begin || f.end > end) continue;
    f.start -= begin;
    f.end -= begin;
    f.match_start = f.match_start < begin ? 0 : f.match_start - begin;
    f.match_end = std::min<std::uint64_t>(f.match_end, end) - begin;
    out.push_back(std::move(f));
  }
  return out;
}

// A header value that may be sent: visible ASCII, spaces and tabs, obs-text (RFC 9110 5.5).
bool sendable(std::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c == '\t' || c >= 0x20 ? c != 0x7f : false;
  });
}

struct Redactor {
  const detect::Engine& engine;
  detect::Engine::Scratch& scratch;
  bool scan_only;
  detect::RedactMode mode;
  const detect::Pseudonymizer* pseudonymizer;
  detect::PlaceholderMap* map;
  std::vector<EdgeFinding>& findings;

  // The findings in `text`, each noted as found in `where`.
  std::vector<detect::Finding> scan(std::string_view text, const std::string& where) {
    auto found = engine.scan(text, scratch);
    for (const auto& f : found) findings.push_back({where, engine.rule(f.rule).id});
    return found;
  }
  std::string replaced(std::string_view text, const std::vector<detect::Finding>& found) {
    return detect::redact(text, found, engine, mode, pseudonymizer, map).text;
  }
};

// One parameter, `name=value` or `name`: kept as sent when nothing is found in it; otherwise its
// name and value are redacted apart and encoded again (a secret across the '=' takes both).
Result<std::string> redact_parameter(Redactor& r, std::string_view pair) {
  const auto eq = pair.find('=');
  auto name = percent_decoded(pair.substr(0, eq));
  auto value = percent_decoded(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
  if (!name || !value) return make_error(ErrorKind::usage, "the query string is not valid percent-encoding");
  std::string text = *name;
  if (eq != std::string_view::npos) text += "=" + *value;
  const auto found = r.scan(text, "the query string");
  std::string out;
  if (!found.empty() && !r.scan_only) {
    const std::size_t sep = name->size();
    const bool split = eq != std::string_view::npos &&
                       std::none_of(found.begin(), found.end(), [&](const auto& f) { return f.start <= sep && f.end > sep; });
    if (split) {
      out = percent_encoded(r.replaced(*name, within(found, 0, sep))) + "=" +
            percent_encoded(r.replaced(*value, within(found, sep + 1, text.size())));
    } else {
      out = percent_encoded(r.replaced(text, found));
    }
  }
  crypto::wipe(text);
  crypto::wipe(*name);
  crypto::wipe(*value);
  if (found.empty() || r.scan_only) return std::string(pair);
  return out;
}

Result<std::string> redact_query(Redactor& r, std::string_view query) {
  if (query.empty()) return std::string();
  std::string out = "?";
  std::string_view rest = query.substr(query.starts_with('?') ? 1 : 0);
  for (bool first = true;; first = false) {
    const auto amp = rest.find('&');
    auto param = redact_parameter(r, rest.substr(0, amp));
    if (!param) return param.error();
    if (!first) out += '&';
    out += *param;
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace

Result<EdgeRedaction> redact_edges(const Request& client, std::string_view query, const detect::Engine& engine,
                                   detect::Engine::Scratch& scratch, bool scan_only, detect::RedactMode mode,
                                   const detect::Pseudonymizer* pseudonymizer, detect::PlaceholderMap* map) {
  EdgeRedaction out;
  Redactor r{engine, scratch, scan_only, mode, pseudonymizer, map, out.findings};
  auto redacted_query = redact_query(r, query);
  if (!redacted_query) return redacted_query.error();
  out.query = std::move(*redacted_query);

  // The value each forwarded header goes with, as build_upstream_request picks it: Accept's
  // first, and the last of the others (each one set over the one before).
  std::map<std::string, ForwardedHeader> sent;
  for (const auto& field : client) {
    const auto name = ssv(field.name_string());
    if (!forwarded_header(name)) continue;
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == "accept" && sent.contains(lower)) continue;
    sent[lower] = {std::string(name), std::string(ssv(field.value()))};
  }
  for (auto& [lower, header] : sent) {
    const auto found = r.scan(header.value, "header " + lower);
    if (found.empty() || scan_only) continue;
    std::string value = r.replaced(header.value, found);
    if (!sendable(value)) return make_error(ErrorKind::usage, "header " + lower + " cannot be forwarded once redacted");
    out.replaced.push_back({header.name, std::move(value)});
  }
  for (auto& [lower, header] : sent) crypto::wipe(header.value);
  return out;
}

}  // namespace x420::proxy
