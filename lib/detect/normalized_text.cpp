#include "lib/detect/normalized_text.h"

#include "lib/crypto/secret_bytes.h"

#include <unicode/bytestream.h>
#include <unicode/edits.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/uniset.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "lib/common/utf8.h"

namespace x420::detect {
namespace {

using Piece = NormalizedText::Piece;

// ---- Shared by the fast check and the steps, so both agree on what changes. ----

constexpr std::size_t kMaxCsiBytes = 64;      // parameters and intermediates of one CSI
constexpr std::size_t kMaxStringBytes = 4096;  // an OSC/DCS payload; longer is not a control
constexpr std::size_t kMaxReferenceName = 32;  // "&ZeroWidthSpace;" is the longest we know
constexpr std::size_t kMinWrapRun = 16;
constexpr std::size_t kMinWrapLine = 40;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=' || c == '_' || c == '-';
}

// The byte "%XX" at s[i] encodes, or -1.
int percent_byte(std::string_view s, std::size_t i) {
  if (i + 2 >= s.size() || s[i] != '%') return -1;
  const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

// A decodable percent-encoding at s[i]: how many bytes of s it spans (0: none), its bytes in out.
std::size_t percent_at(std::string_view s, std::size_t i, std::array<char, 4>& out, std::size_t& out_len) {
  const int b0 = percent_byte(s, i);
  if (b0 < 0) return 0;
  std::size_t n = 1;
  if (b0 >= 0x80) {
    if (b0 >= 0xC2 && b0 <= 0xDF) n = 2;
    else if (b0 >= 0xE0 && b0 <= 0xEF) n = 3;
    else if (b0 >= 0xF0 && b0 <= 0xF4) n = 4;
    else return 0;
  }
  out[0] = static_cast<char>(b0);
  for (std::size_t k = 1; k < n; ++k) {
    const int b = percent_byte(s, i + 3 * k);
    if (b < 0) return 0;
    out[k] = static_cast<char>(b);
  }
  if (n > 1 && utf8_sequence_length(std::string_view(out.data(), n), 0) != n) return 0;
  out_len = n;
  return 3 * n;
}

struct NamedReference {
  std::string_view name;
  char32_t code_point;
};

// HTML5 names (https://html.spec.whatwg.org/multipage/named-characters.html): the five XML
// ones, the invisible and space-like ones, and those of ASCII punctuation, which is what one
// would use to break a token. Sorted by name for binary search.
constexpr NamedReference kNamedReferences[] = {
    {"AMP", U'&'},       {"GT", U'>'},           {"Hat", U'^'},
    {"LT", U'<'},        {"NewLine", U'\n'},     {"NoBreak", U'\u2060'},
    {"QUOT", U'"'},      {"Tab", U'\t'},         {"UnderBar", U'_'},
    {"ZeroWidthSpace", U'\u200B'},               {"amp", U'&'},
    {"apos", U'\''},     {"ast", U'*'},          {"bsol", U'\\'},
    {"colon", U':'},     {"comma", U','},        {"commat", U'@'},
    {"dollar", U'$'},    {"emsp", U'\u2003'},    {"ensp", U'\u2002'},
    {"equals", U'='},    {"excl", U'!'},         {"grave", U'`'},
    {"gt", U'>'},        {"lbrack", U'['},       {"lcub", U'{'},
    {"lowbar", U'_'},    {"lpar", U'('},         {"lrm", U'\u200E'},
    {"lsqb", U'['},      {"lt", U'<'},           {"nbsp", U'\u00A0'},
    {"num", U'#'},       {"percnt", U'%'},       {"period", U'.'},
    {"plus", U'+'},      {"quest", U'?'},        {"quot", U'"'},
    {"rbrack", U']'},    {"rcub", U'}'},         {"rlm", U'\u200F'},
    {"rpar", U')'},      {"rsqb", U']'},         {"semi", U';'},
    {"shy", U'\u00AD'},  {"sol", U'/'},          {"thinsp", U'\u2009'},
    {"verbar", U'|'},    {"vert", U'|'},         {"zwj", U'\u200D'},
    {"zwnj", U'\u200C'},
};
static_assert(std::is_sorted(std::begin(kNamedReferences), std::end(kNamedReferences),
                             [](const NamedReference& a, const NamedReference& b) { return a.name < b.name; }));

// A character reference at s[i] ('&'): how many bytes it spans (0: none) and its code point.
std::size_t reference_at(std::string_view s, std::size_t i, char32_t& cp) {
  std::size_t j = i + 1;
  if (j < s.size() && s[j] == '#') {
    ++j;
    const bool hex = j < s.size() && (s[j] == 'x' || s[j] == 'X');
    if (hex) ++j;
    const std::size_t digits_begin = j;
    std::uint32_t value = 0;
    while (j < s.size() && (hex ? hex_value(s[j]) >= 0 : (s[j] >= '0' && s[j] <= '9'))) {
      value = value * (hex ? 16 : 10) + static_cast<std::uint32_t>(hex_value(s[j]));
      if (value > 0x10FFFF) return 0;  // also keeps the arithmetic from overflowing
      ++j;
    }
    if (j == digits_begin || value == 0 || (value >= 0xD800 && value <= 0xDFFF)) return 0;
    if (j < s.size() && s[j] == ';') ++j;
    cp = value;
    return j - i;
  }
  while (j < s.size() && j - i <= kMaxReferenceName &&
         ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z')))
    ++j;
  if (j == i + 1 || j >= s.size() || s[j] != ';') return 0;
  const std::string_view name = s.substr(i + 1, j - i - 1);
  const auto* end = std::end(kNamedReferences);
  const auto* it = std::lower_bound(std::begin(kNamedReferences), end, name,
                                    [](const NamedReference& r, std::string_view n) { return r.name < n; });
  if (it == end || it->name != name) return 0;
  cp = it->code_point;
  return j + 1 - i;
}

// A frozen ICU set from a pattern, made once; nullptr if ICU refuses it (never, with its data).
const icu::UnicodeSet* frozen_set(const char16_t* pattern) {
  UErrorCode status = U_ZERO_ERROR;
  auto* s = new icu::UnicodeSet(icu::UnicodeString(pattern), status);
  if (U_FAILURE(status)) {
    delete s;
    return nullptr;
  }
  s->freeze();
  return s;  // kept for the life of the process
}

// Invisible to a reader: general category Cf, or Default_Ignorable_Code_Point (which adds the
// variation selectors, the combining grapheme joiner and the fillers). A set's binary search
// over its ranges costs less than a property lookup each.
const icu::UnicodeSet* invisible_set() {
  static const icu::UnicodeSet* set = frozen_set(u"[[:Cf:][:Default_Ignorable_Code_Point:]]");
  return set;
}

bool is_invisible(char32_t cp) {
  if (cp < 0x600) return cp == 0xAD || cp == 0x34F;  // the only ones below U+0600 (checked in the tests)
  const icu::UnicodeSet* set = invisible_set();
  return set ? set->contains(static_cast<UChar32>(cp))
             : u_charType(static_cast<UChar32>(cp)) == U_FORMAT_CHAR ||
                   u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_DEFAULT_IGNORABLE_CODE_POINT);
}

char32_t decode_utf8(std::string_view s, std::size_t i, std::size_t n) {
  const auto b = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[i + k])); };
  switch (n) {
    case 1: return b(0);
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

// The end of CSI parameters, intermediates and final byte starting at s[j], or 0 (none).
std::size_t csi_end(std::string_view s, std::size_t j) {
  const std::size_t limit = std::min(s.size(), j + kMaxCsiBytes);
  while (j < limit && s[j] >= 0x30 && s[j] <= 0x3F) ++j;
  while (j < limit && s[j] >= 0x20 && s[j] <= 0x2F) ++j;
  return j < s.size() && s[j] >= 0x40 && s[j] <= 0x7E ? j + 1 : 0;
}

// The end of a control string's payload starting at s[j], through its terminator, or 0 when it
// is unterminated. It stops at anything that starts another sequence, so the bytes it looked
// at hold no introducer and scanning them again as text keeps the whole walk linear.
std::size_t string_end(std::string_view s, std::size_t j, bool bel_ends) {
  const std::size_t limit = std::min(s.size(), j + kMaxStringBytes);
  for (; j < limit; ++j) {
    const char c = s[j];
    if (c == '\a' && bel_ends) return j + 1;
    if (c == '\x1B') return j + 1 < s.size() && s[j + 1] == '\\' ? j + 2 : 0;
    if (static_cast<unsigned char>(c) == 0xC2 && j + 1 < s.size()) {
      const auto next = static_cast<unsigned char>(s[j + 1]);
      if (next == 0x9C) return j + 2;
      if (next == 0x9B || next == 0x9D) return 0;
    }
  }
  return 0;
}

// How many bytes of the escape sequence at s[i] (ESC, or U+009B/U+009D as C2 9B/C2 9D) to
// remove; at least the introducer itself.
std::size_t escape_length(std::string_view s, std::size_t i) {
  if (s[i] != '\x1B') {  // an 8-bit C1 introducer, two bytes in UTF-8
    const bool csi = static_cast<unsigned char>(s[i + 1]) == 0x9B;
    const std::size_t end = csi ? csi_end(s, i + 2) : string_end(s, i + 2, true);
    return end ? end - i : 2;
  }
  if (i + 1 >= s.size()) return 1;
  const char c = s[i + 1];
  std::size_t end = 0;
  if (c == '[') {
    end = csi_end(s, i + 2);
  } else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_') {
    end = string_end(s, i + 2, c == ']');
  } else if (c >= 0x20 && c <= 0x2F) {  // nF: intermediates, then a final byte
    std::size_t j = i + 1;
    while (j < s.size() && j - i <= 8 && s[j] >= 0x20 && s[j] <= 0x2F) ++j;
    if (j < s.size() && s[j] >= 0x30 && s[j] <= 0x7E) end = j + 1;
  } else if (c >= 0x30 && c <= 0x7E) {
    end = i + 2;
  }
  return end ? end - i : 1;
}

// The wrap rule (see the header) for the line break at s[k], on a line that starts at
// line_begin. Returns the bytes to remove [from, to), or from == to when the break stays.
std::pair<std::size_t, std::size_t> wrap_at(std::string_view s, std::size_t k, std::size_t line_begin) {
  const std::pair<std::size_t, std::size_t> keep{k, k};
  std::size_t run_end = k;
  while (run_end > line_begin && (s[run_end - 1] == ' ' || s[run_end - 1] == '\t')) --run_end;
  if (run_end > line_begin && s[run_end - 1] == '\\') --run_end;
  std::size_t run_begin = run_end;
  while (run_begin > line_begin && run_end - run_begin < kMinWrapRun && is_token_char(s[run_begin - 1]))
    --run_begin;
  if (run_end - run_begin < kMinWrapRun) return keep;
  // The line up to the run, from its first character that is not indentation.
  std::size_t first = line_begin;
  while (first < run_end && (s[first] == ' ' || s[first] == '\t')) ++first;
  if (run_end - first < kMinWrapLine) return keep;

  std::size_t next = k + ((s[k] == '\r' && k + 1 < s.size() && s[k + 1] == '\n') ? 2 : 1);
  while (next < s.size() && (s[next] == ' ' || s[next] == '\t')) ++next;
  std::size_t run = next;
  std::size_t assignment = 0;  // where an '=' that is not padding sits in the run, plus one
  while (run < s.size() && is_token_char(s[run])) {
    if (s[run] == '=' && !assignment && run > next && run + 1 < s.size() && is_token_char(s[run + 1]) &&
        s[run + 1] != '=')
      assignment = run + 1;
    ++run;
  }
  if (run == next || assignment) return keep;
  if (run < s.size() && (s[run] == ' ' || s[run] == '\t' || s[run] == ':')) return keep;
  return {run_end, next};
}

// ---- The fast check. ----

// The first byte at or after `from` that could start a change, or s.size(): a control byte
// (ESC, CR and LF among them), a non-ASCII byte, '%' or '&'. One signed compare finds both
// the controls and the bytes >= 0x80 (negative as signed). 64 bytes a step with AVX2 where the
// CPU has it, else 16 with SSE2 (every x86-64), as memchr does; the caller looks closer.
bool is_candidate(unsigned char c) { return c < 0x20 || c >= 0x80 || c == '%' || c == '&'; }

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define X420_NORMALIZE_AVX2 1
__attribute__((target("avx2"))) inline __m256i candidates32(const char* q) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
  const __m256i controls = _mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), v);
  return _mm256_or_si256(controls, _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('%')),
                                                   _mm256_cmpeq_epi8(v, _mm256_set1_epi8('&'))));
}

__attribute__((target("avx2"))) std::size_t next_candidate_avx2(const char* p, std::size_t i, std::size_t n) {
  for (; i + 64 <= n; i += 64) {
    const __m256i a = candidates32(p + i), b = candidates32(p + i + 32);
    const __m256i any = _mm256_or_si256(a, b);
    if (!_mm256_testz_si256(any, any)) {
      const std::uint64_t mask = static_cast<std::uint32_t>(_mm256_movemask_epi8(a)) |
                                 (static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm256_movemask_epi8(b))) << 32);
      return i + static_cast<std::size_t>(__builtin_ctzll(mask));
    }
  }
  return i;  // fewer than 64 bytes left: the SSE2 loop finishes
}

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}
#endif

std::size_t next_candidate(std::string_view s, std::size_t from) {
  const char* p = s.data();
  const std::size_t n = s.size();
  std::size_t i = from;
#if defined(X420_NORMALIZE_AVX2)
  if (n - i >= 64 && has_avx2()) {
    i = next_candidate_avx2(p, i, n);
    if (i + 64 <= n) return i;
  }
#endif
#if defined(__SSE2__)
  const __m128i controls = _mm_set1_epi8(0x20), pct = _mm_set1_epi8('%'), amp = _mm_set1_epi8('&');
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i m = _mm_or_si128(_mm_cmpgt_epi8(controls, v),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, pct), _mm_cmpeq_epi8(v, amp)));
    if (const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(m)))
      return i + static_cast<std::size_t>(__builtin_ctz(mask));
  }
#endif
  for (; i < n; ++i)
    if (is_candidate(static_cast<unsigned char>(p[i]))) return i;
  return n;
}

const icu::Normalizer2* nfkc() {
  static const icu::Normalizer2* instance = [] {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* n = icu::Normalizer2::getNFKCInstance(status);
    return U_SUCCESS(status) ? n : nullptr;
  }();
  return instance;
}

// The first byte >= 0x80 at or after `from`, or s.size().
std::size_t next_wide(std::string_view s, std::size_t i) {
#if defined(__SSE2__)
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    if (const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(v)))
      return i + static_cast<std::size_t>(__builtin_ctz(mask));
  }
#endif
  for (; i < s.size(); ++i)
    if (static_cast<unsigned char>(s[i]) >= 0x80) return i;
  return s.size();
}

// Calls f(begin, end) for each stretch of `s` NFKC may change: a maximal run of well-formed
// non-ASCII UTF-8 and the ASCII byte before it (a base letter composes with a following
// combining mark). Every ASCII byte starts a new normalisation segment (it composes with nothing
// before it), so normalising these stretches alone is normalising the whole; ASCII between them
// never goes to ICU, nor does an ill-formed byte, which passes through as it is.
template <class F>
void for_each_nfkc_stretch(std::string_view s, F&& f) {
  std::size_t i = next_wide(s, 0);
  while (i < s.size()) {
    const std::size_t begin = i > 0 && static_cast<unsigned char>(s[i - 1]) < 0x80 ? i - 1 : i;
    std::size_t n;
    while (i < s.size() && static_cast<unsigned char>(s[i]) >= 0x80 && (n = utf8_sequence_length(s, i))) i += n;
    if (i > begin + (begin < i && static_cast<unsigned char>(s[begin]) < 0x80 ? 1 : 0)) f(begin, i);
    if (i < s.size() && static_cast<unsigned char>(s[i]) >= 0x80) ++i;  // an ill-formed byte
    i = next_wide(s, i);
  }
}

// NFKC would change s[begin, end).
bool nfkc_changes(std::string_view s) {
  const icu::Normalizer2* n = nfkc();
  if (!n) return false;
  bool changes = false;
  for_each_nfkc_stretch(s, [&](std::size_t b, std::size_t e) {
    if (changes) return;
    UErrorCode status = U_ZERO_ERROR;
    const bool normalized = n->isNormalizedUTF8(icu::StringPiece(s.data() + b, static_cast<int32_t>(e - b)), status);
    changes = U_SUCCESS(status) && !normalized;
  });
  return changes;
}

// A code point after which NFKC needs a closer look: NFKC_Quick_Check No or Maybe, or a
// combining mark (canonical order). A text with none is NFKC already (UAX #15's quick check),
// and most non-ASCII text (accented letters, CJK, punctuation) has none.
bool nfkc_suspect(char32_t cp) {
  static const icu::UnicodeSet* set = frozen_set(u"[\\p{NFKC_QC=No}\\p{NFKC_QC=Maybe}\\P{ccc=0}]");
  return !set || set->contains(static_cast<UChar32>(cp));
}

// True when some step would change `s`.
bool needs_normalization(std::string_view s) {
  bool suspect = false;
  std::size_t line_begin = 0;
  std::size_t i = next_candidate(s, 0);
  while (i < s.size()) {
    const char c = s[i];
    std::array<char, 4> bytes{};
    std::size_t len = 0;
    char32_t cp = 0;
    std::size_t step = 1;
    if (c == '\x1B') return true;
    if (c == '%') {
      if (percent_at(s, i, bytes, len)) return true;
    } else if (c == '&') {
      if (reference_at(s, i, cp)) return true;
    } else if (c == '\n' || c == '\r') {
      const auto [from, to] = wrap_at(s, i, line_begin);
      if (from != to) return true;
      if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') step = 2;
      line_begin = i + step;
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      const std::size_t n = utf8_sequence_length(s, i);
      if (n) {
        step = n;
        cp = decode_utf8(s, i, n);
        if (cp == 0x9B || cp == 0x9D || is_invisible(cp)) return true;
        suspect = suspect || nfkc_suspect(cp);
      }
    }
    i = next_candidate(s, i + step);
  }
  return suspect && nfkc_changes(s);
}

// ---- The steps. Each maps its output to its input; compose() chains the maps. ----

struct Stage {
  std::string text;
  std::vector<Piece> pieces;  // original_* are offsets into the stage's input

  void copy(std::string_view in, std::size_t b, std::size_t e) {
    if (b == e) return;
    if (!pieces.empty() && pieces.back().copied && pieces.back().original_end == b) {
      pieces.back().original_end = e;
    } else {
      pieces.push_back({text.size(), b, e, true});
    }
    text.append(in.data() + b, e - b);
  }
  void replace(std::size_t b, std::size_t e, std::string_view out) {
    if (out.empty()) return;
    pieces.push_back({text.size(), b, e, false});
    text.append(out);
  }
};

std::string utf8_of(char32_t cp) {
  std::string s;
  append_utf8(s, cp);
  return s;
}

Stage decode_step(std::string_view in) {
  Stage out;
  out.text.reserve(in.size());
  // The next '%' and '&' at or after i, each found again only once passed: linear however the
  // two are mixed.
  const auto find = [&](char c, std::size_t from) {
    const void* hit = from < in.size() ? std::memchr(in.data() + from, c, in.size() - from) : nullptr;
    return hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - in.data()) : in.size();
  };
  std::size_t copied = 0, i = 0, pct = find('%', 0), amp = find('&', 0);
  while ((i = std::min(pct, amp)) < in.size()) {
    std::array<char, 4> bytes{};
    std::size_t len = 0, span = 0;
    char32_t cp = 0;
    std::string decoded;
    if (in[i] == '%') {
      if ((span = percent_at(in, i, bytes, len))) decoded.assign(bytes.data(), len);
    } else if ((span = reference_at(in, i, cp))) {
      decoded = utf8_of(cp);
    }
    if (span) {
      out.copy(in, copied, i);
      out.replace(i, i + span, decoded);
      copied = i + span;
    }
    const std::size_t next = span ? i + span : i + 1;
    if (pct < next) pct = find('%', next);
    if (amp < next) amp = find('&', next);
  }
  out.copy(in, copied, in.size());
  return out;
}

Stage remove_step(std::string_view in) {
  Stage out;
  out.text.reserve(in.size());
  std::size_t copied = 0, i = 0;
  while ((i = next_candidate(in, i)) < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x80 && c != 0x1B) {
      ++i;
      continue;
    }
    std::size_t drop = 0, n = 1;
    if (c == 0x1B) {
      drop = escape_length(in, i);
    } else if ((n = utf8_sequence_length(in, i))) {
      const char32_t cp = decode_utf8(in, i, n);
      if (cp == 0x9B || cp == 0x9D) drop = escape_length(in, i);
      else if (is_invisible(cp)) drop = n;
    } else {
      n = 1;  // ill-formed: passes through
    }
    if (!drop) {
      i += n;
      continue;
    }
    out.copy(in, copied, i);
    i += drop;
    copied = i;
  }
  out.copy(in, copied, in.size());
  return out;
}

Stage nfkc_step(std::string_view in) {
  Stage out;
  const icu::Normalizer2* n = nfkc();
  std::size_t copied = 0;
  for_each_nfkc_stretch(in, [&](std::size_t b, std::size_t e) {
    if (!n) return;
    const icu::StringPiece piece(in.data() + b, static_cast<int32_t>(e - b));
    UErrorCode status = U_ZERO_ERROR;
    if (n->isNormalizedUTF8(piece, status) || U_FAILURE(status)) return;
    std::string normalized;
    icu::StringByteSink<std::string> sink(&normalized);
    icu::Edits edits;
    n->normalizeUTF8(0, piece, sink, &edits, status);
    if (U_FAILURE(status)) return;  // leave the run as it was
    out.copy(in, copied, b);
    for (auto it = edits.getFineIterator(); it.next(status) && U_SUCCESS(status);) {
      const std::size_t src = b + static_cast<std::size_t>(it.sourceIndex());
      const std::size_t old_len = static_cast<std::size_t>(it.oldLength());
      if (!it.hasChange()) {
        out.copy(in, src, src + old_len);
      } else if (it.newLength() > 0) {
        out.replace(src, src + old_len,
                    std::string_view(normalized).substr(static_cast<std::size_t>(it.destinationIndex()),
                                                        static_cast<std::size_t>(it.newLength())));
      }  // a change to nothing removes those bytes
    }
    copied = e;
  });
  out.copy(in, copied, in.size());
  return out;
}

Stage join_step(std::string_view in) {
  Stage out;
  out.text.reserve(in.size());
  std::size_t copied = 0, line_begin = 0, i = 0;
  while ((i = next_candidate(in, i)) < in.size()) {
    if (in[i] != '\n' && in[i] != '\r') {
      ++i;
      continue;
    }
    const auto [from, to] = wrap_at(in, i, line_begin);
    const std::size_t step = (in[i] == '\r' && i + 1 < in.size() && in[i + 1] == '\n') ? 2 : 1;
    line_begin = i + step;
    if (from == to) {
      i += step;
      continue;
    }
    out.copy(in, copied, from);
    copied = i = to;
  }
  out.copy(in, copied, in.size());
  return out;
}

// The map of `outer` (to the stage's input) through `inner` (from that input to the original):
// the map from outer's text to the original.
std::vector<Piece> compose(const std::vector<Piece>& outer, const std::vector<Piece>& inner,
                           std::size_t inner_text_size) {
  std::vector<Piece> result;
  result.reserve(outer.size() + inner.size());
  const auto push = [&](Piece p) {
    if (!result.empty()) {
      Piece& last = result.back();
      if (last.copied && p.copied && last.original_end == p.original_begin &&
          last.text_begin + (last.original_end - last.original_begin) == p.text_begin) {
        last.original_end = p.original_end;
        return;
      }
    }
    result.push_back(p);
  };
  const auto inner_end = [&](std::size_t q) {
    return q + 1 < inner.size() ? inner[q + 1].text_begin : inner_text_size;
  };
  std::size_t q = 0;  // the inner piece that holds the current position; only moves forward
  const auto seek = [&](std::size_t pos) {
    while (q + 1 < inner.size() && inner[q + 1].text_begin <= pos) ++q;
  };
  for (const Piece& p : outer) {
    const std::size_t b = p.original_begin, e = p.original_end;
    seek(b);
    if (!p.copied) {
      const Piece& first = inner[q];
      const std::size_t ob = first.copied ? first.original_begin + (b - first.text_begin) : first.original_begin;
      seek(e - 1);
      const Piece& last = inner[q];
      const std::size_t oe = last.copied ? last.original_begin + (e - last.text_begin) : last.original_end;
      push({p.text_begin, ob, oe, false});
      continue;
    }
    for (std::size_t pos = b; pos < e;) {
      seek(pos);
      const Piece& in = inner[q];
      const std::size_t stop = std::min(e, inner_end(q));
      const std::size_t at = p.text_begin + (pos - b);
      if (in.copied) {
        const std::size_t ob = in.original_begin + (pos - in.text_begin);
        push({at, ob, ob + (stop - pos), true});
      } else {
        push({at, in.original_begin, in.original_end, false});
      }
      pos = stop;
    }
  }
  return result;
}

}  // namespace

std::size_t NormalizedText::piece_at(std::size_t text_offset) const noexcept {
  const auto it = std::upper_bound(pieces_.begin(), pieces_.end(), text_offset,
                                   [](std::size_t t, const Piece& p) { return t < p.text_begin; });
  return static_cast<std::size_t>(it - pieces_.begin()) - 1;
}

void NormalizedText::wipe() noexcept { crypto::wipe(text_); }

OriginalSpan NormalizedText::original_span(std::size_t begin, std::size_t end) const noexcept {
  const std::size_t size = text_.size();
  begin = std::min(begin, size);
  end = std::min(std::max(end, begin), size);
  if (pieces_.empty()) return {0, 0};
  const auto start_of = [&](std::size_t t) {
    const Piece& p = pieces_[piece_at(t)];
    return p.copied ? p.original_begin + (t - p.text_begin) : p.original_begin;
  };
  const auto end_of = [&](std::size_t t) {  // of view byte t
    const Piece& p = pieces_[piece_at(t)];
    return p.copied ? p.original_begin + (t - p.text_begin) + 1 : p.original_end;
  };
  if (begin == end) {
    const std::size_t at = begin < size ? start_of(begin) : end_of(size - 1);
    return {at, at};
  }
  return {start_of(begin), end_of(end - 1)};
}

NormalizedText normalize_always(std::string_view utf8) {
  Stage decoded = decode_step(utf8);
  Stage removed = remove_step(decoded.text);
  std::vector<Piece> map = compose(removed.pieces, decoded.pieces, decoded.text.size());
  Stage folded = nfkc_step(removed.text);
  map = compose(folded.pieces, map, removed.text.size());
  Stage joined = join_step(folded.text);
  map = compose(joined.pieces, map, folded.text.size());
  return NormalizedText(std::move(joined.text), std::move(map), utf8.size());
}

std::optional<NormalizedText> normalize_for_scan(std::string_view utf8) {
  if (!needs_normalization(utf8)) return std::nullopt;
  NormalizedText view = normalize_always(utf8);
  if (view.text() == utf8) return std::nullopt;
  return view;
}

}  // namespace x420::detect
