// A tenant's upstreams, remembered for one second, so that routing a request costs a map lookup
// instead of a store read; like the key cache, an upstream added or removed by any process is
// seen within a second, and at once when it went through this process's admin API.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "lib/common/clock.h"
#include "lib/store/store.h"

namespace x420::proxy {

class UpstreamCache {
 public:
  using Rows = std::vector<store::UpstreamRow>;

  UpstreamCache(store::Store& store, const Clock& clock, Millis ttl_ms = 1000)
      : store_(store), clock_(clock), ttl_ms_(ttl_ms) {}

  // Shared, so that a request keeps its rows while a refresh replaces the entry.
  std::shared_ptr<const Rows> get(const std::string& tenant_id);
  void clear() { entries_.clear(); }

 private:
  struct Entry {
    std::shared_ptr<const Rows> rows;
    Millis until;
  };
  store::Store& store_;
  const Clock& clock_;
  Millis ttl_ms_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace x420::proxy
