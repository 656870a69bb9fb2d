// x420 scan [PATH...|-]: find secrets in files, trees, git's staged changes, or stdin.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "cli/cli.h"
#include "cli/context.h"
#include "cli/detection_setup.h"
#include "cli/scan_report.h"
#include "cli/scan_run.h"
#include "cli/scan_walk.h"
#include "cli/subprocess.h"
#include "cli/validators.h"
#include "cli/version.h"

namespace x420::cli {
namespace {

constexpr int kExitFound = 1;

struct ScanOptions {
  std::vector<std::string> paths;
  std::string format = "text";
  DetectionOptions detection;
  bool staged = false;
  bool show_secrets = false;
  bool no_ignore = false;
  bool no_progress = false;
  std::string max_size = "10M";
  unsigned threads = 0;
  std::vector<std::string> fail_on = {"secret"};
};

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t value = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    value = value * 10 + (text[i] - '0');
    if (value > (1ULL << 40)) return std::nullopt;
  }
  if (i == 0) return std::nullopt;
  const auto unit = text.substr(i);
  if (unit.empty() || unit == "B") return value;
  if (unit == "K" || unit == "KiB" || unit == "k") return value << 10;
  if (unit == "M" || unit == "MiB") return value << 20;
  if (unit == "G" || unit == "GiB") return value << 30;
  return std::nullopt;
}

// What `git commit` would record: the staged version of every added, copied, modified or
// renamed file, read from the index rather than the working tree.
Result<std::vector<std::pair<std::string, std::string>>> staged_files() {
  auto names = run_capture({"git", "diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR"},
                           64 << 20);
  if (!names) return make_error(ErrorKind::usage, "--staged: " + names.error().message);
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t at = 0;
  while (at < names->size()) {
    const auto end = names->find('\0', at);
    const std::string path = names->substr(at, end - at);
    at = end == std::string::npos ? names->size() : end + 1;
    if (path.empty()) continue;
    auto blob = run_capture({"git", "show", ":" + path}, 1ULL << 30);
    if (!blob) return make_error(ErrorKind::usage, "--staged: " + blob.error().message);
    out.emplace_back(path, std::move(blob.value()));
  }
  return out;
}

std::vector<RuleInfo> rule_infos(const detect::Engine& engine) {
  std::vector<RuleInfo> out;
  for (std::size_t i = 0; i < engine.rule_count(); ++i) {
    const auto& r = engine.rule(static_cast<std::uint32_t>(i));
    if (r.id == "known_secret" && !out.empty() && out.back().id == "known_secret") continue;
    out.push_back({r.id, r.description, r.severity, r.data_class});
  }
  return out;
}

int run_scan(Context& ctx, ScanOptions o) {
  const auto& out = ctx.out();
  if (out.json()) o.format = "json";
  const auto max_size = parse_size(o.max_size);
  if (!max_size)
    return ctx.fail(make_error(ErrorKind::usage, "--max-size '" + o.max_size +
                                                     "' is not a size (e.g. 512K, 10M, 1G)"));
  auto detection = build_detection(o.detection);
  if (!detection) return ctx.fail(detection.error());
  const auto& engine = *detection->engine;

  ScanSettings settings;
  settings.max_file_size = *max_size;
  settings.threads = o.threads;
  settings.show_secrets = o.show_secrets;
  settings.progress = !o.no_progress && !out.quiet() && ::isatty(STDERR_FILENO);

  ScanOutcome outcome;
  std::vector<std::pair<std::string, std::string>> staged;
  std::vector<ScanSource> sources;
  bool read_stdin = false;
  if (o.staged) {
    auto files = staged_files();
    if (!files) return ctx.fail(files.error());
    staged = std::move(files.value());
    for (const auto& [path, content] : staged) sources.push_back({path, "", &content});
  } else {
    // With no path, the current directory, shown as ripgrep does: "src/a.py", not "./src/a.py".
    const bool implicit_root = o.paths.empty();
    if (implicit_root) o.paths.push_back(".");
    std::vector<std::string> roots;
    for (const auto& p : o.paths) {
      if (p == "-") read_stdin = true;
      else roots.push_back(p);
    }
    WalkOptions walk_options;
    walk_options.honour_ignore_files = !o.no_ignore;
    walk_options.ignore_patterns = detection->allowlist.paths;
    walk(roots, walk_options,
         [&](const WalkEntry& e) {
           const bool strip = implicit_root && e.path.starts_with("./");
           sources.push_back({strip ? e.path.substr(2) : e.path, e.path, nullptr});
         },
         [&](const WalkProblem& p) { outcome.errors.push_back({p.path, p.reason}); });
  }
  if (read_stdin) scan_stdin(engine, settings, outcome);
  scan_sources(engine, sources, settings, outcome);

  auto problems = outcome.errors;
  problems.insert(problems.end(), outcome.notices.begin(), outcome.notices.end());
  if (o.format == "json") {
    out.document(to_json(outcome.findings, problems, outcome.summary));
  } else if (o.format == "sarif") {
    out.document(to_sarif(outcome.findings, problems, rule_infos(engine), kVersion));
  } else if (!out.quiet() || !outcome.findings.empty()) {
    write_text(std::cout, outcome.findings, problems, outcome.summary,
               !ctx.global().no_color && !std::getenv("NO_COLOR") && ::isatty(STDOUT_FILENO));
    std::cout.flush();
  }
  // 1 when something of a --fail-on class was found (even if some files failed), 2 when only
  // errors happened. Findings of other classes are reported and do not fail the scan.
  std::vector<detect::DataClass> fail_on;
  for (const auto& name : o.fail_on) fail_on.push_back(*detect::data_class_from(name));
  const bool fails = std::any_of(outcome.findings.begin(), outcome.findings.end(), [&](const ReportedFinding& f) {
    return std::find(fail_on.begin(), fail_on.end(), f.data_class) != fail_on.end();
  });
  if (fails) return kExitFound;
  if (!outcome.errors.empty()) return exit_code_for(ErrorKind::usage);
  return 0;
}

}  // namespace

void add_detection_options(CLI::App& cmd, DetectionOptions& d) {
  cmd.add_option("--rules", d.rule_files, "Extra rules file (TOML, the built-in format); repeatable")
      ->type_name("FILE")
      ->allow_extra_args(false);
  cmd.add_option("--known-env", d.known_env,
                 "Treat this environment variable's value as a secret to find; repeatable")
      ->type_name("NAME")
      ->allow_extra_args(false);
  cmd.add_option("--known-file", d.known_files,
                 "Treat every value in this .env file as a secret to find; repeatable")
      ->type_name("FILE")
      ->allow_extra_args(false);  // one value per flag, so paths after it stay paths
}

void register_scan(CLI::App& root, Invocation& inv) {
  auto o = std::make_shared<ScanOptions>();
  auto* scan = root.add_subcommand("scan", "Find secrets in files, directories, staged changes or stdin");
  scan->add_option("paths", o->paths, "Files or directories (default .); - reads stdin");
  scan->add_option("--format", o->format, "Report format")
      ->check(one_of({"text", "json", "sarif"}))
      ->capture_default_str();
  add_detection_options(*scan, o->detection);
  scan->add_flag("--staged", o->staged, "Scan what git would commit (for a pre-commit hook)");
  scan->add_flag("--show-secrets", o->show_secrets,
                 "Print the secrets themselves in text and JSON reports (never in SARIF)");
  scan->add_flag("--no-ignore", o->no_ignore, "Do not honour .gitignore and .x420ignore files");
  scan->add_option("--max-size", o->max_size, "Skip files larger than this")
      ->type_name("SIZE")
      ->capture_default_str();
  scan->add_option("--threads", o->threads, "Files scanned at once (default: one per core)")
      ->type_name("N")
      ->check(whole_number(1, 256));
  scan->add_flag("--no-progress", o->no_progress, "No progress line on stderr");
  scan->add_option("--fail-on", o->fail_on,
                   "Exit 1 when a finding of this class is found: secret (credentials), identifier "
                   "(ARNs, buckets, client ids), personal (cards, IBANs, national ids, contact data); "
                   "repeatable. Other findings are reported all the same")
      ->type_name("CLASS")
      ->check(one_of({"secret", "identifier", "personal"}))
      ->allow_extra_args(false)
      ->capture_default_str();
  scan->footer(
      "Exit status: 0 nothing to fail on, 1 a finding of a --fail-on class (secret by default),\n"
      "2 only errors. Every finding is reported with its class, whatever --fail-on says.\n"
      "A line containing x420:allow is accepted; .x420ignore (gitignore syntax) skips paths.\n"
      "Examples:\n"
      "  x420 scan                          # the current directory\n"
      "  x420 scan --staged                 # in .git/hooks/pre-commit\n"
      "  git diff | x420 scan -             # a diff on stdin\n"
      "  x420 scan --format sarif > x420.sarif\n"
      "  x420 scan --fail-on secret --fail-on personal docs/   # no card numbers in the docs\n"
      "  x420 scan --known-env OPENAI_API_KEY --known-file .env src/");
  inv.actions[scan] = [o](Context& ctx) { return run_scan(ctx, *o); };
}

}  // namespace x420::cli
