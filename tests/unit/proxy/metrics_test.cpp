// proxy/metrics: the Prometheus counters, in text exposition format 0.0.4.
#include <catch2/catch.hpp>

#include <sstream>

#include "proxy/metrics.h"

using namespace x420::proxy;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l == line) return true;
  return false;
}

}  // namespace

TEST_CASE("an empty registry still declares every metric and its type", "[proxy][metrics]") {
  const Metrics m;
  const auto text = m.text(0, 0);
  for (const char* type : {"# TYPE x420_requests_total counter", "# TYPE x420_request_duration_seconds histogram",
                           "# TYPE x420_redactions_total counter", "# TYPE x420_upstream_errors_total counter",
                           "# TYPE x420_in_flight_requests gauge", "# TYPE x420_upstream_idle_connections gauge"}) {
    INFO(type);
    CHECK(has_line(text, type));
  }
  CHECK(has_line(text, "x420_request_duration_seconds_bucket{le=\"+Inf\"} 0"));
  CHECK(has_line(text, "x420_request_duration_seconds_count 0"));
  CHECK(text.find("x420_requests_total{") == std::string::npos);
  CHECK(text.ends_with("\n"));
}

TEST_CASE("requests are counted by route and status, redactions by rule, failures by upstream", "[proxy][metrics]") {
  Metrics m;
  m.count("chat", 200, 0.02, {"github.pat", "aws.access_key"}, "");
  m.count("chat", 200, 0.03, {"github.pat"}, "");
  m.count("chat", 502, 0.5, {}, "openai");
  m.count("messages", 429, 0.001, {}, "");
  const auto text = m.text(3, 7);
  CHECK(has_line(text, "x420_requests_total{route=\"chat\",status=\"200\"} 2"));
  CHECK(has_line(text, "x420_requests_total{route=\"chat\",status=\"502\"} 1"));
  CHECK(has_line(text, "x420_requests_total{route=\"messages\",status=\"429\"} 1"));
  CHECK(has_line(text, "x420_redactions_total{rule=\"github.pat\"} 2"));
  CHECK(has_line(text, "x420_redactions_total{rule=\"aws.access_key\"} 1"));
  CHECK(has_line(text, "x420_upstream_errors_total{upstream=\"openai\"} 1"));
  CHECK(text.find("x420_upstream_errors_total{upstream=\"\"}") == std::string::npos);  // no upstream failed
  CHECK(has_line(text, "x420_in_flight_requests 3"));
  CHECK(has_line(text, "x420_upstream_idle_connections 7"));
}

TEST_CASE("the latency histogram is cumulative, with a sum and a count", "[proxy][metrics]") {
  Metrics m;
  m.count("chat", 200, 0.005, {}, "");  // on a bucket's bound: counted in it
  m.count("chat", 200, 0.2, {}, "");
  m.count("chat", 200, 3.0, {}, "");
  m.count("chat", 200, 60.0, {}, "");  // above every bound: +Inf only
  const auto text = m.text(0, 0);
  CHECK(has_line(text, "x420_request_duration_seconds_bucket{le=\"0.005\"} 1"));
  CHECK(has_line(text, "x420_request_duration_seconds_bucket{le=\"0.1\"} 1"));
  CHECK(has_line(text, "x420_request_duration_seconds_bucket{le=\"0.25\"} 2"));
  CHECK(has_line(text, "x420_request_duration_seconds_bucket{le=\"2.5\"} 2"));
  CHECK(has_line(text, "x420_request_duration_seconds_bucket{le=\"10\"} 3"));
  CHECK(has_line(text, "x420_request_duration_seconds_bucket{le=\"+Inf\"} 4"));
  CHECK(has_line(text, "x420_request_duration_seconds_count 4"));
  CHECK(has_line(text, "x420_request_duration_seconds_sum 63.205000"));
  // The buckets come in increasing order, as Prometheus requires.
  CHECK(text.find("le=\"0.005\"") < text.find("le=\"0.01\""));
  CHECK(text.find("le=\"2.5\"") < text.find("le=\"10\""));
  CHECK(text.find("le=\"10\"") < text.find("le=\"+Inf\""));
}

TEST_CASE("payloads that could not be scanned are counted, forwarded or refused", "[proxy][metrics]") {
  Metrics m;
  CHECK(has_line(m.text(0, 0), "# TYPE x420_unscanned_payloads_total counter"));
  CHECK(has_line(m.text(0, 0), "x420_unscanned_payloads_total{action=\"forwarded\"} 0"));
  m.count_unscanned(2, false);
  m.count_unscanned(1, false);
  m.count_unscanned(3, true);
  const auto text = m.text(0, 0);
  CHECK(has_line(text, "x420_unscanned_payloads_total{action=\"forwarded\"} 3"));
  CHECK(has_line(text, "x420_unscanned_payloads_total{action=\"refused\"} 3"));
}
