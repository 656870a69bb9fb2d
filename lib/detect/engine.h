// The detection engine: one pass of a vectorscan multi-pattern prefilter over the bytes (the
// context rules' vendor words only before where a context gate matched, from a second
// database), then PCRE2 (JIT) confirms each rule only for the matches that can hold a place the
// prefilter reported (starting at most the rule's lead before a keyword, ending at a regex hit),
// then validators, entropy gates and the allowlist. It takes bytes and returns spans:
// no files, no logging, no allocation that grows with the input beyond the findings.
//
// Built once (compiling the pattern database takes milliseconds to a second), then shared by
// every thread; each thread scans with its own Scratch.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/common/result.h"
#include "lib/crypto/secret_bytes.h"
#include "lib/detect/finding.h"
#include "lib/detect/rule.h"

namespace x420::detect {

// A value the user has registered as secret (from an environment variable or a .env file):
// found exactly, wherever it appears, as CI systems mask registered secrets.
struct KnownSecret {
  std::string name;   // where it came from: "env:OPENAI_API_KEY", "file:.env:DB_PASSWORD"
  std::string value;  // the secret; values shorter than 6 bytes are refused
};

// Where compiled pattern databases are kept between runs, so a CLI start does not spend most of a
// second compiling the same rules again (the CLI keeps them in $XDG_CACHE_HOME/x420/). The
// database holds only the rules' patterns: an engine with known secrets is never cached, since
// their values are in its database and must not touch disk.
class CompiledCache {
 public:
  virtual ~CompiledCache() = default;
  virtual std::optional<std::string> load(std::string_view key) = 0;
  virtual void store(std::string_view key, std::string_view bytes) = 0;
};

// A rule whose regex has no upper bound on its match length (or one over this) is confirmed in
// windows this wide, so a longer match is not found whole; it is also the most context a stream
// scanner carries between chunks.
inline constexpr std::size_t kMaxMatchWindow = 16 * 1024;

struct EngineConfig {
  std::vector<Rule> rules;
  AllowlistSpec allowlist;
  std::vector<KnownSecret> known_secrets;
  // Keys the fingerprints. Empty: a fixed public key, so fingerprints are stable across machines
  // (for .x420ignore in CI) but do not hide low-entropy secrets from someone who can guess them.
  crypto::SecretBytes fingerprint_key;
  bool inline_allow = true;  // a line holding "x420:allow" is accepted
  CompiledCache* cache = nullptr;
  // Placeholders (lib/detect/placeholder.h) are not secrets and are left out; a measurement
  // that must tell them from misses asks for them.
  bool report_placeholders = false;
};

class Engine {
 public:
  class Scratch;  // per-thread matching state
  struct Impl;    // opaque: compiled rules and the pattern database
  struct ScratchDeleter {
    void operator()(Scratch* s) const;
  };
  using ScratchPtr = std::unique_ptr<Scratch, ScratchDeleter>;

  // Compiles everything. A rule whose regex cannot be compiled, by vectorscan or by PCRE2, is
  // refused with its id and the reason.
  static Result<std::unique_ptr<Engine>> build(EngineConfig config);
  ~Engine();

  ScratchPtr make_scratch() const;

  // Findings in `data`, ordered by start, overlaps resolved to the most specific rule.
  std::vector<Finding> scan(std::string_view data, Scratch& scratch) const;

  // The same over `data` cut into segments (the values of a JSON body, each on a line of its
  // own): `segment_starts` holds where each segment begins, ascending, the first at 0. No match
  // crosses a segment's edge and a segment's end is the end of the subject for `$` and for a
  // block secret without its end line, so a finding never spans two values and overlaps are
  // resolved only between findings that share one.
  std::vector<Finding> scan(std::string_view data, Scratch& scratch,
                            std::span<const std::uint64_t> segment_starts) const;

  // Rule `index` of a finding; known secrets appear as rules "known_secret" named after them.
  const Rule& rule(std::uint32_t index) const;
  std::size_t rule_count() const;

  // The longest span a finding can cover; a stream scanner keeps this much context.
  std::size_t max_span() const;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Compiles the allowlist's regexes as Engine::build does; the error names the first that fails.
Status check_allowlist(const AllowlistSpec& allowlist);

// Scanning a stream in chunks (stdin, a streamed body): a secret split across two chunks is still
// found, and memory stays bounded by max_span() whatever the stream's length. Offsets are
// absolute in the stream.
class StreamScanner {
 public:
  StreamScanner(const Engine& engine, Engine::Scratch& scratch);

  // Scans what is new. `on_finding` gets each finding once, with a view of the bytes its match
  // covers (valid during the call only).
  template <class F>
  void feed(std::string_view chunk, F&& on_finding) {
    feed_impl(chunk, false, [&](const Finding& f, std::string_view match) { on_finding(f, match); });
  }
  template <class F>
  void finish(F&& on_finding) {
    feed_impl({}, true, [&](const Finding& f, std::string_view match) { on_finding(f, match); });
  }

 private:
  using Callback = std::function<void(const Finding&, std::string_view)>;
  void feed_impl(std::string_view chunk, bool final, const Callback& cb);

  const Engine& engine_;
  Engine::Scratch& scratch_;
  std::string buffer_;               // carried context + the new chunk
  std::uint64_t buffer_offset_ = 0;  // absolute offset of buffer_[0]
  std::uint64_t reported_until_ = 0; // findings ending at or before this were reported
};

}  // namespace x420::detect
