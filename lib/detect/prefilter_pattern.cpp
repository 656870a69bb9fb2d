#include "lib/detect/prefilter_pattern.h"

#include <optional>

namespace x420::detect {
namespace {

struct Quantifier {
  unsigned min = 0;
  std::optional<unsigned> max;  // nullopt: open ({m,})
  std::size_t length = 0;       // characters from '{' to '}' inclusive
};

// Parses "{m}", "{m,}" or "{m,n}" at `at`; anything else is a literal brace in PCRE.
std::optional<Quantifier> parse_quantifier(std::string_view s, std::size_t at) {
  auto number = [&](std::size_t& i) -> std::optional<unsigned> {
    const std::size_t start = i;
    unsigned long value = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 6) value = value * 10 + (s[i++] - '0');
    if (i == start || (i < s.size() && s[i] >= '0' && s[i] <= '9')) return std::nullopt;
    return static_cast<unsigned>(value);
  };
  std::size_t i = at + 1;
  Quantifier q;
  auto m = number(i);
  if (!m || i >= s.size()) return std::nullopt;
  q.min = *m;
  if (s[i] == '}') {
    q.max = q.min;
  } else if (s[i] == ',') {
    ++i;
    if (i < s.size() && s[i] != '}') {
      auto n = number(i);
      if (!n || *n < q.min) return std::nullopt;
      q.max = n;
    }
    if (i >= s.size() || s[i] != '}') return std::nullopt;
  } else {
    return std::nullopt;
  }
  q.length = i - at + 1;
  return q;
}

}  // namespace

std::string relax_for_prefilter(std::string_view regex, unsigned threshold, unsigned floor) {
  std::string out;
  out.reserve(regex.size());
  bool in_class = false;
  for (std::size_t i = 0; i < regex.size(); ++i) {
    const char c = regex[i];
    if (c == '\\' && i + 1 < regex.size()) {  // an escape is copied whole, never a quantifier
      out += c;
      out += regex[++i];
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      // "[]" and "[^]" start a class whose first member is a literal ']'.
      if (i + 1 < regex.size() && regex[i + 1] == '^') out += regex[++i];
      if (i + 1 < regex.size() && regex[i + 1] == ']') out += regex[++i];
      continue;
    }
    if (c == '{') {
      if (auto q = parse_quantifier(regex, i)) {
        const bool large = !q->max || *q->max >= threshold;
        if (large) {
          // {0,N} becomes *: besides being cheaper, vectorscan 5.4.9 misses some matches of
          // patterns with two large {0,N} repeats once they start past byte 64 of the input.
          out += q->min == 0 ? std::string("*") : "{" + std::to_string(std::min(q->min, floor)) + ",}";
          i += q->length - 1;
          // A lazy or possessive marker after the quantifier keeps its meaning on the new one.
          continue;
        }
      }
    }
    out += c;
  }
  return out;
}

}  // namespace x420::detect
