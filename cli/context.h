// What a command handler works with: the global options, the output, the clock, and the
// service, opened on first use so that commands that need no store (help, completions) never
// touch one.
#pragma once

#include <memory>
#include <string>

#include "cli/cli.h"
#include "cli/output.h"
#include "lib/common/clock.h"
#include "lib/common/result.h"
#include "lib/service/bootstrap.h"
#include "lib/service/service.h"

namespace x420::cli {

class Context {
 public:
  explicit Context(GlobalOptions global);
  ~Context();

  const GlobalOptions& global() const { return global_; }
  const Output& out() const { return out_; }
  const Clock& clock() const { return clock_; }
  const std::string& tenant() const { return global_.tenant; }

  std::string db_path() const;
  // The service to work on: --server, else X420_SERVER unless --db was given; empty for the
  // embedded store. Throws Fatal if both --server and --db were given.
  std::string server_url() const;
  service::MasterKeySource master_key_source() const;

  // The service of server_url() through its admin API, with the management token of
  // X420_TOKEN or the credentials file; else the embedded store, opened as the operator. Throws
  // Fatal if it cannot (no token, a bad URL, a missing store, a wrong master key, …).
  service::Service& service();
  // The opened store and its keyring (opening them if needed; throws Fatal like service()).
  service::OpenStore& local();
  bool store_exists() const;

  // Prints the error and returns its exit code: `return ctx.fail(result.error());`
  int fail(const Error& error) const;

 private:
  GlobalOptions global_;
  Output out_;
  SystemClock clock_;
  service::OpenStore open_;
  std::unique_ptr<service::Service> service_;
};

}  // namespace x420::cli
