#include "proxy/upstream_cache.h"

namespace x420::proxy {

std::shared_ptr<const UpstreamCache::Rows> UpstreamCache::get(const std::string& tenant_id) {
  const Millis now = clock_.steady_ms();
  if (auto it = entries_.find(tenant_id); it != entries_.end() && now < it->second.until) return it->second.rows;
  auto rows = std::make_shared<const Rows>(store_.list_upstreams(tenant_id));
  // Bounded by the number of tenants with traffic; an entry past its second is only replaced.
  entries_[tenant_id] = Entry{rows, now + ttl_ms_};
  return rows;
}

}  // namespace x420::proxy
