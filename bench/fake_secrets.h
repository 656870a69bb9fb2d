// Well-formed fake secrets for the detection benchmarks, and sprinkling them into text: random
// characters in each vendor's shape (prefix, length, alphabet, checksum where there is one),
// never real credentials. Deterministic for a given seed, so runs compare like with like.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace x420::bench {

// One line (or block of lines, for a PEM key) holding one secret, as it would sit in code or
// config, and where the secret is in it: the span a detector should report.
struct FakeSecret {
  std::string kind;  // "aws", "github", ..., for the per-kind tally
  std::string text;  // ends with '\n'
  std::size_t secret_offset = 0;
  std::size_t secret_size = 0;
};

class FakeSecretMaker {
 public:
  explicit FakeSecretMaker(std::uint64_t seed) : rng_(seed) {}

  // The kinds made, in the order next() cycles through them.
  static const std::vector<std::string_view>& kinds();

  // The next fake, cycling through kinds() so every kind is about equally represented.
  FakeSecret next();
  FakeSecret make(std::string_view kind);

  std::mt19937_64& rng() { return rng_; }

 private:
  std::string chars(std::string_view alphabet, std::size_t n);
  std::string digits(std::size_t n) { return chars("0123456789", n); }
  std::string base62(std::size_t n);  // always holds at least one digit
  std::string base64url_of(std::string_view bytes);

  std::mt19937_64 rng_;
  std::size_t turn_ = 0;
};

// A secret inserted into a text: where its secret span ended up.
struct Sprinkled {
  std::string kind;
  std::uint64_t start = 0, end = 0;
};

// Inserts `count` fakes, each as new lines after a randomly chosen '\n' of `text` (never two at
// the same place). Returns the secrets' spans in the new text, sorted by start.
std::vector<Sprinkled> sprinkle(std::string& text, std::size_t count, FakeSecretMaker& maker);

}  // namespace x420::bench
