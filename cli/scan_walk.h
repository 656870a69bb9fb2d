// Which files `x420 scan PATH...` reads: walks the roots the way ripgrep and gitleaks do
// (skip .git, honour .gitignore / .x420ignore, never follow a symbolic link inside a tree).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace x420::cli {

struct WalkOptions {
  // .gitignore and .x420ignore at every level, .git/info/exclude at the root.
  bool honour_ignore_files = true;
  // Extra gitignore-style patterns (allowlist paths), root-relative. Applied to every root,
  // after that root's own ignore files, so they override its negations.
  std::vector<std::string> ignore_patterns;
};

// `path` is for display and for opening: the root as the user typed it, joined with the
// relative part ("src/a.py", "./x/y", "/abs/z").
struct WalkEntry {
  std::string path;
  bool explicitly_given;
};

// Reasons read like "permission denied", "not a regular file (FIFO)", "no such file or
// directory".
struct WalkProblem {
  std::string path;
  std::string reason;
};

// What was passed over without a problem, for a summary line.
struct WalkStats {
  std::size_t files = 0;
  std::size_t ignored = 0;           // files and directories matched by an ignore pattern
  std::size_t symlinks_skipped = 0;  // inside a tree; never followed, so loops cannot happen
  std::size_t special_skipped = 0;   // FIFOs, sockets and devices inside a tree: never opened
};

// Enumerates the files to scan under each root, in a deterministic order: roots as given, and
// within a directory entries sorted by name, a subdirectory's files where its name sorts.
// A root that is a file, or a symbolic link the user named, is yielded as is (even if an
// ignore file would skip it); a FIFO, socket or device given as a root is reported, never
// opened. File contents are not read.
void walk(const std::vector<std::string>& roots, const WalkOptions& options,
          const std::function<void(const WalkEntry&)>& on_file,
          const std::function<void(const WalkProblem&)>& on_problem,
          WalkStats* stats = nullptr);

}  // namespace x420::cli
