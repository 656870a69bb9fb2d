#include "lib/detect/prefilter_pattern.h"

#include <algorithm>
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

bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Where the escape, class or other item starting at `i` ends (one past it), for walking a
// regex without entering its classes.
std::size_t skip_item(std::string_view s, std::size_t i) {
  if (s[i] == '\\') return std::min(s.size(), i + 2);
  if (s[i] != '[') return i + 1;
  ++i;
  if (i < s.size() && s[i] == '^') ++i;
  if (i < s.size() && s[i] == ']') ++i;  // "[]…]": the first ']' is a member
  while (i < s.size() && s[i] != ']') {
    if (s[i] == '\\') {
      i += 2;
    } else if (s.compare(i, 2, "[:") == 0) {  // "[:alpha:]" inside a class
      const std::size_t close = s.find(":]", i + 2);
      if (close == std::string_view::npos) return s.size();
      i = close + 2;
    } else {
      ++i;
    }
  }
  return std::min(s.size(), i + 1);
}

// The ')' closing the group opened at `open`, or npos when the regex is unbalanced.
std::size_t group_end(std::string_view s, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < s.size(); i = skip_item(s, i)) {
    if (s[i] == '(') ++depth;
    if (s[i] == ')' && --depth == 0) return i;
  }
  return std::string_view::npos;
}

// Whether [begin, end) holds a '|' outside every group it opens.
bool alternates(std::string_view s, std::size_t begin, std::size_t end) {
  int depth = 0;
  for (std::size_t i = begin; i < end; i = skip_item(s, i)) {
    if (s[i] == '(') ++depth;
    if (s[i] == ')') --depth;
    if (s[i] == '|' && depth == 0) return true;
  }
  return false;
}

// Whether the item ending just before `at` is optional or repeated.
bool quantified(std::string_view s, std::size_t at) {
  if (at >= s.size()) return false;
  return s[at] == '?' || s[at] == '*' || s[at] == '+' || (s[at] == '{' && parse_quantifier(s, at));
}

}  // namespace

std::string literal_prefix(std::string_view s) {
  if (s.find("(?x") != std::string_view::npos || s.find("(?#") != std::string_view::npos ||
      alternates(s, 0, s.size()))
    return {};
  std::size_t i = 0;
  while (i < s.size()) {
    if (s.compare(i, 2, "\\b") == 0 || s.compare(i, 2, "\\A") == 0) {
      i += 2;
      continue;
    }
    if (s[i] == '^') {
      ++i;
      continue;
    }
    if (s[i] != '(') break;
    const std::size_t end = group_end(s, i);
    if (end == std::string_view::npos || quantified(s, end + 1)) return {};
    if (s.compare(i, 3, "(?=") == 0 || s.compare(i, 3, "(?!") == 0 || s.compare(i, 4, "(?<=") == 0 ||
        s.compare(i, 4, "(?<!") == 0) {
      i = end + 1;  // a lookaround takes no bytes
      continue;
    }
    std::size_t body = i + 1;  // a capturing group
    if (body < s.size() && s[body] == '?') {
      std::size_t j = body + 1;
      while (j < end && ((s[j] >= 'a' && s[j] <= 'z') || s[j] == '-')) ++j;
      if (j == end) {  // "(?i)": flags only
        i = end + 1;
        continue;
      }
      if (s[j] != ':') return {};  // a named group, a condition, …: not read
      body = j + 1;
    }
    if (alternates(s, body, end)) return {};
    i = body;
  }
  std::string out;
  while (i < s.size()) {
    if (s[i] == ')') {  // the end of a group entered above: it neither repeats nor alternates
      ++i;
      continue;
    }
    char c = s[i];
    std::size_t length = 1;
    if (c == '\\') {
      if (i + 1 >= s.size() || alnum(s[i + 1])) break;  // \d, \x41, \b …
      c = s[i + 1];
      length = 2;
    } else if (!alnum(c) && std::string_view("_-~!@#%&=:;,'\"<>/` ").find(c) == std::string_view::npos) {
      break;  // a metacharacter
    }
    if (quantified(s, i + length)) break;
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    i += length;
  }
  return out;
}

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
