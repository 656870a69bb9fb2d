#include "cli/scan_report.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iterator>
#include <map>
#include <set>

#include "lib/common/utf8.h"

namespace x420::cli {
namespace {

using nlohmann::ordered_json;
using detect::Confidence;
using detect::DataClass;
using detect::Severity;

std::string_view severity_word(Severity s) { return detect::severity_name(s); }

std::string_view confidence_word(Confidence c) {
  switch (c) {
    case Confidence::low: return "low";
    case Confidence::medium: return "medium";
    case Confidence::high: return "high";
  }
  return "medium";
}

// SARIF result.level, and GitHub's properties."security-severity" (a CVSS-like score: >= 9.0
// shows as critical, >= 7.0 high, >= 4.0 medium, else low).
std::string_view sarif_level(Severity s) {
  switch (s) {
    case Severity::critical:
    case Severity::high: return "error";
    case Severity::medium: return "warning";
    case Severity::low: return "note";
  }
  return "error";
}

std::string_view security_severity(Severity s) {
  switch (s) {
    case Severity::critical: return "9.0";
    case Severity::high: return "7.5";
    case Severity::medium: return "5.0";
    case Severity::low: return "2.0";
  }
  return "7.5";
}

// JSON strings must be UTF-8; a path or a line from a file need not be.
std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

// Text from scanned files on a terminal: C0 controls, DEL, C1 controls and stray bytes are shown
// as \xNN, so a crafted file cannot move the cursor, retitle the window or fake a clean report.
std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  char buf[8];
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const size_t n = utf8_sequence_length(s, i);
    const bool c1 = n == 2 && b == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0;
    if (n == 0 || (n == 1 && ((b < 0x20 && b != '\t') || b == 0x7F))) {
      std::snprintf(buf, sizeof buf, "\\x%02x", b);
      out += buf;
      ++i;
    } else if (c1) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(s[i + 1]));
      out += buf;
      i += 2;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

std::string plural(std::uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// Decimal units, as ls -h --si and most download bars: "512 B", "4.2 MB".
std::string human_bytes(std::uint64_t n) {
  if (n < 1000) return std::to_string(n) + " B";
  static const char* const units[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
  double v = static_cast<double>(n) / 1000;
  size_t u = 0;
  while (v >= 999.95 && u + 1 < std::size(units)) v /= 1000, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

std::string human_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", s < 0 ? 0.0 : s);
  return buf;
}

std::uint64_t files_with_findings(const std::vector<ReportedFinding>& findings) {
  std::set<std::string_view> paths;
  for (const auto& f : findings) paths.insert(f.path);
  return paths.size();
}

std::string summary_line(const std::vector<ReportedFinding>& findings, const ScanSummary& summary) {
  std::string details = human_bytes(summary.bytes_scanned) + ", " + human_seconds(summary.seconds);
  if (summary.files_skipped > 0) details += ", " + std::to_string(summary.files_skipped) + " skipped";
  if (findings.empty())
    return "no secrets in " + plural(summary.files_scanned, "file", "files") + " (" + details + ")";
  std::size_t secrets = 0, identifiers = 0, personal = 0;
  for (const auto& f : findings)
    (f.data_class == DataClass::secret ? secrets : f.data_class == DataClass::identifier ? identifiers : personal)++;
  std::string what = plural(findings.size(), "secret", "secrets");
  if (secrets != findings.size()) {  // "3 findings (1 secret, 2 personal)"
    std::vector<std::string> parts;
    if (secrets) parts.push_back(plural(secrets, "secret", "secrets"));
    if (identifiers) parts.push_back(plural(identifiers, "identifier", "identifiers"));
    if (personal) parts.push_back(std::to_string(personal) + " personal");
    what = plural(findings.size(), "finding", "findings") + " (";
    for (std::size_t i = 0; i < parts.size(); ++i) what += (i ? ", " : "") + parts[i];
    what += ")";
  }
  return what + " in " + std::to_string(files_with_findings(findings)) + " of " +
         plural(summary.files_scanned, "file", "files") + " (" + details + ")";
}

std::string_view severity_color(Severity s) {
  switch (s) {
    case Severity::critical: return "\x1b[1;31m";
    case Severity::high: return "\x1b[31m";
    case Severity::medium: return "\x1b[33m";
    case Severity::low: return "\x1b[2m";
  }
  return "";
}

std::optional<std::string_view> checksum_word(const ReportedFinding& f) {
  if (f.checksum_failed) return "invalid";
  if (f.checksum_checked) return "valid";
  return std::nullopt;
}

// Percent-encodes everything but RFC 3986 unreserved characters and '/', byte by byte: spaces,
// '%', '#', '?', non-ASCII and a ':' that would otherwise read as a scheme.
std::string percent_encode_path(std::string_view path) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                            c == '~' || c == '/';
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

// "aws.access_key_id" -> "AwsAccessKeyId": SARIF wants reportingDescriptor.name to be an
// identifier-like name, distinct from the id.
std::string rule_name(std::string_view id) {
  std::string out;
  bool start = true;
  for (const char ch : id) {
    const auto c = static_cast<unsigned char>(ch);
    if (!std::isalnum(c)) {
      start = true;
      continue;
    }
    out += start ? static_cast<char>(std::toupper(c)) : ch;
    start = false;
  }
  return out.empty() ? std::string(id) : out;
}

ordered_json reporting_descriptor(const RuleInfo& rule) {
  const std::string description = valid_utf8(rule.description.empty() ? rule.id : rule.description);
  return {
      {"id", valid_utf8(rule.id)},
      {"name", valid_utf8(rule_name(rule.id))},
      {"shortDescription", {{"text", description}}},
      {"fullDescription", {{"text", description}}},
      {"help",
       {{"text",
         "A secret is committed in plain text. Revoke or rotate it at its issuer (it stays in "
         "the version history), then load it from the environment or a secret store. If the "
         "value is not a secret, add x420:allow to the line or its fingerprint to the "
         "allowlist."}}},
      {"defaultConfiguration", {{"level", sarif_level(rule.severity)}}},
      {"properties",
       {{"tags", ordered_json::array({"security", detect::data_class_name(rule.data_class)})},
        {"security-severity", security_severity(rule.severity)}}},
  };
}

ordered_json sarif_region(const ReportedFinding& f) {
  // SARIF requires lines and columns >= 1 and an end not before the start.
  const std::uint64_t line = std::max<std::uint64_t>(f.line, 1);
  const std::uint64_t column = std::max<std::uint64_t>(f.column, 1);
  std::uint64_t end_line = std::max(f.end_line, line);
  std::uint64_t end_column = std::max<std::uint64_t>(f.end_column, 1);
  if (end_line == line) end_column = std::max(end_column, column);
  return {{"startLine", line}, {"startColumn", column}, {"endLine", end_line}, {"endColumn", end_column}};
}

// A SARIF location object: where a finding (with its region) or a problem (the file alone) is.
ordered_json physical_location(std::string_view path, std::optional<ordered_json> region) {
  ordered_json physical = {{"artifactLocation", sarif_artifact_location(path)}};
  if (region) physical["region"] = std::move(*region);
  return {{"physicalLocation", std::move(physical)}};
}

}  // namespace

void write_text(std::ostream& out, const std::vector<ReportedFinding>& findings,
                const std::vector<ScanProblem>& problems, const ScanSummary& summary, bool color) {
  const auto paint = [color](std::string_view text, std::string_view code) {
    if (!color || code.empty()) return std::string(text);
    return std::string(code) + std::string(text) + "\x1b[0m";
  };
  for (const auto& f : findings) {
    out << printable(f.path) << ':' << f.line << ':' << f.column << "  "
        << paint(printable(f.rule_id), "\x1b[1;36m") << "  "
        << paint(severity_word(f.severity), severity_color(f.severity));
    if (f.data_class != detect::DataClass::secret) out << "  " << detect::data_class_name(f.data_class);
    if (f.checksum_failed) out << "  checksum invalid";
    out << '\n';
    out << "    " << printable(f.preview) << '\n';
    out << "    fingerprint " << printable(f.fingerprint) << '\n';
    if (f.secret) out << "    secret " << printable(*f.secret) << '\n';
    out << '\n';
  }
  for (const auto& p : problems) out << printable(p.path) << ": " << printable(p.message) << '\n';
  if (!problems.empty()) out << '\n';
  out << summary_line(findings, summary) << '\n';
}

nlohmann::ordered_json to_json(const std::vector<ReportedFinding>& findings,
                               const std::vector<ScanProblem>& problems, const ScanSummary& summary) {
  ordered_json doc = ordered_json::object();
  ordered_json& list = doc["findings"] = ordered_json::array();
  for (const auto& f : findings) {
    ordered_json j = {
        {"path", valid_utf8(f.path)},
        {"line", f.line},
        {"column", f.column},
        {"end_line", f.end_line},
        {"end_column", f.end_column},
        {"rule", valid_utf8(f.rule_id)},
        {"description", valid_utf8(f.rule_description)},
        {"severity", severity_word(f.severity)},
        {"class", detect::data_class_name(f.data_class)},
        {"confidence", confidence_word(f.confidence)},
        {"checksum", nullptr},
        {"fingerprint", valid_utf8(f.fingerprint)},
        {"preview", valid_utf8(f.preview)},
    };
    if (const auto checksum = checksum_word(f)) j["checksum"] = *checksum;
    if (f.secret) j["secret"] = valid_utf8(*f.secret);
    list.push_back(std::move(j));
  }
  ordered_json& problem_list = doc["problems"] = ordered_json::array();
  for (const auto& p : problems)
    problem_list.push_back({{"path", valid_utf8(p.path)}, {"message", valid_utf8(p.message)}});
  doc["summary"] = {
      {"findings", findings.size()},
      {"files_with_findings", files_with_findings(findings)},
      {"files_scanned", summary.files_scanned},
      {"bytes_scanned", summary.bytes_scanned},
      {"files_skipped", summary.files_skipped},
      {"seconds", summary.seconds},
  };
  return doc;
}

nlohmann::ordered_json sarif_artifact_location(std::string_view path) {
  // GitHub rejects a whole upload if one location lacks a uri, so stdin gets a relative one.
  if (path == "-") return {{"uri", "stdin"}, {"description", {{"text", "standard input"}}}};
  if (!path.empty() && path.front() == '/') return {{"uri", "file://" + percent_encode_path(path)}};
  while (path.size() > 2 && path.substr(0, 2) == "./") {
    path.remove_prefix(2);
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  }
  return {{"uri", percent_encode_path(path)}, {"uriBaseId", "%SRCROOT%"}};
}

nlohmann::ordered_json to_sarif(const std::vector<ReportedFinding>& findings,
                                const std::vector<ScanProblem>& problems,
                                const std::vector<RuleInfo>& rules, std::string_view tool_version) {
  // One descriptor per rule id, first one wins; findings of rules outside the list (known
  // secrets, a rule dropped between runs) get their own so ruleIndex always resolves.
  std::vector<RuleInfo> descriptors;
  std::map<std::string, size_t, std::less<>> index_of;
  const auto add_rule = [&](const RuleInfo& rule) {
    const auto [it, inserted] = index_of.emplace(rule.id, descriptors.size());
    if (inserted) descriptors.push_back(rule);
    return it->second;
  };
  for (const auto& rule : rules) add_rule(rule);

  ordered_json results = ordered_json::array();
  for (const auto& f : findings) {
    const size_t index = add_rule({f.rule_id, f.rule_description, f.severity, f.data_class});
    // Rule id and description only: never the secret, and not the preview either (a masked
    // line is not the region's text, and what is cut from it is the user's code).
    std::string message = f.rule_id + ": " +
                          (f.rule_description.empty() ? std::string("secret") : f.rule_description) +
                          " found";
    if (f.checksum_failed) message += " (vendor checksum invalid)";
    ordered_json properties = {{"confidence", confidence_word(f.confidence)},
                               {"class", detect::data_class_name(f.data_class)}};
    if (const auto checksum = checksum_word(f)) properties["checksum"] = *checksum;
    results.push_back({
        {"ruleId", valid_utf8(f.rule_id)},
        {"ruleIndex", index},
        {"level", sarif_level(f.severity)},
        {"message", {{"text", valid_utf8(message)}}},
        {"locations", ordered_json::array({physical_location(f.path, sarif_region(f))})},
        {"partialFingerprints", {{"x420/v1", valid_utf8(f.fingerprint)}}},
        {"properties", std::move(properties)},
    });
  }

  ordered_json rule_list = ordered_json::array();
  for (const auto& rule : descriptors) rule_list.push_back(reporting_descriptor(rule));

  ordered_json notifications = ordered_json::array();
  for (const auto& p : problems) {
    notifications.push_back({
        {"level", "error"},
        {"message", {{"text", valid_utf8(p.path + ": " + p.message)}}},
        {"locations", ordered_json::array({physical_location(p.path, std::nullopt)})},
    });
  }

  ordered_json run = {
      {"tool",
       {{"driver",
         {{"name", "x420"},
          {"version", valid_utf8(tool_version)},
          {"informationUri", "https://github.com/x420/x420"},
          {"rules", std::move(rule_list)}}}}},
      {"invocations",
       ordered_json::array({ordered_json{{"executionSuccessful", true},
                                         {"toolExecutionNotifications", std::move(notifications)}}})},
      // Columns are counted in bytes, which SARIF has no kind for; code points is the kind that
      // agrees with them on ASCII lines, where secrets live.
      {"columnKind", "unicodeCodePoints"},
      {"results", std::move(results)},
  };
  return {
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs", ordered_json::array({std::move(run)})},
  };
}

}  // namespace x420::cli
