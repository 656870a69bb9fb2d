// lib/detect/normalized_text: the view a model would read, and its map back to the bytes sent.
#include <catch2/catch.hpp>
#include <unicode/uchar.h>

#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/detect/normalized_text.h"
#include "support/engines.h"

using namespace x420;
using namespace x420::detect;

namespace {

// Split so this file is not itself a finding.
const std::string kAws = "AKIA" + std::string("Q3ZR7XW2LPMN4TUV");
const std::string kZwsp = "\u200B";

// The view's text, or the input itself when no view is needed.
std::string view_of(std::string_view s) {
  const auto v = normalize_for_scan(s);
  return v ? std::string(v->text()) : std::string(s);
}

// The original bytes behind view bytes [b, e).
std::string original_of(std::string_view original, const NormalizedText& v, std::size_t b, std::size_t e) {
  const OriginalSpan o = v.original_span(b, e);
  return std::string(original.substr(o.begin, o.end - o.begin));
}

// Every map invariant, checked for every span of a short view (every piece edge otherwise).
void check_map(std::string_view original, const NormalizedText& v) {
  const std::size_t n = v.text().size();
  REQUIRE(v.original_size() == original.size());
  std::size_t last_begin = 0, last_end = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const OriginalSpan o = v.original_span(i, i + 1);
    REQUIRE(o.begin < o.end);
    REQUIRE(o.end <= original.size());
    REQUIRE(o.begin >= last_begin);
    REQUIRE(o.end >= last_end);
    last_begin = o.begin;
    last_end = o.end;
  }
  const std::size_t step = n > 64 ? n / 16 : 1;
  for (std::size_t b = 0; b <= n; b += step)
    for (std::size_t e = b; e <= n; e += step) {
      const OriginalSpan o = v.original_span(b, e);
      REQUIRE(o.begin <= o.end);
      REQUIRE(o.end <= original.size());
      if (b < e) {
        REQUIRE(o.begin == v.original_span(b, b + 1).begin);
        REQUIRE(o.end == v.original_span(e - 1, e).end);
      }
    }
}

}  // namespace

TEST_CASE("ordinary text needs no view", "[normalize]") {
  for (const std::string_view s : {
           std::string_view(""),
           std::string_view("hello world"),
           std::string_view("Please fix the bug in main.cpp; it crashes on start."),
           std::string_view("Two lines\nof prose, the second one a little longer than the first.\n"),
           std::string_view("I am 100% sure that A & B is true, and 50%-ish that C &D is."),
           std::string_view("int main() {\r\n  return 0;\r\n}\r\n"),
           std::string_view("caf\u00e9, na\u00efve, \u65e5\u672c\u8a9e, \xce\xb1\xce\xb2\xce\xb3"),
           std::string_view("tabs\tare\tfine"),
       }) {
    INFO(s);
    CHECK_FALSE(normalize_for_scan(s).has_value());
  }
  SECTION("a .env file stays lines") {
    const std::string env = "AWS_ACCESS_KEY_ID_FOR_THE_PRODUCTION_ACCOUNT=" + kAws +
                            "\nAWS_SECRET_ACCESS_KEY_FOR_THE_PRODUCTION=abcdefghijklmnopqrstuvwxyz0123\n";
    CHECK_FALSE(normalize_for_scan(env).has_value());
  }
  SECTION("long lines ending in a word, followed by prose, stay lines") {
    CHECK_FALSE(normalize_for_scan("this sentence is long enough and ends in internationalization\n"
                                   "is hard to get right")
                    .has_value());
    CHECK_FALSE(normalize_for_scan("a long line of prose that ends in a long identifierLikeThisOne\n"
                                   "key: value")
                    .has_value());
  }
  SECTION("a list of keys, one per short line, stays a list") {
    const std::string list = kAws + "\n" + kAws + "\n" + kAws + "\n";
    CHECK_FALSE(normalize_for_scan(list).has_value());
  }
}

TEST_CASE("invisible characters are dropped", "[normalize]") {
  CHECK(view_of("AK\u200BIA") == "AKIA");
  CHECK(view_of("a\u200Cb\u200Dc\u2060d\u2061e\u2064f\uFEFFg\u00ADh") == "abcdefgh");
  CHECK(view_of("x\u200Ey\u200Fz\u202Aa\u202Eb\u2066c\u2069d") == "xyzabcd");
  CHECK(view_of("tag\U000E0041\U000E007Fged") == "tagged");
  CHECK(view_of("vs\uFE0F16\uFE00 cgj\u034Fx") == "vs16 cgjx");
  CHECK(view_of("\u200B") == "");
  SECTION("below U+0600 only the soft hyphen and the grapheme joiner are invisible") {
    // normalized_text.cpp answers for these without asking ICU.
    for (UChar32 c = 0x80; c < 0x600; ++c) {
      const bool invisible = u_charType(c) == U_FORMAT_CHAR || u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT);
      INFO(c);
      CHECK(invisible == (c == 0xAD || c == 0x34F));
    }
  }
  SECTION("visible non-ASCII stays") {
    CHECK(view_of("\u00e9\u200B\u00e9") == "\u00e9\u00e9");
  }
}

TEST_CASE("terminal escape sequences are removed", "[normalize]") {
  CHECK(view_of("\x1B[31mred\x1B[0m") == "red");
  CHECK(view_of("\x1B[1;38;5;196mbold\x1B[m") == "bold");
  CHECK(view_of("a\x1B[?25hb") == "ab");
  CHECK(view_of("\x1B]0;window title\x07text") == "text");
  CHECK(view_of("\x1B]8;;https://example.com\x1B\\link\x1B]8;;\x1B\\") == "link");
  CHECK(view_of("a\x1BPq#0;2;0;0;0\x1B\\b") == "ab");
  CHECK(view_of("a\x1B(Bb\x1B" "7c\x1B" "8d\x1B" "=e") == "abcde");
  CHECK(view_of("8-bit \xC2\x9B" "31mCSI") == "8-bit CSI");
  CHECK(view_of("8-bit \xC2\x9D" "0;t\xC2\x9COSC") == "8-bit OSC");
  SECTION("what starts no sequence loses only the ESC") {
    CHECK(view_of("end\x1B") == "end");
    CHECK(view_of("a\x1B[31") == "a[31");
    CHECK(view_of("a\x1B\x01" "b") == "a\x01" "b");
    CHECK(view_of("a\x1B]unterminated title") == "a]unterminated title");
    CHECK(view_of("a\x1B]one\x1B]two\x07" "b") == "a]oneb");
  }
  SECTION("a long run of introducers is linear and keeps its text") {
    std::string s;
    for (int i = 0; i < 20000; ++i) s += "\x1B]x";
    std::string expected;
    for (int i = 0; i < 20000; ++i) expected += "]x";
    CHECK(view_of(s) == expected);
  }
}

TEST_CASE("percent-encoding is decoded, one layer", "[normalize]") {
  CHECK(view_of("%41KIA") == "AKIA");
  CHECK(view_of("%4b%4B") == "KK");
  CHECK(view_of("caf%C3%A9") == "caf\u00e9");
  CHECK(view_of("a%E2%80%8Bb") == "ab");  // decodes to a ZWSP, which is then dropped
  CHECK(view_of("%2541") == "%41");
  CHECK(view_of("%1B[31mred") == "red");
  SECTION("what is not one whole character stays as it is") {
    CHECK(view_of("100%") == "100%");
    CHECK(view_of("%4") == "%4");
    CHECK(view_of("%zz") == "%zz");
    CHECK(view_of("%FF%41") == "%FFA");
    CHECK(view_of("%C3") == "%C3");
    CHECK(view_of("%C3%28") == "%C3(");
    CHECK(view_of("%ED%A0%80") == "%ED%A0%80");  // a surrogate
  }
}

TEST_CASE("HTML character references are decoded", "[normalize]") {
  CHECK(view_of("&#65;KIA") == "AKIA");
  CHECK(view_of("&#x41;&#X42;&#x43") == "ABC");
  CHECK(view_of("&#65KIA") == "AKIA");
  CHECK(view_of("a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;") == "a & b <c> \"d\" 'e'");
  CHECK(view_of("a&nbsp;b") == "a b");  // NBSP, then NFKC's space
  CHECK(view_of("a&ZeroWidthSpace;b&shy;c&#x200B;d") == "abcd");
  CHECK(view_of("x&lowbar;y&sol;z&plus;w&equals;") == "x_y/z+w=");
  CHECK(view_of("&amp;amp;") == "&amp;");
  CHECK(view_of("&#x26;#65;") == "&#65;");
  SECTION("what is not a reference stays") {
    CHECK(view_of("&bogus; &amp &#; &#x; &#0; &#xD800; &#1114112; &#xFFFFFFFFFF;") ==
          "&bogus; &amp &#; &#x; &#0; &#xD800; &#1114112; &#xFFFFFFFFFF;");
  }
}

TEST_CASE("compatibility forms are folded with NFKC", "[normalize]") {
  CHECK(view_of("\uFF21\uFF2B\uFF29\uFF21") == "AKIA");
  CHECK(view_of("\uFB01le") == "file");
  CHECK(view_of("\u2460\u00B2") == "12");
  CHECK(view_of("e\u0301") == "\u00e9");
  CHECK(view_of("&#xFF21;") == "A");
  CHECK(view_of("e\u200B\u0301") == "\u00e9");  // the ZWSP goes first, then the pair composes
}

TEST_CASE("hard-wrapped tokens are joined", "[normalize]") {
  const std::string a = "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfi";
  const std::string b = "CYEXAMPLEKEY";
  CHECK(view_of(a + "\n" + b) == a + b);
  CHECK(view_of(a + "\r\n" + b + "\n") == a + b + "\n");
  CHECK(view_of(a + "\\\n    " + b) == a + b);
  CHECK(view_of(a + "\\ \t\n" + b) == a + b);
  CHECK(view_of(a + "\n" + b + "\"") == a + b + "\"");
  SECTION("a base64 block is one run") {
    const std::string line = "TWFueSBoYW5kcyBtYWtlIGxpZ2h0IHdvcmsuIE1hbnkgaGFuZHMgbWFrZSBsaWdodCB3";
    CHECK(view_of(line + "\n" + line + "\n" + "b3JrLg==\n") == line + line + "b3JrLg==\n");
  }
  SECTION("not when the break separates words, keys or assignments") {
    CHECK(view_of(a + "\n" + b + " and more") == a + "\n" + b + " and more");
    CHECK(view_of(a + "\n" + "NEXT_KEY=value") == a + "\n" + "NEXT_KEY=value");
    CHECK(view_of(a + " \\\n" + b) == a + " \\\n" + b);  // a space before the backslash
    CHECK(view_of(a + "\n\n" + b) == a + "\n\n" + b);
    CHECK(view_of("short line " + kAws + "\n" + b) == "short line " + kAws + "\n" + b);
  }
}

TEST_CASE("the map covers whole original sequences", "[normalize]") {
  SECTION("a removed character inside a span is inside its original span, at the edges not") {
    const std::string s = "\u200Bab\u200Bcd\u200B";
    const auto v = normalize_for_scan(s);
    REQUIRE(v);
    REQUIRE(v->text() == "abcd");
    CHECK(original_of(s, *v, 0, 4) == "ab\u200Bcd");
    CHECK(original_of(s, *v, 1, 3) == "b\u200Bc");
    CHECK(original_of(s, *v, 0, 1) == "a");
    CHECK(original_of(s, *v, 3, 4) == "d");
    check_map(s, *v);
  }
  SECTION("a decoded or folded character maps to all of its source") {
    const std::string s = "x%41&#x42;\uFB01y";
    const auto v = normalize_for_scan(s);
    REQUIRE(v);
    REQUIRE(v->text() == "xABfiy");
    CHECK(original_of(s, *v, 1, 2) == "%41");
    CHECK(original_of(s, *v, 2, 3) == "&#x42;");
    CHECK(original_of(s, *v, 3, 4) == "\uFB01");  // half a ligature is the whole ligature
    CHECK(original_of(s, *v, 4, 5) == "\uFB01");
    CHECK(original_of(s, *v, 0, 6) == s);
    check_map(s, *v);
  }
  SECTION("a multi-byte percent-encoding is one unit") {
    const std::string s = "caf%C3%A9!";
    const auto v = normalize_for_scan(s);
    REQUIRE(v);
    CHECK(original_of(s, *v, 3, 4) == "%C3%A9");
    CHECK(original_of(s, *v, 4, 5) == "%C3%A9");
    check_map(s, *v);
  }
  SECTION("empty and out-of-range spans") {
    const std::string s = "ab\u200Bcd\u200B";
    const auto v = normalize_for_scan(s);
    REQUIRE(v);
    CHECK(v->original_span(2, 2) == OriginalSpan{5, 5});
    CHECK(v->original_span(4, 4) == OriginalSpan{7, 7});
    CHECK(v->original_span(3, 100) == OriginalSpan{6, 7});
    CHECK(v->original_span(100, 200) == OriginalSpan{7, 7});
    CHECK(v->original_span(3, 1) == OriginalSpan{6, 6});
  }
  SECTION("everything removed") {
    const auto v = normalize_for_scan("\x1B[0m");
    REQUIRE(v);
    CHECK(v->text().empty());
    CHECK(v->original_span(0, 0) == OriginalSpan{0, 0});
  }
}

TEST_CASE("ill-formed UTF-8 passes through unchanged", "[normalize]") {
  const std::string s = "\xFF" "a\u200B\xC3(b\xE2\x82" "c\xED\xA0\x80" "\uFF21\xF8";
  const auto v = normalize_for_scan(s);
  REQUIRE(v);
  CHECK(v->text() == "\xFF" "a\xC3(b\xE2\x82" "c\xED\xA0\x80" "A\xF8");
  check_map(s, *v);
  CHECK_FALSE(normalize_for_scan("\xFF\xFE plain \xC3").has_value());
}

TEST_CASE("a key hidden by a ZWSP, a colour code or %41 is whole in the view", "[normalize]") {
  const std::string key = kAws;
  const std::string hidden[] = {
      key.substr(0, 8) + kZwsp + key.substr(8),
      key.substr(0, 4) + "\x1B[1;31m" + key.substr(4, 6) + "\x1B[0m" + key.substr(10),
      "%41" + key.substr(1),
      key.substr(0, 3) + "&#x41;" + key.substr(4),
      "\uFF21" + key.substr(1),
      key.substr(0, 2) + "%E2%80%8B" + key.substr(2),
  };
  for (const std::string& h : hidden) {
    const std::string s = "aws_access_key_id = " + h + " (staging)";
    INFO(s);
    const auto v = normalize_for_scan(s);
    REQUIRE(v);
    const std::size_t at = v->text().find(key);
    REQUIRE(at != std::string_view::npos);
    CHECK(original_of(s, *v, at, at + key.size()) == h);
    check_map(s, *v);
  }
}

TEST_CASE("the built-in rules find a hidden key in the view, and its span maps to the bytes sent", "[normalize]") {
  const auto engine = x420::test::builtin_engine();
  auto scratch = engine->make_scratch();
  const auto aws_spans = [&](std::string_view text) {
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    for (const Finding& f : engine->scan(text, *scratch))
      if (engine->rule(f.rule).id == "aws.access_key_id") spans.emplace_back(f.start, f.end);
    return spans;
  };
  const std::string hidden[] = {
      kAws.substr(0, 8) + kZwsp + kAws.substr(8),
      kAws.substr(0, 4) + "\x1B[1;31m" + kAws.substr(4, 6) + "\x1B[0m" + kAws.substr(10),
      "%41" + kAws.substr(1),
  };
  for (const std::string& h : hidden) {
    const std::string s = "my aws_access_key_id = " + h + " please keep it";
    INFO(s);
    CHECK(aws_spans(s).empty());  // what the scan alone would have let through
    const auto v = normalize_for_scan(s);
    REQUIRE(v);
    const auto spans = aws_spans(v->text());
    REQUIRE(spans.size() == 1);
    CHECK(original_of(s, *v, spans[0].first, spans[0].second) == h);
  }
}

TEST_CASE("random input keeps the map's invariants and the fast check agrees with the steps", "[normalize]") {
  std::mt19937 rng(420);
  const std::string_view alphabet[] = {"a", "Z", "0", "%", "4", "1", "&", "#", "x", ";", "\x1B", "[", "]",
                                       "m", "\a", "\\", "\n", "\r", " ", "\u200B", "\uFF21", "\xC3",
                                       "\xC2\x9B", "amp;", "AAAAAAAAAAAAAAAAAAAA", "\xFF", "\uFB01"};
  for (int round = 0; round < 2000; ++round) {
    std::string s;
    const int parts = static_cast<int>(rng() % 40);
    for (int i = 0; i < parts; ++i) s += alphabet[rng() % std::size(alphabet)];
    INFO(s);
    const NormalizedText always = normalize_always(s);
    check_map(s, always);
    if (const auto v = normalize_for_scan(s)) {
      CHECK(v->text() == always.text());
      CHECK(v->text() != s);
    } else {
      CHECK(always.text() == s);  // the fast check said nothing changes: nothing does
    }
  }
}
