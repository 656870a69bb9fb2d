// One-core detection throughput and the proxy's redaction latency, against the targets of issue
// 12 (≥ 1 GB/s per core on clean text, one 20 KB prompt scanned and pseudonymised in ≤ 25 µs). A benchmark,
// never part of pass/fail: it prints figures and baselines taken in the same run (memchr over the
// same bytes, a copy of the same prompt), so results from a noisy machine can be read as ratios.
//
// Usage: detect_bench [--root DIR] [--corpus-mb N] [--secrets N] [--runs N] [--calls N]
//        detect_bench --profile-clean SECONDS   only Engine::scan of the clean text, for perf
//        detect_bench --profile-prompt SECONDS  only Engine::scan of the 20 KB prompt, for perf
// Helpers for bench/scan_bench.sh (not benchmarks):
//        detect_bench --print-patterns    "rule id <TAB> regex in ripgrep's syntax", one a line
//        detect_bench --sprinkle DIR N    N fake secrets into text files under DIR

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "bench_inputs.h"
#include "lib/crypto/random.h"
#include "lib/crypto/secret_bytes.h"
#include "lib/detect/engine.h"
#include "lib/detect/redactor.h"
#include "lib/detect/rule.h"
#include "fake_secrets.h"

namespace {

using namespace x420;
using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

constexpr std::uint64_t kSeed = 420;
constexpr double kMinRunSeconds = 0.25;  // each timed run of a throughput case lasts at least this
constexpr std::size_t kPromptBytes = 20 * 1024;
constexpr std::size_t kPromptSecrets = 5;
constexpr std::size_t kLatencyBlock = 1000;  // latency cases alternate in blocks of this many calls

struct Options {
  std::string root = "/usr/include";
  std::size_t corpus_mb = 64;
  std::size_t secrets = 300;
  std::size_t runs = 5;
  std::size_t calls = 20000;
  std::size_t profile_seconds = 0;  // > 0: scan the clean text this long and nothing else
  std::size_t profile_prompt_seconds = 0;  // > 0: scan the 20 KB prompt with secrets this long
};

// Keeps a computed value alive so the optimiser cannot drop the work that produced it.
template <class T>
inline void keep(const T& value) {
  asm volatile("" : : "g"(&value) : "memory");
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double quantile(std::vector<double> v, double q) {  // nearest rank
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

// A pass over `bytes` bytes; its figure is MB/s (10^6 bytes per second), one per run.
struct ThroughputCase {
  std::string name, what;
  std::size_t bytes;
  std::function<void()> pass;
  std::vector<double> mb_per_s;
};

// Each case is timed over enough passes to last kMinRunSeconds; runs interleave the cases, so
// drift in machine load hits them all alike.
void measure(std::vector<ThroughputCase>& cases, std::size_t runs) {
  std::vector<std::size_t> passes;
  for (auto& c : cases) {
    const auto start = Clock::now();
    c.pass();  // warm-up, and a measure of how many passes fill a run
    const double once = Seconds(Clock::now() - start).count();
    passes.push_back(std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(kMinRunSeconds / once))));
  }
  for (std::size_t run = 0; run < runs; ++run)
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const auto start = Clock::now();
      for (std::size_t p = 0; p < passes[i]; ++p) cases[i].pass();
      const double s = Seconds(Clock::now() - start).count();
      cases[i].mb_per_s.push_back(static_cast<double>(cases[i].bytes * passes[i]) / 1e6 / s);
    }
}

// One call per sample; figures are µs per call.
struct LatencyCase {
  std::string name, what;
  std::function<void()> call;
  std::vector<double> us;
};

void measure(std::vector<LatencyCase>& cases, std::size_t calls) {
  for (auto& c : cases)
    for (std::size_t i = 0; i < kLatencyBlock; ++i) c.call();  // warm-up
  for (std::size_t done = 0; done < calls; done += kLatencyBlock)
    for (auto& c : cases)
      for (std::size_t i = 0; i < kLatencyBlock; ++i) {
        const auto start = Clock::now();
        c.call();
        c.us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
      }
}

// How the sprinkled secrets came out of a scan.
struct SpanCheck {
  std::size_t found = 0, exact = 0, other = 0;
  std::map<std::string, std::pair<std::size_t, std::size_t>> by_kind;  // kind -> sprinkled, found
  std::vector<std::string> problems;
};

SpanCheck check_spans(const detect::Engine& engine, const std::vector<bench::Sprinkled>& spans,
                      const std::vector<detect::Finding>& findings) {
  SpanCheck c;
  std::vector<bool> matched(findings.size());
  for (const auto& s : spans) {
    auto& [sprinkled, found] = c.by_kind[s.kind];
    ++sprinkled;
    // Findings are sorted and do not overlap: the first ending after the span's start.
    auto it = std::lower_bound(findings.begin(), findings.end(), s.start,
                               [](const detect::Finding& f, std::uint64_t at) { return f.end <= at; });
    bool any = false, exact = false;
    std::string got;
    for (; it != findings.end() && it->start < s.end; ++it) {
      matched[it - findings.begin()] = true;
      any = true;
      exact |= it->start == s.start && it->end == s.end;
      got += " " + engine.rule(it->rule).id + " [" + std::to_string(it->start) + "," +
             std::to_string(it->end) + ")";
    }
    if (any) ++found, ++c.found;
    if (exact) ++c.exact;
    if (!exact && c.problems.size() < 10)
      c.problems.push_back(s.kind + " at [" + std::to_string(s.start) + "," + std::to_string(s.end) +
                           "): " + (any ? "got" + got : "no finding"));
  }
  c.other = static_cast<std::size_t>(std::count(matched.begin(), matched.end(), false));
  return c;
}

std::string rule_tally(const detect::Engine& engine, const std::vector<detect::Finding>& findings) {
  std::map<std::string, std::size_t> by_rule;
  for (const auto& f : findings) ++by_rule[engine.rule(f.rule).id];
  std::vector<std::pair<std::size_t, std::string>> sorted;
  for (const auto& [id, n] : by_rule) sorted.emplace_back(n, id);
  std::sort(sorted.rbegin(), sorted.rend());
  std::string out;
  for (std::size_t i = 0; i < sorted.size() && i < 8; ++i)
    out += (i ? ", " : "") + sorted[i].second + " " + std::to_string(sorted[i].first);
  return out.empty() ? "none" : out;
}

// An engine from the built-in rules that `keep_rule` keeps, as the CLI builds it (no cache).
std::unique_ptr<detect::Engine> build_engine(bool (*keep_rule)(const detect::Rule&), double& ms) {
  const auto& file = detect::builtin_rule_file();
  detect::EngineConfig config;
  std::copy_if(file.rules.begin(), file.rules.end(), std::back_inserter(config.rules), keep_rule);
  config.allowlist = file.allowlist;
  const auto start = Clock::now();
  auto built = detect::Engine::build(std::move(config));
  ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  if (!built) throw std::runtime_error("the built-in rules do not build: " + built.error().message);
  return std::move(built.value());
}

// Card numbers and IBANs: their patterns start with a digit or a country code, no literal long
// enough for the prefilter to anchor on. The diagnostic row leaves them out to show their share.
bool digits_only_rule(const detect::Rule& r) { return r.id.starts_with("card.") || r.id == "financial.iban"; }

int run(const Options& o) {
  double build_ms = 0, unused_ms = 0;
  const auto built = build_engine([](const detect::Rule&) { return true; }, build_ms);
  const detect::Engine& engine = *built;
  auto scratch = engine.make_scratch();

  if (o.profile_prompt_seconds) {
    bench::FakeSecretMaker maker(kSeed + 1);
    const auto prompt = bench::chat_prompt(kPromptBytes, kPromptSecrets, maker);
    std::size_t calls = 0;
    const auto start = Clock::now();
    for (; Seconds(Clock::now() - start).count() < static_cast<double>(o.profile_prompt_seconds); ++calls)
      keep(engine.scan(prompt.body, *scratch));
    const double s = Seconds(Clock::now() - start).count();
    std::printf("profile: %zu calls of Engine::scan on the %zu-byte prompt with %zu secrets, %.2f us each\n",
                calls, prompt.body.size(), kPromptSecrets, s * 1e6 / static_cast<double>(calls));
    return 0;
  }

  const auto corpus = bench::read_source_corpus(o.root, o.corpus_mb << 20);
  if (corpus.text.empty()) {
    std::cerr << "detect_bench: no text files under " << o.root << " (--root DIR)\n";
    return 1;
  }
  const std::string& clean = corpus.text;
  if (o.profile_seconds) {
    std::size_t passes = 0;
    const auto start = Clock::now();
    for (; Seconds(Clock::now() - start).count() < static_cast<double>(o.profile_seconds); ++passes)
      keep(engine.scan(clean, *scratch));
    const double s = Seconds(Clock::now() - start).count();
    std::printf("profile: %zu passes of Engine::scan over %.1f MB of clean text, %.1f MB/s\n", passes,
                clean.size() / 1e6, static_cast<double>(clean.size() * passes) / 1e6 / s);
    return 0;
  }
  const auto lean = build_engine([](const detect::Rule& r) { return !digits_only_rule(r); }, unused_ms);
  auto lean_scratch = lean->make_scratch();
  std::string dirty = clean;
  bench::FakeSecretMaker maker(kSeed);
  const auto sprinkled = bench::sprinkle(dirty, o.secrets, maker);

  std::vector<detect::Finding> clean_findings, dirty_findings;
  std::size_t sink = 0;
  std::vector<ThroughputCase> scans = {
      {"Engine::scan, clean text", "vectorscan prefilter + PCRE2 confirm, all rules", clean.size(),
       [&] { clean_findings = engine.scan(clean, *scratch); }, {}},
      {"Engine::scan, + secrets", "the same with the secrets sprinkled in", dirty.size(),
       [&] { dirty_findings = engine.scan(dirty, *scratch); }, {}},
      {"  clean, w/o card.* and iban", "diagnostic: " + std::to_string(lean->rule_count()) +
       " rules: card.* and financial.iban left out", clean.size(), [&] { keep(lean->scan(clean, *lean_scratch)); }, {}},
      {"baseline: memchr('\\x01')", "one byte never present: memory bandwidth", clean.size(),
       [&] {
         for (const char* p = clean.data(); (p = static_cast<const char*>(
                                                 std::memchr(p, '\x01', clean.data() + clean.size() - p)));)
           ++p, ++sink;
       }, {}},
      {"baseline: count('\\n')", "std::count of newlines over the same bytes", clean.size(),
       [&] { sink += static_cast<std::size_t>(std::count(clean.begin(), clean.end(), '\n')); }, {}},
  };
  measure(scans, o.runs);
  keep(sink);

  // The proxy's hot case: one request body, scanned and pseudonymised per call.
  bench::FakeSecretMaker prompt_maker(kSeed + 1);
  const auto prompt = bench::chat_prompt(kPromptBytes, kPromptSecrets, prompt_maker);
  const auto clean_prompt = bench::chat_prompt(kPromptBytes, 0, prompt_maker);
  const detect::Pseudonymizer pseudonymizer(crypto::random_bytes(32));
  auto scan_and_redact = [&](const std::string& body) {
    const auto findings = engine.scan(body, *scratch);
    detect::PlaceholderMap map;
    return detect::redact(body, findings, engine, detect::RedactMode::pseudonymize, &pseudonymizer, &map);
  };
  std::vector<LatencyCase> calls = {
      {"scan + redact, 5 secrets", "Engine::scan, redact (pseudonymize) into a PlaceholderMap",
       [&] { keep(scan_and_redact(prompt.body)); }, {}},
      {"scan + redact, clean", "the same on a prompt with no secret", [&] { keep(scan_and_redact(clean_prompt.body)); }, {}},
      {"Engine::scan only, 5 secrets", "the scan alone", [&] { keep(engine.scan(prompt.body, *scratch)); }, {}},
      {"baseline: copy + count('\\n')", "std::string copy of the body and a newline count",
       [&] {
         std::string copy = prompt.body;
         keep(copy);
         sink += static_cast<std::size_t>(std::count(copy.begin(), copy.end(), '\n'));
       }, {}},
  };
  measure(calls, o.calls);

  // Correctness of what was timed: every sprinkled secret found, the prompt fully redacted.
  const auto check = check_spans(engine, sprinkled, dirty_findings);
  const auto redacted = scan_and_redact(prompt.body);
  std::size_t leaked = 0;
  for (const auto& s : prompt.secrets) leaked += redacted.text.find(s) != std::string::npos;
  const auto clean_prompt_findings = engine.scan(clean_prompt.body, *scratch).size();

  std::printf("x420 detection benchmark (one thread)\n");
  std::printf("engine: %zu built-in rules, built in %.1f ms (vectorscan database + PCRE2 JIT, no cache)\n",
              engine.rule_count(), build_ms);
  std::printf("corpus: %.1f MB, %zu text files under %s, concatenated in memory; MB = 10^6 bytes\n",
              clean.size() / 1e6, corpus.files, o.root.c_str());
  std::printf("\n%-30s %11s %9s %9s %8s  %s\n", "case", "median MB/s", "min", "max", "x memchr",
              "what it does");
  const double memchr_mb = median(scans[3].mb_per_s);
  for (const auto& c : scans) {
    const auto [lo, hi] = std::minmax_element(c.mb_per_s.begin(), c.mb_per_s.end());
    const double med = median(c.mb_per_s);
    std::printf("%-30s %11.1f %9.1f %9.1f %8.1f  %s\n", c.name.c_str(), med, *lo, *hi, memchr_mb / med,
                c.what.c_str());
  }
  std::printf("(median of %zu runs, each at least %.2f s of whole passes; 'x memchr' = memchr's MB/s "
              "over the case's)\n", o.runs, kMinRunSeconds);

  std::printf("\nfindings in the clean text: %zu (%s)\n", clean_findings.size(),
              rule_tally(engine, clean_findings).c_str());
  std::printf("with secrets: %zu sprinkled, %zu findings; sprinkled found %zu/%zu, exact span %zu/%zu; "
              "other findings %zu\n", sprinkled.size(), dirty_findings.size(), check.found,
              sprinkled.size(), check.exact, sprinkled.size(), check.other);
  std::printf("  by kind (found/sprinkled):");
  for (const auto& [kind, n] : check.by_kind) std::printf(" %s %zu/%zu", kind.c_str(), n.second, n.first);
  std::printf("\n");
  for (const auto& p : check.problems) std::printf("  not exact: %s\n", p.c_str());

  std::printf("\nproxy hot case: a %zu-byte JSON request body (prose + code), %zu secrets in it; "
              "%zu calls per case\n", prompt.body.size(), prompt.secrets.size(), o.calls);
  std::printf("check: %zu replaced, %zu secrets left in the output; clean prompt: %zu findings\n",
              redacted.replaced, leaked, clean_prompt_findings);
  std::printf("\n%-30s %9s %9s %9s %8s  %s\n", "case", "median us", "p99 us", "max us", "x base",
              "what it does");
  const double base_us = median(calls.back().us);
  for (const auto& c : calls)
    std::printf("%-30s %9.2f %9.2f %9.2f %8.1f  %s\n", c.name.c_str(), median(c.us), quantile(c.us, 0.99),
                *std::max_element(c.us.begin(), c.us.end()), median(c.us) / base_us, c.what.c_str());
  std::printf("(one sample per call, in blocks of %zu interleaved between cases; 'x base' = median / "
              "baseline median)\n\n", kLatencyBlock);

  std::printf("clean_mb_per_s=%.1f target=1000\n", median(scans[0].mb_per_s));
  std::printf("redact_20kb_us=%.2f target=25\n", median(calls[0].us));
  return 0;
}

int print_patterns() {
  std::size_t printed = 0, rewritten = 0;
  for (const auto& rule : detect::builtin_rule_file().rules) {
    const std::string pattern = bench::rust_regex_of(rule.regex);
    if (pattern.find_first_of("\r\n") != std::string::npos) {
      std::cerr << "detect_bench: rule " << rule.id << " has a line break in its regex; left out\n";
      continue;
    }
    std::cout << rule.id << '\t' << pattern << '\n';
    ++printed;
    rewritten += pattern != rule.regex;
  }
  std::cerr << printed << " patterns, " << rewritten << " rewritten for Rust regex syntax\n";
  return 0;
}

int sprinkle(const std::string& dir, std::size_t count) {
  bench::FakeSecretMaker maker(kSeed);
  std::size_t total = 0;
  for (const auto& [kind, n] : bench::sprinkle_tree(dir, count, maker)) {
    std::cerr << kind << ' ' << n << '\n';
    total += n;
  }
  std::cout << total << '\n';
  return 0;
}

bool parse_count(const char* text, std::size_t& out) {
  char* end = nullptr;
  const auto v = std::strtoull(text, &end, 10);
  if (!text[0] || *end || v == 0) return false;
  out = static_cast<std::size_t>(v);
  return true;
}

constexpr const char* kUsage =
    "usage: detect_bench [--root DIR] [--corpus-mb N] [--secrets N] [--runs N] [--calls N]\n"
    "       detect_bench [--root DIR] [--corpus-mb N] --profile-clean SECONDS\n"
    "       detect_bench --profile-prompt SECONDS\n"
    "       detect_bench --print-patterns | --sprinkle DIR N\n";

}  // namespace

int main(int argc, char** argv) {
  x420::crypto::ensure_sodium();
  try {
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    if (args.size() == 1 && args[0] == "--print-patterns") return print_patterns();
    std::size_t count = 0;
    if (args.size() == 3 && args[0] == "--sprinkle" && parse_count(args[2].data(), count))
      return sprinkle(std::string(args[1]), count);

    Options o;
    for (std::size_t i = 0; i < args.size(); ++i) {
      std::size_t* target = args[i] == "--corpus-mb" ? &o.corpus_mb
                            : args[i] == "--secrets" ? &o.secrets
                            : args[i] == "--runs"    ? &o.runs
                            : args[i] == "--calls"   ? &o.calls
                            : args[i] == "--profile-clean" ? &o.profile_seconds
                            : args[i] == "--profile-prompt" ? &o.profile_prompt_seconds
                                                     : nullptr;
      if (args[i] == "--root" && i + 1 < args.size()) {
        o.root = args[++i];
      } else if (!target || i + 1 >= args.size() || !parse_count(args[++i].data(), *target)) {
        std::cerr << kUsage;
        return 2;
      }
    }
    return run(o);
  } catch (const std::exception& e) {
    std::cerr << "detect_bench: " << e.what() << '\n';
    return 1;
  }
}
