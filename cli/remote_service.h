// RemoteService: the Service of a running `x420 serve`, through its admin API (/x420/v1/…), for
// the CLI with --server or X420_SERVER. Every call is one HTTPS (or loopback HTTP) request with
// the management token; the server's LocalService decides, by that token's Actor, what the
// caller may see. Errors come back with the kind the server gave them, so exit codes match the
// local mode; a server that cannot be reached is ErrorKind::unavailable (exit 5).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>

#include "cli/http_client.h"
#include "lib/service/service.h"

namespace x420::cli {

class RemoteService final : public service::Service {
 public:
  RemoteService(ServerUrl server, std::string token);
  ~RemoteService() override;  // wipes the token
  RemoteService(const RemoteService&) = delete;
  RemoteService& operator=(const RemoteService&) = delete;

  Result<service::IssuedKey> create_key(const std::string& tenant, const service::KeySpec& spec) override;
  Result<std::vector<service::KeyInfo>> list_keys(const std::string& tenant) override;
  Result<service::KeyInfo> show_key(const std::string& tenant, const std::string& id) override;
  Result<service::IssuedKey> rotate_key(const std::string& tenant, const std::string& id,
                                        UnixSeconds grace) override;
  Result<service::KeyInfo> revoke_key(const std::string& tenant, const std::string& id) override;
  Result<service::KeyInfo> verify_key(std::string_view plaintext) override;

  Result<service::UpstreamInfo> add_upstream(const std::string& tenant, service::UpstreamSpec spec) override;
  Result<std::vector<service::UpstreamInfo>> list_upstreams(const std::string& tenant) override;
  Result<service::UpstreamInfo> remove_upstream(const std::string& tenant, const std::string& name) override;
  Result<service::UpstreamInfo> update_upstream(const std::string& tenant, const std::string& name,
                                                service::UpstreamUpdate update) override;

  Result<std::vector<service::UsageInfo>> list_usage(const std::string& tenant, const std::string& key_id,
                                                    UnixSeconds since, std::size_t limit) override;
  Result<service::UsageInfo> generation(const std::string& tenant, const std::string& id) override;

  Result<service::IssuedTenant> create_tenant(const std::string& name) override;
  Result<std::vector<service::TenantInfo>> list_tenants() override;
  Result<service::TenantInfo> delete_tenant(const std::string& name) override;
  Result<service::TenantInfo> add_tenant_credit(const std::string& name,
                                                std::optional<std::int64_t> add_micros) override;

  Result<std::vector<service::ConversationInfo>> list_conversations(const std::string& tenant,
                                                                    std::size_t limit) override;
  Result<service::ConversationDetail> show_conversation(const std::string& tenant, const std::string& id) override;
  // The server streams the bundle (chunked); each piece goes to `sink` as it arrives.
  Status export_account(const std::string& tenant, const service::ExportSink& sink) override;
  Result<service::TenantInfo> delete_account(const std::string& tenant) override;

 private:
  // One request; the parsed JSON of a 2xx reply, or the error the server (or the way to it)
  // gave. `body` may carry a secret: the caller wipes it.
  Result<nlohmann::json> call(HttpMethod method, const std::string& path, const std::string& body = {},
                              const BodySink& sink = {});

  ServerUrl server_;
  std::string token_;
};

// "/x420/v1/tenants/" + the tenant's name, percent-encoded (a segment of the path).
std::string tenant_path(const std::string& tenant);
// RFC 3986: everything but unreserved characters as %XX, so that a name cannot change the route.
std::string percent_encode(std::string_view text);

}  // namespace x420::cli
