#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/scan_walk.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using x420::cli::WalkEntry;
using x420::cli::WalkOptions;
using x420::cli::WalkProblem;
using x420::cli::WalkStats;

namespace {

void write(const fs::path& path, const std::string& text = "x\n") {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

struct Walked {
  std::vector<std::string> files;  // relative to the prefix stripped, for readable asserts
  std::vector<bool> explicitly_given;
  std::vector<WalkProblem> problems;
  WalkStats stats;
};

Walked run(const std::vector<std::string>& roots, const WalkOptions& options = {},
           const std::string& strip = "") {
  Walked out;
  x420::cli::walk(
      roots, options,
      [&](const WalkEntry& e) {
        std::string path = e.path;
        if (!strip.empty() && path.starts_with(strip)) path = path.substr(strip.size());
        out.files.push_back(path);
        out.explicitly_given.push_back(e.explicitly_given);
      },
      [&](const WalkProblem& p) { out.problems.push_back(p); }, &out.stats);
  return out;
}

// The tree most tests walk: ignore files at three levels, a .git directory, links, a FIFO.
void build_tree(const fs::path& root) {
  write(root / ".gitignore", "*.log\nbuild/\n!keep.log\n");
  write(root / ".x420ignore", "fixtures.txt\n");
  write(root / ".git" / "config", "[core]\n");
  write(root / ".git" / "info" / "exclude", "excluded.txt\n");
  write(root / "a.txt");
  write(root / "b.log");
  write(root / "keep.log");
  write(root / "excluded.txt");
  write(root / "fixtures.txt");
  write(root / "build" / "out.txt");
  write(root / "src" / ".gitignore", "!*.log\ngen/\n");
  write(root / "src" / "main.py");
  write(root / "src" / "debug.log");
  write(root / "src" / "gen" / "out.py");
  write(root / "src" / "z.txt");
  write(root / "sub" / ".x420ignore", "*.txt\n");
  write(root / "sub" / "a.txt");
  write(root / "sub" / "b.py");
  fs::create_directory_symlink("..", root / "src" / "loop");
  fs::create_symlink("../a.txt", root / "src" / "link.txt");
  REQUIRE(::mkfifo((root / "pipe").c_str(), 0600) == 0);
}

}  // namespace

TEST_CASE("a directory walk honours nested ignore files and yields files sorted by name") {
  x420::test::TempDir tmp;
  build_tree(tmp.path());
  const std::string root = tmp.path().string();

  Walked w = run({root}, {}, root + "/");

  CHECK(w.files == std::vector<std::string>{
                       ".gitignore", ".x420ignore", "a.txt", "keep.log", "src/.gitignore",
                       "src/debug.log", "src/main.py", "src/z.txt", "sub/.x420ignore", "sub/b.py"});
  for (bool given : w.explicitly_given) CHECK_FALSE(given);
  CHECK(w.problems.empty());
  CHECK(w.stats.files == 10);
  CHECK(w.stats.symlinks_skipped == 2);
  CHECK(w.stats.special_skipped == 1);
  // b.log, excluded.txt, fixtures.txt, build/, src/gen/, sub/a.txt
  CHECK(w.stats.ignored == 6);
}

TEST_CASE("the .git directory is never entered and symbolic links are never followed") {
  x420::test::TempDir tmp;
  build_tree(tmp.path());
  const std::string root = tmp.path().string();
  WalkOptions everything;
  everything.honour_ignore_files = false;

  Walked w = run({root}, everything, root + "/");

  for (const std::string& f : w.files) {
    CHECK_FALSE(f.starts_with(".git/"));
    CHECK(f.find("loop") == std::string::npos);
    CHECK(f != "src/link.txt");
    CHECK(f != "pipe");
  }
  CHECK(w.problems.empty());
}

TEST_CASE("without ignore files every regular file is yielded") {
  x420::test::TempDir tmp;
  build_tree(tmp.path());
  const std::string root = tmp.path().string();
  WalkOptions everything;
  everything.honour_ignore_files = false;

  Walked w = run({root}, everything, root + "/");

  CHECK(w.files == std::vector<std::string>{
                       ".gitignore", ".x420ignore", "a.txt", "b.log", "build/out.txt",
                       "excluded.txt", "fixtures.txt", "keep.log", "src/.gitignore",
                       "src/debug.log", "src/gen/out.py", "src/main.py", "src/z.txt",
                       "sub/.x420ignore", "sub/a.txt", "sub/b.py"});
  CHECK(w.stats.ignored == 0);
}

TEST_CASE("extra ignore patterns apply relative to each root and override its ignore files") {
  x420::test::TempDir tmp;
  build_tree(tmp.path());
  const std::string root = tmp.path().string();
  WalkOptions options;
  options.ignore_patterns = {"src/", "keep.log", "/sub/b.py"};

  Walked w = run({root}, options, root + "/");

  CHECK(w.files == std::vector<std::string>{".gitignore", ".x420ignore", "a.txt", "sub/.x420ignore"});
}

TEST_CASE("a file given explicitly is yielded even if an ignore file names it") {
  x420::test::TempDir tmp;
  build_tree(tmp.path());
  const std::string root = tmp.path().string();

  Walked w = run({root + "/b.log", root + "/build/out.txt"});

  REQUIRE(w.files.size() == 2);
  CHECK(w.files[0] == root + "/b.log");
  CHECK(w.files[1] == root + "/build/out.txt");
  CHECK(w.explicitly_given == std::vector<bool>{true, true});
}

TEST_CASE("a symbolic link given explicitly is followed") {
  x420::test::TempDir tmp;
  write(tmp.path() / "real" / "a.txt");
  fs::create_directory_symlink("real", tmp.path() / "alias");
  fs::create_symlink("real/a.txt", tmp.path() / "file-alias");
  const std::string base = tmp.path().string() + "/";

  Walked w = run({base + "alias", base + "file-alias"}, {}, base);

  CHECK(w.files == std::vector<std::string>{"alias/a.txt", "file-alias"});
  CHECK(w.explicitly_given == std::vector<bool>{false, true});
}

TEST_CASE("a FIFO, a missing path and a broken link given explicitly are problems, not opened") {
  x420::test::TempDir tmp;
  REQUIRE(::mkfifo(tmp.file("pipe").c_str(), 0600) == 0);
  fs::create_symlink("nowhere", tmp.path() / "dangling");

  Walked w = run({tmp.file("pipe"), tmp.file("missing"), tmp.file("dangling")});

  CHECK(w.files.empty());
  REQUIRE(w.problems.size() == 3);
  CHECK(w.problems[0].path == tmp.file("pipe"));
  CHECK(w.problems[0].reason == "not a regular file (FIFO)");
  CHECK(w.problems[1].path == tmp.file("missing"));
  CHECK(w.problems[1].reason == "no such file or directory");
  CHECK(w.problems[2].reason == "broken symbolic link");
}

TEST_CASE("roots are walked in the order given and displayed as typed") {
  x420::test::TempDir tmp;
  write(tmp.path() / "one" / "b.txt");
  write(tmp.path() / "one" / "a.txt");
  write(tmp.path() / "two" / "c.txt");
  const std::string base = tmp.path().string();

  Walked w = run({base + "/two/", base + "/one", base + "/one/./"});

  CHECK(w.files == std::vector<std::string>{base + "/two/c.txt", base + "/one/a.txt",
                                            base + "/one/b.txt", base + "/one/./a.txt",
                                            base + "/one/./b.txt"});
}

TEST_CASE("a subdirectory's files come where its name sorts among its siblings") {
  x420::test::TempDir tmp;
  write(tmp.path() / "a.txt");
  write(tmp.path() / "b" / "inner.txt");
  write(tmp.path() / "c.txt");
  write(tmp.path() / "B.txt");
  const std::string base = tmp.path().string() + "/";

  Walked w = run({tmp.path().string()}, {}, base);

  CHECK(w.files == std::vector<std::string>{"B.txt", "a.txt", "b/inner.txt", "c.txt"});
}

TEST_CASE("a root's .git/info/exclude applies, a nested one does not") {
  x420::test::TempDir tmp;
  write(tmp.path() / ".git" / "info" / "exclude", "*.secret\n");
  write(tmp.path() / "a.secret");
  write(tmp.path() / "nested" / ".git" / "info" / "exclude", "*.txt\n");
  write(tmp.path() / "nested" / "b.txt");
  const std::string base = tmp.path().string() + "/";

  Walked w = run({tmp.path().string()}, {}, base);

  CHECK(w.files == std::vector<std::string>{"nested/b.txt"});
}

TEST_CASE("a symbolic-link ignore file is not read") {
  x420::test::TempDir tmp;
  write(tmp.path() / "elsewhere", "*.txt\n");
  write(tmp.path() / "tree" / "a.txt");
  fs::create_symlink("../elsewhere", tmp.path() / "tree" / ".gitignore");
  const std::string base = tmp.path().string() + "/tree/";

  Walked w = run({base}, {}, base);

  CHECK(w.files == std::vector<std::string>{"a.txt"});
  CHECK(w.stats.symlinks_skipped == 1);
}

TEST_CASE("an unreadable directory is reported and the walk goes on") {
  x420::test::TempDir tmp;
  write(tmp.path() / "a.txt");
  write(tmp.path() / "locked" / "hidden.txt");
  write(tmp.path() / "z.txt");
  REQUIRE(::chmod((tmp.path() / "locked").c_str(), 0) == 0);
  const std::string base = tmp.path().string() + "/";

  Walked w = run({tmp.path().string()}, {}, base);
  ::chmod((tmp.path() / "locked").c_str(), 0700);  // so the temporary tree can be removed

  if (::geteuid() == 0) {
    // root reads any directory: nothing to report
    CHECK(w.files == std::vector<std::string>{"a.txt", "locked/hidden.txt", "z.txt"});
  } else {
    CHECK(w.files == std::vector<std::string>{"a.txt", "z.txt"});
    REQUIRE(w.problems.size() == 1);
    CHECK(w.problems[0].path == base + "locked");
    CHECK(w.problems[0].reason == "permission denied");
  }
}

TEST_CASE("a very deep tree is walked without recursion") {
  x420::test::TempDir tmp;
  fs::path deep = tmp.path();
  std::string relative;
  for (int i = 0; i < 1000; ++i) {
    deep /= "d";
    relative += "d/";
  }
  write(deep / "bottom.txt");
  const std::string base = tmp.path().string() + "/";

  Walked w = run({tmp.path().string()}, {}, base);

  CHECK(w.files == std::vector<std::string>{relative + "bottom.txt"});
  CHECK(w.problems.empty());
}
