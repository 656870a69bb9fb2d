// x420 upstreams add|list|update|test|remove: the providers the proxy forwards to. Their API keys are read
// from stdin or an environment variable (never a flag, which would land in shell history and
// the process list), sealed at once, and never printed again.
#include <CLI/CLI.hpp>
#include <fnmatch.h>
#include <unistd.h>

#include <iostream>

#include "cli/cli.h"
#include "cli/context.h"
#include "cli/terminal.h"
#include "cli/upstream_probe.h"
#include "cli/validators.h"
#include "lib/common/time_format.h"
#include "lib/crypto/secret_bytes.h"
#include "lib/service/json_views.h"

namespace x420::cli {
namespace {

struct KeySource {
  bool key_stdin = false;
  std::string key_env;
};

struct AddOptions : KeySource {
  service::UpstreamSpec spec;
};

struct UpdateOptions : KeySource {
  std::string name;
  std::string base_url;
  std::vector<std::string> models;
  bool no_models = false;
};

Result<std::string> read_api_key(const KeySource& o) {
  if (o.key_stdin == !o.key_env.empty())
    return make_error(ErrorKind::usage, "give the upstream's key with exactly one of --api-key-stdin or --api-key-env VAR");
  std::string key;
  if (o.key_stdin) {
    if (::isatty(STDIN_FILENO)) {
      std::cerr << "Paste the upstream's API key and press Enter (it is not shown): " << std::flush;
      key = read_line_unechoed();
    } else {
      std::getline(std::cin, key);
    }
  } else {
    const char* v = std::getenv(o.key_env.c_str());
    if (!v) return make_error(ErrorKind::usage, "--api-key-env " + o.key_env + ": the variable is not set");
    key = v;
  }
  while (!key.empty() && (key.back() == '\r' || key.back() == '\n' || key.back() == ' ')) key.pop_back();
  if (key.empty()) return make_error(ErrorKind::usage, "the upstream's API key is empty");
  return key;
}

int run_add(Context& ctx, AddOptions o) {
  auto key = read_api_key(o);
  if (!key) return ctx.fail(key.error());
  o.spec.api_key = std::move(key.value());
  auto added = ctx.service().add_upstream(ctx.tenant(), std::move(o.spec));
  if (!added) return ctx.fail(added.error());
  if (ctx.out().json()) ctx.out().document(service::upstream_json(*added));
  else ctx.out().note("Added upstream " + added->name + " (" + added->kind + ", " + added->base_url +
                      "); its key is sealed and will not be shown.");
  return 0;
}

int run_list(Context& ctx) {
  auto list = ctx.service().list_upstreams(ctx.tenant());
  if (!list) return ctx.fail(list.error());
  if (ctx.out().json()) {
    auto doc = nlohmann::ordered_json::array();
    for (const auto& u : *list) doc.push_back(service::upstream_json(u));
    ctx.out().document(doc);
    return 0;
  }
  if (list->empty()) {
    ctx.out().note("No upstreams in tenant " + ctx.tenant() +
                   " (x420 upstreams add NAME --base-url URL --kind openai --api-key-env VAR).");
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& u : *list) {
    std::string models;
    for (const auto& m : u.models) models += (models.empty() ? "" : " ") + m;
    rows.push_back({u.name, u.kind, u.base_url, models.empty() ? "-" : models, format_timestamp(u.created_at)});
  }
  ctx.out().table({"NAME", "KIND", "BASE URL", "MODELS", "CREATED"}, rows);
  return 0;
}

int run_update(Context& ctx, const UpdateOptions& o) {
  service::UpstreamUpdate update;
  if (!o.base_url.empty()) update.base_url = o.base_url;
  if (o.no_models) update.models = std::vector<std::string>{};
  else if (!o.models.empty()) update.models = o.models;
  if (o.key_stdin || !o.key_env.empty()) {
    auto key = read_api_key(o);
    if (!key) return ctx.fail(key.error());
    update.api_key = std::move(key.value());
  }
  const bool new_key = update.api_key.has_value();
  auto updated = ctx.service().update_upstream(ctx.tenant(), o.name, std::move(update));
  if (!updated) return ctx.fail(updated.error());
  if (ctx.out().json()) {
    ctx.out().document(service::upstream_json(*updated));
  } else {
    std::string models;
    for (const auto& m : updated->models) models += (models.empty() ? "" : " ") + m;
    ctx.out().note("Updated upstream " + updated->name + ": " + updated->base_url + ", models " +
                   (models.empty() ? "(none by glob; NAME/model still routes)" : models) +
                   (new_key ? "; its new key is sealed and will not be shown" : "") +
                   ". A running x420 serve uses it within a second.");
  }
  return 0;
}

// Asks the provider for its models with the sealed key, from this machine: the key is opened here,
// so only on the embedded store (a service's upstreams are checked where it runs: x420 doctor).
int run_test(Context& ctx, const std::string& name) {
  if (!ctx.server_url().empty())
    return ctx.fail(make_error(ErrorKind::usage, "upstreams test opens the upstream's key, so it works on the embedded "
                                                 "store: run it on the machine x420 serve runs on (or x420 doctor there)"));
  auto& local = ctx.local();
  const auto tenant = local.store->tenant_by_name(ctx.tenant());
  if (!tenant) return ctx.fail(make_error(ErrorKind::not_found, "no tenant named " + ctx.tenant()));
  const auto row = local.store->upstream_by_name(tenant->id, name);
  if (!row)
    return ctx.fail(make_error(ErrorKind::not_found, "no upstream named " + name + " in tenant " + ctx.tenant() +
                                                         " (x420 upstreams list shows them)"));
  auto secret = local.keyring->open_upstream_secret(*row);
  if (!secret)
    return ctx.fail(make_error(ErrorKind::auth, "the sealed key of upstream " + name + " does not open (" +
                                                    secret.error().message + "); add it again"));
  const auto probe = probe_upstream(*row, secret->view());
  // Which of the provider's models the upstream's globs route here.
  std::vector<std::string> routed;
  for (const auto& m : probe.models)
    for (const auto& glob : row->models)
      if (::fnmatch(glob.c_str(), m.c_str(), 0) == 0) {
        routed.push_back(m);
        break;
      }
  if (ctx.out().json()) {
    nlohmann::ordered_json doc = {{"name", row->name},       {"ok", probe.ok},
                                  {"status", probe.status},  {"ms", probe.elapsed.count()},
                                  {"models", probe.models},  {"routed_by_globs", routed}};
    if (!probe.ok) doc["problem"] = probe.problem, doc["fix"] = probe.fix;
    ctx.out().document(doc);
  } else if (probe.ok) {
    std::string shown;
    for (std::size_t i = 0; i < probe.models.size() && i < 8; ++i) shown += (i ? ", " : "") + probe.models[i];
    if (probe.models.size() > 8) shown += ", …";
    ctx.out().line("ok: " + row->name + " answers in " + std::to_string(probe.elapsed.count()) + " ms with " +
                   std::to_string(probe.models.size()) + " model(s)" + (shown.empty() ? "" : ": " + shown));
    if (!row->models.empty())
      ctx.out().note(std::to_string(routed.size()) + " of them match its --models globs; any other routes as " +
                     row->name + "/MODEL.");
  } else {
    ctx.out().error(make_error(ErrorKind::unavailable, row->name + ": " + probe.problem + " (" + probe.fix + ")"));
  }
  if (probe.ok) return 0;
  return exit_code_for(probe.status == 401 || probe.status == 403 ? ErrorKind::auth : ErrorKind::unavailable);
}

int run_remove(Context& ctx, const std::string& name) {
  auto removed = ctx.service().remove_upstream(ctx.tenant(), name);
  if (!removed) return ctx.fail(removed.error());
  if (ctx.out().json()) ctx.out().document(service::upstream_json(*removed));
  else ctx.out().note("Removed upstream " + removed->name + ".");
  return 0;
}

}  // namespace

void register_upstreams(CLI::App& root, Invocation& inv) {
  auto* ups = root.add_subcommand("upstreams", "Add, list, update, test and remove the providers the proxy forwards to");
  ups->require_subcommand(0, 1);

  auto a = std::make_shared<AddOptions>();
  auto* add = ups->add_subcommand("add", "Add a provider; its key is sealed and never shown again");
  add->add_option("name", a->spec.name, "A name for it, used in routing (upstream/model)")->required();
  add->add_option("--base-url", a->spec.base_url, "As the provider's SDK takes it: openai kind with the API's path (…/v1), anthropic kind without /v1")
      ->required()
      ->type_name("URL");
  add->add_option("--kind", a->spec.kind, "API shape")->required()->check(one_of({"openai", "anthropic"}));
  add->add_flag("--api-key-stdin", a->key_stdin, "Read the provider's key from stdin");
  add->add_option("--api-key-env", a->key_env, "Read the provider's key from this environment variable")
      ->type_name("VAR");
  add->add_option("--models", a->spec.models, "Model globs routed here (gpt-4o*, claude-*)")->type_name("GLOB");
  add->footer(
      "Examples:\n"
      "  x420 upstreams add openai --kind openai --base-url https://api.openai.com/v1 --api-key-env OPENAI_API_KEY --models 'gpt-*' 'o*'\n"
      "  pass show anthropic | x420 upstreams add claude --kind anthropic --base-url https://api.anthropic.com --api-key-stdin\n"
      "  x420 upstreams add gemini --kind openai --base-url https://generativelanguage.googleapis.com/v1beta/openai --api-key-env GEMINI_API_KEY --models 'gemini-*'\n"
      "  x420 upstreams add openrouter --kind openai --base-url https://openrouter.ai/api/v1 --api-key-env OPENROUTER_API_KEY --models 'meta-llama/*' 'mistralai/*'\n"
      "  x420 upstreams add ollama --kind openai --base-url http://127.0.0.1:11434/v1 --api-key-env OLLAMA_KEY --models 'llama*' 'qwen*'");
  inv.actions[add] = [a](Context& ctx) { return run_add(ctx, *a); };

  auto* list = ups->add_subcommand("list", "List providers (never their keys)");
  list->footer(
      "Examples:\n"
      "  x420 upstreams list\n"
      "  x420 upstreams list --json | jq -r '.[] | \"\\(.name) \\(.base_url)\"'");
  inv.actions[list] = [](Context& ctx) { return run_list(ctx); };

  auto u = std::make_shared<UpdateOptions>();
  auto* update = ups->add_subcommand("update", "Change a provider's base URL, key or model globs");
  update->add_option("name", u->name, "The upstream's name")->required();
  update->add_option("--base-url", u->base_url, "A new base URL, as its SDK takes it")->type_name("URL");
  update->add_flag("--api-key-stdin", u->key_stdin, "A new key, read from stdin");
  update->add_option("--api-key-env", u->key_env, "A new key, read from this environment variable")->type_name("VAR");
  auto* models = update->add_option("--models", u->models, "New model globs, replacing the old ones")->type_name("GLOB");
  update->add_flag("--no-models", u->no_models, "Route nothing here by glob (NAME/model still does)")->excludes(models);
  update->footer(
      "What is not given stays; the name and the kind never change (remove and add for that).\n"
      "Examples:\n"
      "  x420 upstreams update openai --api-key-env OPENAI_API_KEY        # a rotated provider key\n"
      "  x420 upstreams update openai --models 'gpt-*' 'o*' 'chatgpt-*'\n"
      "  pass show openai | x420 upstreams update openai --api-key-stdin");
  inv.actions[update] = [u](Context& ctx) { return run_update(ctx, *u); };

  auto test_name = std::make_shared<std::string>();
  auto* test = ups->add_subcommand("test", "Ask a provider for its models with its sealed key");
  test->add_option("name", *test_name, "The upstream's name")->required();
  test->footer(
      "Exit 0 when it answers with a model list, 3 when it refuses the key, 5 when it cannot be reached\n"
      "or answers otherwise. The key is opened on this machine and sent to that provider only.\n"
      "Examples:\n"
      "  x420 upstreams test openai\n"
      "  x420 upstreams test openai --json | jq -r '.models[]'");
  inv.actions[test] = [test_name](Context& ctx) { return run_test(ctx, *test_name); };

  auto name = std::make_shared<std::string>();
  auto* remove = ups->add_subcommand("remove", "Remove a provider and its sealed key");
  remove->add_option("name", *name, "The upstream's name")->required();
  remove->footer(
      "Requests for its models are answered 404 from then on; its sealed key is deleted.\n"
      "Example:\n"
      "  x420 upstreams remove openai");
  inv.actions[remove] = [name](Context& ctx) { return run_remove(ctx, *name); };
}

}  // namespace x420::cli
