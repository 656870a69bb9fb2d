// CLI11's parse errors in x420's words. Every refusal of a command line has one style: it names
// the command, the flag or word that was wrong and what is accepted, suggests the nearest command
// or flag ("did you mean 'keys'?"), and points at `x420 help COMMAND`. It never repeats a value the
// user gave, nor a word that does not look like a mistyped command or flag: a pasted secret in the
// wrong place must not end up on the terminal or in a CI log.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/common/result.h"

namespace CLI {
class App;
class ParseError;
}  // namespace CLI

namespace x420::cli {

// The usage error for `error`, thrown by root.parse(args) (args without the program name).
Error explain_parse_error(const CLI::App& root, const std::vector<std::string>& args,
                          const CLI::ParseError& error);

// Whether the command line asks for --json (before a `--`), so that a parse error is JSON too.
bool wants_json(const std::vector<std::string>& args);

// The candidate closest to `word` by edit distance, if close enough to be a typo (at most a third
// of the word's letters, or 2) or if `word` starts it.
std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates);

// "x420 keys rotate" for the command `app`.
std::string command_path(const CLI::App& app);

}  // namespace x420::cli
