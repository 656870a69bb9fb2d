// lib/detect/prefilter_pattern: the relaxed regex vectorscan prefilters with.
#include <catch2/catch.hpp>

#include "lib/detect/prefilter_pattern.h"

using namespace x420;
using namespace x420::detect;

TEST_CASE("prefilter patterns relax large counted repeats and nothing else") {
  CHECK(relax_for_prefilter("ghp_[A-Za-z0-9]{36}") == "ghp_[A-Za-z0-9]{16,}");
  CHECK(relax_for_prefilter("a{2,8}b{64,8000}") == "a{2,8}b{16,}");
  CHECK(relax_for_prefilter("x{30,}") == "x{16,}");
  CHECK(relax_for_prefilter(R"(\{40\}[{]{40})") == R"(\{40\}[{]{16,})");
  CHECK(relax_for_prefilter("[a{40}]") == "[a{40}]");
  CHECK(relax_for_prefilter("a{,5}{x}") == "a{,5}{x}");
  CHECK(relax_for_prefilter("[a-z]{0,40}mail[a-z]{0,30}") == "[a-z]*mail[a-z]*");
  CHECK(relax_for_prefilter("x{0,5}") == "x{0,5}");
}

TEST_CASE("the literal every match begins with is read past zero-width parts and plain groups") {
  CHECK(literal_prefix(R"(\b(eyJ[A-Za-z0-9_\-]{10,800}\.eyJ))") == "eyj");
  CHECK(literal_prefix(R"(\b(sk-ant-api0[0-9]-[A-Za-z0-9_\-]{80,110}))") == "sk-ant-api0");
  CHECK(literal_prefix(R"((?i)\bbearer[ \t]{1,5}(x))") == "bearer");
  CHECK(literal_prefix(R"(-----BEGIN RSA PRIVATE KEY-----)") == "-----begin rsa private key-----");
  CHECK(literal_prefix(R"(^(?:ghp_)([A-Z]{36}))") == "ghp_");
  CHECK(literal_prefix(R"((?<![A-Za-z0-9])AKIA[A-Z2-7]{16})") == "akia");
  CHECK(literal_prefix(R"(\$2[aby]?\$)") == "$2");
  CHECK(literal_prefix(R"(xox(?:b|p)-)") == "xox");
  CHECK(literal_prefix(R"(https\://)") == "https://");
}

TEST_CASE("no literal prefix is claimed where a match may begin otherwise") {
  CHECK(literal_prefix(R"(ghp_x|gho_x)").empty());            // alternation at the top
  CHECK(literal_prefix(R"((ghp_|gho_)x)").empty());            // alternation in the first group
  CHECK(literal_prefix(R"((?:ab)?cd)").empty());               // an optional group
  CHECK(literal_prefix(R"((?:ab){2}cd)").empty());             // a repeated group
  CHECK(literal_prefix(R"(abc?d)") == "ab");                   // an optional byte ends it
  CHECK(literal_prefix(R"(ab{2,3})") == "a");
  CHECK(literal_prefix(R"([a-z]abc)").empty());                // a class first
  CHECK(literal_prefix(R"(\dabc)").empty());
  CHECK(literal_prefix(R"(.abc)").empty());
  CHECK(literal_prefix(R"((?x) a b c)").empty());              // extended mode is not read
  CHECK(literal_prefix(R"((?<name>abc))").empty());            // nor named groups
  CHECK(literal_prefix(R"((abc)").empty());                   // unbalanced
  CHECK(literal_prefix(R"([[:alpha:]x)").empty());
  CHECK(literal_prefix(R"((?i:(?:stripe|sk)_live))").empty());
}
