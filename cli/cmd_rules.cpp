// x420 rules check [FILE...]: the built-in rules, or a user's rule files, checked by the real
// loader and engine against their own examples (lib/detect/rule_check.h does the checking).
#include <CLI/CLI.hpp>

#include "cli/cli.h"
#include "cli/context.h"
#include "cli/detection_setup.h"
#include "lib/detect/rule_check.h"

namespace x420::cli {
namespace {

struct RulesCheckOptions {
  std::vector<std::string> files;  // empty: the built-in rules
};

nlohmann::ordered_json to_json(const detect::RuleCheckReport& report,
                               const std::vector<detect::RuleText>& files) {
  auto problems = nlohmann::ordered_json::array();
  for (const auto& p : report.problems) {
    nlohmann::ordered_json item = {
        {"level", p.level == detect::ProblemLevel::failure ? "failure" : "warning"},
        {"check", detect::check_kind_name(p.check)},
        {"file", p.source.empty() ? nullptr : nlohmann::ordered_json(p.source)},
        {"rule", p.rule.empty() ? nullptr : nlohmann::ordered_json(p.rule)},
        {"index", p.index < 0 ? nullptr : nlohmann::ordered_json(p.index)},
        {"message", p.message}};
    problems.push_back(std::move(item));
  }
  auto names = nlohmann::ordered_json::array();
  for (const auto& f : files) names.push_back(f.name);
  return {{"ok", report.failures() == 0}, {"files", names},
          {"rules", report.rules},        {"examples", report.examples},
          {"negatives", report.negatives}, {"failures", report.failures()},
          {"warnings", report.warnings()}, {"problems", problems}};
}

std::string plural(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string summary(const detect::RuleCheckReport& report) {
  std::string line = plural(report.rules, "rule") + ", " + plural(report.examples, "example") + ", " +
                     plural(report.negatives, "negative") + ": ";
  if (report.failures()) line += plural(report.failures(), "failure");
  else line += "ok";
  if (report.warnings()) line += (report.failures() ? ", " : " (") + plural(report.warnings(), "warning") +
                                 (report.failures() ? "" : ")");
  return line;
}

int run_check(Context& ctx, const RulesCheckOptions& o) {
  static const detect::RuleFile kNoBase;
  std::vector<detect::RuleText> files;
  if (o.files.empty()) files.push_back({"builtin.toml", std::string(detect::builtin_rule_text())});
  for (const auto& path : o.files) {
    auto text = read_small_file(path, "rule file");
    if (!text) return ctx.fail(text.error());
    files.push_back({path, std::move(text.value())});
  }
  const auto report = detect::check_rule_files(o.files.empty() ? kNoBase : detect::builtin_rule_file(), files);
  const auto& out = ctx.out();
  if (out.json()) {
    out.document(to_json(report, files));
  } else {
    for (const auto& p : report.problems)
      out.line(p.level == detect::ProblemLevel::warning ? "warning: " + p.message : p.message);
    if (!out.quiet() || report.failures()) out.line(summary(report));
  }
  return report.failures() ? exit_code_for(ErrorKind::usage) : 0;
}

}  // namespace

void register_rules(CLI::App& root, Invocation& inv) {
  auto o = std::make_shared<RulesCheckOptions>();
  auto* rules = root.add_subcommand("rules", "Work with detection rule files");
  rules->require_subcommand(1);
  auto* check = rules->add_subcommand("check", "Check rule files (default: the built-in rules) against their own examples");
  check->add_option("files", o->files, "Rule files in the --rules format (default: the built-in rules)")
      ->type_name("FILE");
  check->footer(
      "Each file goes through the loader x420 scan uses (syntax, unknown fields, bad types and\n"
      "duplicate ids are reported with file, line and rule), each rule through the engine build (a\n"
      "regex that does not compile), and then each rule runs alone over its own examples, with\n"
      "secret_group, min_len, entropy_min, the validator and the allowlist applied as in x420 scan:\n"
      "every `examples` entry must be found (with a checksum that holds, for github_crc32 and\n"
      "x420_checksum), no `negative_examples` entry may be. An example that is not found gets the\n"
      "reason: the regex, min_len, entropy_min, the validator or the allowlist.\n"
      "Warnings, which do not fail the check: a rule without examples or negative examples, a regex\n"
      "with no bound on its length, an example that another rule reports when every rule runs.\n"
      "A FILE is checked as x420 scan --rules FILE loads it: on top of the built-in rules, whose ids\n"
      "it may not reuse. Problems name the file, the rule and the example's index, never the\n"
      "example itself. With --json: one document, {ok, files, rules, examples, negatives, failures,\n"
      "warnings, problems: [{level, check, file, rule, index, message}]}.\n"
      "Exit status: 0 every check holds, 2 a file does not load or a check fails.\n"
      "Examples:\n"
      "  x420 rules check                          # the built-in rules\n"
      "  x420 rules check my-rules.toml            # before x420 scan --rules my-rules.toml\n"
      "  x420 rules check --json my-rules.toml | jq -r '.problems[].message'");
  inv.actions[check] = [o](Context& ctx) { return run_check(ctx, *o); };
}

}  // namespace x420::cli
