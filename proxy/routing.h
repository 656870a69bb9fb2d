// Which upstream a request goes to: "upstream/model" names it; otherwise the first upstream of
// the endpoint's kind whose --models globs match the model.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/common/result.h"
#include "lib/store/records.h"

namespace x420::proxy {

struct Route {
  const store::UpstreamRow* upstream = nullptr;
  std::string model;           // the model to send upstream
  bool model_rewritten = false;  // "upstream/model" was stripped to "model"
};

Result<Route> choose_upstream(const std::vector<store::UpstreamRow>& upstreams,
                              std::string_view kind, std::string_view model);

}  // namespace x420::proxy
