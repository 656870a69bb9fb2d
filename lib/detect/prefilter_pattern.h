// The pattern vectorscan prefilters with, derived from a rule's regex: large counted repeats
// ({40}, {64,8000}) become short open ones ({16,}). The result matches a superset of what the
// rule matches, so nothing is missed, and PCRE2 confirms the exact span afterwards; but it
// compiles in milliseconds instead of seconds and scans faster, because vectorscan pays for
// every position a counted repeat must track.
#pragma once

#include <string>
#include <string_view>

namespace x420::detect {

// Counted repeats whose bound reaches `threshold` are relaxed to {min(m, floor),}.
std::string relax_for_prefilter(std::string_view regex, unsigned threshold = 24, unsigned floor = 16);

}  // namespace x420::detect
