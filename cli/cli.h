// The command tree: global options, and which handler each command runs. The tree itself is
// built by build_app() from the register_* functions below, one per command family, so the list
// of commands reads in one place (app.cpp) and completions and the man page are checked
// against it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace CLI {
class App;
}

namespace x420::cli {

class Context;

struct GlobalOptions {
  std::string db;  // empty: $XDG_DATA_HOME/x420/x420.db
  std::string server;  // a running x420 service (else X420_SERVER); empty: the embedded store
  std::string tenant = "default";
  bool json = false;
  bool quiet = false;
  bool verbose = false;
  bool no_color = false;
};

using Action = std::function<int(Context&)>;

struct Invocation {
  GlobalOptions global;
  std::map<const CLI::App*, Action> actions;  // leaf command → its handler
};

std::unique_ptr<CLI::App> build_app(Invocation& invocation);

// The deepest command that was parsed (the root if none).
const CLI::App* parsed_leaf(const CLI::App& root);

void register_init(CLI::App& root, Invocation& inv);
void register_keys(CLI::App& root, Invocation& inv);
void register_tenants(CLI::App& root, Invocation& inv);
void register_upstreams(CLI::App& root, Invocation& inv);
void register_scan(CLI::App& root, Invocation& inv);
void register_redact(CLI::App& root, Invocation& inv);
void register_rules(CLI::App& root, Invocation& inv);
void register_serve(CLI::App& root, Invocation& inv);
void register_usage(CLI::App& root, Invocation& inv);
void register_history(CLI::App& root, Invocation& inv);
void register_export(CLI::App& root, Invocation& inv);
void register_account(CLI::App& root, Invocation& inv);
void register_kek(CLI::App& root, Invocation& inv);
void register_completions(CLI::App& root, Invocation& inv);
void register_version(CLI::App& root, Invocation& inv);
void register_doctor(CLI::App& root, Invocation& inv);
void register_help(CLI::App& root, Invocation& inv);

}  // namespace x420::cli
