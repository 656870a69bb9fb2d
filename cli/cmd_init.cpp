// x420 init: create the store, the master key, the default tenant and the operator token.
// Running it again changes nothing and says so.
#include <CLI/CLI.hpp>

#include "cli/cli.h"
#include "cli/context.h"
#include "cli/store_registry.h"
#include "lib/crypto/secret_bytes.h"

namespace x420::cli {
namespace {

int run_init(Context& ctx) {
  const auto db = ctx.db_path();
  const auto source = ctx.master_key_source();
  auto report = service::initialize(db, source, ctx.clock());
  if (!report) return ctx.fail(report.error());
  if (!source.env_value) remember_store(source.file, db);
  const auto& out = ctx.out();
  const std::string key_origin = source.env_value ? "X420_MASTER_KEY" : source.file.string();

  if (out.json()) {
    out.document({{"db", db},
                  {"master_key", key_origin},
                  {"store_created", report->store_created},
                  {"master_key_created", report->master_key_created},
                  {"default_tenant_created", report->default_tenant_created},
                  {"operator_token", report->operator_token ? nlohmann::ordered_json(*report->operator_token)
                                                            : nlohmann::ordered_json(nullptr)}});
  } else if (report->operator_token) {
    out.note("Initialised the x420 store at " + db + ".");
    out.note(report->master_key_created ? "Created the master key at " + key_origin +
                                              " (mode 0600): back it up; without it the store's "
                                              "sealed secrets cannot be read."
                                        : "Using the master key from " + key_origin + ".");
    out.note("The operator token (all tenants, for --server) follows. Copy it now: x420 will not "
             "show it again.");
    out.line(*report->operator_token);
  } else {
    out.note("The x420 store at " + db + " is already initialised; nothing to do" +
             std::string(report->default_tenant_created ? " (recreated the default tenant)." : "."));
  }
  if (report->operator_token) crypto::wipe(*report->operator_token);
  return 0;
}

}  // namespace

void register_init(CLI::App& root, Invocation& inv) {
  auto* init = root.add_subcommand("init", "Create the store, master key and default tenant");
  init->footer(
      "Safe to run again: an initialised store is left as it is, and a store whose master key\n"
      "is missing is never given a new one.\n"
      "The master key lives in $XDG_CONFIG_HOME/x420/master.key (mode 0600), or X420_MASTER_KEY.\n"
      "Examples:\n"
      "  x420 init\n"
      "  x420 init --json | jq -r .operator_token   # the management token, for --server\n"
      "  x420 --db /srv/x420/x420.db init");
  inv.actions[init] = [](Context& ctx) { return run_init(ctx); };
}

}  // namespace x420::cli
