#include "lib/detect/placeholder.h"

#include <algorithm>
#include <array>
#include <cstdint>
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

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Each byte's class (1 digit, 2 lowercase, 3 capital, 0 other) and, for a letter, its place on
// a keyboard row (row * 16 + column + 1, 0 for none): the checks run for every pair of bytes of
// every candidate secret, so they are table lookups.
struct ByteTables {
  std::array<std::uint8_t, 256> kind{}, key{};
  ByteTables() {
    for (int c = 0; c < 256; ++c) kind[c] = c >= '0' && c <= '9' ? 1 : c >= 'a' && c <= 'z' ? 2 : c >= 'A' && c <= 'Z' ? 3 : 0;
    for (std::size_t r = 0; r < kKeyboardRows.size(); ++r)
      for (std::size_t i = 0; i < kKeyboardRows[r].size(); ++i) {
        const auto place = static_cast<std::uint8_t>(r * 16 + i + 1);
        key[static_cast<unsigned char>(kKeyboardRows[r][i])] = place;
        key[static_cast<unsigned char>(kKeyboardRows[r][i] - 'a' + 'A')] = place;
      }
  }
};
const ByteTables kTables;

// Whether b follows a in the alphabet, the digits or along a keyboard row (either way).
bool follows(char a, char b) {
  const auto ua = static_cast<unsigned char>(a), ub = static_cast<unsigned char>(b);
  if (kTables.kind[ua] != 0 && kTables.kind[ua] == kTables.kind[ub] && (b - a == 1 || a - b == 1)) return true;
  const int ka = kTables.key[ua], kb = kTables.key[ub];
  return ka && kb && (ka - kb == 1 || kb - ka == 1) && (ka - 1) / 16 == (kb - 1) / 16;
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
