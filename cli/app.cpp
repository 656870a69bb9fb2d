#include <CLI/CLI.hpp>

#include "cli/cli.h"
#include "cli/version.h"

namespace x420::cli {

std::unique_ptr<CLI::App> build_app(Invocation& inv) {
  auto app = std::make_unique<CLI::App>(
      "x420 keeps secrets out of LLM prompts: API keys, redaction and a redacting proxy.", "x420");
  app->fallthrough();  // global options may follow the command: `x420 keys list --json`
  app->require_subcommand(0, 1);
  app->set_version_flag("--version", std::string("x420 ") + kVersion);
  app->footer(
      "Exit codes: 0 ok, 1 scan found secrets, 2 usage or bad input, 3 auth, 4 not found,\n"
      "5 service unreachable, 70 internal error.\n"
      "Run `x420 help COMMAND` for a command's options and examples.");

  auto& g = inv.global;
  app->add_option("--db", g.db, "Embedded store file (default $XDG_DATA_HOME/x420/x420.db)")
      ->type_name("PATH");
  app->add_option("--server", g.server,
                  "Work on a running x420 service (or X420_SERVER); its token from X420_TOKEN or "
                  "the credentials file")
      ->type_name("URL");
  app->add_option("--tenant", g.tenant, "Tenant to act on")->type_name("NAME")->capture_default_str();
  app->add_flag("--json", g.json, "Machine output: one JSON document on stdout");
  app->add_flag("-q,--quiet", g.quiet, "Print only results, no notes");
  app->add_flag("-v,--verbose", g.verbose, "Explain more on stderr");
  app->add_flag("--no-color", g.no_color, "No colour (also when NO_COLOR is set)");

  // The commands, in the order `x420 --help` lists them.
  register_init(*app, inv);
  register_keys(*app, inv);
  register_tenants(*app, inv);
  register_upstreams(*app, inv);
  register_scan(*app, inv);
  register_redact(*app, inv);
  register_rules(*app, inv);
  register_serve(*app, inv);
  register_usage(*app, inv);
  register_history(*app, inv);
  register_export(*app, inv);
  register_account(*app, inv);
  register_kek(*app, inv);
  register_completions(*app, inv);
  register_help(*app, inv);
  return app;
}

const CLI::App* parsed_leaf(const CLI::App& root) {
  const CLI::App* current = &root;
  for (;;) {
    const auto subs = current->get_subcommands();
    if (subs.empty()) return current;
    current = subs.front();
  }
}

}  // namespace x420::cli
