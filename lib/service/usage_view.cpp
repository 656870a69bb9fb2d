#include "service/usage_view.h"

#include "common/time_format.h"

namespace x420::service {

nlohmann::ordered_json usage_json(const UsageInfo& u) {
  return {
      {"id", u.id},
      {"tenant", u.tenant},
      {"key_id", u.key_id},
      {"upstream", u.upstream.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(u.upstream)},
      {"model", u.model.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(u.model)},
      {"created_at", format_timestamp(u.created_at)},
      {"input_tokens", u.input_tokens},
      {"output_tokens", u.output_tokens},
      {"cached_tokens", u.cached_tokens},
      {"reasoning_tokens", u.reasoning_tokens},
      {"cost_usd", static_cast<double>(u.cost_usd_micros) / 1e6},
      {"latency_ms", u.latency_ms},
      {"ttfb_ms", u.ttfb_ms ? nlohmann::ordered_json(*u.ttfb_ms) : nlohmann::ordered_json(nullptr)},
      {"status", u.status},
      {"error_type", u.error_type.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(u.error_type)},
      {"redactions", u.redactions},
  };
}

}  // namespace x420::service
