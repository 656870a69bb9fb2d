// Verified API keys, remembered for one second: a hit costs a keyed hash and a map lookup
// instead of a store read, and a revoke or rotation from any process is seen within a second,
// because nothing is trusted longer than that without asking the store again.
#pragma once

#include <string>
#include <unordered_map>

#include "lib/common/clock.h"
#include "lib/common/result.h"
#include "lib/crypto/keyed_hash.h"
#include "lib/service/service.h"

namespace x420::proxy {

class KeyCache {
 public:
  KeyCache(service::Service& verifier, const Clock& clock, Millis ttl_ms = 1000);

  Result<service::KeyInfo> verify(std::string_view key);
  void clear() { entries_.clear(); }  // after a change through this process's admin API

 private:
  struct Entry {
    service::KeyInfo info;
    Millis until;
  };
  service::Service& verifier_;
  const Clock& clock_;
  Millis ttl_ms_;
  crypto::SecretBytes cache_key_;  // random per process: the map holds no reusable key hashes
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace x420::proxy
