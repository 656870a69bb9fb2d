#include "corpus/syntax_corpus.h"

#include <algorithm>
#include <cctype>

namespace x420::corpus {
namespace {

// Characters no syntax here writes raw inside a value.
constexpr std::string_view kNever = "\r\n";
constexpr std::string_view kQuote2 = "\"\\";           // in "…"
constexpr std::string_view kQuote1 = "'\\";            // in '…'
constexpr std::string_view kBare = " \t\"'`#;,&<>\\";  // unquoted
constexpr std::string_view kXml = "<>&\"'";

}  // namespace

const std::vector<Syntax>& syntaxes() {
  static const std::vector<Syntax> all = {
      // Configuration
      {"ini - quoted", "[service]\n{camel}=\"{s}\"\n", kQuote2},
      {"ini - unquoted", "[service]\n{camel} = {s}\n", kBare},
      {"dotenv", "{upper}={s}\n", kBare},
      {"dotenv - export", "export {upper}=\"{s}\"\n", "\"\\$`"},
      {"yaml - unquoted", "service:\n  {snake}: {s}\n", kBare},
      {"yaml - single quote", "{snake}: '{s}'\n", kQuote1},
      {"yaml - literal block", "{snake}: |\n  {s}\n", kNever},
      {"json", "{\n    \"{snake}\": \"{s}\"\n}\n", kQuote2},
      {"json - escaped newline", "{\"config.ini\": \"{upper}={s}\\nBACKUP_ENABLED=true\"}", kQuote2},
      {"xml - element", "<config><{camel}>{s}</{camel}></config>", kXml},
      {"xml - element multiline", "<{camel}>\n    {s}\n</{camel}>", kXml},
      {"xml - attribute", "<add key=\"{pascal}\" value=\"{s}\" />", kXml},
      {"toml", "[service]\n{snake} = \"{s}\"\n", kQuote2},
      {"properties", "{dotted}={s}\n", kBare},
      {"terraform", "resource \"vendor_client\" \"main\" {\n  {snake} = \"{s}\"\n}\n", "\"\\$"},
      {"kubernetes - secret", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\nstringData:\n  {kebab}: \"{s}\"\n", kQuote2},
      {"kubernetes - env", "env:\n  - name: {upper}\n    value: \"{s}\"\n", kQuote2},
      {"docker - env", "FROM alpine:3.20\nENV {upper}={s}\n", kBare},
      {"docker - env spaced", "ENV {upper} {s}\n", kBare},
      // Shell and build files
      {"shell - inline", "{upper}='{s}' ./deploy.sh\n", kQuote1},
      {"make - simple", "{upper} := {s}\n", kBare},
      {"make - conditional", "{upper} ?= \"{s}\"\n", kQuote2},
      {"cli flag", "tool push --{kebab} {s} --verbose\n", kBare},
      {"curl header", "curl -H \"X-{title}: {s}\" https://api.example.com/v1/items\n", kQuote2},
      // Code
      {"go - short", "{camel} := \"{s}\"\n", kQuote2},
      {"go - typed", "var {camel} string = \"{s}\"\n", kQuote2},
      {"java", "private static final String {upper} = \"{s}\";\n", kQuote2},
      {"kotlin - typed", "val {camel}: String = \"{s}\"\n", "\"\\$"},
      {"csharp", "string {camel} = \"{s}\";\n", kQuote2},
      {"php", "${camel} = '{s}';\n", kQuote1},
      {"php - array", "$config = ['{snake}' => '{s}'];\n", kQuote1},
      {"python", "{upper} = \"{s}\"\n", kQuote2},
      {"python - keyword argument", "client = Client({snake}='{s}', timeout=30)\n", kQuote1},
      {"ruby", "config.{snake} = '{s}'\n", kQuote1},
      {"javascript", "const {camel} = \"{s}\";\n", kQuote2},
      {"typescript - typed", "const {camel}: string = '{s}';\n", kQuote1},
      {"javascript - object", "const options = { {camel}: \"{s}\" };\n", kQuote2},
      {"function argument", "System.setProperty(\"{upper}\", \"{s}\");\n", kQuote2},
      // Elsewhere
      {"url query", "https://api.example.com/v1/export?{snake}={s}&format=json\n", " \t\"'&#<>\\%+?/="},
      {"markdown code block", "Set it like this:\n\n```bash\nexport {upper}={s}\n```\n", kBare},
      {"markdown - pasted", "This is what I have:\n\n```\n{s}\n```\n\nWhy does it fail?", "`", true},
      {"chat prose", "Here is my {words}: {s} - can you tell me why the request fails?", " \t"},
      {"chat prose - is", "my {words} is {s} and it stopped working", " \t"},
      {"chat prose - pasted", "It says unauthorized with this config: {s}\nWhat is wrong?", "", true},
  };
  return all;
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string capital(std::string_view s) {
  std::string out = lower(s);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep, std::string (*f)(std::string_view)) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += f(parts[i]);
  }
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

std::string spelled(const std::vector<std::string>& parts, std::string_view style) {
  if (style == "snake") return join(parts, "_", lower);
  if (style == "kebab") return join(parts, "-", lower);
  if (style == "title") return join(parts, "-", capital);
  if (style == "upper") return join(parts, "_", upper);
  if (style == "dotted") return join(parts, ".", lower);
  if (style == "words") return join(parts, " ", lower);
  if (style == "pascal") return join(parts, "", capital);
  std::string out = join(parts, "", capital);  // camel
  if (!out.empty()) out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out;
}

// Splits an identifier into lowercase words: at '_', '-', '.', ' ' and where camelCase turns.
std::vector<std::string> words_of(std::string_view identifier) {
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 0; i < identifier.size(); ++i) {
    const char c = identifier[i];
    const bool separator = c == '_' || c == '-' || c == '.' || c == ' ';
    const bool turn = std::isupper(static_cast<unsigned char>(c)) && i > 0 &&
                      std::islower(static_cast<unsigned char>(identifier[i - 1]));
    if ((separator || turn) && !cur.empty()) {
      out.push_back(lower(cur));
      cur.clear();
    }
    if (!separator) cur += c;
  }
  if (!cur.empty()) out.push_back(lower(cur));
  return out;
}

bool is_secret_word(std::string_view w) {
  for (const std::string_view s : {"key", "token", "secret", "password", "pass", "pwd", "auth", "pat",
                                   "credential", "credentials", "apikey", "passwd", "passphrase"})
    if (w == s) return true;
  return false;
}

// The name a rule's secret goes by when its example does not give one: the vendor from the
// rule id, then the id's last part if it says "secret" ("api_key", "pat"), else "token".
std::vector<std::string> name_from_rule(const detect::Rule& rule) {
  std::vector<std::string> parts;
  const std::string vendor = rule.context.empty() ? rule.id.substr(0, rule.id.find('.')) : rule.context.front();
  for (auto& w : words_of(vendor)) parts.push_back(w);
  const std::string tail = rule.id.substr(rule.id.rfind('.') + 1);
  auto tail_words = words_of(tail);
  const bool names_secret = std::any_of(tail_words.begin(), tail_words.end(), [](const std::string& w) { return is_secret_word(w); });
  if (names_secret)
    for (auto& w : tail_words)
      if (std::find(parts.begin(), parts.end(), w) == parts.end()) parts.push_back(w);
  if (!names_secret) parts.push_back("token");
  return parts;
}

// The identifier an example gives its secret: the name just before the operator left of it.
std::vector<std::string> name_in_example(std::string_view text, std::size_t secret_start) {
  std::size_t i = secret_start;
  auto skippable = [](char c) { return std::string_view(" \t\"'`=:>,([{$@").find(c) != std::string_view::npos; };
  while (i > 0 && skippable(text[i - 1])) --i;
  const std::size_t end = i;
  while (i > 0 && (std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '_' ||
                   text[i - 1] == '-' || text[i - 1] == '.'))
    --i;
  auto parts = words_of(text.substr(i, end - i));
  parts.erase(std::remove_if(parts.begin(), parts.end(), [](const std::string& w) { return w.empty(); }), parts.end());
  if (parts.size() > 6) parts.erase(parts.begin(), parts.end() - 6);
  return parts;
}

bool names_secret(const std::vector<std::string>& parts) {
  return std::any_of(parts.begin(), parts.end(), [](const std::string& w) {
    return is_secret_word(w) || w.find("key") != std::string::npos || w.find("token") != std::string::npos ||
           w.find("secret") != std::string::npos || w.find("pass") != std::string::npos;
  });
}

// A negative example's value: after its last operator, unquoted; the whole text when it has none.
std::string value_of_negative(std::string_view text) {
  std::size_t at = std::string_view::npos;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '=' || (text[i] == ':' && i + 1 < text.size() && text[i + 1] == ' ')) at = i + 1;
  std::string_view v = at == std::string_view::npos ? text : text.substr(at);
  auto trim = [](char c) { return std::string_view(" \t\"'`;,").find(c) != std::string_view::npos; };
  while (!v.empty() && trim(v.front())) v.remove_prefix(1);
  while (!v.empty() && trim(v.back())) v.remove_suffix(1);
  return std::string(v);
}

// Whether `s` writes the value's name down: the pasted syntaxes write the value alone.
bool writes_name(const Syntax& s) {
  static constexpr std::string_view kNames[] = {"{camel}", "{pascal}", "{snake}", "{kebab}", "{title}", "{upper}", "{dotted}", "{words}"};
  return std::any_of(std::begin(kNames), std::end(kNames), [&](std::string_view n) { return s.text.find(n) != std::string_view::npos; });
}

bool can_hold(const Syntax& s, std::string_view value) {
  if (value.empty()) return false;
  for (const char c : value)
    if ((!s.multiline && kNever.find(c) != std::string_view::npos) || s.refuses.find(c) != std::string_view::npos)
      return false;
  return true;
}

// Placeholders in the shape of `value`: its prefix ("ghp_", "sk-ant-api03-") kept, the rest
// filled as documentation and templates fill it; and templates naming the variable.
std::vector<std::string> placeholders_like(std::string_view value, const std::vector<std::string>& name) {
  std::size_t prefix = 0;
  for (std::size_t i = 0; i < value.size() && i < 16; ++i)
    if (value[i] == '_' || value[i] == '-' || value[i] == '.') prefix = i + 1;
  if (value.size() < prefix + 8) prefix = 0;
  const std::string head(value.substr(0, prefix));
  const std::size_t n = value.size() - prefix;
  std::string run;
  static constexpr std::string_view kRun = "abcdefghijklmnopqrstuvwxyz0123456789";
  while (run.size() < n) run += kRun;
  run.resize(n);
  std::vector<std::string> out = {head + std::string(n, 'x'), head + std::string(n, 'X'), head + std::string(n, '0'),
                                  head + run, "${" + spelled(name, "upper") + "}", "<your-" + spelled(name, "kebab") + ">",
                                  "your_" + spelled(name, "snake") + "_here", "changeme"};
  if (value.size() >= 16) out.push_back(std::string(value.substr(0, value.size() - 7)) + "EXAMPLE");
  return out;
}

// Whether a rule finds `value` by its name in the plainest syntaxes (`NAME=value`, JSON, YAML):
// then it is a rule of names, tested in every syntax; else its example's structure (a connection
// string, a constructor call) is what it needs, and that is written whole.
bool found_by_name(const detect::Engine& engine, detect::Engine::Scratch& scratch,
                   const std::vector<std::string>& name, const std::string& value) {
  for (const auto& syntax : syntaxes()) {
    if (syntax.name != "dotenv" && syntax.name != "json" && syntax.name != "yaml - unquoted") continue;
    if (!can_hold(syntax, value)) continue;
    const Sample s = write(syntax, name, value);
    for (const auto& f : engine.scan(s.text, scratch))
      if (f.start < s.secret_end && f.end > s.secret_start) return true;
  }
  return false;
}

}  // namespace

Sample write(const Syntax& syntax, const std::vector<std::string>& name_parts, std::string_view value) {
  Sample out;
  out.syntax = std::string(syntax.name);
  const std::string_view t = syntax.text;
  for (std::size_t i = 0; i < t.size();) {
    if (t[i] == '{') {
      const auto close = t.find('}', i);
      const std::string_view key = t.substr(i + 1, close == std::string_view::npos ? 0 : close - i - 1);
      static constexpr std::string_view kStyles[] = {"s", "camel", "pascal", "snake", "kebab", "title", "upper", "dotted", "words"};
      if (close != std::string_view::npos && std::find(std::begin(kStyles), std::end(kStyles), key) != std::end(kStyles)) {
        if (key == "s") {
          out.secret_start = out.text.size();
          out.text += value;
          out.secret_end = out.text.size();
        } else {
          out.text += spelled(name_parts, key);
        }
        i = close + 1;
        continue;
      }
    }
    out.text += t[i++];
  }
  return out;
}

std::vector<Sample> generate(const detect::RuleFile& rules) {
  std::vector<Sample> out;
  for (const auto& rule : rules.rules) {
    detect::EngineConfig config;
    config.rules = {rule};
    config.inline_allow = false;
    auto engine = detect::Engine::build(std::move(config));
    if (!engine) continue;  // the rule checker reports it
    auto scratch = engine.value()->make_scratch();
    std::vector<std::string> rule_name = name_from_rule(rule);
    bool first = true;
    std::string shape;  // the first example's secret
    for (const auto& example : rule.examples) {
      const auto found = engine.value()->scan(example, *scratch);
      if (found.empty()) continue;  // the rule checker reports it
      const auto& f = found.front();
      const std::string_view text = example;
      std::string value(text.substr(f.start, f.end - f.start));
      std::size_t inner = 0;  // where the secret starts in the value
      std::vector<std::string> name;
      const std::string_view lead = text.substr(f.match_start, f.start - f.match_start);
      const bool bare = lead.find_first_not_of("\"'` \t") == std::string_view::npos;
      if (!rule.context.empty() || bare) {
        name = rule_name;
        if (rule.context.empty()) {  // a token that names itself: keep the example's name if it has one
          auto given = name_in_example(text, f.start);
          if (names_secret(given)) name = given;
        }
      } else if (auto given = name_in_example(text, f.start);
                 names_secret(given) && given.size() <= 6 && lead.find("://") == std::string_view::npos &&
                 found_by_name(*engine.value(), *scratch, given, value)) {
        name = given;
      } else {  // structure: the whole match is the value, under a neutral name
        // Trailing quotes, spaces and separators are dropped while the rule still finds the
        // secret without them; a rule that needs its closing quote keeps it.
        inner = f.start - f.match_start;
        std::size_t end = std::max(f.match_end, f.end);
        const auto finds = [&](std::size_t e) {
          for (const auto& g : engine.value()->scan(text.substr(f.match_start, e - f.match_start), *scratch))
            if (g.start == inner && g.end == inner + (f.end - f.start)) return true;
          return false;
        };
        while (end > f.end && std::string_view("\"'` \t;,").find(text[end - 1]) != std::string_view::npos && finds(end - 1))
          --end;
        value = std::string(text.substr(f.match_start, end - f.match_start));
        name = {"config", "value"};
      }
      if (first) {
        rule_name = name;
        shape = std::string(text.substr(f.start, f.end - f.start));
      }
      first = false;
      const std::size_t length = f.end - f.start;
      // A value the rule knows only by its name (a context rule's, a password's) is no sample of
      // a syntax that writes no name: no rule could find it there, and counting it would measure
      // nothing. A value that names itself (a prefix, a PEM block, a connection string) is one.
      bool alone = false;
      for (const auto& g : engine.value()->scan(value, *scratch))
        alone = alone || (g.start < inner + length && g.end > inner);
      for (const auto& syntax : syntaxes()) {
        if (!can_hold(syntax, value) || (!alone && !writes_name(syntax))) continue;
        Sample s = write(syntax, name, value);
        s.rule = rule.id;
        s.secret_start += inner;
        s.secret_end = s.secret_start + length;
        out.push_back(std::move(s));
      }
    }
    for (const auto& value : placeholders_like(shape, rule_name))
      for (const auto& syntax : syntaxes()) {
        if (!can_hold(syntax, value)) continue;
        Sample s = write(syntax, rule_name, value);
        s.rule = rule.id;
        s.secret = false;
        s.placeholder = true;
        out.push_back(std::move(s));
      }
    for (const auto& negative : rule.negative_examples) {
      const std::string value = value_of_negative(negative);
      for (const auto& syntax : syntaxes()) {
        if (!can_hold(syntax, value)) continue;
        Sample s = write(syntax, rule_name, value);
        s.rule = rule.id;
        s.secret = false;
        out.push_back(std::move(s));
      }
    }
  }
  return out;
}

}  // namespace x420::corpus
