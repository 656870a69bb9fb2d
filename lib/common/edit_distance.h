// Levenshtein distance, for "did you mean" suggestions: a misspelt rule-file field, command or flag.
#pragma once

#include <cstddef>
#include <string_view>

namespace x420 {

// The fewest single-byte insertions, deletions and substitutions that turn a into b.
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace x420
