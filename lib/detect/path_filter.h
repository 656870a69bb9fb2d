// Which paths `x420 scan` skips: .gitignore / .x420ignore patterns with git's semantics
// (https://git-scm.com/docs/gitignore). Pure logic; the walker in cli/ reads the files.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace x420::detect {

class IgnoreRules {
 public:
  IgnoreRules();
  ~IgnoreRules();
  IgnoreRules(const IgnoreRules&);
  IgnoreRules(IgnoreRules&&) noexcept;
  IgnoreRules& operator=(const IgnoreRules&);
  IgnoreRules& operator=(IgnoreRules&&) noexcept;

  // Adds the patterns of one ignore file (.gitignore / .x420ignore syntax) that sits in directory
  // `base`, relative to the scan root with '/' separators ("" for the root itself). Files in
  // deeper directories take precedence; among files of one directory, the one added last does.
  void add(std::string_view file_text, std::string_view base);
  // Adds one pattern as if written in an ignore file at the root (used for allowlist paths).
  void add_pattern(std::string_view pattern);

  // Decision for a path relative to the root ('/'-separated, no leading "./"):
  // ignored, explicitly re-included by a negation, or no pattern matched.
  // Only the path itself is judged, not its parent directories: as in git, a walker that does
  // not descend into an ignored directory gets "everything below stays ignored" for free, and
  // a negation cannot re-include a file whose directory is excluded.
  enum class Match { none, ignored, included };
  Match match(std::string_view path, bool is_dir) const;
  bool ignored(std::string_view path, bool is_dir) const {
    return match(path, is_dir) == Match::ignored;
  }

  std::size_t pattern_count() const { return pattern_count_; }

 private:
  struct Pattern;
  struct BaseHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Keyed by the directory the patterns came from, so a lookup touches only the ignore files
  // on the path's own ancestry, however many the tree holds.
  std::unordered_map<std::string, std::vector<Pattern>, BaseHash, std::equal_to<>> by_base_;
  std::size_t pattern_count_ = 0;
};

}  // namespace x420::detect
