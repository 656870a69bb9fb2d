// The cost of detect::normalize_for_scan, which the proxy calls on every user-text string of
// every request. Its common case (printable ASCII with no '%', '&', ESC or line break) must cost
// about what one pass over the bytes costs, so the baselines are memchr for a byte that is not
// there and a strlen-like loop over the same bytes, timed in the same run and interleaved. Also
// timed, for scale: prose with line breaks, non-ASCII prose (NFKC check), and text that does need
// a view (the slow path). A benchmark, never part of pass/fail.
//
// Usage: normalize_bench [--runs N] [--min-ms MS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "lib/detect/normalized_text.h"

namespace {

using namespace x420;
using Clock = std::chrono::steady_clock;

template <class T>
inline void keep(const T& value) {
  asm volatile("" : : "g"(&value) : "memory");
}

// Printable ASCII prose: words of letters and digits, spaces and punctuation, no '%' or '&'.
std::string clean_ascii(std::size_t size, std::mt19937& rng) {
  static const char kLetters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  static const char kPunct[] = ".,;:!?()-'\"/";
  std::string s;
  while (s.size() < size) {
    const std::size_t word = 1 + rng() % 10;
    for (std::size_t i = 0; i < word; ++i) s += kLetters[rng() % (sizeof kLetters - 1)];
    if (rng() % 8 == 0) s += kPunct[rng() % (sizeof kPunct - 1)];
    s += ' ';
  }
  s.resize(size);
  return s;
}

// The same with a line break every 60-80 bytes after a sentence's end, as a prompt has.
std::string with_lines(std::string s, std::mt19937& rng) {
  for (std::size_t at = 60 + rng() % 20; at + 1 < s.size(); at += 60 + rng() % 20) {
    s[at - 1] = '.';
    s[at] = '\n';
  }
  return s;
}

// German-like prose: ASCII with an umlaut or sharp s every few words (already NFC and NFKC).
std::string non_ascii(std::size_t size, std::mt19937& rng) {
  static const std::string_view kWide[] = {"\u00e4", "\u00f6", "\u00fc", "\u00df", "\u00e9", "\u2014"};
  std::string s = clean_ascii(size, rng);
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ' ' && rng() % 3 == 0) out += kWide[rng() % std::size(kWide)];
    out += s[i];
  }
  out.resize(size);
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
  if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
  return out;
}

// Clean text with a ZWSP, a colour code and a %41 every 200 bytes or so: the slow path.
std::string needs_view(std::size_t size, std::mt19937& rng) {
  static const std::string_view kTricks[] = {"\u200B", "\x1B[31m", "%41", "&#x41;", "\uFF21"};
  std::string s = clean_ascii(size, rng);
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i % 200 == 199) out += kTricks[rng() % std::size(kTricks)];
    out += s[i];
  }
  return out;
}

std::size_t memchr_pass(std::string_view s) {
  const void* p = std::memchr(s.data(), '\x01', s.size());
  return p ? 1 : 0;
}

// What strlen does, over a known length: look at every byte for one that is not there.
std::size_t strlen_like(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) n += c == '\0';
  return n;
}

std::size_t normalize(std::string_view s) {
  const auto v = detect::normalize_for_scan(s);
  return v ? v->text().size() : 0;
}

struct Case {
  const char* name;
  std::function<std::size_t(std::string_view)> fn;
  std::vector<double> ns_per_call;
};

// Times calls of `fn` over every input until min_ms has passed; ns per call.
double time_case(const std::function<std::size_t(std::string_view)>& fn, const std::vector<std::string>& inputs,
                 double min_ms) {
  std::size_t calls = 0;
  std::size_t sink = 0;
  const auto start = Clock::now();
  double elapsed_ms = 0;
  do {
    for (const auto& in : inputs) sink += fn(in);
    calls += inputs.size();
    elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  } while (elapsed_ms < min_ms);
  keep(sink);
  return elapsed_ms * 1e6 / static_cast<double>(calls);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t runs = 7;
  double min_ms = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--runs") == 0) runs = std::strtoul(argv[i + 1], nullptr, 10);
    else if (std::strcmp(argv[i], "--min-ms") == 0) min_ms = std::strtod(argv[i + 1], nullptr);
  }
  if (runs == 0) runs = 1;
  std::mt19937 rng(420);

  std::printf("%-34s %9s %10s %9s %9s\n", "input / case", "bytes", "ns/call", "GB/s", "x memchr");
  double clean_ratio_20k = 0;
  const std::size_t sizes[] = {64, 1024, 20 * 1024, 1024 * 1024};
  for (const std::size_t size : sizes) {
    // Several different strings of each size, so the branch predictor cannot learn one.
    std::vector<std::string> inputs;
    const std::size_t count = std::max<std::size_t>(4, (4 << 20) / size / 4);
    for (std::size_t i = 0; i < std::min<std::size_t>(count, 64); ++i) inputs.push_back(clean_ascii(size, rng));
    for (const auto& in : inputs)
      if (detect::normalize_for_scan(in)) std::printf("warning: a clean input needs a view\n");

    std::vector<Case> cases = {{"memchr (baseline)", memchr_pass, {}},
                               {"strlen-like loop (baseline)", strlen_like, {}},
                               {"normalize_for_scan, clean ASCII", normalize, {}}};
    for (std::size_t r = 0; r < runs; ++r)
      for (auto& c : cases) c.ns_per_call.push_back(time_case(c.fn, inputs, min_ms));
    const double base = median(cases[0].ns_per_call);
    for (auto& c : cases) {
      const double ns = median(c.ns_per_call);
      std::printf("%-34s %9zu %10.1f %9.2f %9.2f\n", c.name, size, ns, static_cast<double>(size) / ns, ns / base);
    }
    if (size == 20 * 1024) clean_ratio_20k = median(cases[2].ns_per_call) / base;
    std::printf("\n");
  }

  // The other kinds of text, at the proxy's typical prompt size.
  const std::size_t size = 20 * 1024;
  struct Other {
    const char* name;
    std::function<std::string()> make;
  };
  const Other others[] = {
      {"prose with line breaks", [&] { return with_lines(clean_ascii(size, rng), rng); }},
      {"non-ASCII prose (NFKC check)", [&] { return non_ascii(size, rng); }},
      {"needs a view (slow path)", [&] { return needs_view(size, rng); }},
  };
  std::vector<std::string> clean;
  for (int i = 0; i < 16; ++i) clean.push_back(clean_ascii(size, rng));
  for (const Other& o : others) {
    std::vector<std::string> inputs;
    for (int i = 0; i < 16; ++i) inputs.push_back(o.make());
    std::vector<double> base, ns;
    for (std::size_t r = 0; r < runs; ++r) {
      base.push_back(time_case(memchr_pass, inputs, min_ms));
      ns.push_back(time_case(normalize, inputs, min_ms));
    }
    const double b = median(base), n = median(ns);
    std::printf("%-34s %9zu %10.1f %9.2f %9.2f  (view: %s)\n", o.name, inputs[0].size(), n,
                static_cast<double>(inputs[0].size()) / n, n / b,
                detect::normalize_for_scan(inputs[0]) ? "yes" : "no");
  }
  std::printf("\n(median of %zu runs of >= %.0f ms each, cases interleaved; 'x memchr' = time / memchr's over the "
              "same inputs)\n",
              runs, min_ms);
  std::printf("clean_20kb_vs_memchr=%.2f\n", clean_ratio_20k);
  return 0;
}
