#include "lib/detect/shape_scanner.h"

#include <algorithm>
#include <array>
#include <cstdint>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace x420::detect {
namespace {

constexpr std::size_t kCardMinDigits = 12;  // luhn_valid's minimum
constexpr std::size_t kCardMaxDigits = 19;  // ISO/IEC 7812's longest card number
constexpr std::size_t kIbanMinChars = 15;   // iban_valid's minimum (Norway's length)
constexpr std::size_t kPhoneMinDigits = 8;  // a country code and the shortest national numbers
constexpr std::size_t kPhoneMaxGap = 2;     // separators in a row: "+1 (415) 555-2671"
constexpr std::size_t kMaxRun = 512;        // no value is longer: a run stops growing there
constexpr std::size_t kIpv4MaxRun = 15;     // "255.255.255.255"

bool upper(char c) { return c >= 'A' && c <= 'Z'; }
bool lower_letter(char c) { return c >= 'a' && c <= 'z'; }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool alnum(char c) { return upper(c) || lower_letter(c) || digit(c); }
bool email_local(char c) { return alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'; }
bool email_domain(char c) { return alnum(c) || c == '.' || c == '-'; }
bool phone_separator(char c) { return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')'; }

// The shapes made of body bytes with single separators between two of them.
struct RunSpec {
  std::array<bool, 256> body{};
  std::array<bool, 256> separator{};
  std::size_t min_body = 0;
  std::size_t max_body = SIZE_MAX;
};

RunSpec make_run_spec(Shape shape) {
  RunSpec s;
  for (int c = '0'; c <= '9'; ++c) s.body[c] = true;
  if (shape == Shape::card_number) {
    s.separator[' '] = s.separator['-'] = true;
    s.min_body = kCardMinDigits;
    s.max_body = kCardMaxDigits;
  } else {
    for (int c = 'A'; c <= 'Z'; ++c) s.body[c] = true;
    s.separator[' '] = true;
    s.min_body = kIbanMinChars;
  }
  return s;
}

const RunSpec& run_spec_of(Shape shape) {
  static const RunSpec card = make_run_spec(Shape::card_number), iban = make_run_spec(Shape::iban);
  return shape == Shape::card_number ? card : iban;
}

// An IBAN starts with its country code and check digits: two capitals, two digits.
bool holds_iban_start(std::string_view run) {
  for (std::size_t i = 0; i + 3 < run.size(); ++i)
    if (upper(run[i]) && upper(run[i + 1]) && digit(run[i + 2]) && digit(run[i + 3])) return true;
  return false;
}

// Digits joined to the run by a decimal point or comma: "0.4111111111111111" and
// "9.96877263348459e+0" are fractions, not card numbers (most of the runs in source code are).
bool part_of_decimal(std::string_view data, std::size_t start, std::size_t end) {
  const auto mark = [](char c) { return c == '.' || c == ','; };
  if (start >= 2 && mark(data[start - 1]) && digit(data[start - 2])) return true;
  return end + 1 < data.size() && mark(data[end]) && digit(data[end + 1]);
}

// Bit i of a mask: byte i of a 64-byte block.
struct BlockMasks {
  std::uint64_t digits = 0, capitals = 0, at_signs = 0, pluses = 0, dots = 0;
};

[[maybe_unused]] BlockMasks masks_scalar(const char* p) {
  BlockMasks out;
  for (int i = 0; i < 64; ++i) {
    const auto bit = std::uint64_t{1} << i;
    if (digit(p[i])) out.digits |= bit;
    if (upper(p[i])) out.capitals |= bit;
    if (p[i] == '@') out.at_signs |= bit;
    if (p[i] == '+') out.pluses |= bit;
    if (p[i] == '.') out.dots |= bit;
  }
  return out;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) std::uint64_t bits_of(__m256i m) {
  return static_cast<std::uint32_t>(_mm256_movemask_epi8(m));
}

// Unsigned range tests: v - low is at most high - low exactly for the bytes in [low, high].
__attribute__((target("avx2"))) BlockMasks masks_avx2(const char* p) {
  BlockMasks out;
  for (int half = 0; half < 2; ++half) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * half));
    const __m256i d = _mm256_sub_epi8(v, _mm256_set1_epi8('0'));
    const __m256i c = _mm256_sub_epi8(v, _mm256_set1_epi8('A'));
    const auto mask = bits_of;
    const int shift = 32 * half;
    out.digits |= mask(_mm256_cmpeq_epi8(_mm256_min_epu8(d, _mm256_set1_epi8(9)), d)) << shift;
    out.capitals |= mask(_mm256_cmpeq_epi8(_mm256_min_epu8(c, _mm256_set1_epi8(25)), c)) << shift;
    out.at_signs |= mask(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('@'))) << shift;
    out.pluses |= mask(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('+'))) << shift;
    out.dots |= mask(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('.'))) << shift;
  }
  return out;
}

BlockMasks masks_sse2(const char* p) {
  BlockMasks out;
  for (int part = 0; part < 4; ++part) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * part));
    const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    const __m128i c = _mm_sub_epi8(v, _mm_set1_epi8('A'));
    const auto mask = [](__m128i m) { return static_cast<std::uint64_t>(static_cast<std::uint16_t>(_mm_movemask_epi8(m))); };
    const int shift = 16 * part;
    out.digits |= mask(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d)) << shift;
    out.capitals |= mask(_mm_cmpeq_epi8(_mm_min_epu8(c, _mm_set1_epi8(25)), c)) << shift;
    out.at_signs |= mask(_mm_cmpeq_epi8(v, _mm_set1_epi8('@'))) << shift;
    out.pluses |= mask(_mm_cmpeq_epi8(v, _mm_set1_epi8('+'))) << shift;
    out.dots |= mask(_mm_cmpeq_epi8(v, _mm_set1_epi8('.'))) << shift;
  }
  return out;
}
#endif

using MaskFunction = BlockMasks (*)(const char*);

MaskFunction pick_masks() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx2") ? masks_avx2 : masks_sse2;
#else
  return masks_scalar;
#endif
}

// One shape's search: given the candidate bytes the masks mark, finds and reports the runs
// around them, and remembers where its reported runs end.
class ShapeSearch {
 public:
  ShapeSearch(std::string_view data, Shape shape, const ShapeRunCallback& on_run)
      : data_(data), shape_(shape), spec_(run_spec_of(shape)), on_run_(on_run) {}

  // Every run reaching one of the bytes of block k that `bits` marks.
  void examine(std::size_t k, std::uint64_t bits) {
    for (; bits; bits &= bits - 1) {
      const std::size_t at = k * 64 + static_cast<std::size_t>(__builtin_ctzll(bits));
      if (at >= done_ && at < data_.size()) done_ = std::max(done_, around(at));
    }
  }

 private:
  // Reports the runs around `anchor` and returns where the examined bytes end.
  std::size_t around(std::size_t anchor) {
    switch (shape_) {
      case Shape::email: return email_around(anchor);
      case Shape::phone: return phone_from(anchor);
      case Shape::ipv4: return dotted_around(anchor);
      default: return body_runs_around(anchor);
    }
  }

  unsigned char byte(std::size_t at) const { return static_cast<unsigned char>(data_[at]); }

  // Splits the span of body and separator bytes around `anchor` into runs (body bytes with
  // single separators between them) and reports those holding enough body bytes.
  std::size_t body_runs_around(std::size_t anchor) {
    const auto in_span = [&](std::size_t at) { return spec_.body[byte(at)] || spec_.separator[byte(at)]; };
    const std::size_t n = data_.size();
    std::size_t b = anchor, e = anchor + 1;
    while (b > done_ && in_span(b - 1)) --b;
    while (e < n && in_span(e)) ++e;
    std::size_t i = b;
    while (i < e) {
      while (i < e && !spec_.body[byte(i)]) ++i;
      const std::size_t start = i;
      std::size_t body = 0, last = i;
      while (i < e) {
        if (spec_.body[byte(i)]) {
          ++body;
          last = ++i;
        } else if (i + 1 < e && spec_.body[byte(i + 1)]) {
          ++i;  // one separator between two body bytes
        } else {
          break;
        }
      }
      const bool holds = body >= spec_.min_body && body <= spec_.max_body &&
                         (shape_ == Shape::iban ? holds_iban_start(data_.substr(start, last - start))
                                                : !part_of_decimal(data_, start, last));
      if (holds) on_run_(shape_, start, last);
      i = std::max(i, last);
    }
    return e;
  }

  // An address around the '@' at `at`: its local part before, a domain holding a dot after.
  std::size_t email_around(std::size_t at) {
    const std::size_t n = data_.size();
    std::size_t b = at;
    while (b > done_ && at - b < kMaxRun && email_local(data_[b - 1])) --b;
    std::size_t e = at + 1;
    while (e < n && e - at < kMaxRun && email_domain(data_[e])) ++e;
    while (e > at + 1 && (data_[e - 1] == '.' || data_[e - 1] == '-')) --e;  // "mail me at a@b.com."
    const std::string_view domain = data_.substr(at + 1, e - at - 1);
    if (b < at && domain.size() >= 3 && domain.find('.') != std::string_view::npos && alnum(domain.front()))
      on_run_(shape_, b, e);
    return at + 1;
  }

  // A number after the '+' at `at`: digits with at most two separators between two of them.
  std::size_t phone_from(std::size_t at) {
    const std::size_t n = data_.size();
    std::size_t i = at + 1, digits = 0, gap = 0, last = at + 1;
    while (i < n && i - at < kMaxRun) {
      if (digit(data_[i])) {
        ++digits;
        gap = 0;
        last = i + 1;
      } else if (phone_separator(data_[i]) && gap < kPhoneMaxGap) {
        ++gap;
      } else {
        break;
      }
      ++i;
    }
    if (digits >= kPhoneMinDigits) on_run_(shape_, at, last);
    return last;
  }

  // The dotted numbers around the '.' at `at` (a digit either side): an address when they are
  // four numbers of 1 to 3 digits and no digit or dotted digit joins them on either side
  // ("1.3.6.1.4.1" is an OID, "2.5.4.10" inside "v2.5.4.10.1" is not alone).
  std::size_t dotted_around(std::size_t at) {
    const std::size_t n = data_.size();
    const auto dotted = [&](std::size_t i) { return digit(data_[i]) || data_[i] == '.'; };
    std::size_t b = at, e = at + 1;
    while (b > done_ && at - b < kMaxRun && dotted(b - 1)) --b;
    while (e < n && e - at < kMaxRun && dotted(e)) ++e;
    std::size_t end = e;
    while (end > at && data_[end - 1] == '.') --end;  // "reach it at 81.2.69.142."
    std::size_t begin = b;
    while (begin < at && data_[begin] == '.') ++begin;
    if (end - begin <= kIpv4MaxRun) {
      std::size_t groups = 1, digits = 0;
      bool ok = true;
      for (std::size_t i = begin; i < end && ok; ++i) {
        if (data_[i] == '.') {
          ok = digits >= 1 && digits <= 3;
          ++groups;
          digits = 0;
        } else {
          ++digits;
        }
      }
      if (ok && groups == 4 && digits >= 1 && digits <= 3 && begin == b) on_run_(shape_, begin, end);
    }
    return e;
  }

  std::string_view data_;
  Shape shape_;
  const RunSpec& spec_;  // for the card's and the IBAN's runs
  const ShapeRunCallback& on_run_;
  std::size_t done_ = 0;  // runs ending before this were reported
};

}  // namespace

Shape shape_of(const Rule& rule) {
  if (rule.shape != Shape::none) return rule.shape;
  if (!rule.keywords.empty()) return Shape::none;
  if (rule.validator == Validator::luhn) return Shape::card_number;
  if (rule.validator == Validator::iban_mod97) return Shape::iban;
  return Shape::none;
}

void find_shape_runs(std::string_view data, std::span<const Shape> shapes, const ShapeRunCallback& on_run) {
  static const MaskFunction masks_of = pick_masks();
  const auto wants = [&](Shape s) { return std::find(shapes.begin(), shapes.end(), s) != shapes.end(); };
  const bool cards = wants(Shape::card_number), ibans = wants(Shape::iban), emails = wants(Shape::email),
             phones = wants(Shape::phone), ipv4s = wants(Shape::ipv4);
  if (!cards && !ibans && !emails && !phones && !ipv4s) return;
  ShapeSearch card_search(data, Shape::card_number, on_run), iban_search(data, Shape::iban, on_run),
      email_search(data, Shape::email, on_run), phone_search(data, Shape::phone, on_run),
      ipv4_search(data, Shape::ipv4, on_run);

  const std::size_t n = data.size(), blocks = (n + 63) / 64;
  char tail[64];
  const auto block = [&](std::size_t k) {
    if (k >= blocks) return BlockMasks{};
    if (k * 64 + 64 <= n) return masks_of(data.data() + k * 64);
    std::fill(std::begin(tail), std::end(tail), '\0');  // the last, partial block: zero-padded
    std::copy(data.begin() + static_cast<std::ptrdiff_t>(k * 64), data.end(), tail);
    return masks_of(tail);
  };

  __extension__ using Wide = unsigned __int128;  // a block and the next, as one mask
  BlockMasks current = block(0);
  std::uint64_t previous_digits = 0;
  for (std::size_t k = 0; k < blocks; ++k) {
    const BlockMasks next = block(k + 1);
    const std::uint64_t digit_after = (current.digits >> 1) | (next.digits << 63);
    if (cards) {
      // A byte of a run is a digit or stands between two digits, and a run holds twelve
      // digits: it starts a stretch of twelve such bytes, found by and-ing shifted copies
      // (2, 4, 8, then 12 in a row).
      const Wide d = static_cast<Wide>(current.digits) | (static_cast<Wide>(next.digits) << 64);
      const Wide before = (d << 1) | (previous_digits >> 63);
      Wide x = d | (before & (d >> 1));
      x &= x >> 1;
      x &= x >> 2;
      x &= x >> 4;
      x &= x >> 4;
      card_search.examine(k, static_cast<std::uint64_t>(x));
    }
    if (ibans) {
      // An IBAN begins with two capitals and two digits: runs are looked for only around those.
      const std::uint64_t c1 = (current.capitals >> 1) | (next.capitals << 63);
      const std::uint64_t d2 = (current.digits >> 2) | (next.digits << 62);
      const std::uint64_t d3 = (current.digits >> 3) | (next.digits << 61);
      iban_search.examine(k, current.capitals & c1 & d2 & d3);
    }
    if (emails) email_search.examine(k, current.at_signs);
    if (phones) phone_search.examine(k, current.pluses & digit_after);
    if (ipv4s) {
      const std::uint64_t digit_before = (current.digits << 1) | (previous_digits >> 63);
      ipv4_search.examine(k, current.dots & digit_before & digit_after);
    }
    previous_digits = current.digits;
    current = next;
  }
}

}  // namespace x420::detect
