// A finding: where a secret is, which rule found it, and how sure the engine is. It holds byte
// offsets, never the secret itself; the caller, who has the bytes, decides what to show.
#pragma once

#include <cstdint>
#include <string>

namespace x420::detect {

enum class Confidence { low, medium, high };

struct Finding {
  std::uint32_t rule = 0;         // index into Engine::rules(); known secrets come after the rules
  std::uint64_t start = 0;        // the secret's bytes: [start, end)
  std::uint64_t end = 0;
  std::uint64_t match_start = 0;  // the whole match the regex made (context included); a block
                                  // secret (Rule::block_end) ends past it
  std::uint64_t match_end = 0;
  Confidence confidence = Confidence::medium;
  bool checksum_failed = false;   // a vendor checksum (GitHub, x420) did not hold
  std::string fingerprint;        // 16 hex chars, keyed hash of rule id and secret
};

}  // namespace x420::detect
