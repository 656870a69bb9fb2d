#include "lib/detect/context_rule.h"

#include <algorithm>

namespace x420::detect {
namespace {

// The word of a name that says it holds a secret ("adafruit_TOKEN", "ALIBABA_SECRET_KEY").
constexpr std::string_view kSecretWord =
    R"((?:api[_.\- ]?key|access[_.\- ]?key|key|token|secret|pass(?:word|wd|phrase)?|pwd|auth|)"
    R"(credentials?|creds?|private|signing|license|bearer|pat))";

// Between the vendor word and the secret word, either way round: more of the name, or a few
// words of a sentence ("Adafruit IO key").
constexpr std::string_view kNameGap = R"([\w.\- \t]{0,24}?)";

// The rest of the name after its secret word ("_V2", "Prod").
constexpr std::string_view kNameTail = R"([\w.\-]{0,16})";

// How a name is given its value, one of:
//  - an operator, after the name's closing quote or bracket and an optional type
//    (`var adafruitToken string =`, `adafruitToken: String =`); '>' ends an XML start tag and
//    ',' separates a function's arguments (`setProperty("ADAFRUIT_TOKEN", "…")`);
//  - an XML attribute pair (`name="adafruitToken" value="…"`);
//  - a Kubernetes or Compose env entry (`- name: ADAFRUIT_TOKEN` then `value: …`);
//  - a Terraform variable's default (`variable "adafruit_token" {` then `default = …`);
//  - plain spaces, or a sentence's verb (`--adafruit-token …`, `ENV ADAFRUIT_TOKEN …`,
//    "my adafruit token is …").
// Up to 40 spaces may stand either side of the operator, for files aligned in columns
// (`fbApiKey:            "…"`).
constexpr std::string_view kAssign =
    R"(["'`\]]{0,2}(?:)"
    R"([ \t]{0,40}(?::?[ \t]{0,4}[A-Za-z_][\w.<>\[\]?*]{0,24}[ \t]{0,4})?)"
    R"((?:={1,3}|:{1,3}=|\?\?=|[?+.|]=|\|\|=|=>|->|<-|=~|!=|:|,|>))"
    R"(|[ \t]{1,8}(?:value|content)[ \t]{0,4}=)"
    R"(|["']?[ \t]{0,4}\{[ \t]{0,8}(?:\r?\n[ \t]{0,16})?default[ \t]{0,4}=)"
    R"(|[ \t]{0,8}\r?\n[ \t]{0,16}-?[ \t]{0,4}value[ \t]{0,4}:)"
    R"(|[ \t]{1,8}(?:(?:is|was|are|of|as|=|:)[ \t]{1,8})?)"
    R"())";

// Between the operator and the value: spaces, a YAML block scalar's indicator, one line break
// (an XML element or a YAML block on lines of their own), an opening quote in any language's
// spelling, and an auth scheme word.
constexpr std::string_view kOpen =
    R"([ \t]{0,40}(?:[|>][-+]?[ \t]{0,4})?(?:\r?\n[ \t]{0,16})?)"
    R"((?:[bBrRuUfF@$]{0,2}["'`]|\\["']|\(["'])?)"
    R"((?:(?:[Bb]earer|[Tt]oken|[Bb]asic)[ \t]{1,4})?)";

// What may follow the value: a closing quote, a space or line end, a separator, an escaped line
// break inside a JSON string, or the end of the text. A value's own characters may not, so a
// longer string of the same alphabet is not cut to the rule's length.
constexpr std::string_view kEnd = R"((?:["'`\s;,&)<>\]}|#]|\\[nrt"'/\\]|$))";

// The spellings of a vendor word's '_': any one separator, or none.
constexpr std::string_view kSeparators[] = {"", "_", "-", ".", " "};

void append_escaped(std::string& out, std::string_view word) {
  for (const char c : word) {
    if (c == '_') {
      out += R"([_.\- ]?)";
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) out += '\\';
    out += c;
  }
}

// A context word that says "secret" itself ("password", "api_key", "client_secret") needs no
// second word beside it: it is the whole mark of the name.
bool says_secret(std::string_view word) {
  for (const std::string_view w : {"key", "token", "secret", "pass", "pwd", "credential"})
    if (word.find(w) != std::string_view::npos) return true;
  return false;
}

std::string alternation(const std::vector<std::string>& words) {
  std::string out = "(?:";
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i) out += '|';
    append_escaped(out, words[i]);
  }
  return out + ')';
}

}  // namespace

std::string context_word_problem(std::string_view word) {
  if (word.size() < 2 || word.size() > 32) return "a context word has 2 to 32 characters";
  if (word.front() == '_' || word.back() == '_') return "a context word may not start or end with '_'";
  for (const char c : word)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return "a context word holds only a-z, 0-9 and '_' (which stands for any separator)";
  return {};
}

std::string context_regex(const std::vector<std::string>& vendor_words, std::string_view value,
                          const std::vector<std::string>& names) {
  std::vector<std::string> vendors, secrets(names);
  for (const auto& w : vendor_words) (says_secret(w) ? secrets : vendors).push_back(w);
  std::string out = "(?i:";
  if (!vendors.empty()) {
    const std::string vendor = alternation(vendors);
    out += vendor;
    out += kNameGap;
    out += kSecretWord;
    out += '|';
    out += kSecretWord;
    out += kNameGap;
    out += vendor;
  }
  if (!secrets.empty()) {
    if (!vendors.empty()) out += '|';
    out += alternation(secrets);
  }
  out += ')';
  out += "(?i:";
  out += kNameTail;
  out += kAssign;
  out += kOpen;
  out += ")(";
  out += value;
  out += ')';
  out += kEnd;
  return out;
}

std::string context_lead_regex() {
  std::string out = "(?i:";
  out += kSecretWord;
  out += kNameGap;
  return out + ')';
}

std::vector<std::string> context_gate_regexes() {
  // What a value's first characters are made of in every context rule the engine gates (it
  // checks each rule's examples against these before it gates it).
  constexpr std::string_view kValueStart = R"([A-Za-z0-9+/=_.~:!@#%^*\-])";
  // Before the operator: the rest of the name (the gap, a vendor word and the tail, when the
  // secret word comes first), closing quotes or brackets, spaces and a type annotation.
  constexpr std::string_view kBeforeOperator = R"([\w.\- \t"'`\\\[\]<>?*:+|!]{0,160})";
  // After it: spaces, quotes in any language's spelling, a block scalar's indicator, one line
  // break, and an auth scheme word.
  constexpr std::string_view kAfterOperator =
      R"([ \t"'`\\(|>+\-\r\nbBrRuUfF@$]{0,64}(?:(?:bearer|token|basic)[ \t]{1,4})?)";
  const std::string secret = "(?i)" + std::string(kSecretWord);
  return {
      secret + std::string(kBeforeOperator) + "(?:[=:,>]|<-)" + std::string(kAfterOperator) +
          std::string(kValueStart) + "{8}",
      secret + R"([\w.\-]{0,72}[ \t]{1,8}(?:(?:is|was|are|of|as)[ \t]{1,8})?["'`]?)" + std::string(kValueStart) +
          "{8}",
      secret + R"([\w.\-"' \t{]{0,80}\r?\n[ \t]{0,16}-?[ \t]{0,4}(?:value|default)[ \t]{0,4}[:=])",
  };
}

std::string context_anchor(std::string_view word) {
  // Parts too common in code and prose to start a search on their own.
  static constexpr std::string_view kCommon[] = {
      "access", "account", "admin", "application", "client", "number", "private", "public", "refresh",
      "secret", "server", "service", "session", "signing", "master", "token", "password", "login",
      "credential", "credentials", "license", "internal", "external", "default", "config"};
  std::string_view best;
  std::size_t at = 0;
  bool several = false;
  while (at <= word.size()) {
    const std::size_t end = std::min(word.find('_', at), word.size());
    const std::string_view part = word.substr(at, end - at);
    several = several || end < word.size();
    if (part.size() >= 5 && part.size() > best.size() &&
        std::find(std::begin(kCommon), std::end(kCommon), part) == std::end(kCommon))
      best = part;
    at = end + 1;
  }
  return several ? std::string(best) : std::string();
}

std::vector<std::string> context_keywords(const std::vector<std::string>& vendor_words) {
  std::vector<std::string> out;
  for (const auto& word : vendor_words) {
    std::vector<std::string> spellings{""};
    for (const char c : word) {
      if (c != '_') {
        for (auto& s : spellings) s += c;
        continue;
      }
      std::vector<std::string> more;
      for (const auto& s : spellings)
        for (const auto sep : kSeparators) more.push_back(s + std::string(sep));
      spellings = std::move(more);
    }
    for (auto& s : spellings)
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace x420::detect
