#include "lib/service/usage_view.h"

#include "lib/common/time_format.h"

namespace x420::service {

UsageInfo usage_info(const store::UsageRow& r, const std::string& tenant) {
  UsageInfo u;
  u.id = r.id;
  u.tenant = tenant;
  u.key_id = r.key_id;
  u.upstream = r.upstream;
  u.model = r.model;
  u.created_at = r.created_at;
  u.input_tokens = r.input_tokens;
  u.output_tokens = r.output_tokens;
  u.cached_tokens = r.cached_tokens;
  u.reasoning_tokens = r.reasoning_tokens;
  u.cost_usd_micros = r.cost_usd_micros;
  u.latency_ms = r.latency_ms;
  u.ttfb_ms = r.ttfb_ms;
  u.status = r.status;
  u.error_type = r.error_type;
  u.redactions = r.redactions;
  return u;
}

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
