// Keyword-context rules: a secret recognised by the name it is given, not by its own shape. Most
// vendors' keys are plain random strings; what marks one is a name carrying the vendor and a word
// like token, key or secret (`adafruitToken = "…"`, `ALIBABA_SECRET_KEY=…`, `"jfrog_token": "…"`).
//
// A rule file says only the vendor words and the value's shape:
//   context = ['adafruit']
//   value   = '[a-z0-9_-]{32}'
// and this builds the one regex that finds such a value in every syntax a user writes it in:
// camelCase, snake_case, kebab-case and UPPER names, quoted or not, after =, :, :=, ::=, ?=, +=,
// .=, =>, ->, as an XML element or attribute, a YAML or TOML key (block scalars too), a function
// argument, a URL query, an HTTP header, a CLI flag and in a sentence.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace x420::detect {

// The regex of a context rule; its group 1 is the value. A vendor word is a literal, matched
// case-insensitively; a '_' in it stands for any one separator ('_', '-', '.', ' ') or none, so
// 'new_relic' matches NEW_RELIC, new-relic and newRelic. A word that itself says secret (holds
// key, token, secret, pass, pwd or credential: 'password', 'client_secret') needs no second
// word, so a generic rule is a context rule too.
// `names` are whole names that mark the value on their own, with no secret word ('postmark',
// 'twitter_id'), spelled like vendor words.
std::string context_regex(const std::vector<std::string>& vendor_words, std::string_view value,
                          const std::vector<std::string>& names = {});

// What a context rule's match may hold before its first vendor word or name begins: the secret
// word and the gap after it, when the secret word comes first ("token for adafruit"). As a
// regex, so the engine measures its longest match and tries each keyword's hit only for the
// matches starting that far before it.
std::string context_lead_regex();

// Where a context rule's match may be: a secret word, more of the name, how it is given its
// value, and the value's first characters. Every match of a context rule whose name holds a
// vendor word holds a secret word, so the engine looks for these few patterns instead of every
// vendor word (hundreds of literals would slow its prefilter down by half), and for the vendor
// words only in the text just before where one matched. Each regex is a looser form of one way
// kAssign gives a value: an operator on the same line, or spaces or a sentence's verb (the
// value's first 8 characters follow either), or a YAML `value:` or Terraform `default =` on
// the next line. Their longest match is bounded (vectorscan measures it).
std::vector<std::string> context_gate_regexes();

// The literals the engine looks for before it tries the rule: each vendor word in every
// spelling its '_' allows, lowercased.
std::vector<std::string> context_keywords(const std::vector<std::string>& vendor_words);

// The part of a vendor word or name of several parts ('national_insurance_number') that the
// engine looks for instead of its every spelling ('insurance'): the longest part of 5 or more
// letters that is not a word found everywhere in code. Empty when no part will do (then the
// spellings are the keywords).
std::string context_anchor(std::string_view word);

// What a vendor word may hold: lowercase letters, digits and '_', 2 to 32 of them, not
// starting or ending with '_'. Returns the reason when it is not such a word, else empty.
std::string context_word_problem(std::string_view word);

}  // namespace x420::detect
