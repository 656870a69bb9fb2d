// Detection rules as data: what a rule file (the built-in one, or a user's --rules FILE) holds.
//
// A rule file is TOML:
//   [[rule]]                     one per secret type (fields below)
//   [allowlist]                  optional: stopwords, regexes, values, paths, fingerprints
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/common/result.h"

namespace x420::detect {

enum class Severity { low, medium, high, critical };

// What a finding is, and so what is done with it by default:
//  - secret: a credential. `x420 scan` fails on it; the proxy redacts it.
//  - identifier: an ARN, a bucket, a client or account id. It locates an account or data but
//    grants nothing on its own: reported, not failed on, not redacted unless asked.
//  - personal: regulated personal data users are told not to send (cards, IBANs, national
//    identity and tax numbers, phone numbers, IP addresses, dates of birth).
enum class DataClass { secret, identifier, personal };

// Structural validators decide (a failed Luhn check is no finding); vendor checksums only change
// the confidence (a GitHub token with a bad CRC32 is still reported, marked as such).
// The national-id and personal-data checks are lib/detect/national_ids.h's.
// How a rule without keywords is found (lib/detect/shape_scanner.h): a dedicated scanner finds
// the few places where a value of the shape can lie, and the rule's regex is tried only there.
enum class Shape {
  none,         // by its keywords, or (a personal-class rule without any) by its regex
  card_number,  // 12 to 19 digits, at most one space or dash between two, not part of a decimal
  iban,         // 15+ capitals and digits, single spaces, holding two capitals and two digits
  email,        // an '@' with an address character before it and a domain of a dot after it
  phone,        // a '+' and then 8 or more digits, at most two of " -.()" between two of them
  ipv4,         // four numbers of 1 to 3 digits joined by dots, no more dotted numbers around
};

enum class Validator {
  none, luhn, iban_mod97, jwt, github_crc32, x420_checksum,
  es_dni, nl_bsn, pl_pesel, fr_nir, it_codice_fiscale, de_tax_id, be_national_number,
  fi_hetu, se_personnummer, pt_nif, us_ssn, uk_nino, public_ip, calendar_date,
  e164
};

struct Rule {
  std::string id;  // lowercase dotted: "aws.access_key_id"
  std::string description;
  Severity severity = Severity::high;
  DataClass data_class = DataClass::secret;  // `class` in the file
  // Whether the proxy redacts it unless told otherwise: secrets and regulated ids (cards, IBANs,
  // national numbers) yes; identifiers and contact data (phone, IP, date of birth) only
  // when asked. Defaults to false for identifiers, true for the rest.
  bool redact_by_default = true;
  // Literals, lowercase: every match holds one (case-insensitively). The engine looks for them
  // first and tries the rule only around them. A rule with a luhn or iban_mod97 validator may have
  // none, and is then tried where a dedicated scanner finds a card number's or an IBAN's shape
  // (lib/detect/shape_scanner.h); a personal-class rule may have none, and is then prefiltered
  // by its regex.
  std::vector<std::string> keywords;
  // `shape` in the file; a luhn or iban_mod97 rule without keywords has the card's or the
  // IBAN's shape without saying so. A rule has keywords or a shape, not both.
  Shape shape = Shape::none;
  std::string regex;     // PCRE syntax, confirmed by PCRE2
  // A keyword-context rule (lib/detect/context_rule.h): the vendor words its name holds. The
  // file gives these and the value's shape; the loader builds `regex` (group 1 is the value).
  std::vector<std::string> context;
  std::vector<std::string> context_names;  // whole names that need no secret word ('postmark')
  int secret_group = 0;  // the capture group that is the secret; 0 = the whole match
  Validator validator = Validator::none;
  double entropy_min = 0;  // Shannon bits per byte of the secret, 0 = no gate
  std::uint32_t min_len = 0;
  // A block secret (PEM, PGP): the regex finds its start, and the secret runs on to the end of
  // this marker's next occurrence (the END line), however long the block. Without the marker
  // it runs to the end of the segment (the JSON value) when the scan has segments, else to the
  // end of the block's base64 run, so a key cut before its END line is still whole.
  std::string block_end;
  std::vector<std::string> examples;           // must be found
  std::vector<std::string> negative_examples;  // must not be found
};

struct AllowlistSpec {
  std::vector<std::string> stopwords;     // a secret containing one (case-insensitive) is a placeholder
  std::vector<std::string> regexes;       // a secret matching one is accepted
  std::vector<std::string> values;        // exact secrets to accept
  std::vector<std::string> paths;         // gitignore-style patterns of files not to scan
  std::vector<std::string> fingerprints;  // findings accepted by fingerprint
};

struct RuleFile {
  std::vector<Rule> rules;
  AllowlistSpec allowlist;
};

// One thing wrong in a rule file. The message names the source and the line; `rule` is the id of
// the [[rule]] it is about, empty when it is about the file (TOML syntax, the allowlist).
struct RuleFileIssue {
  std::string rule;
  std::string message;
};

// Parses a rule file. Errors name the source, the line and what was wrong (a TOML syntax error,
// a missing field, an unknown severity); regexes are checked when the engine is built.
Result<RuleFile> parse_rule_file(std::string_view text, std::string_view source_name);

// What parse_rule_file reads, going on past a bad [[rule]]: the rules that are well formed, and
// an issue for each one that is not, in the file's order (parse_rule_file fails with the first).
// A TOML syntax error ends the reading: nothing after it can be trusted.
RuleFile read_rule_file(std::string_view text, std::string_view source_name,
                        std::vector<RuleFileIssue>& issues);

// Adds `from`'s rules and allowlist to `into`, as `x420 scan --rules FILE` adds a file to the
// built-in rules. A rule whose id `into` has already is left out, with an issue naming `source`.
std::vector<RuleFileIssue> merge_rule_file(RuleFile& into, RuleFile from, std::string_view source);

// The rules compiled into the binary (lib/detect/rules/builtin.toml), and that file's text.
const RuleFile& builtin_rule_file();
std::string_view builtin_rule_text();

std::string_view severity_name(Severity s);
std::string_view validator_name(Validator v);
std::string_view data_class_name(DataClass c);
std::string_view shape_name(Shape s);
std::optional<Shape> shape_from(std::string_view name);
// "secret", "identifier" or "personal"; nothing for anything else.
std::optional<DataClass> data_class_from(std::string_view name);

}  // namespace x420::detect
