#include "lib/detect/placeholder.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace x420::detect {
namespace {

constexpr std::size_t kLongRun = 8;          // a run this long marks the value alone
constexpr std::size_t kShortRun = 4;         // runs this long count towards the share
constexpr double kMadeShare = 0.5;           // ...and when they cover this much of the value
constexpr double kRepeatShare = 0.4;         // one character repeated over this much of it

// Words only a placeholder holds (lowercase; matched in any case).
constexpr std::string_view kDummyWords[] = {"example", "sample", "dummy", "placeholder", "changeme", "change_me",
                                            "change-me", "changeit", "replace_me", "replaceme", "redacted",
                                            "notreal", "not_real", "not-a-real", "fake_", "xxxx", "lorem"};

constexpr std::array<std::string_view, 3> kKeyboardRows = {"qwertyuiop", "asdfghjkl", "zxcvbnm"};

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool same_class(char a, char b) {
  const auto ua = static_cast<unsigned char>(a), ub = static_cast<unsigned char>(b);
  return (std::isdigit(ua) && std::isdigit(ub)) || (std::islower(ua) && std::islower(ub)) ||
         (std::isupper(ua) && std::isupper(ub));
}

// Whether b follows a in the alphabet, the digits or along a keyboard row (either way).
bool follows(char a, char b) {
  if (same_class(a, b) && (b - a == 1 || a - b == 1)) return true;
  const char la = lower(a), lb = lower(b);
  for (const auto row : kKeyboardRows) {
    const auto i = row.find(la), j = row.find(lb);
    if (i != std::string_view::npos && j != std::string_view::npos && (j == i + 1 || i == j + 1)) return true;
  }
  return false;
}

bool mostly_repeated(std::string_view v) {
  std::size_t longest = 0;
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i + 1;
    while (j < v.size() && v[j] == v[i]) ++j;
    longest = std::max(longest, j - i);
    i = j;
  }
  return longest >= 6 && static_cast<double>(longest) >= kRepeatShare * static_cast<double>(v.size());
}

bool made_of_runs(std::string_view v) {
  std::size_t covered = 0;
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i + 1;
    while (j < v.size() && follows(v[j - 1], v[j])) ++j;
    const std::size_t run = j - i;
    if (run >= kLongRun) return true;
    if (run >= kShortRun) covered += run;
    i = j;
  }
  return v.size() >= kShortRun * 2 && static_cast<double>(covered) >= kMadeShare * static_cast<double>(v.size());
}

bool is_template(std::string_view v) {
  if (v.size() < 3) return false;
  const char first = v.front(), last = v.back();
  if ((first == '<' && last == '>') || (first == '%' && last == '%') || (first == '[' && last == ']')) return true;
  for (const std::string_view open : {"${", "{{", "$(", "#{", "%("})
    if (v.find(open) != std::string_view::npos) return true;
  std::string l(v);
  std::transform(l.begin(), l.end(), l.begin(), lower);
  for (const auto word : kDummyWords)
    if (l.find(word) != std::string::npos) return true;
  if (l.starts_with("your") && (l.size() <= 48)) {
    for (const std::string_view tail : {"here", "key", "token", "secret", "password", "id"})
      if (l.ends_with(tail)) return true;
  }
  return false;
}

}  // namespace

bool looks_like_placeholder(std::string_view value) {
  if (value.empty()) return false;
  return mostly_repeated(value) || made_of_runs(value) || is_template(value);
}

}  // namespace x420::detect
