// A tenant's upstreams, remembered for one second, so that routing a request costs a map lookup
// instead of a store read; like the key cache, an upstream added or removed by any process is
// seen within a second, and at once when it went through this process's admin API.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "lib/store/store.h"

namespace x420::proxy {

class UpstreamCache {
 public:
  using Rows = std::vector<store::UpstreamRow>;

  explicit UpstreamCache(store::Store& store, std::chrono::milliseconds ttl = std::chrono::seconds(1))
      : store_(store), ttl_(ttl) {}

  // Shared, so that a request keeps its rows while a refresh replaces the entry.
  std::shared_ptr<const Rows> get(const std::string& tenant_id);
  void clear() { entries_.clear(); }

 private:
  struct Entry {
    std::shared_ptr<const Rows> rows;
    std::chrono::steady_clock::time_point until;
  };
  store::Store& store_;
  std::chrono::milliseconds ttl_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace x420::proxy
