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

// The literal every match of `regex` begins with, lowercased ("eyj" for
// `\b(eyJ[A-Za-z0-9_\-]{10,800}\.…)`): what follows its leading zero-width parts (\b, ^, inline
// flags, lookarounds) and the openings of groups that neither alternate nor repeat, up to the
// first byte that is not a plain literal or is optional or repeated. Empty when there is none,
// when the regex alternates at its top, or when it holds what this does not read (extended
// mode): the engine then knows nothing of where its keywords lie in a match.
std::string literal_prefix(std::string_view regex);

}  // namespace x420::detect
