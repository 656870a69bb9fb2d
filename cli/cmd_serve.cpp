// x420 serve: run the redacting proxy on the embedded store.
#include <CLI/CLI.hpp>

#include "cli/cli.h"
#include "cli/context.h"
#include "cli/detection_setup.h"
#include "cli/validators.h"
#include "cli/version.h"
#include "proxy/listen_address.h"
#include "proxy/server.h"
#include "lib/common/time_format.h"

#include <cstdlib>
#include <future>
#include <string>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace x420::cli {

void add_detection_options(CLI::App& cmd, DetectionOptions& d);  // cmd_scan.cpp

namespace {

struct ServeOptions {
  std::string listen = "127.0.0.1:8420";
  std::string redact = "pseudonymize";
  std::string unscanned_payloads = "forward";
  bool allow_plaintext_remote = false;
  std::string tls_cert;
  std::string tls_key;
  std::size_t max_body_mb = 10;
  bool store_conversations = false;
  std::string conversation_ttl = "24h";
  bool redact_personal = false;
  DetectionOptions detection;
};

// What serve runs with, on stderr before the "listening" line: the store, the policies, the rules
// and where requests go, so that a wrong store or a missing upstream shows at once, not at the
// first request. Names and URLs only: no key, no token.
void print_start_summary(Context& ctx, const ServeOptions& o, service::OpenStore& local, const proxy::Engines& engines) {
  const auto& out = ctx.out();
  const auto source = ctx.master_key_source();
  out.note(std::string("x420 ") + kVersion + " serve: store " + ctx.db_path() + ", master key from " +
           (source.env_value ? std::string("X420_MASTER_KEY") : source.file.string()));
  out.note("redaction " + o.redact + "; personal data (phone, e-mail, IP, birth date) " +
           (o.redact_personal ? "redacted" : "passed unless a key redacts it") + "; unscanned payloads " +
           (o.unscanned_payloads == "refuse" ? "refused" : "forwarded") + "; conversations " +
           (o.store_conversations ? "stored for " + o.conversation_ttl : "not stored"));
  out.note("rules: " + std::to_string(engines.base->rule_count()) + " redacted by default, " +
           std::to_string(engines.personal->rule_count()) + " with personal data" +
           (o.detection.rule_files.empty() ? "" : " (with " + std::to_string(o.detection.rule_files.size()) + " --rules file(s))"));
  std::vector<std::string> upstreams;
  for (const auto& tenant : local.store->list_tenants())
    for (const auto& u : local.store->list_upstreams(tenant.id)) {
      std::string routes;
      for (const auto& m : u.models) routes += (routes.empty() ? "" : " ") + m;
      upstreams.push_back(tenant.name + "/" + u.name + " (" + u.kind + ", " + u.base_url +
                          (routes.empty() ? "" : ", " + routes) + ")");
    }
  if (upstreams.empty()) {
    out.warn("no upstreams: every model request will be refused until one is added (x420 upstreams add NAME "
             "--kind openai --base-url https://api.openai.com/v1 --api-key-env OPENAI_API_KEY --models 'gpt-*')");
    return;
  }
  std::string list;
  for (std::size_t i = 0; i < upstreams.size() && i < 10; ++i) list += (i ? ", " : "") + upstreams[i];
  if (upstreams.size() > 10) list += ", … (" + std::to_string(upstreams.size()) + " in all)";
  out.note("upstreams: " + list);
}

int run_serve(Context& ctx, const ServeOptions& o) {
  auto address = proxy::parse_listen_address(o.listen);
  if (!address) return ctx.fail(address.error());
  const bool tls = !o.tls_cert.empty() || !o.tls_key.empty();
  if (auto exposed = proxy::check_exposure(*address, tls, o.allow_plaintext_remote); !exposed)
    return ctx.fail(exposed.error());
  proxy::ServeConfig config;
  config.listen = *address;
  config.max_body_bytes = o.max_body_mb * 1024 * 1024;
  config.db_path = ctx.db_path();
  config.master_key = ctx.master_key_source();
  config.tls_cert_file = o.tls_cert;
  config.tls_key_file = o.tls_key;
  config.store_conversations = o.store_conversations;
  const auto ttl = parse_duration(o.conversation_ttl);
  if (!ttl)
    return ctx.fail(make_error(ErrorKind::usage, "--conversation-ttl '" + o.conversation_ttl +
                                                     "' is not a duration (e.g. 24h, 7d; 0 keeps them until deleted)"));
  config.conversation_ttl_s = *ttl;
  if (const char* idle = std::getenv("X420_CLIENT_IDLE_SECONDS"))  // tests: idle connections close sooner
    config.client_idle_timeout_s = std::max(1, std::atoi(idle));
  if (const char* watch = std::getenv("X420_KEK_WATCH_SECONDS"))  // tests: SIGHUP alone
    config.kek_watch_s = std::atoi(watch);
  if (const char* sweep = std::getenv("X420_CONVERSATION_SWEEP_SECONDS"))  // tests: a sweep in seconds, not minutes
    config.conversation_sweep_s = std::max(1, std::atoi(sweep));
  DetectionOptions detection_options = o.detection;
  detection_options.inline_allow = false;  // the proxy ignores "x420:allow" in request content, on reload too
  // Secrets, cards, IBANs and national ids; identifiers and contact data (phone, e-mail, IP,
  // date of birth) are left as they are unless --redact-personal or the key says so (issue 12):
  // one engine of each scope.
  config.redact_personal = o.redact_personal;
  const auto build_engines = [detection_options]() -> Result<proxy::Engines> {
    DetectionOptions base = detection_options, personal = detection_options;
    base.scope = DetectionOptions::Scope::redacted_by_default;
    personal.scope = DetectionOptions::Scope::redacted_by_default_and_personal;
    // Each build compiles the whole rule set (a second without the cache): the two at once.
    auto personal_build = std::async(std::launch::async, [personal] { return build_detection(personal); });
    auto built_base = build_detection(base);
    auto built_personal = personal_build.get();
    if (!built_base) return built_base.error();
    if (!built_personal) return built_personal.error();
    return proxy::Engines{std::shared_ptr<const detect::Engine>(std::move(built_base->engine)),
                          std::shared_ptr<const detect::Engine>(std::move(built_personal->engine))};
  };
  config.reload_engines = build_engines;
  if (o.redact == "mask") config.redaction = proxy::RedactionPolicy::mask;
  else if (o.redact == "block") config.redaction = proxy::RedactionPolicy::block;
  else if (o.redact == "off") config.redaction = proxy::RedactionPolicy::off;
  if (o.unscanned_payloads == "refuse") config.unscanned = proxy::UnscannedPolicy::refuse;
  auto engines = build_engines();
  if (!engines) return ctx.fail(engines.error());
  // Logs go to stderr: stdout carries only the "listening" line scripts wait for.
  spdlog::set_default_logger(spdlog::stderr_color_mt("x420"));
  if (ctx.global().quiet) spdlog::set_level(spdlog::level::warn);
  auto& local = ctx.local();
  print_start_summary(ctx, o, local, *engines);
  if (auto served = proxy::serve(config, local, std::move(*engines)); !served) return ctx.fail(served.error());
  return 0;
}

}  // namespace

void register_serve(CLI::App& root, Invocation& inv) {
  auto o = std::make_shared<ServeOptions>();
  auto* serve = root.add_subcommand("serve", "Run the OpenAI- and Anthropic-compatible redacting proxy");
  serve->add_option("--listen", o->listen, "Address to listen on")->type_name("HOST:PORT")->capture_default_str();
  serve->add_option("--redact", o->redact, "pseudonymize (restored in replies), mask, block (refuse) or off")
      ->check(one_of({"pseudonymize", "mask", "block", "off"}))
      ->capture_default_str();
  serve->add_option("--unscanned-payloads", o->unscanned_payloads,
                    "Encoded payloads that cannot be scanned (images, PDF, unknown media): forward them "
                    "(counted in /metrics) or refuse the request; a key's own setting wins")
      ->type_name("POLICY")
      ->check(one_of({"forward", "refuse"}))
      ->capture_default_str();
  serve->add_flag("--allow-plaintext-remote", o->allow_plaintext_remote,
                  "Serve a non-loopback address without TLS (keys and prompts cross the network in clear)");
  serve->add_option("--tls-cert", o->tls_cert, "Serve TLS with this certificate chain (PEM)")->type_name("FILE");
  serve->add_option("--tls-key", o->tls_key, "The certificate's private key (PEM)")->type_name("FILE");
  serve->add_option("--max-body-mb", o->max_body_mb, "Largest request body accepted (413 above)")
      ->check(whole_number(1, 1024))
      ->capture_default_str();
  serve->add_flag("--store-conversations", o->store_conversations,
                  "Keep every key's conversations, redacted and sealed with the tenant's key (not no-log keys)");
  serve->add_option("--conversation-ttl", o->conversation_ttl,
                    "How long stored conversations live unless a key says otherwise (0: until deleted)")
      ->type_name("DURATION")
      ->capture_default_str();
  serve->add_flag("--redact-personal", o->redact_personal,
                  "Also redact the personal data passed by default: phone numbers, e-mail and IP "
                  "addresses and dates of birth (secrets, cards, IBANs and national numbers always "
                  "are); a key's --redact-personal or --keep-personal wins");
  add_detection_options(*serve, o->detection);
  serve->footer(
      "Point a client at it:\n"
      "  OPENAI_BASE_URL=http://127.0.0.1:8420/v1 OPENAI_API_KEY=$X420_KEY your-tool\n"
      "  ANTHROPIC_BASE_URL=http://127.0.0.1:8420 ANTHROPIC_API_KEY=$X420_KEY claude\n"
      "Models route as upstream/model, or by an upstream's --models globs.\n"
      "SIGTERM drains in-flight requests and exits 0; SIGHUP reloads the rule files.\n"
      "Examples:\n"
      "  x420 serve\n"
      "  x420 serve --listen 127.0.0.1:9000 --redact mask\n"
      "  x420 serve --listen 0.0.0.0:8420 --tls-cert cert.pem --tls-key key.pem");
  inv.actions[serve] = [o](Context& ctx) { return run_serve(ctx, *o); };
}

}  // namespace x420::cli
