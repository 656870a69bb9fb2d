#include "lib/detect/rule_check.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "lib/detect/engine.h"
#include "lib/detect/placeholder.h"
#include "lib/detect/validators.h"

namespace x420::detect {
namespace {

// A rule of one of the checked files, and which of its examples its own engine found.
struct Checked {
  std::size_t index;  // into the merged rules
  std::string source;
  std::vector<int> found_examples;
};

Result<std::unique_ptr<Engine>> engine_of(std::vector<Rule> rules, const AllowlistSpec& allowlist,
                                          bool gates = true) {
  EngineConfig config;
  config.rules = std::move(rules);
  config.allowlist = allowlist;
  config.inline_allow = gates;
  config.report_placeholders = !gates;
  return Engine::build(std::move(config));
}

// The findings, or the engine's error: PCRE2's match limit, hit by a regex that backtracks too much.
Result<std::vector<Finding>> scan_text(const Engine& engine, Engine::Scratch& scratch, std::string_view text) {
  try {
    return engine.scan(text, scratch);
  } catch (const Fatal& e) {
    return e.error();
  }
}

std::string two_decimals(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", value);
  return buf;
}

constexpr const char* kKeywordOutside =
    "its match holds none of the rule's keywords: the engine tries a rule only in a window around a "
    "keyword, so a keyword outside the match may be too far from it";

// Whether one of `r`'s keywords (any case) lies inside the match `f` made in `example`; a rule
// without keywords is prefiltered by its own regex and needs none.
bool keyword_in_match(const Rule& r, std::string_view example, const Finding& f) {
  if (r.keywords.empty()) return true;
  std::string match(example.substr(f.match_start, std::max(f.match_end, f.end) - f.match_start));
  for (auto& ch : match) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return std::any_of(r.keywords.begin(), r.keywords.end(),
                     [&](const std::string& k) { return match.find(k) != std::string::npos; });
}

// Why rule `r` does not find `example`: the same regex with the gates off finds the secret's span,
// then each gate is asked in the order the engine asks them. The secret is never quoted.
std::string why_not_found(const Rule& r, const std::string& example) {
  Rule raw = r;
  raw.min_len = 0;
  raw.entropy_min = 0;
  raw.validator = Validator::none;
  raw.keywords.clear();  // prefiltered by its regex: found wherever the regex matches
  auto engine = engine_of({raw}, {}, false);
  if (!engine) return engine.error().message;  // it compiled with its gates, so not expected
  auto scratch = (*engine)->make_scratch();
  const auto found = scan_text(**engine, *scratch, example);
  if (!found) return found.error().message;
  if (found->empty()) return "the regex does not match it";
  const Finding& f = found->front();
  if (!keyword_in_match(r, example, f)) return kKeywordOutside;
  const std::string_view secret = std::string_view(example).substr(f.start, f.end - f.start);
  if (secret.size() < r.min_len)
    return "its secret is " + std::to_string(secret.size()) + " bytes long, under min_len " +
           std::to_string(r.min_len);
  if (r.entropy_min > 0)
    if (const double h = shannon_entropy(secret); h < r.entropy_min)
      return "its secret has " + two_decimals(h) + " bits of entropy per byte, under entropy_min " +
             two_decimals(r.entropy_min);
  if (validate(r.validator, secret) == Verdict::reject)
    return "the " + std::string(validator_name(r.validator)) + " validator rejects its secret";
  if (r.block_end.empty() && looks_like_placeholder(secret))
    return "its secret looks like a placeholder (one character repeated, a run such as abcdef or 123456, a "
           "template or a dummy word), which no rule reports: use random characters";
  if (example.find("x420:allow") != std::string::npos) return "it holds x420:allow, which accepts its line";
  return "the allowlist accepts it (a stopword, a value, a regex or a fingerprint)";
}

// The engine's messages start "rule ID: "; the report's lines name the rule already.
std::string without_rule_prefix(const std::string& message, const std::string& id) {
  const std::string prefix = "rule " + id + ": ";
  return message.starts_with(prefix) ? message.substr(prefix.size()) : message;
}

bool all_checksums_failed(const std::vector<Finding>& found) {
  return std::all_of(found.begin(), found.end(), [](const Finding& f) { return f.checksum_failed; });
}

class Checker {
 public:
  explicit Checker(RuleCheckReport& report) : report_(report) {}

  void add(ProblemLevel level, CheckKind check, std::string source, std::string rule, int index,
           std::string message) {
    report_.problems.push_back(
        {level, check, std::move(source), std::move(rule), index, std::move(message)});
  }

  // Compiles `c`'s rule alone and runs its examples; false if it does not compile.
  bool check_rule(const Rule& r, Checked& c, const AllowlistSpec& allowlist) {
    const std::string where = c.source + ": rule " + r.id;
    auto engine = engine_of({r}, allowlist);
    if (!engine) {
      add(ProblemLevel::failure, CheckKind::compile, c.source, r.id, -1,
          where + ": " + without_rule_prefix(engine.error().message, r.id));
      return false;
    }
    if ((*engine)->max_span() >= kMaxMatchWindow)
      add(ProblemLevel::warning, CheckKind::unbounded, c.source, r.id, -1,
          where + ": the regex has no upper bound on its length (or one over 16 KiB), so a longer "
                  "match is not found whole; bound its repeats ({1,256} rather than +)");
    if (r.examples.empty())
      add(ProblemLevel::warning, CheckKind::no_examples, c.source, r.id, -1,
          where + ": no examples, so nothing shows that it finds anything");
    if (r.negative_examples.empty())
      add(ProblemLevel::warning, CheckKind::no_examples, c.source, r.id, -1,
          where + ": no negative_examples, so nothing shows what it leaves alone");

    auto scratch = (*engine)->make_scratch();
    const std::string checksum = std::string(validator_name(r.validator)) + " checksum";
    for (std::size_t k = 0; k < r.examples.size(); ++k) {
      ++report_.examples;
      const int i = static_cast<int>(k);
      const std::string what = where + ": examples[" + std::to_string(k) + "]";
      auto found = scan_text(**engine, *scratch, r.examples[k]);
      if (!found) {
        add(ProblemLevel::failure, CheckKind::scan, c.source, r.id, i,
            what + " cannot be scanned: " + without_rule_prefix(found.error().message, r.id));
      } else if (found->empty()) {
        add(ProblemLevel::failure, CheckKind::example, c.source, r.id, i,
            what + " is not found: " + why_not_found(r, r.examples[k]));
      } else if (all_checksums_failed(*found)) {
        add(ProblemLevel::failure, CheckKind::example, c.source, r.id, i,
            what + " is found, but its " + checksum +
                " does not hold (a real token's does), so it is reported with low confidence");
      } else if (!keyword_in_match(r, r.examples[k], found->front())) {
        add(ProblemLevel::failure, CheckKind::example, c.source, r.id, i, what + " is found, but " + kKeywordOutside);
      } else {
        c.found_examples.push_back(i);
      }
    }
    for (std::size_t k = 0; k < r.negative_examples.size(); ++k) {
      ++report_.negatives;
      const int i = static_cast<int>(k);
      const std::string what = where + ": negative_examples[" + std::to_string(k) + "]";
      auto found = scan_text(**engine, *scratch, r.negative_examples[k]);
      if (!found) {
        add(ProblemLevel::failure, CheckKind::scan, c.source, r.id, i,
            what + " cannot be scanned: " + without_rule_prefix(found.error().message, r.id));
      } else if (!found->empty()) {
        std::string message = what + " is found";
        if (all_checksums_failed(*found))
          message += " (a failing " + checksum + " only lowers the confidence: a negative must fail the "
                     "regex, min_len, entropy_min or a deciding validator)";
        add(ProblemLevel::failure, CheckKind::negative, c.source, r.id, i, message);
      }
    }
    return true;
  }

  // With every rule in one engine, as `x420 scan` runs them, each example a rule found alone
  // should still be reported as that rule; if another wins the overlap, say which.
  void check_together(const std::vector<Rule>& all, const AllowlistSpec& allowlist,
                      const std::vector<const Rule*>& rules, const std::vector<Checked>& checked) {
    auto engine = engine_of(all, allowlist);
    if (!engine) {
      add(ProblemLevel::failure, CheckKind::compile, "", "", -1,
          "the rules compile one by one but not together: " + engine.error().message);
      return;
    }
    auto scratch = (*engine)->make_scratch();
    for (std::size_t n = 0; n < checked.size(); ++n) {
      const Rule& r = *rules[n];
      for (const int k : checked[n].found_examples) {
        auto found = scan_text(**engine, *scratch, r.examples[static_cast<std::size_t>(k)]);
        if (!found) continue;  // reported for its own rule already if it fails alone
        std::set<std::string> others;
        bool own = false;
        for (const auto& f : *found) {
          const auto& id = (*engine)->rule(f.rule).id;
          if (id == r.id) own = true;
          else others.insert(id);
        }
        if (own) continue;
        std::string names;
        for (const auto& id : others) names += (names.empty() ? "" : ", ") + id;
        add(ProblemLevel::warning, CheckKind::shadowed, checked[n].source, r.id, k,
            checked[n].source + ": rule " + r.id + ": examples[" + std::to_string(k) +
                "] is reported as " + (others.empty() ? "nothing" : names) +
                " when every rule runs (it wins the overlap)");
      }
    }
  }

 private:
  RuleCheckReport& report_;
};

}  // namespace

std::size_t RuleCheckReport::failures() const {
  return static_cast<std::size_t>(std::count_if(problems.begin(), problems.end(), [](const RuleProblem& p) {
    return p.level == ProblemLevel::failure;
  }));
}

std::size_t RuleCheckReport::warnings() const { return problems.size() - failures(); }

RuleCheckReport check_rule_files(const RuleFile& base, const std::vector<RuleText>& files) {
  RuleCheckReport report;
  Checker checker(report);
  RuleFile merged = base;
  std::vector<Checked> checked;
  for (const auto& f : files) {
    std::vector<RuleFileIssue> issues;
    RuleFile file = read_rule_file(f.text, f.name, issues);
    for (auto& issue : issues)
      checker.add(ProblemLevel::failure, CheckKind::load, f.name, issue.rule, -1, issue.message);
    if (auto compiles = check_allowlist(file.allowlist); !compiles) {
      checker.add(ProblemLevel::failure, CheckKind::compile, f.name, "", -1,
                  f.name + ": " + compiles.error().message);
      file.allowlist.regexes.clear();  // so the rules can still be checked
    }
    const std::size_t first = merged.rules.size();
    for (auto& taken : merge_rule_file(merged, std::move(file), f.name))
      checker.add(ProblemLevel::failure, CheckKind::load, f.name, taken.rule, -1, taken.message);
    for (std::size_t i = first; i < merged.rules.size(); ++i) checked.push_back({i, f.name, {}});
  }
  report.rules = checked.size();

  std::vector<Rule> together(merged.rules.begin(), merged.rules.begin() + static_cast<long>(base.rules.size()));
  std::vector<const Rule*> rules;
  std::vector<Checked> compiled;
  for (auto& c : checked) {
    const Rule& r = merged.rules[c.index];
    if (!checker.check_rule(r, c, merged.allowlist)) continue;
    together.push_back(r);
    rules.push_back(&r);
    compiled.push_back(std::move(c));
  }
  if (!compiled.empty()) checker.check_together(together, merged.allowlist, rules, compiled);

  // Each file's problems together, the loader's first, then each rule's in the file's order.
  std::map<std::string, std::size_t> file_order, rule_order;
  for (std::size_t i = 0; i < files.size(); ++i) file_order.emplace(files[i].name, i);
  for (std::size_t i = 0; i < checked.size(); ++i) rule_order.emplace(merged.rules[checked[i].index].id, i);
  auto key = [&](const RuleProblem& p) {
    const auto f = file_order.find(p.source);
    const auto r = rule_order.find(p.rule);
    return std::pair{f == file_order.end() ? files.size() : f->second,
                     p.check == CheckKind::load || r == rule_order.end() ? -1L : static_cast<long>(r->second)};
  };
  std::stable_sort(report.problems.begin(), report.problems.end(),
                   [&](const RuleProblem& a, const RuleProblem& b) { return key(a) < key(b); });
  return report;
}

const char* check_kind_name(CheckKind kind) {
  switch (kind) {
    case CheckKind::load: return "load";
    case CheckKind::compile: return "compile";
    case CheckKind::example: return "example";
    case CheckKind::negative: return "negative";
    case CheckKind::scan: return "scan";
    case CheckKind::unbounded: return "unbounded";
    case CheckKind::no_examples: return "no_examples";
    case CheckKind::shadowed: return "shadowed";
  }
  return "load";
}

}  // namespace x420::detect
