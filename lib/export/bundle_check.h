// Checks an export bundle (man x420, EXPORT FORMAT) without loading it: one streaming pass that
// proves it is whole JSON of the right format and that the trailing "complete" counts match
// what it holds. Memory stays bounded by the largest single string (one record's text) and a
// fixed nesting depth, whatever the file's size.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>

#include "lib/common/result.h"

namespace x420::exporting {

inline constexpr std::string_view kExportFormat = "x420-export/1";

struct BundleCounts {
  std::int64_t keys = 0;
  std::int64_t upstreams = 0;
  std::int64_t conversations = 0;
  std::int64_t records = 0;
  std::int64_t usage = 0;
  bool operator==(const BundleCounts&) const = default;
};

struct BundleSummary {
  std::string format;
  std::string tenant;  // the account's name
  BundleCounts counts;
};

// ErrorKind::usage, saying what is wrong: not JSON (or cut off) at which byte, another format,
// a section missing, no trailing "complete" (a truncated export), or counts that differ (which).
// No message quotes the file's content: it holds conversations.
Result<BundleSummary> check_bundle(std::istream& in);

}  // namespace x420::exporting
