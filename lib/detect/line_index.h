// Byte offsets to 1-based line and column numbers, for reports. Walks forward from the last
// position asked, so locating findings in order costs one pass over the text.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace x420::detect {

struct LineColumn {
  std::uint64_t line = 1;
  std::uint64_t column = 1;  // in bytes
};

class LineLocator {
 public:
  explicit LineLocator(std::string_view text) : text_(text) {}

  // Offsets must not decrease between calls.
  LineColumn locate(std::uint64_t offset) {
    if (offset > text_.size()) offset = text_.size();
    while (scanned_ < offset) {
      const void* nl = std::memchr(text_.data() + scanned_, '\n', offset - scanned_);
      if (!nl) {
        scanned_ = offset;
        break;
      }
      scanned_ = static_cast<const char*>(nl) - text_.data() + 1;
      ++line_;
      line_start_ = scanned_;
    }
    return {line_, offset - line_start_ + 1};
  }

 private:
  std::string_view text_;
  std::uint64_t scanned_ = 0;
  std::uint64_t line_ = 1;
  std::uint64_t line_start_ = 0;
};

}  // namespace x420::detect
