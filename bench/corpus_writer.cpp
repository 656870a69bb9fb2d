// Writes the generated detection corpus (tests/corpus: every built-in rule's examples and
// negatives in every syntax) to a directory, one sample a file, for bench/side_by_side.sh to
// run other scanners on. A helper, not a benchmark.
//
// Usage: corpus_writer DIR [MAX]
//   DIR/secret/NNNNNN.txt    samples holding a secret (a rule's example)
//   DIR/clean/NNNNNN.txt     samples holding none (a rule's negative, or a placeholder)
//   DIR/manifest.tsv         file <TAB> rule <TAB> syntax <TAB> secret|negative|placeholder
// MAX (default 4000) bounds each of the two kinds: every k-th sample is written, k as small as
// keeps the kind within MAX, so every rule and syntax stays in proportion.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "corpus/syntax_corpus.h"
#include "lib/crypto/random.h"
#include "lib/detect/rule.h"

namespace {

int write_corpus(const std::filesystem::path& dir, std::size_t max) {
  const auto samples = x420::corpus::generate(x420::detect::builtin_rule_file());
  std::vector<const x420::corpus::Sample*> secrets, clean;
  for (const auto& s : samples) (s.secret ? secrets : clean).push_back(&s);
  std::filesystem::create_directories(dir / "secret");
  std::filesystem::create_directories(dir / "clean");
  std::ofstream manifest(dir / "manifest.tsv");
  std::size_t written = 0;
  for (const auto& [kind, list] : {std::pair{"secret", &secrets}, std::pair{"clean", &clean}}) {
    const std::size_t step = list->size() > max ? (list->size() + max - 1) / max : 1;
    for (std::size_t i = 0; i < list->size(); i += step) {
      const auto& s = *(*list)[i];
      char name[32];
      std::snprintf(name, sizeof name, "%06zu.txt", written++);
      const auto path = dir / kind / name;
      std::ofstream(path, std::ios::binary) << s.text << '\n';
      manifest << (std::filesystem::path(kind) / name).string() << '\t' << s.rule << '\t' << s.syntax << '\t'
               << (s.secret ? "secret" : s.placeholder ? "placeholder" : "negative") << '\n';
    }
  }
  std::cerr << "corpus_writer: " << written << " samples of " << samples.size() << " written to " << dir.string()
            << '\n';
  return manifest ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  x420::crypto::ensure_sodium();
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: corpus_writer DIR [MAX]\n";
    return 2;
  }
  const std::size_t max = argc == 3 ? std::stoul(argv[2]) : 4000;
  if (max == 0) {
    std::cerr << "corpus_writer: MAX must be positive\n";
    return 2;
  }
  return write_corpus(argv[1], max);
}
