// How a usage row looks as JSON, the same for `x420 usage --json`, `x420 generation` and
// GET /v1/generation: metadata only.
#pragma once

#include <nlohmann/json.hpp>

#include "service/service.h"

namespace x420::service {

nlohmann::ordered_json usage_json(const UsageInfo& u);

}  // namespace x420::service
