// Turning findings into redacted text, and placeholders back into secrets.
//
// Placeholders (pseudonymize): X420_REDACTED_<rule id, '.' and '-' as '_'>_<8 hex>, the hex a
// keyed hash of the secret under a per-tenant key: the same secret gets the same placeholder in
// every turn of a conversation, and nobody without the key can test a guess against it.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lib/crypto/secret_bytes.h"
#include "lib/detect/engine.h"

namespace x420::detect {

inline constexpr std::string_view kPlaceholderPrefix = "X420_REDACTED_";

enum class RedactMode { mask, pseudonymize };

// placeholder → secret, for restoring, bounded in entries and bytes: past either budget the
// mapping used least recently is forgotten first (its placeholder then stays in the reply as it
// is, which leaks nothing). Secrets are wiped when they are forgotten or the map goes.
class PlaceholderMap {
 public:
  struct Budget {
    std::size_t max_entries = 100'000;
    std::size_t max_bytes = 32 * 1024 * 1024;  // placeholders, secrets and bookkeeping
  };
  // What one entry is counted as beyond its two strings (nodes, hashes, list links).
  static constexpr std::size_t kEntryOverhead = 128;

  PlaceholderMap() = default;
  explicit PlaceholderMap(Budget budget) : budget_(budget) {}
  ~PlaceholderMap();
  PlaceholderMap(PlaceholderMap&&) = default;
  PlaceholderMap& operator=(PlaceholderMap&&) = default;

  // False if the placeholder is already taken by a different secret. Adding again makes an
  // entry the most recent.
  bool add(const std::string& placeholder, std::string_view secret);
  const std::string* find(std::string_view placeholder) const;
  std::size_t size() const { return entries_.size(); }
  std::size_t bytes() const { return bytes_; }
  std::size_t evicted() const { return evicted_; }  // forgotten for the budget, since start
  // Every mapping, most recent first; valid until the map changes.
  std::vector<std::pair<std::string_view, std::string_view>> entries() const;

  // Forgetting by age without a clock: an entry not added again during two calls is forgotten,
  // so calling this every T keeps a mapping between T and 2T after its last use (the service's
  // placeholder TTL).
  void next_generation();

 private:
  struct Entry {
    std::string secret;
    std::uint64_t generation = 0;
    std::list<std::string>::iterator order;  // its place in order_
  };
  void forget(const std::string& placeholder);
  void keep_within_budget();

  Budget budget_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> order_;  // placeholders, most recently added first
  std::size_t bytes_ = 0;
  std::size_t evicted_ = 0;
  std::uint64_t generation_ = 0;
};

class Pseudonymizer {
 public:
  explicit Pseudonymizer(crypto::SecretBytes key) : key_(std::move(key)) {}
  // `long_form` doubles the hash (16 hex), for the rare collision of the short one.
  std::string placeholder(std::string_view rule_id, std::string_view secret, bool long_form = false) const;

 private:
  crypto::SecretBytes key_;
};

struct Redacted {
  std::string text;
  std::size_t replaced = 0;
};

// Replaces each finding's secret span in `data` (findings as Engine::scan returns them: sorted,
// non-overlapping). Pseudonymize needs `pseudonymizer`, and fills `map` when one is given.
Redacted redact(std::string_view data, const std::vector<Finding>& findings, const Engine& engine,
                RedactMode mode, const Pseudonymizer* pseudonymizer, PlaceholderMap* map);

// Puts secrets back where their placeholders stand, in a stream: a placeholder split across
// chunks is held back until it is whole, so memory stays bounded by the longest placeholder.
class Restorer {
 public:
  // json_string: the value lands inside a JSON string. json_in_json_string: inside a JSON string
  // that is itself the text of a string in JSON (tool-call arguments as a reply carries them),
  // so it is escaped for both levels.
  enum class Escape { none, json_string, json_in_json_string };

  explicit Restorer(const PlaceholderMap& map, Escape escape = Escape::none)
      : map_(map), escape_(escape) {}

  std::string feed(std::string_view chunk);  // the text that is safe to emit now
  std::string finish();                      // whatever is still held back
  std::size_t restored() const { return restored_; }
  bool holding() const { return !pending_.empty(); }  // text held back, waiting to be whole

 private:
  std::string process(bool final);
  const PlaceholderMap& map_;
  Escape escape_;
  std::string pending_;
  std::size_t restored_ = 0;
};

// Restores a whole text at once.
std::string restore(std::string_view text, const PlaceholderMap& map,
                    Restorer::Escape escape = Restorer::Escape::none);

}  // namespace x420::detect
