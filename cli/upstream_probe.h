// Asking a provider whether it answers and accepts its key: GET <base URL>/models (openai kind)
// or /v1/models (anthropic kind) with the sealed key, as the proxy would send it. For `x420
// doctor`, and `x420 upstreams test`. The key goes only to the provider, in its auth header; the
// reply's model ids are read, nothing else of it is shown.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "lib/store/records.h"

namespace x420::cli {

struct UpstreamProbe {
  bool ok = false;                  // 2xx with a model list
  int status = 0;                   // the HTTP status; 0 when none came
  std::vector<std::string> models;  // the ids the provider lists
  std::string problem;              // what went wrong, without content of the reply
  std::string fix;                  // what to do about it
  std::chrono::milliseconds elapsed{0};
};

UpstreamProbe probe_upstream(const store::UpstreamRow& upstream, std::string_view api_key,
                             std::chrono::seconds timeout = std::chrono::seconds(10));

}  // namespace x420::cli
