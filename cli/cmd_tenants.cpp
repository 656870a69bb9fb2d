// x420 tenants create|list|delete (operator)
#include <CLI/CLI.hpp>


#include "cli/cli.h"
#include "cli/confirm.h"
#include "cli/context.h"
#include "cli/views.h"
#include "lib/common/money.h"
#include "lib/crypto/secret_bytes.h"

namespace x420::cli {
namespace {

struct TenantOptions {
  std::string name;
  bool yes = false;
};

struct CreditOptions {
  std::string name;
  std::string add_usd;
  bool unlimited = false;
};

int run_create(Context& ctx, const TenantOptions& o) {
  auto issued = ctx.service().create_tenant(o.name);
  if (!issued) return ctx.fail(issued.error());
  const auto& out = ctx.out();
  if (out.json()) {
    auto doc = service::tenant_json(issued->info);
    doc["admin_token"] = issued->admin_token;
    out.document(doc);
  } else {
    out.note("Created tenant " + issued->info.name + ". Its admin token follows (this tenant "
             "only, for --server). Copy it now: x420 will not show it again.");
    out.line(issued->admin_token);
  }
  crypto::wipe(issued->admin_token);
  return 0;
}

int run_list(Context& ctx) {
  auto tenants = ctx.service().list_tenants();
  if (!tenants) return ctx.fail(tenants.error());
  if (ctx.out().json()) {
    auto doc = nlohmann::ordered_json::array();
    for (const auto& t : *tenants) doc.push_back(service::tenant_json(t));
    ctx.out().document(doc);
  } else {
    print_tenant_table(ctx.out(), *tenants);
  }
  return 0;
}

int run_delete(Context& ctx, const TenantOptions& o) {
  // It takes every key with it, so it asks first (type the name, or --yes in a script).
  if (!confirmed_by_typing("This deletes tenant " + o.name +
                               " with all its keys, tokens, upstreams, usage and conversations.",
                           o.name, o.yes))
    return ctx.fail(make_error(ErrorKind::usage, "not deleting tenant " + o.name +
                                                     ": confirm by typing its name on a terminal, "
                                                     "or pass --yes"));
  auto deleted = ctx.service().delete_tenant(o.name);
  if (!deleted) return ctx.fail(deleted.error());
  if (ctx.out().json()) ctx.out().document(service::tenant_json(*deleted));
  else
    ctx.out().note("Deleted tenant " + deleted->name + " and its " +
                   std::to_string(deleted->key_count) + " key(s).");
  return 0;
}

int run_credit(Context& ctx, const CreditOptions& o) {
  std::optional<std::int64_t> add;
  if (!o.unlimited && o.add_usd.empty())
    return ctx.fail(make_error(ErrorKind::usage, "tenants credit: give --add-usd AMOUNT or --unlimited"));
  if (!o.unlimited) {
    add = parse_usd_micros(o.add_usd);
    if (!add || *add <= 0)
      return ctx.fail(make_error(ErrorKind::usage, "--add-usd '" + o.add_usd +
                                                       "' is not a positive amount in dollars (e.g. 25 or 12.50)"));
  }
  auto changed = ctx.service().add_tenant_credit(o.name, add);
  if (!changed) return ctx.fail(changed.error());
  if (ctx.out().json()) ctx.out().document(service::tenant_json(*changed));
  else print_tenant_table(ctx.out(), {*changed});
  return 0;
}

}  // namespace

void register_tenants(CLI::App& root, Invocation& inv) {
  auto* tenants = root.add_subcommand("tenants", "Create, list and delete tenants (operator)");
  tenants->require_subcommand(0, 1);

  auto create_opts = std::make_shared<TenantOptions>();
  auto* create = tenants->add_subcommand("create", "Create a tenant and print its admin token once");
  create->add_option("name", create_opts->name, "Lowercase letters, digits, - and _")->required();
  create->footer(
      "Examples:\n"
      "  x420 tenants create acme\n"
      "  TOKEN=$(x420 tenants create acme --json | jq -r .admin_token)");
  inv.actions[create] = [create_opts](Context& ctx) { return run_create(ctx, *create_opts); };

  auto* list = tenants->add_subcommand("list", "List tenants with their key counts");
  list->footer(
      "Examples:\n"
      "  x420 tenants list\n"
      "  x420 tenants list --json | jq -r '.[].name'");
  inv.actions[list] = [](Context& ctx) { return run_list(ctx); };

  auto delete_opts = std::make_shared<TenantOptions>();
  auto* del = tenants->add_subcommand("delete", "Delete a tenant and every row it owns");
  del->add_option("name", delete_opts->name, "The tenant's name")->required();
  del->add_flag("-y,--yes", delete_opts->yes, "Do not ask for confirmation (for scripts)");
  del->footer(
      "Every key, usage row, stored conversation and upstream of the tenant is deleted in one\n"
      "transaction; `x420 export` first if you need them.\n"
      "Examples:\n"
      "  x420 tenants delete acme\n"
      "  x420 tenants delete acme --yes --json   # in a script");
  inv.actions[del] = [delete_opts](Context& ctx) { return run_delete(ctx, *delete_opts); };

  auto credit_opts = std::make_shared<CreditOptions>();
  auto* credit = tenants->add_subcommand(
      "credit", "Add prepaid credit to a tenant's balance, or lift its limit");
  credit->add_option("name", credit_opts->name, "The tenant's name")->required();
  auto* add = credit->add_option("--add-usd", credit_opts->add_usd, "Dollars to add to the credit")->type_name("USD");
  auto* unlimited = credit->add_flag("--unlimited", credit_opts->unlimited,
                                     "No balance limit: only the keys' own caps apply");
  add->excludes(unlimited);
  credit->footer(
      "A tenant starts with no balance limit. Once it has credit, the proxy freezes each request's\n"
      "maximum cost against credit minus spend and answers 402 when it cannot be covered.\n"
      "Examples:\n"
      "  x420 tenants credit acme --add-usd 100\n"
      "  x420 tenants list --json | jq '.[] | {name, balance_usd}'");
  inv.actions[credit] = [credit_opts](Context& ctx) { return run_credit(ctx, *credit_opts); };
}

}  // namespace x420::cli
