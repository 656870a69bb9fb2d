#include "lib/detect/path_filter.h"

#include <algorithm>
#include <bitset>
#include <cstdint>
#include <optional>
#include <utility>

namespace x420::detect {
namespace {

using ByteSet = std::bitset<256>;

// One compiled glob step. `**` is lowered into steps that an NFA can run side by side, so the
// cost of a match is bounded by pattern length × path length whatever the pattern holds —
// backtracking matchers go exponential on inputs such as `*a*a*a*a*b` or `**/**/**/x`.
enum class Op : std::uint8_t {
  literal,     // one byte
  any,         // `?`: one byte but '/'
  set,         // `[...]`: one byte of a set that never holds '/'
  star,        // `*`: any run without '/'
  any_string,  // `**` as the last component: anything, '/' included
  dirs_enter,  // `**/`: either skip the next step, or enter it
  dirs_loop,   //   …which eats any run that ends with '/': together `(.*/)?`
};

struct Step {
  Op op;
  unsigned char byte = 0;
  std::uint32_t set = 0;
};

// POSIX classes in the C locale, spelled out so the process locale cannot change a pattern.
std::optional<ByteSet> named_class(std::string_view name) {
  auto range = [](ByteSet& s, int low, int high) {
    for (int b = low; b <= high; ++b) s.set(static_cast<std::size_t>(b));
  };
  ByteSet digit, upper, lower;
  range(digit, '0', '9');
  range(upper, 'A', 'Z');
  range(lower, 'a', 'z');
  const ByteSet alpha = upper | lower;
  if (name == "alnum") return alpha | digit;
  if (name == "alpha") return alpha;
  if (name == "digit") return digit;
  if (name == "lower") return lower;
  if (name == "upper") return upper;
  ByteSet other;
  if (name == "blank") {
    other.set(' ').set('\t');
  } else if (name == "space") {
    range(other, '\t', '\r');
    other.set(' ');
  } else if (name == "cntrl") {
    range(other, 0, 31);
    other.set(127);
  } else if (name == "graph" || name == "punct") {
    range(other, 33, 126);
    if (name == "punct") other &= ~(alpha | digit);
  } else if (name == "print") {
    range(other, 32, 126);
  } else if (name == "xdigit") {
    range(other, 'a', 'f');
    range(other, 'A', 'F');
    other |= digit;
  } else {
    return std::nullopt;
  }
  return other;
}

// A bracket expression as git's wildmatch reads it: `!` or `^` negates, a leading `]` is a
// member, `a-z` ranges, `\` escapes, `[:class:]` names. Returns the set and the index after
// the closing `]`, or nothing when malformed — git then lets the pattern match nothing.
std::optional<std::pair<ByteSet, std::size_t>> parse_set(std::string_view p, std::size_t i) {
  ByteSet set;
  std::size_t j = i + 1;
  bool negated = false;
  if (j < p.size() && (p[j] == '!' || p[j] == '^')) {
    negated = true;
    ++j;
  }
  int previous = -1;  // the last single member, the low end of a possible range
  for (bool first = true;; first = false) {
    if (j >= p.size()) return std::nullopt;
    unsigned char c = static_cast<unsigned char>(p[j]);
    if (c == ']' && !first) break;
    if (c == '\\') {
      if (++j >= p.size()) return std::nullopt;
      c = static_cast<unsigned char>(p[j++]);
      set.set(c);
      previous = c;
    } else if (c == '-' && previous >= 0 && j + 1 < p.size() && p[j + 1] != ']') {
      j += 1;
      unsigned char high = static_cast<unsigned char>(p[j++]);
      if (high == '\\') {
        if (j >= p.size()) return std::nullopt;
        high = static_cast<unsigned char>(p[j++]);
      }
      for (int b = previous; b <= high; ++b) set.set(static_cast<std::size_t>(b));
      previous = -1;
    } else if (c == '[' && j + 1 < p.size() && p[j + 1] == ':') {
      std::size_t close = p.find(']', j + 2);
      if (close == std::string_view::npos) return std::nullopt;
      if (close == j + 2 || p[close - 1] != ':') {
        // No ":]": an ordinary '[' member, as in git.
        set.set('[');
        previous = '[';
        ++j;
        continue;
      }
      auto named = named_class(p.substr(j + 2, close - 1 - (j + 2)));
      if (!named) return std::nullopt;  // git refuses unknown class names
      set |= *named;
      previous = -1;
      j = close + 1;
    } else {
      set.set(c);
      previous = c;
      ++j;
    }
  }
  if (negated) set.flip();
  set.reset('/');  // a bracket never matches a separator (WM_PATHNAME)
  return std::pair{set, j + 1};
}

class Glob {
 public:
  // `literal_prefix`: where git's matcher starts (see IgnoreRules::add); npos for none.
  static std::optional<Glob> compile(std::string_view pattern, std::size_t literal_prefix);
  bool matches(std::string_view text) const;

 private:
  // Most lines of real ignore files are a name, `*.ext` or `dir/**`: those skip the NFA.
  enum class Shape { exact, suffix, prefix, general };

  void push(Step step) {
    if (step.op == Op::star && !steps_.empty() && steps_.back().op == Op::star) return;
    steps_.push_back(step);
  }
  void classify();
  bool run(std::string_view text) const;

  Shape shape_ = Shape::general;
  std::string literal_;  // the fixed part of exact, suffix and prefix shapes
  std::vector<Step> steps_;
  std::vector<ByteSet> sets_;
};

std::optional<Glob> Glob::compile(std::string_view p, std::size_t literal_prefix) {
  Glob glob;
  for (std::size_t i = 0; i < p.size();) {
    char c = p[i];
    if (c == '\\') {
      if (i + 1 >= p.size()) return std::nullopt;  // a trailing lone '\' never matches in git
      glob.push({Op::literal, static_cast<unsigned char>(p[i + 1])});
      i += 2;
    } else if (c == '?') {
      glob.push({Op::any});
      ++i;
    } else if (c == '[') {
      auto parsed = parse_set(p, i);
      if (!parsed) return std::nullopt;
      glob.sets_.push_back(parsed->first);
      glob.push({Op::set, 0, static_cast<std::uint32_t>(glob.sets_.size() - 1)});
      i = parsed->second;
    } else if (c == '*') {
      std::size_t end = i;
      while (end < p.size() && p[end] == '*') ++end;
      // `**` is special only as a whole path component; elsewhere it is a plain `*`.
      const bool escaped_slash = p.substr(end).starts_with("\\/");
      const bool component = end - i >= 2 &&
                             (i == 0 || i == literal_prefix || p[i - 1] == '/') &&
                             (end == p.size() || p[end] == '/' || escaped_slash);
      if (!component) {
        glob.push({Op::star});
      } else if (end == p.size() || escaped_slash) {
        // git skips its "zero directories" shortcut before `\/`: anything, then a '/'.
        glob.push({Op::any_string});
      } else {
        glob.push({Op::dirs_enter});
        glob.push({Op::dirs_loop});
        ++end;  // the '/' belongs to the `**/` step
      }
      i = end;
    } else {
      glob.push({Op::literal, static_cast<unsigned char>(c)});
      ++i;
    }
  }
  glob.classify();
  return glob;
}

void Glob::classify() {
  auto literal_run = [&](std::size_t from, std::size_t to) {
    std::string text;
    for (std::size_t k = from; k < to; ++k) {
      if (steps_[k].op != Op::literal) return false;
      text.push_back(static_cast<char>(steps_[k].byte));
    }
    literal_ = std::move(text);
    return true;
  };
  const std::size_t n = steps_.size();
  if (literal_run(0, n)) shape_ = Shape::exact;
  else if (n >= 1 && steps_[0].op == Op::star && literal_run(1, n)) shape_ = Shape::suffix;
  else if (n >= 1 && steps_[n - 1].op == Op::any_string && literal_run(0, n - 1))
    shape_ = Shape::prefix;
  else shape_ = Shape::general;
  if (shape_ != Shape::general) {
    steps_.clear();
    sets_.clear();
  }
}

bool Glob::matches(std::string_view text) const {
  switch (shape_) {
    case Shape::exact:
      return text == literal_;
    case Shape::suffix:
      return text.ends_with(literal_) &&
             text.substr(0, text.size() - literal_.size()).find('/') == std::string_view::npos;
    case Shape::prefix:
      return text.starts_with(literal_);
    case Shape::general:
      return run(text);
  }
  return false;
}

// Thompson simulation: the set of live steps advances one byte at a time; each step enters a
// set at most once per byte, which is what bounds the work.
bool Glob::run(std::string_view text) const {
  const std::size_t accept = steps_.size();
  std::vector<std::size_t> stamp(accept + 1, 0);
  std::vector<std::uint32_t> live, next, pending;
  std::size_t generation = 1;

  auto enter = [&](std::vector<std::uint32_t>& into, std::size_t state) {
    pending.push_back(static_cast<std::uint32_t>(state));
    while (!pending.empty()) {
      std::uint32_t s = pending.back();
      pending.pop_back();
      if (stamp[s] == generation) continue;
      stamp[s] = generation;
      into.push_back(s);
      if (s == accept) continue;
      switch (steps_[s].op) {
        case Op::star:
        case Op::any_string:
          pending.push_back(s + 1);  // both may match the empty string
          break;
        case Op::dirs_enter:
          pending.push_back(s + 2);  // zero directories
          pending.push_back(s + 1);
          break;
        default:
          break;
      }
    }
  };

  enter(live, 0);
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    ++generation;
    next.clear();
    for (std::uint32_t s : live) {
      if (s == accept) continue;
      const Step& step = steps_[s];
      switch (step.op) {
        case Op::literal:
          if (c == step.byte) enter(next, s + 1);
          break;
        case Op::any:
          if (c != '/') enter(next, s + 1);
          break;
        case Op::set:
          if (sets_[step.set][c]) enter(next, s + 1);
          break;
        case Op::star:
          if (c != '/') enter(next, s);
          break;
        case Op::any_string:
          enter(next, s);
          break;
        case Op::dirs_enter:
          break;
        case Op::dirs_loop:
          enter(next, s);
          if (c == '/') enter(next, s + 1);
          break;
      }
    }
    if (next.empty()) return false;
    live.swap(next);
  }
  return stamp[accept] == generation;
}

// git's trim_trailing_spaces(): unescaped trailing spaces go, `\ ` keeps its space.
std::string_view trim_trailing_spaces(std::string_view line) {
  std::size_t first_trailing = std::string_view::npos;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == ' ') {
      if (first_trailing == std::string_view::npos) first_trailing = i;
    } else if (line[i] == '\\') {
      if (++i >= line.size()) return line;
      first_trailing = std::string_view::npos;
    } else {
      first_trailing = std::string_view::npos;
    }
  }
  return first_trailing == std::string_view::npos ? line : line.substr(0, first_trailing);
}

std::string_view normalise_base(std::string_view base) {
  while (base.starts_with("./")) base.remove_prefix(2);
  while (base.ends_with('/')) base.remove_suffix(1);
  if (base == ".") return {};
  return base;
}

}  // namespace

struct IgnoreRules::Pattern {
  Glob glob;
  bool negated = false;
  bool dir_only = false;
  bool basename_only = false;  // no '/' in the pattern: matches a name at any depth
};

IgnoreRules::IgnoreRules() = default;
IgnoreRules::~IgnoreRules() = default;
IgnoreRules::IgnoreRules(const IgnoreRules&) = default;
IgnoreRules::IgnoreRules(IgnoreRules&&) noexcept = default;
IgnoreRules& IgnoreRules::operator=(const IgnoreRules&) = default;
IgnoreRules& IgnoreRules::operator=(IgnoreRules&&) noexcept = default;

void IgnoreRules::add(std::string_view text, std::string_view base) {
  base = normalise_base(base);
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // git skips a UTF-8 BOM
  std::vector<Pattern>* patterns = nullptr;
  while (!text.empty()) {
    std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    line = trim_trailing_spaces(line);

    Pattern pattern;
    if (line.starts_with('!')) {
      pattern.negated = true;
      line.remove_prefix(1);
    }
    if (line.ends_with('/')) {
      pattern.dir_only = true;
      line.remove_suffix(1);
    }
    // Any other '/' anchors the pattern to `base`; a leading one says only that.
    pattern.basename_only = line.find('/') == std::string_view::npos;
    if (line.starts_with('/')) line.remove_prefix(1);
    if (line.empty()) continue;
    // git compares a path pattern's wildcard-free head literally and hands only the rest to
    // its matcher, so a `**` right after that head counts as starting a component there:
    // `foo**/bar` matches `foo/bar`. Basename patterns are matched whole.
    std::size_t literal_prefix = std::string_view::npos;
    if (!pattern.basename_only)
      literal_prefix = std::min(line.find_first_of("*?[\\"), line.size());
    auto glob = Glob::compile(line, literal_prefix);
    if (!glob) continue;
    pattern.glob = std::move(*glob);

    if (!patterns) {
      auto it = by_base_.find(base);
      if (it == by_base_.end())
        it = by_base_.emplace(std::string(base), std::vector<Pattern>{}).first;
      patterns = &it->second;
    }
    patterns->push_back(std::move(pattern));
    ++pattern_count_;
  }
}

void IgnoreRules::add_pattern(std::string_view pattern) { add(pattern, ""); }

IgnoreRules::Match IgnoreRules::match(std::string_view path, bool is_dir) const {
  if (path.empty() || by_base_.empty()) return Match::none;
  // The ignore files that can speak for `path` sit in its proper ancestors; the deepest speaks
  // first, and within one directory the last pattern does.
  std::size_t cut = path.size();
  for (;;) {
    cut = cut == 0 ? std::string_view::npos : path.rfind('/', cut - 1);
    if (cut == 0) continue;  // a leading '/' names no directory; try the root next
    const bool at_root = cut == std::string_view::npos;
    std::string_view base = at_root ? std::string_view{} : path.substr(0, cut);
    std::string_view relative = at_root ? path : path.substr(cut + 1);
    if (auto it = by_base_.find(base); it != by_base_.end()) {
      std::string_view name = relative.substr(relative.rfind('/') + 1);
      const auto& patterns = it->second;
      for (auto p = patterns.rbegin(); p != patterns.rend(); ++p) {
        if (p->dir_only && !is_dir) continue;
        if (p->glob.matches(p->basename_only ? name : relative))
          return p->negated ? Match::included : Match::ignored;
      }
    }
    if (at_root) return Match::none;
  }
}

}  // namespace x420::detect
