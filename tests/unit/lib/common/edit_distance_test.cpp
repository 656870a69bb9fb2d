// lib/common/edit_distance
#include <catch2/catch.hpp>

#include "lib/common/edit_distance.h"

TEST_CASE("edit distance counts single-byte insertions, deletions and substitutions") {
  using x420::edit_distance;
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("keys", "keys") == 0);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("kyes", "keys") == 2);  // a swap is two edits
  CHECK(edit_distance("upstream", "upstreams") == 1);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("flaw", "lawn") == 2);
  CHECK(edit_distance("keywords", "keyword") == edit_distance("keyword", "keywords"));
}
