#include <catch2/catch.hpp>

#include <chrono>
#include <random>
#include <string>

#include "lib/detect/path_filter.h"

using x420::detect::IgnoreRules;
using Match = IgnoreRules::Match;

namespace {

IgnoreRules rules(std::string_view text, std::string_view base = "") {
  IgnoreRules r;
  r.add(text, base);
  return r;
}

bool file_ignored(const IgnoreRules& r, std::string_view path) { return r.ignored(path, false); }
bool dir_ignored(const IgnoreRules& r, std::string_view path) { return r.ignored(path, true); }

}  // namespace

TEST_CASE("no pattern, no decision") {
  IgnoreRules empty;
  CHECK(empty.match("a.txt", false) == Match::none);
  CHECK(rules("*.log").match("a.txt", false) == Match::none);
  CHECK(rules("*.log").match("", false) == Match::none);
}

TEST_CASE("blank lines and comments are not patterns") {
  auto r = rules("\n# secret.txt\n   \n#\n");
  CHECK(r.pattern_count() == 0);
  CHECK_FALSE(file_ignored(r, "secret.txt"));
  CHECK_FALSE(file_ignored(r, "# secret.txt"));
}

TEST_CASE("an escaped hash or bang is a literal first character") {
  auto r = rules("\\#notes\n\\!important\n");
  CHECK(file_ignored(r, "#notes"));
  CHECK(file_ignored(r, "!important"));
  CHECK_FALSE(file_ignored(r, "important"));
}

TEST_CASE("trailing spaces are trimmed unless escaped") {
  auto r = rules("foo   \nbar\\ \n");
  CHECK(file_ignored(r, "foo"));
  CHECK_FALSE(file_ignored(r, "foo "));
  CHECK(file_ignored(r, "bar "));
  CHECK_FALSE(file_ignored(r, "bar"));
}

TEST_CASE("CRLF line endings and a UTF-8 BOM are tolerated") {
  auto r = rules("\xEF\xBB\xBF*.log\r\nbuild/\r\n");
  CHECK(file_ignored(r, "a.log"));
  CHECK(dir_ignored(r, "build"));
}

TEST_CASE("a negated pattern re-includes a file") {
  auto r = rules("*.log\n!keep.log\n");
  CHECK(r.match("debug.log", false) == Match::ignored);
  CHECK(r.match("keep.log", false) == Match::included);
  CHECK(r.match("sub/keep.log", false) == Match::included);
  CHECK(r.match("notes.txt", false) == Match::none);
}

TEST_CASE("the last matching pattern wins") {
  auto r = rules("!keep.log\n*.log\n");
  CHECK(file_ignored(r, "keep.log"));
}

TEST_CASE("a pattern ending in a slash matches directories only") {
  auto r = rules("build/\n");
  CHECK(dir_ignored(r, "build"));
  CHECK(dir_ignored(r, "src/build"));
  CHECK_FALSE(file_ignored(r, "build"));
}

TEST_CASE("a pattern without a slash matches a name at any depth") {
  auto r = rules("secret.txt\n");
  CHECK(file_ignored(r, "secret.txt"));
  CHECK(file_ignored(r, "a/b/secret.txt"));
  CHECK(dir_ignored(r, "a/secret.txt"));
  CHECK_FALSE(file_ignored(r, "a/secret.txt.bak"));
}

TEST_CASE("a leading slash anchors a pattern to its directory") {
  auto r = rules("/todo.txt\n");
  CHECK(file_ignored(r, "todo.txt"));
  CHECK_FALSE(file_ignored(r, "sub/todo.txt"));
}

TEST_CASE("a middle slash anchors a pattern too") {
  auto r = rules("doc/frotz\n");
  CHECK(file_ignored(r, "doc/frotz"));
  CHECK_FALSE(file_ignored(r, "a/doc/frotz"));
  auto dirs = rules("doc/frotz/\n");
  CHECK(dir_ignored(dirs, "doc/frotz"));
  CHECK_FALSE(file_ignored(dirs, "doc/frotz"));
  CHECK_FALSE(dir_ignored(dirs, "x/doc/frotz"));
}

TEST_CASE("a star does not cross a slash") {
  auto r = rules("src/*.c\n");
  CHECK(file_ignored(r, "src/main.c"));
  CHECK_FALSE(file_ignored(r, "src/lib/main.c"));
  auto anywhere = rules("*.c\n");
  CHECK(file_ignored(anywhere, "src/lib/main.c"));
  auto middle = rules("a*b\n");
  CHECK(file_ignored(middle, "axxb"));
  CHECK(file_ignored(middle, "ab"));
  auto anchored = rules("/a*b\n");
  CHECK_FALSE(file_ignored(anchored, "a/b"));
}

TEST_CASE("a question mark matches one character but a slash") {
  auto r = rules("?.txt\nx?y\n");
  CHECK(file_ignored(r, "a.txt"));
  CHECK_FALSE(file_ignored(r, "ab.txt"));
  CHECK_FALSE(file_ignored(r, ".txtx"));
  auto anchored = rules("/x?y\n");
  CHECK_FALSE(file_ignored(anchored, "x/y"));
}

TEST_CASE("bracket expressions: members, ranges, negation, classes") {
  CHECK(file_ignored(rules("[abc].txt"), "b.txt"));
  CHECK_FALSE(file_ignored(rules("[abc].txt"), "d.txt"));
  CHECK(file_ignored(rules("log[0-9]"), "log7"));
  CHECK_FALSE(file_ignored(rules("log[0-9]"), "logx"));
  CHECK(file_ignored(rules("[!a]x"), "bx"));
  CHECK_FALSE(file_ignored(rules("[!a]x"), "ax"));
  CHECK(file_ignored(rules("[^a]x"), "bx"));
  CHECK_FALSE(file_ignored(rules("[^a]x"), "ax"));
  CHECK(file_ignored(rules("[]]x"), "]x"));
  CHECK(file_ignored(rules("[a-]x"), "-x"));
  CHECK(file_ignored(rules("[\\]]x"), "]x"));
  CHECK(file_ignored(rules("[[:digit:]]x"), "5x"));
  CHECK_FALSE(file_ignored(rules("[[:digit:]]x"), "ax"));
  CHECK(file_ignored(rules("[[:upper:][:digit:]]"), "Q"));
  CHECK(file_ignored(rules("[[:punct:]]"), "%"));
  CHECK_FALSE(file_ignored(rules("[[:punct:]]"), "a"));
  CHECK(file_ignored(rules("[[:x]"), ":"));  // no ":]": '[' and ':' are plain members
  CHECK_FALSE(dir_ignored(rules("/a[!b]c"), "a/c"));  // not even a negated set matches '/'
}

TEST_CASE("malformed brackets and a trailing backslash match nothing, as in git") {
  CHECK_FALSE(file_ignored(rules("[ab"), "[ab"));
  CHECK_FALSE(file_ignored(rules("[ab"), "a"));
  CHECK_FALSE(file_ignored(rules("[[:nope:]]"), "n"));
  CHECK_FALSE(file_ignored(rules("foo\\"), "foo"));
  CHECK_FALSE(file_ignored(rules("foo\\"), "foo\\"));
}

TEST_CASE("escaped wildcards are literal") {
  auto r = rules("\\*.txt\nwhat\\?\n");
  CHECK(file_ignored(r, "*.txt"));
  CHECK_FALSE(file_ignored(r, "a.txt"));
  CHECK(file_ignored(r, "what?"));
  CHECK_FALSE(file_ignored(r, "whats"));
}

TEST_CASE("a leading double star matches in every directory") {
  auto r = rules("**/foo\n");
  CHECK(file_ignored(r, "foo"));
  CHECK(file_ignored(r, "a/foo"));
  CHECK(file_ignored(r, "a/b/foo"));
  CHECK_FALSE(file_ignored(r, "a/xfoo"));
  auto two = rules("**/foo/bar\n");
  CHECK(file_ignored(two, "foo/bar"));
  CHECK(file_ignored(two, "x/y/foo/bar"));
  CHECK_FALSE(file_ignored(two, "foo/x/bar"));
}

TEST_CASE("a trailing double star matches everything inside, not the directory itself") {
  auto r = rules("abc/**\n");
  CHECK(file_ignored(r, "abc/x"));
  CHECK(file_ignored(r, "abc/x/y/z"));
  CHECK_FALSE(dir_ignored(r, "abc"));
  CHECK_FALSE(file_ignored(r, "x/abc/y"));
}

TEST_CASE("a middle double star matches zero or more directories") {
  auto r = rules("a/**/b\n");
  CHECK(file_ignored(r, "a/b"));
  CHECK(file_ignored(r, "a/x/b"));
  CHECK(file_ignored(r, "a/x/y/b"));
  CHECK_FALSE(file_ignored(r, "a/xb"));
  CHECK_FALSE(file_ignored(r, "a/x/bb"));
  auto ext = rules("src/**/*.pem\n");
  CHECK(file_ignored(ext, "src/k.pem"));
  CHECK(file_ignored(ext, "src/a/b/k.pem"));
  CHECK_FALSE(file_ignored(ext, "lib/k.pem"));
}

TEST_CASE("a double star that is not a whole component is a single star") {
  auto r = rules("/a**z\n");
  CHECK(file_ignored(r, "abcz"));
  CHECK_FALSE(file_ignored(r, "ab/cz"));
  CHECK(file_ignored(rules("**"), "any/thing/at/all"));
}

TEST_CASE("double-star corner cases follow git 2.39 as it behaves, not as documented") {
  // git matches a path pattern's wildcard-free head literally and restarts its matcher after
  // it, so the `**` counts as a whole component.
  auto head = rules("foo**/bar\n");
  CHECK(file_ignored(head, "foo/bar"));
  CHECK(file_ignored(head, "foox/y/bar"));
  // Before an escaped slash git skips its zero-directories shortcut.
  auto escaped = rules("**\\/k\n");
  CHECK_FALSE(file_ignored(escaped, "k"));
  CHECK(file_ignored(escaped, "x/k"));
  CHECK(file_ignored(escaped, "x/y/k"));
}

TEST_CASE("a directory re-included below an ignored parent pattern keeps its exceptions") {
  // The classic "ignore everything under x except x/keep" idiom.
  auto r = rules("x/**\n!x/keep\n");
  CHECK(file_ignored(r, "x/other"));
  CHECK(r.match("x/keep", false) == Match::included);
}

TEST_CASE("patterns in a nested ignore file apply below its directory only") {
  auto r = rules("*.tmp\n/only\nlib/gen\n", "sub");
  CHECK(file_ignored(r, "sub/x.tmp"));
  CHECK(file_ignored(r, "sub/deep/x.tmp"));
  CHECK_FALSE(file_ignored(r, "x.tmp"));
  CHECK_FALSE(file_ignored(r, "other/x.tmp"));
  CHECK_FALSE(file_ignored(r, "subx/x.tmp"));
  CHECK(file_ignored(r, "sub/only"));
  CHECK_FALSE(file_ignored(r, "sub/deep/only"));
  CHECK_FALSE(file_ignored(r, "only"));
  CHECK(file_ignored(r, "sub/lib/gen"));
  CHECK_FALSE(file_ignored(r, "sub/x/lib/gen"));
  CHECK_FALSE(dir_ignored(r, "sub"));  // an ignore file never speaks for its own directory
}

TEST_CASE("a deeper ignore file takes precedence whatever the order added") {
  IgnoreRules in_order;
  in_order.add("*.log\n", "");
  in_order.add("!*.log\n", "a/b");
  IgnoreRules reversed;
  reversed.add("!*.log\n", "a/b");
  reversed.add("*.log\n", "");
  for (const IgnoreRules* r : {&in_order, &reversed}) {
    CHECK(r->match("x.log", false) == Match::ignored);
    CHECK(r->match("a/x.log", false) == Match::ignored);
    CHECK(r->match("a/b/x.log", false) == Match::included);
    CHECK(r->match("a/b/c/x.log", false) == Match::included);
  }
}

TEST_CASE("among files of one directory the one added last wins") {
  IgnoreRules r;
  r.add("secret.env\n", "");     // .gitignore
  r.add("!secret.env\n", "");    // .x420ignore
  CHECK(r.match("secret.env", false) == Match::included);
}

TEST_CASE("base directories are normalised") {
  IgnoreRules r;
  r.add("a.txt\n", "./sub/");
  r.add("b.txt\n", ".");
  CHECK(file_ignored(r, "sub/a.txt"));
  CHECK(file_ignored(r, "b.txt"));
}

TEST_CASE("a single pattern can be added as if written at the root") {
  IgnoreRules r;
  r.add("!vendor/\n", "");
  r.add_pattern("vendor/");
  r.add_pattern("tests/fixtures/*.pem");
  CHECK(dir_ignored(r, "vendor"));
  CHECK(file_ignored(r, "tests/fixtures/key.pem"));
  CHECK_FALSE(file_ignored(r, "tests/fixtures/sub/key.pem"));
}

TEST_CASE("degenerate lines neither crash nor match") {
  auto r = rules("!\n/\n//\n!/\n\\\n[\n[]\n[!]\n***/\n/**/\n");
  for (const char* path : {"a", "a/b", "/", "//", "x//y", "/abs", "a/"}) {
    CHECK_NOTHROW(r.match(path, false));
    CHECK_NOTHROW(r.match(path, true));
  }
  CHECK_FALSE(file_ignored(r, "a"));
}

TEST_CASE("pathological patterns finish quickly") {
  const auto start = std::chrono::steady_clock::now();
  std::string stars;
  for (int i = 0; i < 200; ++i) stars += "*a";
  stars += "*b";
  std::string many_globstars;
  for (int i = 0; i < 200; ++i) many_globstars += "**/";
  many_globstars += "x";
  std::string long_path;
  for (int i = 0; i < 300; ++i) long_path += "a/";
  long_path += "y";

  IgnoreRules r;
  r.add_pattern(stars);
  r.add_pattern(many_globstars);
  r.add_pattern("/" + many_globstars + "/**/z");
  CHECK_FALSE(file_ignored(r, std::string(4000, 'a')));
  CHECK_FALSE(file_ignored(r, long_path));
  CHECK(file_ignored(r, long_path.substr(0, long_path.size() - 1) + "x"));
  CHECK(file_ignored(r, std::string(400, 'a') + "b"));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed < std::chrono::seconds(2));  // backtracking would take longer than the universe
}

TEST_CASE("arbitrary bytes as ignore files and paths do not crash") {
  std::mt19937 random(420);
  const std::string alphabet = "ab/*?[]!^-\\:#\r\n \x80\xff";
  auto noise = [&](std::size_t length) {
    std::string s;
    for (std::size_t i = 0; i < length; ++i) {
      if (random() % 4 == 0) s += static_cast<char>(random() % 256);
      else s += alphabet[random() % alphabet.size()];
    }
    return s;
  };
  for (int round = 0; round < 300; ++round) {
    IgnoreRules r;
    r.add(noise(random() % 200), noise(random() % 8));
    r.add_pattern(noise(random() % 30));
    for (int probe = 0; probe < 20; ++probe) CHECK_NOTHROW(r.match(noise(random() % 40), probe % 2));
  }
}
