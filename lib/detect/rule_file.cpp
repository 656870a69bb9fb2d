#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <sstream>
#include <utility>

#include "lib/common/edit_distance.h"
#include "lib/detect/context_rule.h"
#include "lib/detect/rule.h"

namespace x420::detect {
namespace {

std::string where(std::string_view source, const toml::source_region& region) {
  std::ostringstream s;
  s << source << ":" << region.begin.line;
  return s.str();
}

Error bad(std::string_view source, const toml::node& node, const std::string& what) {
  return make_error(ErrorKind::usage, where(source, node.source()) + ": " + what);
}

std::optional<Severity> severity_from(std::string_view s) {
  if (s == "low") return Severity::low;
  if (s == "medium") return Severity::medium;
  if (s == "high") return Severity::high;
  if (s == "critical") return Severity::critical;
  return std::nullopt;
}

// Every validator by its name in a rule file; validator_from, validator_name and the error
// message all read it.
constexpr std::pair<std::string_view, Validator> kValidators[] = {
    {"none", Validator::none},
    {"luhn", Validator::luhn},
    {"iban_mod97", Validator::iban_mod97},
    {"jwt", Validator::jwt},
    {"github_crc32", Validator::github_crc32},
    {"x420_checksum", Validator::x420_checksum},
    {"es_dni", Validator::es_dni},
    {"nl_bsn", Validator::nl_bsn},
    {"pl_pesel", Validator::pl_pesel},
    {"fr_nir", Validator::fr_nir},
    {"it_codice_fiscale", Validator::it_codice_fiscale},
    {"de_tax_id", Validator::de_tax_id},
    {"be_national_number", Validator::be_national_number},
    {"fi_hetu", Validator::fi_hetu},
    {"se_personnummer", Validator::se_personnummer},
    {"pt_nif", Validator::pt_nif},
    {"us_ssn", Validator::us_ssn},
    {"uk_nino", Validator::uk_nino},
    {"public_ip", Validator::public_ip},
    {"e164", Validator::e164},
    {"calendar_date", Validator::calendar_date},
};

std::optional<Validator> validator_from(std::string_view s) {
  for (const auto& [name, v] : kValidators)
    if (name == s) return v;
  return std::nullopt;
}

// "none, luhn, …, public_ip or calendar_date"
std::string validator_names() {
  std::string out;
  for (std::size_t i = 0; i < std::size(kValidators); ++i)
    out += std::string(i == 0 ? "" : i + 1 == std::size(kValidators) ? " or " : ", ") + std::string(kValidators[i].first);
  return out;
}

// Reads an optional array of strings; an error names the key.
Status read_strings(std::string_view source, const toml::table& t, std::string_view key,
                    std::vector<std::string>& out) {
  const toml::node* node = t.get(key);
  if (!node) return ok_status();
  const toml::array* arr = node->as_array();
  if (!arr) return bad(source, *node, std::string(key) + " must be an array of strings");
  for (const toml::node& item : *arr) {
    const auto* s = item.as_string();
    if (!s) return bad(source, item, std::string(key) + " must hold only strings");
    out.push_back(s->get());
  }
  return ok_status();
}


bool contains_caseless(std::string_view text, std::string_view word) {
  const auto it = std::search(text.begin(), text.end(), word.begin(), word.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != text.end();
}

// The engine tries a rule only where one of its keywords occurs, so a rule without one would
// never run, and an example without one would never be found.
std::string keyword_problem(const Rule& r) {
  // Cards, IBANs and personal data of a user's rule file (an e-mail address) may hold no literal:
  // they go without, found by a dedicated scanner of their shape or prefiltered by their regex.
  if (r.shape != Shape::none && !r.keywords.empty())
    return "has keywords and a shape: a rule is tried around its keywords or where its shape is found, "
           "not both (leave out one)";
  const bool shapeless = r.validator == Validator::luhn || r.validator == Validator::iban_mod97 ||
                         r.data_class == DataClass::personal || r.shape != Shape::none;
  if (r.keywords.empty() && !shapeless)
    return "needs keywords: the literals every match holds (the engine tries a rule only around "
           "them; only rules with a shape, luhn, iban_mod97 and personal-class rules may go without)";
  for (const auto& k : r.keywords) {
    if (k.size() < 2 || k.size() > 64) return "keyword '" + k + "' must have 2 to 64 characters";
    for (const char c : k)
      if (c >= 'A' && c <= 'Z') return "keyword '" + k + "' must be lowercase (keywords match in any case)";
  }
  if (r.keywords.empty()) return {};
  for (std::size_t i = 0; i < r.examples.size(); ++i) {
    const bool has = std::any_of(r.keywords.begin(), r.keywords.end(),
                                 [&](const std::string& k) { return contains_caseless(r.examples[i], k); });
    if (!has) return "example " + std::to_string(i + 1) + " holds none of the rule's keywords";
  }
  return {};
}

Result<Rule> read_rule(std::string_view source, const toml::table& t) {
  static const std::vector<std::string_view> kKnown = {
      "id",           "description", "severity",    "keywords", "regex",   "secret_group",
      "validator",    "entropy_min", "min_len",     "examples", "negative_examples", "block_end",
      "context",      "value",       "context_names", "class",     "redact_by_default", "shape"};
  Rule r;
  auto id = t["id"].value<std::string>();
  if (!id || id->empty()) return bad(source, t, "a rule needs an id (a string)");
  r.id = *id;
  for (char c : r.id)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return bad(source, t, "rule id '" + r.id + "' may hold only a-z, 0-9, '.', '_' and '-'");
  for (const auto& [key, value] : t) {
    if (std::find(kKnown.begin(), kKnown.end(), key.str()) != kKnown.end()) continue;
    std::string what = "rule " + r.id + ": unknown field '" + std::string(key.str()) + "'";
    for (const auto known : kKnown)
      if (edit_distance(key.str(), known) <= 2) {
        what += " (did you mean '" + std::string(known) + "'?)";
        break;
      }
    return bad(source, value, what);
  }
  if (auto s = read_strings(source, t, "context", r.context); !s) return s.error();
  if (auto s = read_strings(source, t, "context_names", r.context_names); !s) return s.error();
  if (!r.context_names.empty() && r.context.empty())
    return bad(source, t, "rule " + r.id + ": context_names go with context (the vendor words)");
  if (t.get("context")) {
    if (t.get("regex") || t.get("secret_group"))
      return bad(source, t, "rule " + r.id + ": a context rule has a value, not a regex or secret_group "
                                             "(its regex is built from context and value)");
    auto value = t["value"].value<std::string>();
    if (!value || value->empty())
      return bad(source, t, "rule " + r.id + ": a context rule needs a value (the regex of the secret)");
    if (r.context.empty()) return bad(source, t, "rule " + r.id + ": context must name at least one word");
    for (const auto* words : {&r.context, &r.context_names})
      for (const auto& word : *words)
        if (auto problem = context_word_problem(word); !problem.empty())
          return bad(source, t, "rule " + r.id + ": context word '" + word + "': " + problem);
    r.regex = context_regex(r.context, *value, r.context_names);
    r.secret_group = 1;
  } else {
    if (t.get("value")) return bad(source, t, "rule " + r.id + ": value is for context rules: add context = [...]");
    auto regex = t["regex"].value<std::string>();
    if (!regex || regex->empty()) return bad(source, t, "rule " + r.id + " needs a regex (or context and value)");
    r.regex = *regex;
  }
  r.description = t["description"].value_or<std::string>(std::string(r.id));
  if (const auto* node = t.get("severity")) {
    auto s = node->value<std::string>();
    auto sev = s ? severity_from(*s) : std::nullopt;
    if (!sev) return bad(source, *node, "rule " + r.id + ": severity must be low, medium, high or critical");
    r.severity = *sev;
  }
  if (const auto* node = t.get("class")) {
    auto s = node->value<std::string>();
    auto c = s ? data_class_from(*s) : std::nullopt;
    if (!c) return bad(source, *node, "rule " + r.id + ": class must be secret, identifier or personal");
    r.data_class = *c;
  }
  r.redact_by_default = r.data_class != DataClass::identifier;
  if (const auto* node = t.get("redact_by_default")) {
    auto b = node->value<bool>();
    if (!b) return bad(source, *node, "rule " + r.id + ": redact_by_default must be true or false");
    r.redact_by_default = *b;
  }
  if (const auto* node = t.get("shape")) {
    auto name = node->value<std::string>();
    auto shape = name ? shape_from(*name) : std::nullopt;
    if (!shape || *shape == Shape::none)
      return bad(source, *node, "rule " + r.id + ": shape must be card_number, iban, email, phone or ipv4");
    r.shape = *shape;
  }
  if (const auto* node = t.get("validator")) {
    auto s = node->value<std::string>();
    auto v = s ? validator_from(*s) : std::nullopt;
    if (!v)
      return bad(source, *node, "rule " + r.id + ": validator must be " + validator_names());
    r.validator = *v;
  }
  if (const auto* node = t.get("secret_group")) {
    auto g = node->value<std::int64_t>();
    if (!g || *g < 0 || *g > 32) return bad(source, *node, "rule " + r.id + ": secret_group must be 0 to 32");
    r.secret_group = static_cast<int>(*g);
  }
  if (const auto* node = t.get("entropy_min")) {
    auto e = node->value<double>();
    if (!e || *e < 0 || *e > 8) return bad(source, *node, "rule " + r.id + ": entropy_min must be 0 to 8");
    r.entropy_min = *e;
  }
  if (const auto* node = t.get("min_len")) {
    auto m = node->value<std::int64_t>();
    if (!m || *m < 0 || *m > 65536) return bad(source, *node, "rule " + r.id + ": min_len must be 0 to 65536");
    r.min_len = static_cast<std::uint32_t>(*m);
  }
  if (const auto* node = t.get("block_end")) {
    auto m = node->value<std::string>();
    if (!m || m->size() < 8 || m->size() > 128)
      return bad(source, *node, "rule " + r.id + ": block_end must be a string of 8 to 128 characters");
    r.block_end = *m;
  }
  for (auto [key, out] : {std::pair{"keywords", &r.keywords}, std::pair{"examples", &r.examples},
                          std::pair{"negative_examples", &r.negative_examples}})
    if (auto s = read_strings(source, t, key, *out); !s) return s.error();
  // A context rule with a shape is tried where its shape is found, not at its words.
  std::vector<std::string> marks = r.context;
  marks.insert(marks.end(), r.context_names.begin(), r.context_names.end());
  if (r.shape == Shape::none)
    for (auto& word : context_keywords(marks))
      if (std::find(r.keywords.begin(), r.keywords.end(), word) == r.keywords.end()) r.keywords.push_back(std::move(word));
  if (auto problem = keyword_problem(r); !problem.empty()) return bad(source, t, "rule " + r.id + ": " + problem);
  if (r.examples.empty())
    return bad(source, t, "rule " + r.id + " needs at least one example (a string it must find)");
  return r;
}

}  // namespace

RuleFile read_rule_file(std::string_view text, std::string_view source_name,
                        std::vector<RuleFileIssue>& issues) {
  RuleFile file;
  toml::table doc;
  try {
    doc = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream s;
    s << source_name << ":" << e.source().begin.line << ": " << e.description();
    issues.push_back({"", s.str()});
    return file;
  }
  auto issue = [&](std::string rule, const Error& e) { issues.push_back({std::move(rule), e.message}); };
  for (const auto& [key, value] : doc) {
    if (key == "rule") {
      const toml::array* rules = value.as_array();
      if (!rules) {
        issue("", bad(source_name, value, "'rule' must be an array of tables: use [[rule]]"));
        continue;
      }
      for (const toml::node& node : *rules) {
        const auto* t = node.as_table();
        if (!t) {
          issue("", bad(source_name, node, "each [[rule]] must be a table"));
          continue;
        }
        auto rule = read_rule(source_name, *t);
        if (!rule) {
          issue((*t)["id"].value_or(std::string()), rule.error());
          continue;
        }
        const bool twice = std::any_of(file.rules.begin(), file.rules.end(),
                                       [&](const Rule& r) { return r.id == rule->id; });
        if (twice) {
          issue(rule->id, bad(source_name, node, "rule id '" + rule->id + "' appears twice"));
          continue;
        }
        file.rules.push_back(std::move(rule.value()));
      }
    } else if (key == "allowlist") {
      const toml::table* t = value.as_table();
      if (!t) {
        issue("", bad(source_name, value, "'allowlist' must be a table: use [allowlist]"));
        continue;
      }
      auto& a = file.allowlist;
      for (auto [k, out] : {std::pair{"stopwords", &a.stopwords}, std::pair{"regexes", &a.regexes},
                            std::pair{"values", &a.values}, std::pair{"paths", &a.paths},
                            std::pair{"fingerprints", &a.fingerprints}})
        if (auto s = read_strings(source_name, *t, k, *out); !s) issue("", s.error());
      for (const auto& [k, v] : *t)
        if (k != "stopwords" && k != "regexes" && k != "values" && k != "paths" &&
            k != "fingerprints")
          issue("", bad(source_name, v, "unknown allowlist field '" + std::string(k.str()) + "'"));
    } else {
      issue("", bad(source_name, value, "unknown top-level key '" + std::string(key.str()) +
                                            "' (expected [[rule]] or [allowlist])"));
    }
  }
  return file;
}

Result<RuleFile> parse_rule_file(std::string_view text, std::string_view source_name) {
  std::vector<RuleFileIssue> issues;
  RuleFile file = read_rule_file(text, source_name, issues);
  if (!issues.empty()) return make_error(ErrorKind::usage, issues.front().message);
  return file;
}

std::vector<RuleFileIssue> merge_rule_file(RuleFile& into, RuleFile from, std::string_view source) {
  std::vector<RuleFileIssue> issues;
  for (auto& rule : from.rules) {
    const bool taken = std::any_of(into.rules.begin(), into.rules.end(),
                                   [&](const Rule& r) { return r.id == rule.id; });
    if (taken) {
      issues.push_back({rule.id, std::string(source) + ": rule id '" + rule.id +
                                     "' is already defined (by the built-in rules or another rule file)"});
      continue;
    }
    into.rules.push_back(std::move(rule));
  }
  auto append = [](std::vector<std::string>& to, std::vector<std::string>& more) {
    to.insert(to.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  };
  auto& a = from.allowlist;
  append(into.allowlist.stopwords, a.stopwords);
  append(into.allowlist.regexes, a.regexes);
  append(into.allowlist.values, a.values);
  append(into.allowlist.paths, a.paths);
  append(into.allowlist.fingerprints, a.fingerprints);
  return issues;
}

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::low: return "low";
    case Severity::medium: return "medium";
    case Severity::high: return "high";
    case Severity::critical: return "critical";
  }
  return "high";
}

std::string_view data_class_name(DataClass c) {
  switch (c) {
    case DataClass::secret: return "secret";
    case DataClass::identifier: return "identifier";
    case DataClass::personal: return "personal";
  }
  return "secret";
}

std::optional<DataClass> data_class_from(std::string_view name) {
  if (name == "secret") return DataClass::secret;
  if (name == "identifier") return DataClass::identifier;
  if (name == "personal") return DataClass::personal;
  return std::nullopt;
}

namespace {
constexpr std::pair<std::string_view, Shape> kShapes[] = {
    {"none", Shape::none},   {"card_number", Shape::card_number}, {"iban", Shape::iban},
    {"email", Shape::email}, {"phone", Shape::phone},       {"ipv4", Shape::ipv4}};
}  // namespace

std::string_view shape_name(Shape s) {
  for (const auto& [name, value] : kShapes)
    if (value == s) return name;
  return "none";
}

std::optional<Shape> shape_from(std::string_view name) {
  for (const auto& [n, value] : kShapes)
    if (n == name) return value;
  return std::nullopt;
}

std::string_view validator_name(Validator v) {
  for (const auto& [name, value] : kValidators)
    if (value == v) return name;
  return "none";
}

}  // namespace x420::detect
