// The reports of `x420 scan`: text for a terminal, one JSON document for scripts, and SARIF 2.1.0
// for code-scanning dashboards (GitHub's upload accepts it). The writers only format; the scan
// handler has already masked the previews and decided whether the secrets may be shown.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "lib/detect/finding.h"
#include "lib/detect/rule.h"

namespace x420::cli {

struct ReportedFinding {
  std::string path;  // as displayed: "src/app.py", "/abs/path", "-" for stdin
  std::uint64_t line = 1, column = 1;          // 1-based; column counted in bytes
  std::uint64_t end_line = 1, end_column = 1;  // 1-based; end column exclusive, as SARIF's
  std::string rule_id, rule_description;
  detect::Severity severity = detect::Severity::high;
  detect::DataClass data_class = detect::DataClass::secret;
  detect::Confidence confidence = detect::Confidence::medium;
  bool checksum_checked = false;  // the rule carries a vendor checksum (GitHub CRC32, x420)
  bool checksum_failed = false;   // ... and it did not hold
  std::string fingerprint;        // 16 hex chars
  // The line with every secret on it masked as [REDACTED:rule_id], already cut to a sane length.
  std::string preview;
  std::optional<std::string> secret;  // only with --show-secrets; never written to SARIF
};

// A path the scan could not read or chose to skip with a reason worth telling (unreadable file,
// FIFO, too large). Messages name the thing, never its content.
struct ScanProblem {
  std::string path;
  std::string message;
};

struct ScanSummary {
  std::uint64_t files_scanned = 0;
  std::uint64_t bytes_scanned = 0;
  std::uint64_t files_skipped = 0;
  double seconds = 0;
};

// Every rule of the run, for SARIF's tool.driver.rules (findings point into it by index).
struct RuleInfo {
  std::string id;
  std::string description;
  detect::Severity severity = detect::Severity::high;
  detect::DataClass data_class = detect::DataClass::secret;
};

// gitleaks/ripgrep-like: per finding a `path:line:column  rule  severity [class]` header (the
// class when it is not secret), the masked
// line and the fingerprint; then the problems as `path: message`; then one summary line.
// Control bytes from scanned files are shown escaped, so a file cannot drive the terminal; with
// `color` false the output holds no escape byte at all.
void write_text(std::ostream& out, const std::vector<ReportedFinding>& findings,
                const std::vector<ScanProblem>& problems, const ScanSummary& summary, bool color);

// {"findings": [...], "problems": [...], "summary": {...}}. "secret" appears in a finding only
// when it has a value. Strings are made valid UTF-8 (U+FFFD for stray bytes) so any dump works.
nlohmann::ordered_json to_json(const std::vector<ReportedFinding>& findings,
                               const std::vector<ScanProblem>& problems, const ScanSummary& summary);

// SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html), one run.
// The secret value is never written, whatever ReportedFinding::secret holds: SARIF files are
// uploaded to third parties. A finding whose rule is not among `rules` gets a descriptor of its
// own, so every ruleIndex points at its ruleId.
nlohmann::ordered_json to_sarif(const std::vector<ReportedFinding>& findings,
                                const std::vector<ScanProblem>& problems,
                                const std::vector<RuleInfo>& rules, std::string_view tool_version);

// The artifactLocation of a displayed path: a relative POSIX path percent-encoded against
// %SRCROOT%, an absolute one as a file:// URI, stdin ("-") as the uri "stdin" described as
// standard input (GitHub refuses locations without a uri).
nlohmann::ordered_json sarif_artifact_location(std::string_view path);

}  // namespace x420::cli
