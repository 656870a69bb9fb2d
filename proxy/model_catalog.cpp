#include "proxy/model_catalog.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace x420::proxy {
namespace {

constexpr auto kTimeout = std::chrono::seconds(5);

template <class Stream>
awaitable<Result<std::string>> get(Stream& stream, beast::tcp_stream& tcp, http::request<http::empty_body>& req) {
  beast::error_code ec;
  tcp.expires_after(kTimeout);
  co_await http::async_write(stream, req, asio::redirect_error(use_awaitable, ec));
  if (ec) co_return make_error(ErrorKind::unavailable, "sending the request failed: " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(ModelCatalog::kMaxReplyBytes);
  co_await http::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
  tcp.expires_never();
  if (ec) co_return make_error(ErrorKind::unavailable, "reading the reply failed: " + ec.message());
  const int status = static_cast<int>(parser.get().result_int());
  if (status != 200) co_return make_error(ErrorKind::unavailable, "it answered HTTP " + std::to_string(status));
  co_return std::move(parser.get().body());
}

}  // namespace

ModelCatalog::Ids parse_model_ids(std::string_view body) {
  ModelCatalog::Ids ids;
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object()) return ids;
  const auto data = doc.find("data");
  if (data == doc.end() || !data->is_array()) return ids;
  for (const auto& m : *data) {
    if (!m.is_object()) continue;
    const auto id = m.find("id");
    // An id is what a client sends back as "model": printable, bounded, one line.
    if (id == m.end() || !id->is_string()) continue;
    const auto& text = id->get_ref<const std::string&>();
    if (text.empty() || text.size() > 200) continue;
    if (std::any_of(text.begin(), text.end(), [](unsigned char c) { return c < 0x21 || c == 0x7f; })) continue;
    ids.push_back(text);
  }
  return ids;
}

awaitable<std::shared_ptr<const ModelCatalog::Ids>> ModelCatalog::ids(UpstreamPool& pool, const store::UpstreamRow& u,
                                                                      std::string_view secret) {
  std::string key = u.tenant_id + '\0' + u.name + '\0' + u.base_url + '\0';
  key.append(reinterpret_cast<const char*>(u.sealed_secret.data()), u.sealed_secret.size());
  const Millis now = clock_.steady_ms();
  if (const auto it = entries_.find(key); it != entries_.end() && it->second.until > now) co_return it->second.ids;

  std::shared_ptr<const Ids> found;
  std::string problem;
  const auto url = parse_http_url(u.base_url);
  if (!url) {
    problem = "its URL does not parse";
  } else {
    http::request<http::empty_body> req{http::verb::get,
                                        url->path + (u.kind == "anthropic" ? "/v1/models?limit=1000" : "/models"), 11};
    req.set(http::field::host, url->host_header());
    req.set(http::field::user_agent, "x420/0.1");
    req.set(http::field::accept, "application/json");
    req.set(http::field::accept_encoding, "identity");
    if (u.kind == "anthropic") {
      req.set("x-api-key", std::string(secret));
      req.set("anthropic-version", "2023-06-01");
    } else {
      req.set(http::field::authorization, "Bearer " + std::string(secret));
    }
    auto connection = co_await pool.acquire(*url);
    if (!connection) {
      problem = connection.error().message;
    } else {
      auto& c = **connection;
      // Each co_await a statement of its own, on named values: GCC 12 can destroy a temporary in
      // a co_await expression twice (a conditional or an argument list holds such temporaries).
      Result<std::string> body = make_error(ErrorKind::unavailable, "");
      if (auto* tls = c.tls()) {
        body = co_await get(*tls, c.tcp(), req);
      } else {
        body = co_await get(*c.plain(), c.tcp(), req);
      }
      if (!body) {
        problem = body.error().message;
      } else {
        auto ids = parse_model_ids(*body);
        if (ids.empty()) problem = "its reply is not a model list";
        else found = std::make_shared<const Ids>(std::move(ids));
        pool.release(*url, std::move(connection.value()));
      }
    }
  }
  if (!found) spdlog::warn("upstream {}: its models could not be listed: {}", u.name, problem);
  entries_[key] = Entry{found, now + (found ? kKeepMs : kRetryMs)};
  co_return found;
}

}  // namespace x420::proxy
