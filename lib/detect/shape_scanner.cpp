#include "lib/detect/shape_scanner.h"

#include <algorithm>
#include <array>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace x420::detect {
namespace {

constexpr std::size_t kCardMinDigits = 12;  // luhn_valid's minimum
constexpr std::size_t kIbanMinChars = 15;   // iban_valid's minimum (Norway's length)

struct ShapeSpec {
  std::array<bool, 256> body{};       // bytes a value is made of
  std::array<bool, 256> separator{};  // bytes that may stand, one at a time, between two of them
  std::size_t min_body = 0;           // body bytes a value holds at least
};

ShapeSpec make_spec(Shape shape) {
  ShapeSpec s;
  for (int c = '0'; c <= '9'; ++c) s.body[c] = true;
  if (shape == Shape::card_number) {
    s.separator[' '] = s.separator['-'] = true;
    s.min_body = kCardMinDigits;
  } else {
    for (int c = 'A'; c <= 'Z'; ++c) s.body[c] = true;
    s.separator[' '] = true;
    s.min_body = kIbanMinChars;
  }
  return s;
}

const ShapeSpec& spec_of(Shape shape) {
  static const ShapeSpec card = make_spec(Shape::card_number), iban = make_spec(Shape::iban);
  return shape == Shape::card_number ? card : iban;
}

bool upper(char c) { return c >= 'A' && c <= 'Z'; }
bool digit(char c) { return c >= '0' && c <= '9'; }

// An IBAN starts with its country code and check digits: two capitals, two digits.
bool holds_iban_start(std::string_view run) {
  for (std::size_t i = 0; i + 3 < run.size(); ++i)
    if (upper(run[i]) && upper(run[i + 1]) && digit(run[i + 2]) && digit(run[i + 3])) return true;
  return false;
}

}  // namespace

Shape shape_of(const Rule& rule) {
  if (!rule.keywords.empty()) return Shape::none;
  if (rule.validator == Validator::luhn) return Shape::card_number;
  if (rule.validator == Validator::iban_mod97) return Shape::iban;
  return Shape::none;
}

namespace {

// Bit i of a mask: byte i of a 64-byte block.
struct BlockMasks {
  std::uint64_t digits = 0, capitals = 0;
};

[[maybe_unused]] BlockMasks masks_scalar(const char* p) {
  BlockMasks out;
  for (int i = 0; i < 64; ++i) {
    out.digits |= static_cast<std::uint64_t>(digit(p[i])) << i;
    out.capitals |= static_cast<std::uint64_t>(upper(p[i])) << i;
  }
  return out;
}

#if defined(__x86_64__)
// Unsigned range tests: v - low is at most high - low exactly for the bytes in [low, high].
__attribute__((target("avx2"))) BlockMasks masks_avx2(const char* p) {
  BlockMasks out;
  for (int half = 0; half < 2; ++half) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * half));
    const __m256i d = _mm256_sub_epi8(v, _mm256_set1_epi8('0'));
    const __m256i c = _mm256_sub_epi8(v, _mm256_set1_epi8('A'));
    const auto dm = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(d, _mm256_set1_epi8(9)), d)));
    const auto cm = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(c, _mm256_set1_epi8(25)), c)));
    out.digits |= static_cast<std::uint64_t>(dm) << (32 * half);
    out.capitals |= static_cast<std::uint64_t>(cm) << (32 * half);
  }
  return out;
}

BlockMasks masks_sse2(const char* p) {
  BlockMasks out;
  for (int part = 0; part < 4; ++part) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * part));
    const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    const __m128i c = _mm_sub_epi8(v, _mm_set1_epi8('A'));
    const auto dm = static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d)));
    const auto cm = static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(c, _mm_set1_epi8(25)), c)));
    out.digits |= static_cast<std::uint64_t>(dm) << (16 * part);
    out.capitals |= static_cast<std::uint64_t>(cm) << (16 * part);
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

// One shape's search: where its reported runs end, and how to find the runs around a byte.
class ShapeSearch {
 public:
  ShapeSearch(std::string_view data, Shape shape, const ShapeRunCallback& on_run)
      : data_(data), shape_(shape), spec_(spec_of(shape)), on_run_(on_run) {}

  // Every run reaching one of the bytes of block k that `bits` marks.
  void examine(std::size_t k, std::uint64_t bits) {
    for (; bits; bits &= bits - 1) {
      const std::size_t at = k * 64 + static_cast<std::size_t>(__builtin_ctzll(bits));
      if (at >= done_ && at < data_.size()) done_ = std::max(done_, runs_around(at));
    }
  }

 private:
  unsigned char byte(std::size_t at) const { return static_cast<unsigned char>(data_[at]); }
  bool in_span(std::size_t at) const { return spec_.body[byte(at)] || spec_.separator[byte(at)]; }

  // Splits the span of body and separator bytes around `anchor` into runs (body bytes with
  // single separators between them), reports those holding enough body bytes, and returns
  // the span's end.
  std::size_t runs_around(std::size_t anchor) {
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
      if (body >= spec_.min_body &&
          (shape_ != Shape::iban || holds_iban_start(data_.substr(start, last - start))))
        on_run_(shape_, start, last);
      i = std::max(i, last);
    }
    return e;
  }

  std::string_view data_;
  Shape shape_;
  const ShapeSpec& spec_;
  const ShapeRunCallback& on_run_;
  std::size_t done_ = 0;  // runs ending before this were reported
};

}  // namespace

void find_shape_runs(std::string_view data, std::span<const Shape> shapes, const ShapeRunCallback& on_run) {
  static const MaskFunction masks_of = pick_masks();
  const bool cards = std::find(shapes.begin(), shapes.end(), Shape::card_number) != shapes.end();
  const bool ibans = std::find(shapes.begin(), shapes.end(), Shape::iban) != shapes.end();
  if (!cards && !ibans) return;
  ShapeSearch card_search(data, Shape::card_number, on_run), iban_search(data, Shape::iban, on_run);

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
    previous_digits = current.digits;
    current = next;
  }
}

}  // namespace x420::detect
