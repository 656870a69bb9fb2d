// The models each upstream serves, asked of the upstream itself (GET <base>/models, or /v1/models
// for the anthropic kind, with its key) and kept ten minutes: GET /v1/models lists ids a model
// picker can send back, where the routing globs ("gpt-*") are no model at all. An upstream that
// cannot be asked is asked again after 30 s; meanwhile it lists only its literal globs.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lib/common/clock.h"
#include "lib/store/records.h"
#include "proxy/asio_types.h"
#include "proxy/upstream_pool.h"

namespace x420::proxy {

class ModelCatalog {
 public:
  using Ids = std::vector<std::string>;

  explicit ModelCatalog(const Clock& clock) : clock_(clock) {}

  // The ids `upstream` lists (null when it could not be asked); `secret` is its opened key.
  awaitable<std::shared_ptr<const Ids>> ids(UpstreamPool& pool, const store::UpstreamRow& upstream,
                                            std::string_view secret);
  void clear() { entries_.clear(); }

  static constexpr Millis kKeepMs = 10 * 60 * 1000;
  static constexpr Millis kRetryMs = 30 * 1000;
  static constexpr std::size_t kMaxReplyBytes = 4 * 1024 * 1024;

 private:
  struct Entry {
    std::shared_ptr<const Ids> ids;
    Millis until;
  };
  const Clock& clock_;
  // By tenant, name, URL and sealed key: a changed URL or key is a new entry.
  std::unordered_map<std::string, Entry> entries_;
};

// The ids of an upstream's /models reply ({"data": [{"id": …}, …]}), in its order; empty when
// the reply is not such a list.
ModelCatalog::Ids parse_model_ids(std::string_view body);

}  // namespace x420::proxy
