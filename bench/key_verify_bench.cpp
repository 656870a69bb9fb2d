// Warm API-key verification (LocalService::verify_key) and its pieces, against the ≤ 5 µs target
// of issue "keys". A benchmark, never part of pass/fail: it prints figures and a baseline taken
// in the same run, so results from a noisy machine can be read as ratios.
//
// Usage: key_verify_bench [--keys N] [--calls N] [--runs N]

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lib/common/clock.h"
#include "lib/crypto/aead.h"
#include "lib/crypto/master_key.h"
#include "lib/crypto/secret_bytes.h"
#include "lib/keys/key_format.h"
#include "lib/service/bootstrap.h"
#include "lib/service/keyring.h"
#include "lib/service/local_service.h"
#include "lib/store/store.h"

namespace {

namespace fs = std::filesystem;
using Nanos = std::chrono::duration<double, std::nano>;

struct Options {
  std::size_t keys = 1000;
  std::size_t calls = 200000;
  std::size_t runs = 5;
};

// Keeps a computed value alive so the optimiser cannot drop the work that produced it.
template <class T>
inline void keep(const T& value) {
  asm volatile("" : : "g"(&value) : "memory");
}

// A fresh folder under the system temp dir, removed when the benchmark ends however it ends
// (short of a signal).
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "x420-bench-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// One measured operation: `op(i)` is called for i = 0 .. calls-1 and must cycle through its
// inputs itself (i % n), so every case touches the same working set.
struct Case {
  std::string name;
  std::string what;
  std::function<void(std::size_t)> op;
  std::vector<double> ns_per_call;  // one per run
};

double time_per_call(const std::function<void(std::size_t)>& op, std::size_t calls) {
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < calls; ++i) op(i);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  return Nanos(elapsed).count() / static_cast<double>(calls);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool parse_count(const char* text, std::size_t& out) {
  char* end = nullptr;
  const auto v = std::strtoull(text, &end, 10);
  if (!text[0] || *end || v == 0) return false;
  out = static_cast<std::size_t>(v);
  return true;
}

bool parse_options(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::size_t* target = arg == "--keys"    ? &o.keys
                          : arg == "--calls" ? &o.calls
                          : arg == "--runs"  ? &o.runs
                                             : nullptr;
    if (!target || i + 1 >= argc || !parse_count(argv[++i], *target)) {
      std::cerr << "usage: key_verify_bench [--keys N] [--calls N] [--runs N] (N > 0)\n";
      return false;
    }
  }
  return true;
}

void print_table(const std::vector<Case>& cases, double baseline_ns, const Options& o) {
  std::printf("\n%-28s %12s %10s %10s %9s  %s\n", "case", "median ns", "min ns", "max ns",
              "x base", "what it does");
  for (const auto& c : cases) {
    const auto [lo, hi] = std::minmax_element(c.ns_per_call.begin(), c.ns_per_call.end());
    const double med = median(c.ns_per_call);
    std::printf("%-28s %12.1f %10.1f %10.1f %9.1f  %s\n", c.name.c_str(), med, *lo, *hi,
                med / baseline_ns, c.what.c_str());
  }
  std::printf("\n(median of %zu runs of %zu calls each, cycling through %zu keys; "
              "'x base' = median / baseline median)\n",
              o.runs, o.calls, o.keys);
}

int run(const Options& o) {
  TempDir tmp;
  const std::string db_path = (tmp.path() / "x420.db").string();
  const x420::SystemClock clock;
  x420::service::MasterKeySource source;
  source.env_value = x420::crypto::encode_master_key(x420::crypto::generate_key());
  source.file = tmp.path() / "master.key";

  if (auto init = x420::service::initialize(db_path, source, clock); !init) {
    std::cerr << "initialize failed: " << init.error().message << '\n';
    return 1;
  }
  auto opened = x420::service::open_store(db_path, source);
  if (!opened) {
    std::cerr << "open_store failed: " << opened.error().message << '\n';
    return 1;
  }
  x420::store::Store& store = *opened->store;
  const x420::service::Keyring& keyring = *opened->keyring;
  x420::service::LocalService service(store, keyring, clock,
                                      x420::service::Actor::operator_actor());

  // The keys to verify, created the way `x420 keys create` creates them.
  std::vector<std::string> plaintexts;
  std::vector<std::string> ids;
  plaintexts.reserve(o.keys);
  ids.reserve(o.keys);
  const auto create_start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < o.keys; ++i) {
    x420::service::KeySpec spec;
    spec.name = "bench-" + std::to_string(i);
    auto issued = service.create_key(std::string(x420::service::kDefaultTenant), spec);
    if (!issued) {
      std::cerr << "create_key failed: " << issued.error().message << '\n';
      return 1;
    }
    ids.push_back(issued->info.id);
    plaintexts.push_back(std::move(issued->plaintext));
  }
  const double create_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - create_start)
          .count() / static_cast<double>(o.keys);

  // The baseline: an in-memory id lookup and a constant-time compare of two 32-byte hashes,
  // the least any verification has to do.
  std::unordered_map<std::string, std::string> by_id;
  for (std::size_t i = 0; i < o.keys; ++i) {
    const auto h = keyring.hash(plaintexts[i]);
    by_id.emplace(ids[i], std::string(h.begin(), h.end()));
  }
  const std::string reference_hash = by_id.at(ids.front());

  const std::size_t n = o.keys;
  std::size_t failures = 0;
  std::vector<Case> cases;
  cases.push_back({"verify_key (full)", "parse, checksum, keyed hash, one store lookup",
                   [&](std::size_t i) {
                     auto r = service.verify_key(plaintexts[i % n]);
                     if (!r) ++failures;
                     keep(r);
                   }, {}});
  cases.push_back({"keys::parse", "shape and CRC32 checksum, no store",
                   [&](std::size_t i) {
                     auto r = x420::keys::parse(plaintexts[i % n]);
                     if (!r) ++failures;
                     keep(r);
                   }, {}});
  cases.push_back({"Keyring::hash", "keyed BLAKE2b-256 of the plaintext",
                   [&](std::size_t i) {
                     auto h = keyring.hash(plaintexts[i % n]);
                     keep(h);
                   }, {}});
  cases.push_back({"Store::key_by_id", "SQLite lookup (key joined with its tenant), prepared once",
                   [&](std::size_t i) {
                     auto row = store.key_by_id(ids[i % n]);
                     if (!row) ++failures;
                     keep(row);
                   }, {}});
  cases.push_back({"baseline: map + memcmp", "unordered_map<string,string> find, sodium_memcmp",
                   [&](std::size_t i) {
                     const auto it = by_id.find(ids[i % n]);
                     const bool same = it != by_id.end() &&
                                       sodium_memcmp(it->second.data(), reference_hash.data(),
                                                     reference_hash.size()) == 0;
                     keep(same);
                   }, {}});

  // Warm-up: every case over every key, so caches, SQLite's page cache and the prepared
  // statement are all hot before anything is timed.
  for (auto& c : cases) time_per_call(c.op, std::max(n, o.calls / 10));
  if (failures) {
    std::cerr << failures << " calls failed during warm-up: the benchmark would be wrong\n";
    return 1;
  }

  // Runs interleave the cases, so drift in machine load affects them all alike.
  for (std::size_t run = 0; run < o.runs; ++run)
    for (auto& c : cases) c.ns_per_call.push_back(time_per_call(c.op, o.calls));
  if (failures) {
    std::cerr << failures << " calls failed while timing: the benchmark would be wrong\n";
    return 1;
  }

  std::printf("x420 key verification benchmark\n");
  std::printf("store: %s (SQLite, WAL), %zu keys in tenant '%s'\n", db_path.c_str(), o.keys,
              std::string(x420::service::kDefaultTenant).c_str());
  std::printf("setup: create_key took %.1f us per key (%zu keys, one transaction each)\n",
              create_us, o.keys);
  const double baseline_ns = median(cases.back().ns_per_call);
  print_table(cases, baseline_ns, o);

  double pieces = 0;
  for (std::size_t i = 1; i + 1 < cases.size(); ++i) pieces += median(cases[i].ns_per_call);
  const double verify_ns = median(cases.front().ns_per_call);
  std::printf("sum of pieces (parse + hash + key_by_id): %.1f ns; "
              "verify_key minus pieces: %.1f ns\n",
              pieces, verify_ns - pieces);
  std::printf("verify_us_per_call=%.3f target=5\n", verify_ns / 1000.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  x420::crypto::ensure_sodium();
  Options options;
  if (!parse_options(argc, argv, options)) return 2;
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::cerr << "key_verify_bench: " << e.what() << '\n';
    return 1;
  }
}
