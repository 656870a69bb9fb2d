// x420 account delete [--yes]: the hard wipe of the --tenant account (DESIGN.md, "Data
// lifecycle"): every row of it in one transaction, no tombstone; its keys stop working at once.
#include <CLI/CLI.hpp>

#include "cli/cli.h"
#include "cli/confirm.h"
#include "cli/context.h"
#include "lib/service/json_views.h"

namespace x420::cli {
namespace {

int run_delete(Context& ctx, bool yes) {
  const auto& tenant = ctx.tenant();
  if (!confirmed_by_typing("This deletes account " + tenant +
                               " for good: its keys, tokens, upstreams, usage and stored conversations. "
                               "Consider x420 export first.",
                           tenant, yes))
    return ctx.fail(make_error(ErrorKind::usage, "not deleting account " + tenant +
                                                     ": confirm by typing its name on a terminal, or pass --yes"));
  auto deleted = ctx.service().delete_account(tenant);
  if (!deleted) return ctx.fail(deleted.error());
  if (ctx.out().json()) ctx.out().document(service::tenant_json(*deleted));
  else
    ctx.out().note("Deleted account " + deleted->name + " with its " + std::to_string(deleted->key_count) +
                   " key(s) and everything stored for it.");
  return 0;
}

}  // namespace

void register_account(CLI::App& root, Invocation& inv) {
  auto* account = root.add_subcommand("account", "Delete the --tenant account and all its data");
  account->require_subcommand(1);
  auto yes = std::make_shared<bool>(false);
  auto* del = account->add_subcommand("delete", "Hard-delete the account: every row, no tombstone, no undo");
  del->add_flag("-y,--yes", *yes, "Do not ask for confirmation (for scripts)");
  del->footer(
      "The account is --tenant (default: default). On a terminal x420 asks you to type its name;\n"
      "without a terminal it refuses unless --yes is given. A running x420 serve refuses the\n"
      "account's keys at once. A tenant's admin token may delete its own account.\n"
      "Examples:\n"
      "  x420 export -o acme.json --tenant acme && x420 account delete --tenant acme\n"
      "  x420 account delete --tenant acme --yes --server https://x420.internal");
  inv.actions[del] = [yes](Context& ctx) { return run_delete(ctx, *yes); };
}

}  // namespace x420::cli
