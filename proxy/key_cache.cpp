#include "proxy/key_cache.h"

#include "lib/crypto/random.h"

namespace x420::proxy {

KeyCache::KeyCache(service::Service& verifier, const Clock& clock, Millis ttl_ms)
    : verifier_(verifier), clock_(clock), ttl_ms_(ttl_ms), cache_key_(crypto::random_bytes(32)) {}

Result<service::KeyInfo> KeyCache::verify(std::string_view key) {
  const auto h = crypto::keyed_hash(cache_key_, key);
  std::string id(reinterpret_cast<const char*>(h.data()), h.size());
  const Millis now = clock_.steady_ms();
  if (auto it = entries_.find(id); it != entries_.end()) {
    if (now < it->second.until) return it->second.info;
    entries_.erase(it);
  }
  auto verified = verifier_.verify_key(key);
  if (!verified) return verified.error();
  if (entries_.size() > 100'000) entries_.clear();  // bounded: a flood of keys resets it
  entries_[std::move(id)] = Entry{*verified, now + ttl_ms_};
  return verified;
}

}  // namespace x420::proxy
