#pragma once

// Dedicated scanners for the keywordless shapes (Shape in rule.h): card numbers, IBANs, e-mail
// addresses, phone numbers and IPv4 addresses hold no literal a prefilter could look for, and as
// regexes in the vectorscan database they slowed every scan by a third or more (the database
// then runs an automaton over every digit, or stops at every '@'). One pass computes masks of
// digits, capitals and a few marks per 64 bytes, finds the few places where a value of a shape
// can be, and the engine tries the shape's rules only there.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "lib/detect/rule.h"

namespace x420::detect {


// The shape that finds a rule's values, or none when the rule goes by its keywords or regex:
// the rule's `shape`, or for a rule without keywords validated by luhn or iban_mod97, the
// card's or the IBAN's.
Shape shape_of(const Rule& rule);

using ShapeRunCallback = std::function<void(Shape, std::uint64_t begin, std::uint64_t end)>;

// Calls `on_run(shape, begin, end)` for each maximal run of `data` in which a value of one of
// `shapes` may lie (in order for each shape): every value a shape describes lies inside one of
// its runs. One pass over the data for all the shapes.
void find_shape_runs(std::string_view data, std::span<const Shape> shapes, const ShapeRunCallback& on_run);

}  // namespace x420::detect
