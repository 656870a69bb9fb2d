// Checks rule files with the code that will run them (what `x420 rules check` reports): each file
// through the real loader, each rule through the real engine build, and each rule's examples and
// negative examples through the real engine scan, with secret_group, min_len, entropy_min, the
// validator and the allowlist applied as `x420 scan` applies them. It takes the files' text, not
// paths, and never quotes an example: a problem names the file, the rule and the example's index.
//
// Keywords are not checked: the engine does not use them (the prefilter is the regex itself).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "lib/detect/rule.h"

namespace x420::detect {

struct RuleText {
  std::string name;  // how problems name the file: its path, or "builtin.toml"
  std::string text;
};

enum class ProblemLevel { failure, warning };  // a failure makes the check fail

// What a problem is about, for scripts (the JSON report's "check").
enum class CheckKind {
  load,         // the loader refused it: syntax, an unknown field, a bad type, a duplicate id
  compile,      // the engine refused the regex (or the allowlist's)
  example,      // an `examples` entry is not found by its rule, or not with a valid checksum
  negative,     // a `negative_examples` entry is found
  scan,         // scanning an example failed (PCRE2's match limit: the regex backtracks too much)
  unbounded,    // the regex has no bound on its length: matches past 16 KiB are not found whole
  no_examples,  // a rule without examples (or without negative examples) is not shown to work
  shadowed,     // with every rule running, another rule reports the example instead
};

struct RuleProblem {
  ProblemLevel level = ProblemLevel::failure;
  CheckKind check = CheckKind::load;
  std::string source;   // the file; empty when it is about the whole set
  std::string rule;     // the rule's id; empty when it is about the file
  int index = -1;       // into examples or negative_examples; -1 when not about one
  std::string message;  // one line naming file, rule and index, and what is wrong
};

struct RuleCheckReport {
  std::size_t rules = 0;      // rules the files define (well formed ones)
  std::size_t examples = 0;   // examples run through the engine
  std::size_t negatives = 0;  // negative examples run through the engine
  // File by file: the loader's first, then each rule's in the file's order.
  std::vector<RuleProblem> problems;

  std::size_t failures() const;
  std::size_t warnings() const;
};

// Checks the rules of `files`, loaded on top of `base` as `x420 scan --rules FILE` loads them on
// top of the built-in rules: their ids may not repeat one of `base` or of each other, and the
// allowlists merge. Only the files' rules are checked; `base` takes part in the duplicate-id check
// and in the warning that another rule reports an example. To check the built-in rules
// themselves, pass an empty base and builtin_rule_text().
// Each rule's examples run through an engine of that rule alone (so one rule's example is its
// own to find), with the merged allowlist.
RuleCheckReport check_rule_files(const RuleFile& base, const std::vector<RuleText>& files);

const char* check_kind_name(CheckKind kind);  // "load", "example", …

}  // namespace x420::detect
