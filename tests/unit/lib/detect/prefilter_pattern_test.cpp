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
