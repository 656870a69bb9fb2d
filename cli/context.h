// What a command handler works with: the global options, the output, the clock, and the
// service, opened on first use so that commands that need no store (help, completions) never
// touch one.
#pragma once

#include <memory>
#include <string>

#include "cli/cli.h"
#include "cli/output.h"
#include "common/clock.h"
#include "common/result.h"
#include "service/bootstrap.h"
#include "service/service.h"

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
  service::MasterKeySource master_key_source() const;

  // Opens the store as the operator; throws Fatal if it cannot (missing, wrong master key, …).
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
