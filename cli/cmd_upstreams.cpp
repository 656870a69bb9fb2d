// x420 upstreams add|list|remove: the providers the proxy forwards to. Their API keys are read
// from stdin or an environment variable (never a flag, which would land in shell history and
// the process list), sealed at once, and never printed again.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <iostream>

#include "cli/cli.h"
#include "cli/context.h"
#include "cli/validators.h"
#include "lib/common/time_format.h"
#include "lib/crypto/secret_bytes.h"
#include "lib/service/json_views.h"

namespace x420::cli {
namespace {

struct AddOptions {
  service::UpstreamSpec spec;
  bool key_stdin = false;
  std::string key_env;
};

Result<std::string> read_api_key(const AddOptions& o) {
  if (o.key_stdin == !o.key_env.empty())
    return make_error(ErrorKind::usage, "give the upstream's key with exactly one of --api-key-stdin or --api-key-env VAR");
  std::string key;
  if (o.key_stdin) {
    if (::isatty(STDIN_FILENO)) std::cerr << "Paste the upstream's API key and press Enter: " << std::flush;
    std::getline(std::cin, key);
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

int run_remove(Context& ctx, const std::string& name) {
  auto removed = ctx.service().remove_upstream(ctx.tenant(), name);
  if (!removed) return ctx.fail(removed.error());
  if (ctx.out().json()) ctx.out().document(service::upstream_json(*removed));
  else ctx.out().note("Removed upstream " + removed->name + ".");
  return 0;
}

}  // namespace

void register_upstreams(CLI::App& root, Invocation& inv) {
  auto* ups = root.add_subcommand("upstreams", "Add, list and remove the providers the proxy forwards to");
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
