#include "cli/upstream_probe.h"

#include <nlohmann/json.hpp>

#include "cli/http_client.h"

namespace x420::cli {

UpstreamProbe probe_upstream(const store::UpstreamRow& upstream, std::string_view api_key,
                             std::chrono::seconds timeout) {
  UpstreamProbe probe;
  const auto started = std::chrono::steady_clock::now();
  auto finish = [&]() -> UpstreamProbe {
    probe.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    return probe;
  };
  auto url = parse_server_url(upstream.base_url);
  if (!url) {
    probe.problem = "its base URL does not parse: " + url.error().message;
    probe.fix = "x420 upstreams remove " + upstream.name + ", then add it again with a correct --base-url";
    return finish();
  }
  std::vector<std::pair<std::string, std::string>> headers;
  std::string target;
  if (upstream.kind == "anthropic") {
    target = "/v1/models?limit=1000";
    headers = {{"x-api-key", std::string(api_key)}, {"anthropic-version", "2023-06-01"}};
  } else {
    target = "/models";
    headers = {{"authorization", "Bearer " + std::string(api_key)}};
  }
  headers.emplace_back("accept", "application/json");
  auto reply = http_exchange(*url, HttpMethod::get, target, headers, {}, HttpTimeouts{timeout, timeout});
  for (auto& h : headers) std::fill(h.second.begin(), h.second.end(), '\0');
  if (!reply) {
    probe.problem = reply.error().message;  // "cannot reach the x420 service at URL: why"
    if (const auto at = probe.problem.find("the x420 service at "); at != std::string::npos)
      probe.problem.erase(at, std::string_view("the x420 service at ").size());
    probe.fix = "check the base URL (" + upstream.base_url + "), this machine's DNS and network, and any proxy between";
    return finish();
  }
  probe.status = reply->status;
  if (reply->status == 401 || reply->status == 403) {
    probe.problem = "the provider refused the key (HTTP " + std::to_string(reply->status) + ")";
    probe.fix = "give it a valid key: x420 upstreams remove " + upstream.name + " and add it again";
    return finish();
  }
  if (reply->status == 404) {
    probe.problem = "the provider has no " + target.substr(0, target.find('?')) + " under " + upstream.base_url +
                    " (HTTP 404)";
    probe.fix = upstream.kind == "anthropic" ? "an anthropic-kind base URL is the host alone (https://api.anthropic.com)"
                                             : "an openai-kind base URL is the one the OpenAI SDK takes, ending in its "
                                               "API version (…/v1)";
    return finish();
  }
  if (reply->status < 200 || reply->status >= 300) {
    probe.problem = "the provider answered HTTP " + std::to_string(reply->status);
    probe.fix = "try again later, or check the provider's status page";
    return finish();
  }
  const auto doc = nlohmann::json::parse(reply->body, nullptr, false);
  const auto data = doc.is_object() ? doc.find("data") : doc.end();
  if (!doc.is_object() || data == doc.end() || !data->is_array()) {
    probe.problem = "the reply is not a model list ({\"data\": [...]})";
    probe.fix = "check that " + upstream.base_url + " is an " + upstream.kind + "-compatible API";
    return finish();
  }
  for (const auto& m : *data)
    if (m.is_object() && m.contains("id") && m["id"].is_string()) probe.models.push_back(m["id"].get<std::string>());
  probe.ok = true;
  return finish();
}

}  // namespace x420::cli
