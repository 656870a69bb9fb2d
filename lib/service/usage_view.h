// How a usage row looks as JSON, the same for `x420 usage --json`, `x420 generation` and
// GET /v1/generation: metadata only.
#pragma once

#include <nlohmann/json.hpp>

#include "lib/service/service.h"
#include "lib/store/records.h"

namespace x420::service {

nlohmann::ordered_json usage_json(const UsageInfo& u);

// What may be shown of a stored usage row (all of it: it holds metadata only).
UsageInfo usage_info(const store::UsageRow& row, const std::string& tenant);

}  // namespace x420::service
