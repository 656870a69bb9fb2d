// The proxy's Prometheus counters: route names, statuses, rule ids and upstream names only,
// never content or key material.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace x420::proxy {

class Metrics {
 public:
  void count(std::string_view route, int status, double seconds, const std::vector<std::string>& redacted_rules,
             std::string_view failed_upstream);
  // Encoded payloads that could not be scanned (images, PDF, unknown media), by whether they were
  // forwarded or their request refused.
  void count_unscanned(std::size_t payloads, bool refused);
  // Prometheus text exposition format 0.0.4.
  std::string text(std::size_t in_flight, std::size_t idle_upstream_connections) const;

 private:
  static constexpr std::array<double, 10> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
  std::map<std::pair<std::string, int>, std::uint64_t, std::less<>> requests_;  // (route, status)
  std::map<std::string, std::uint64_t, std::less<>> redactions_;                 // rule id
  std::map<std::string, std::uint64_t, std::less<>> upstream_errors_;            // upstream name
  std::uint64_t unscanned_forwarded_ = 0;
  std::uint64_t unscanned_refused_ = 0;
  std::array<std::uint64_t, 10> latency_buckets_{};
  std::uint64_t latency_count_ = 0;
  double latency_sum_ = 0;
};

}  // namespace x420::proxy
