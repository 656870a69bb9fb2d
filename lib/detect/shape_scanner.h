#pragma once

// Dedicated scanners for the keywordless shapes: payment card numbers and IBANs hold no literal
// a prefilter could look for, and as regexes in the vectorscan database they slowed every scan
// by a third (the database then runs an automaton over every digit). A skip loop finds the few
// places where such a value can be, and the engine tries the rules only there.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "lib/detect/rule.h"

namespace x420::detect {

enum class Shape {
  none,
  // Twelve or more digits, with at most one space or dash between two of them: what luhn
  // accepts, in the ways card numbers are written ("4111 1111 1111 1111", "4111-1111-…").
  card_number,
  // Fifteen or more capitals and digits, with at most one space between two of them, holding
  // two capitals followed by two digits (the country code and check digits): IBANs in their
  // electronic and printed forms.
  iban,
};

// The shape that finds a rule's values, or none when the rule goes by its keywords or regex:
// a rule without keywords validated by luhn or iban_mod97.
Shape shape_of(const Rule& rule);

using ShapeRunCallback = std::function<void(Shape, std::uint64_t begin, std::uint64_t end)>;

// Calls `on_run(shape, begin, end)` for each maximal run of `data` in which a value of one of
// `shapes` may lie (in order for each shape): every value a shape describes lies inside one of
// its runs. One pass over the data for all the shapes.
void find_shape_runs(std::string_view data, std::span<const Shape> shapes, const ShapeRunCallback& on_run);

}  // namespace x420::detect
