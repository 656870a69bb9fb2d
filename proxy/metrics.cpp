#include "proxy/metrics.h"

#include <cstdio>

namespace x420::proxy {

void Metrics::count(std::string_view route, int status, double seconds, const std::vector<std::string>& redacted_rules,
                    std::string_view failed_upstream) {
  ++requests_[{std::string(route), status}];
  for (const auto& rule : redacted_rules) ++redactions_[rule];
  if (!failed_upstream.empty()) ++upstream_errors_[std::string(failed_upstream)];
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++latency_buckets_[i];
  ++latency_count_;
  latency_sum_ += seconds;
}

void Metrics::count_unscanned(std::size_t payloads, bool refused) {
  (refused ? unscanned_refused_ : unscanned_forwarded_) += payloads;
}

std::string Metrics::text(std::size_t in_flight, std::size_t idle_upstream_connections) const {
  std::string out;
  out += "# HELP x420_requests_total Requests by route and HTTP status.\n# TYPE x420_requests_total counter\n";
  for (const auto& [k, v] : requests_)
    out += "x420_requests_total{route=\"" + k.first + "\",status=\"" + std::to_string(k.second) + "\"} " + std::to_string(v) + "\n";
  out += "# HELP x420_request_duration_seconds Time from request to the end of the reply.\n# TYPE x420_request_duration_seconds histogram\n";
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    char le[32];
    std::snprintf(le, sizeof le, "%g", kBuckets[i]);
    out += "x420_request_duration_seconds_bucket{le=\"" + std::string(le) + "\"} " + std::to_string(latency_buckets_[i]) + "\n";
  }
  out += "x420_request_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(latency_count_) + "\n";
  out += "x420_request_duration_seconds_sum " + std::to_string(latency_sum_) + "\n";
  out += "x420_request_duration_seconds_count " + std::to_string(latency_count_) + "\n";
  out += "# HELP x420_redactions_total Secrets redacted from requests, by rule.\n# TYPE x420_redactions_total counter\n";
  for (const auto& [rule, v] : redactions_) out += "x420_redactions_total{rule=\"" + rule + "\"} " + std::to_string(v) + "\n";
  out += "# HELP x420_unscanned_payloads_total Encoded payloads that could not be scanned (images, PDF, unknown "
         "media), forwarded or refused with their request.\n# TYPE x420_unscanned_payloads_total counter\n";
  out += "x420_unscanned_payloads_total{action=\"forwarded\"} " + std::to_string(unscanned_forwarded_) + "\n";
  out += "x420_unscanned_payloads_total{action=\"refused\"} " + std::to_string(unscanned_refused_) + "\n";
  out += "# HELP x420_upstream_errors_total Upstream failures (5xx, unreachable), by upstream.\n# TYPE x420_upstream_errors_total counter\n";
  for (const auto& [u, v] : upstream_errors_) out += "x420_upstream_errors_total{upstream=\"" + u + "\"} " + std::to_string(v) + "\n";
  out += "# HELP x420_in_flight_requests Requests being served.\n# TYPE x420_in_flight_requests gauge\nx420_in_flight_requests " +
         std::to_string(in_flight) + "\n";
  out += "# HELP x420_upstream_idle_connections Keep-alive connections to upstreams waiting for reuse.\n"
         "# TYPE x420_upstream_idle_connections gauge\nx420_upstream_idle_connections " +
         std::to_string(idle_upstream_connections) + "\n";
  return out;
}

}  // namespace x420::proxy
