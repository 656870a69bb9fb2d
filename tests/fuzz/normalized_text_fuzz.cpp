// Fuzz target: lib/detect/normalized_text, the view of a user-text string a model would read and
// its map back to the original bytes. The bytes are the string. Whatever they are: no crash, no
// unbounded time or memory, and the map holds its contract: its pieces tile the view in order,
// their original spans are in bounds, non-empty and in order, a copied piece is the
// same bytes as its original span, original_span is monotonic and covers what lies between;
// and when normalize_for_scan says no view is needed, the steps indeed change nothing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lib/detect/normalized_text.h"

using namespace x420;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_map(std::string_view original, const detect::NormalizedText& v) {
  const auto& pieces = v.pieces();
  const std::string_view text = v.text();
  check(v.original_size() == original.size());
  check(text.size() <= 18 * original.size());  // NFKC's widest expansion, with room
  check(pieces.empty() == text.empty());
  std::size_t previous_begin = 0, previous_end = 0;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const auto& p = pieces[i];
    const std::size_t text_end = i + 1 < pieces.size() ? pieces[i + 1].text_begin : text.size();
    check(i == 0 ? p.text_begin == 0 : p.text_begin > pieces[i - 1].text_begin);
    check(p.text_begin < text_end);
    check(p.original_begin < p.original_end && p.original_end <= original.size());
    check(p.original_begin >= previous_begin && p.original_end >= previous_end);
    previous_begin = p.original_begin;
    previous_end = p.original_end;
    if (p.copied) {
      check(p.original_end - p.original_begin == text_end - p.text_begin);
      check(text.substr(p.text_begin, text_end - p.text_begin) ==
            original.substr(p.original_begin, p.original_end - p.original_begin));
    }
  }
  detect::OriginalSpan last{0, 0};
  for (std::size_t i = 0; i < text.size(); ++i) {
    const detect::OriginalSpan o = v.original_span(i, i + 1);
    check(o.begin < o.end && o.end <= original.size());
    check(o.begin >= last.begin && o.end >= last.end);
    last = o;
  }
  // A few wider spans: from the first byte's start to the last byte's end.
  const std::size_t n = text.size();
  for (std::size_t b = 0; b < n; b += 1 + n / 8) {
    const std::size_t e = b + (n - b + 1) / 2;
    const detect::OriginalSpan o = v.original_span(b, e);
    check(o.begin == v.original_span(b, b + 1).begin && o.end == v.original_span(e - 1, e).end);
  }
  const detect::OriginalSpan empty = v.original_span(n, n);
  check(empty.begin == empty.end && empty.end <= original.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto view = detect::normalize_for_scan(text);
  const detect::NormalizedText always = detect::normalize_always(text);
  check_map(text, always);
  if (view) {
    check(view->text() == always.text() && view->text() != text);
  } else {
    check(always.text() == text);  // the fast check said nothing changes: nothing did
  }
  return 0;
}
