#include <CLI/CLI.hpp>

#include <algorithm>

#include "cli/cli.h"
#include "cli/version.h"

namespace x420::cli {
namespace {

// The global options, as a block for the help of every command below the root: `x420 keys
// list --help` should not send the user to `x420 --help` to find --json.
std::string global_options_block(const CLI::App& root) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const CLI::Option* opt : root.get_options()) {
    if (!opt->nonpositional() || opt == root.get_help_ptr() || opt->get_lnames() == std::vector<std::string>{"version"})
      continue;
    std::string names;
    for (const auto& s : opt->get_snames()) names += "-" + s + ",";
    for (const auto& l : opt->get_lnames()) names += "--" + l;
    if (opt->get_items_expected_max() > 0) names += " " + opt->get_type_name();
    rows.emplace_back(names, opt->get_description());
  }
  std::size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r.first.size());
  std::string block = "Global options (also before the command):";
  for (const auto& [names, description] : rows)
    block += "\n  " + names + std::string(width + 2 - names.size(), ' ') + description;
  return block;
}

void add_global_options(CLI::App& app, const std::string& block) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    const std::string footer = sub->get_footer();
    sub->footer(footer.empty() ? block : footer + "\n\n" + block);
    add_global_options(*sub, block);
  }
}

}  // namespace

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
  register_doctor(*app, inv);
  register_completions(*app, inv);
  register_version(*app, inv);
  register_help(*app, inv);
  add_global_options(*app, global_options_block(*app));
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
