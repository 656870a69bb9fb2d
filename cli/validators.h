// Checks for option values whose refusals read like x420's other errors: they name the accepted
// form ("--rpm must be a whole number ≥ 1") and never repeat the value given, which may be
// anything the user pasted, a secret included. CLI11's own (Range, IsMember) print the value,
// and Range prints its bounds as doubles of 309 digits.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace x420::cli {

// A whole number in [min, max], written in decimal digits (a leading '-' only if min < 0).
CLI::Validator whole_number(std::int64_t min,
                            std::int64_t max = std::numeric_limits<std::int64_t>::max());

// One of the given words, exactly.
CLI::Validator one_of(std::vector<std::string> choices);

}  // namespace x420::cli
