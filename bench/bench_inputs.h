// Inputs for the detection benchmarks: a corpus of real source code read from disk, a chat
// prompt like the ones the proxy redacts, fakes sprinkled into a directory tree, and the rules'
// regexes rewritten for ripgrep.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fake_secrets.h"

namespace x420::bench {

struct SourceCorpus {
  std::string text;  // the files, concatenated in path order
  std::size_t files = 0;
};

// Regular text files under `root` (symlinks and files with a NUL byte skipped, as `x420 scan`
// skips binaries), read whole in sorted path order until `max_bytes` would be passed.
SourceCorpus read_source_corpus(const std::filesystem::path& root, std::size_t max_bytes);

struct ChatPrompt {
  std::string body;                  // a JSON request body
  std::vector<std::string> secrets;  // what was put in it, in order
};

// A Messages-API-style JSON body of about `size` bytes: English prose and code in one user
// message, with `secrets` fakes (AWS, GitHub, Anthropic, Postgres, JWT, ...) spread through it.
ChatPrompt chat_prompt(std::size_t size, std::size_t secrets, FakeSecretMaker& maker);

// Sprinkles `count` fakes into randomly chosen text files under `dir` (several may land in one
// file), each as new lines after a random line end. Returns how many of each kind went in.
std::map<std::string, std::size_t> sprinkle_tree(const std::filesystem::path& dir, std::size_t count,
                                                 FakeSecretMaker& maker);

// A rule's PCRE regex in the syntax ripgrep 13 (Rust regex-syntax 0.6) accepts: escaped
// punctuation that Rust does not treat as a metacharacter (\" \' \/ \: \@ ...) loses its
// backslash; everything else is kept. Rust may still refuse what is left (nested classes,
// size limits); the caller checks.
std::string rust_regex_of(std::string_view pcre);

}  // namespace x420::bench
