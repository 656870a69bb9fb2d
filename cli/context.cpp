#include "cli/context.h"

#include <cstdlib>
#include <filesystem>

#include "cli/credentials.h"
#include "cli/remote_service.h"
#include "cli/store_registry.h"
#include "lib/service/local_service.h"

namespace x420::cli {
namespace {

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// $XDG_x_HOME, or $HOME/<fallback> (XDG Base Directory spec: relative values are ignored).
std::string xdg_dir(const char* variable, const char* fallback) {
  const auto value = env_or_empty(variable);
  if (!value.empty() && value.front() == '/') return value;
  const auto home = env_or_empty("HOME");
  if (home.empty())
    throw Fatal(ErrorKind::usage, std::string("neither ") + variable +
                                      " nor HOME is set; pass --db and set X420_MASTER_KEY");
  return home + "/" + fallback;
}

}  // namespace

Context::Context(GlobalOptions global)
    : global_(std::move(global)),
      out_(OutputOptions{global_.json, global_.quiet, global_.verbose, global_.no_color}) {}

Context::~Context() = default;

std::string Context::db_path() const {
  if (!global_.db.empty()) return global_.db;
  return xdg_dir("XDG_DATA_HOME", ".local/share") + "/x420/x420.db";
}

std::string Context::server_url() const {
  if (!global_.server.empty()) {
    if (!global_.db.empty())
      throw Fatal(ErrorKind::usage, "--db and --server exclude each other: one store, or one service");
    return global_.server;
  }
  if (!global_.db.empty()) return {};  // an explicit --db wins over X420_SERVER in the environment
  return env_or_empty("X420_SERVER");
}

service::MasterKeySource Context::master_key_source() const {
  service::MasterKeySource source;
  if (const char* v = std::getenv("X420_MASTER_KEY"); v && *v) source.env_value = v;
  source.file = xdg_dir("XDG_CONFIG_HOME", ".config") + "/x420/master.key";
  return source;
}

service::OpenStore& Context::local() {
  if (!open_.store) {
    const auto source = master_key_source();
    auto opened = service::open_store(db_path(), source);
    if (!opened) throw Fatal(opened.error());
    open_ = std::move(opened.value());
    if (!source.env_value) remember_store(source.file, db_path());
  }
  return open_;
}

bool Context::store_exists() const {
  std::error_code ec;
  return std::filesystem::exists(db_path(), ec);
}

service::Service& Context::service() {
  if (service_) return *service_;
  if (const auto server = server_url(); !server.empty()) {
    auto url = parse_server_url(server);
    if (!url) throw Fatal(url.error());
    auto token = management_token(*url, [] { return xdg_dir("XDG_CONFIG_HOME", ".config") + "/x420/credentials"; });
    if (!token) throw Fatal(token.error());
    service_ = std::make_unique<RemoteService>(std::move(*url), std::move(*token));
  } else {
    local();
    service_ = std::make_unique<service::LocalService>(*open_.store, *open_.keyring, clock_,
                                                       service::Actor::operator_actor());
  }
  return *service_;
}

int Context::fail(const Error& error) const {
  out_.error(error);
  return exit_code_for(error.kind);
}

}  // namespace x420::cli
