// The generated detection corpus: every rule's examples, and its negatives, written the ways
// people write secrets down: configuration files (INI, .env, YAML, JSON, XML, TOML, properties,
// Terraform, Kubernetes), code in a dozen languages, shell and Makefiles, Dockerfiles, URLs, curl
// headers, CLI flags, markdown and chat prose.
//
// A rule's example says what the secret looks like in one place; the corpus asks whether the
// rule set finds it in all the others. Each sample knows where its secret is, so a test can ask
// not only "was something found" but "was this secret found".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "lib/detect/engine.h"

namespace x420::corpus {

// One way of writing a named value down. In `text`, {s} is the value and the name appears in
// the spelling its placeholder asks for: {camel} adafruitApiKey, {pascal} AdafruitApiKey,
// {snake} adafruit_api_key, {kebab} adafruit-api-key, {title} Adafruit-Api-Key, {upper}
// ADAFRUIT_API_KEY, {dotted} adafruit.api.key, {words} adafruit api key.
struct Syntax {
  std::string_view name;
  std::string_view text;
  std::string_view refuses;  // characters the value may not hold here (it could not be written raw)
  bool multiline = false;    // it may hold line breaks (pasted into a chat, a fenced block)
};

// The syntaxes, at least 24 of them.
const std::vector<Syntax>& syntaxes();

struct Sample {
  std::string rule;    // the rule whose example (or negative) this is
  std::string syntax;  // Syntax::name
  std::string text;
  std::size_t secret_start = 0, secret_end = 0;  // where the value is in `text`
  bool secret = true;  // false: made from a negative example, or a placeholder
  // A placeholder in the rule's shape (`ghp_xxxx…`, `${GITHUB_TOKEN}`, `your_github_token_here`):
  // no rule may report it. A rule's own negative only says "not this rule".
  bool placeholder = false;
};

// Writes `value`, named by `name_parts` ({"adafruit", "api", "key"}), in `syntax`; the sample's
// span is where the value landed.
Sample write(const Syntax& syntax, const std::vector<std::string>& name_parts, std::string_view value);

// The samples of the whole rule set: for each rule, each example's secret (found by that rule
// alone) in every syntax that can hold it (but a value the rule finds only by its name is not
// written where no name is: pasted alone), named as the example names it (or after the rule),
// each negative example's value the same way, and placeholders made in the shape of the
// rule's first example. A rule needing more than a name around its
// secret (a URL, a connection string, a header) has its whole match written as the value.
std::vector<Sample> generate(const detect::RuleFile& rules);

}  // namespace x420::corpus
