// x420 keys create|list|show|rotate|revoke|verify
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <iostream>

#include "cli/cli.h"
#include "cli/context.h"
#include "cli/terminal.h"
#include "cli/validators.h"
#include "cli/views.h"
#include "lib/common/money.h"
#include "lib/common/time_format.h"
#include "lib/crypto/secret_bytes.h"

namespace x420::cli {
namespace {

struct CreateOptions {
  std::string name;
  std::string cap_usd;
  std::optional<std::int64_t> rpm;
  std::optional<std::int64_t> tpm;
  std::string expires;
  bool no_log = false;
  std::string redact;
  bool store_conversations = false;
  std::string conversation_ttl;
  std::string unscanned_payloads;
  bool redact_personal = false;
  bool keep_personal = false;
};

struct IdOptions {
  std::string id;
  std::string grace = "0";
};

Result<service::KeySpec> spec_from(const CreateOptions& o) {
  service::KeySpec spec;
  spec.name = o.name;
  spec.rpm = o.rpm;
  spec.tpm = o.tpm;
  spec.no_log = o.no_log;
  if (!o.redact.empty()) spec.redaction = o.redact;
  if (!o.unscanned_payloads.empty()) spec.unscanned_payloads = o.unscanned_payloads;
  if (o.store_conversations) spec.store_conversations = true;
  if (o.redact_personal) spec.redact_personal = true;
  if (o.keep_personal) spec.redact_personal = false;
  if (!o.conversation_ttl.empty()) {
    spec.conversation_ttl = parse_duration(o.conversation_ttl);
    if (!spec.conversation_ttl)
      return make_error(ErrorKind::usage, "--conversation-ttl '" + o.conversation_ttl +
                                              "' is not a duration (e.g. 24h, 7d; 0 keeps them until deleted)");
  }
  if (!o.cap_usd.empty()) {
    spec.cap_usd_micros = parse_usd_micros(o.cap_usd);
    if (!spec.cap_usd_micros)
      return make_error(ErrorKind::usage, "--cap-usd '" + o.cap_usd +
                                              "' is not an amount in dollars (e.g. 25 or 12.50)");
  }
  if (!o.expires.empty()) {
    spec.expires_in = parse_duration(o.expires);
    if (!spec.expires_in || *spec.expires_in == 0)
      return make_error(ErrorKind::usage, "--expires '" + o.expires +
                                              "' is not a duration (e.g. 30d, 12h, 90m, 2w)");
  }
  return spec;
}

// The new plaintext goes to stdout alone (or inside the JSON document), so that
// `KEY=$(x420 keys create --name ci)` captures exactly the key; everything else is a note.
int print_issued(Context& ctx, service::IssuedKey& issued, const std::string& what) {
  const auto& out = ctx.out();
  if (out.json()) {
    auto doc = service::key_json(issued.info);
    doc["key"] = issued.plaintext;
    out.document(doc);
  } else {
    out.note(what + " key " + issued.info.id + " (" + issued.info.name + ") in tenant " +
             issued.info.tenant + ". Copy it now: x420 will not show it again.");
    if (issued.info.previous_valid_until)
      out.note("The previous secret keeps working until " +
               format_timestamp(*issued.info.previous_valid_until) + ".");
    out.line(issued.plaintext);
  }
  crypto::wipe(issued.plaintext);
  return 0;
}

int run_create(Context& ctx, const CreateOptions& o) {
  auto spec = spec_from(o);
  if (!spec) return ctx.fail(spec.error());
  // Names are labels, not identities: a second "ci" is allowed, but rarely meant.
  if (auto existing = ctx.service().list_keys(ctx.tenant()); existing) {
    for (const auto& k : *existing)
      if (k.name == o.name && k.status == "active") {
        ctx.out().warn("tenant " + ctx.tenant() + " already has an active key named '" + o.name + "' (" + k.id +
                       "); both will be listed under that name, told apart by their ids");
        break;
      }
  }
  auto issued = ctx.service().create_key(ctx.tenant(), *spec);
  if (!issued) return ctx.fail(issued.error());
  return print_issued(ctx, issued.value(), "Created");
}

int run_list(Context& ctx) {
  auto keys = ctx.service().list_keys(ctx.tenant());
  if (!keys) return ctx.fail(keys.error());
  if (ctx.out().json()) {
    auto doc = nlohmann::ordered_json::array();
    for (const auto& k : *keys) doc.push_back(service::key_json(k));
    ctx.out().document(doc);
  } else if (keys->empty()) {
    ctx.out().note("No keys in tenant " + ctx.tenant() + " (x420 keys create --name NAME makes one).");
  } else {
    print_key_table(ctx.out(), *keys);
  }
  return 0;
}

int run_show(Context& ctx, const IdOptions& o) {
  auto key = ctx.service().show_key(ctx.tenant(), o.id);
  if (!key) return ctx.fail(key.error());
  if (ctx.out().json()) ctx.out().document(service::key_json(*key));
  else print_key_details(ctx.out(), *key);
  return 0;
}

int run_rotate(Context& ctx, const IdOptions& o) {
  const auto grace = parse_duration(o.grace);
  if (!grace)
    return ctx.fail(make_error(ErrorKind::usage, "--grace '" + o.grace +
                                                     "' is not a duration (e.g. 0, 10m, 1h, 7d)"));
  auto issued = ctx.service().rotate_key(ctx.tenant(), o.id, *grace);
  if (!issued) return ctx.fail(issued.error());
  return print_issued(ctx, issued.value(), "Rotated");
}

int run_revoke(Context& ctx, const IdOptions& o) {
  // Revoking twice changes nothing (the first time is kept), and says so.
  auto before = ctx.service().show_key(ctx.tenant(), o.id);
  if (!before) return ctx.fail(before.error());
  const bool already = before->revoked_at.has_value();
  auto key = ctx.service().revoke_key(ctx.tenant(), o.id);
  if (!key) return ctx.fail(key.error());
  if (ctx.out().json()) {
    auto doc = service::key_json(*key);
    doc["already_revoked"] = already;
    ctx.out().document(doc);
  } else if (already) {
    ctx.out().note("Key " + key->id + " (" + key->name + ") was already revoked at " +
                   format_timestamp(*key->revoked_at) + "; nothing changed.");
  } else {
    ctx.out().note("Revoked key " + key->id + " (" + key->name + "); it is refused from now on.");
  }
  return 0;
}

std::string read_key_from_stdin(const Output& out) {
  // On a terminal one line is the key; from a pipe, all of stdin (trailing newline or not).
  const bool terminal = ::isatty(STDIN_FILENO) == 1;
  if (terminal) out.note("Paste the key and press Enter (it is not shown):");
  std::string text;
  if (terminal)
    text = read_line_unechoed();
  else
    std::getline(std::cin, text, '\0');
  const auto first = text.find_first_not_of(" \t\r\n");
  const auto last = text.find_last_not_of(" \t\r\n");
  std::string key = first == std::string::npos ? "" : text.substr(first, last - first + 1);
  crypto::wipe(text);
  return key;
}

int run_verify(Context& ctx) {
  std::string key = read_key_from_stdin(ctx.out());
  if (key.empty()) {
    return ctx.fail(make_error(ErrorKind::usage,
                               "no key on stdin (usage: echo \"$KEY\" | x420 keys verify)"));
  }
  auto verified = ctx.service().verify_key(key);
  crypto::wipe(key);
  // Only an auth error says the key is invalid; a server out of reach (--server) is exit 5.
  if (!verified && verified.error().kind != ErrorKind::auth) return ctx.fail(verified.error());
  const auto& out = ctx.out();
  if (!verified) {
    if (out.json()) {
      out.document({{"valid", false}, {"reason", verified.error().message}});
    } else if (!out.quiet()) {
      std::cerr << "invalid: " << verified.error().message << '\n';
    }
    return exit_code_for(ErrorKind::auth);
  }
  if (out.json()) {
    out.document({{"valid", true}, {"key", service::key_json(*verified)}});
  } else if (!out.quiet()) {
    out.line("valid: key " + verified->id + " (" + verified->name + ") in tenant " +
             verified->tenant);
  }
  if (verified->verified_secret == "previous")
    out.warn("this is the key's previous secret, kept by a rotation's grace" +
             (verified->previous_valid_until
                  ? " until " + format_timestamp(*verified->previous_valid_until)
                  : std::string()) +
             "; switch to the new secret before then (x420 keys show " + verified->id + ")");
  return 0;
}

}  // namespace

void register_keys(CLI::App& root, Invocation& inv) {
  auto* keys = root.add_subcommand("keys", "Create, list, rotate and revoke x420 API keys");
  keys->require_subcommand(0, 1);
  keys->footer(
      "A key looks like x420_<12-char id>_<38 chars>; only its keyed hash is stored, and its\n"
      "plaintext is shown once, at create and at rotate.");

  auto create_opts = std::make_shared<CreateOptions>();
  auto* create = keys->add_subcommand("create", "Create a key and print it once");
  create->add_option("--name", create_opts->name, "What the key is for (shown in lists)")
      ->required();
  create->add_option("--cap-usd", create_opts->cap_usd, "Spend cap in US dollars")
      ->type_name("USD");
  create->add_option("--rpm", create_opts->rpm, "Requests per minute allowed")
      ->type_name("N")
      ->check(whole_number(1));
  create->add_option("--tpm", create_opts->tpm, "Tokens per minute allowed")
      ->type_name("N")
      ->check(whole_number(1));
  create->add_option("--expires", create_opts->expires, "Expire after this long (30d, 12h, 2w)")
      ->type_name("DURATION");
  create->add_flag("--no-log", create_opts->no_log,
                   "Record only token counts and cost for this key, no access log");
  create->add_option("--redact", create_opts->redact,
                     "Redaction for this key's requests, instead of the server's --redact")
      ->type_name("MODE")
      ->check(one_of({"pseudonymize", "mask", "block", "off"}));
  create->add_option("--unscanned-payloads", create_opts->unscanned_payloads,
                     "Encoded payloads that cannot be scanned (images, PDF): forward or refuse, "
                     "instead of the server's --unscanned-payloads")
      ->type_name("POLICY")
      ->check(one_of({"forward", "refuse"}));
  auto* redact_personal = create->add_flag(
      "--redact-personal", create_opts->redact_personal,
      "Also redact contact data in this key's requests (phone numbers, e-mail and IP addresses, dates "
      "of birth), whatever the server's --redact-personal");
  auto* keep_personal = create->add_flag(
      "--keep-personal", create_opts->keep_personal,
      "Let this key's contact data through even if the server redacts it (secrets, cards, IBANs and "
      "national numbers are redacted whatever this says)");
  redact_personal->excludes(keep_personal);
  create->add_flag("--store-conversations", create_opts->store_conversations,
                   "Keep this key's conversations (redacted, encrypted) even if the server does not");
  create->add_option("--conversation-ttl", create_opts->conversation_ttl,
                     "How long this key's stored conversations live (default 24h; 0: until deleted)")
      ->type_name("DURATION");
  create->footer(
      "Examples:\n"
      "  x420 keys create --name laptop\n"
      "  KEY=$(x420 keys create --name ci --expires 30d --rpm 60 -q)\n"
      "  x420 keys create --name team --cap-usd 25 --json | jq -r .key");
  inv.actions[create] = [create_opts](Context& ctx) { return run_create(ctx, *create_opts); };

  auto* list = keys->add_subcommand("list", "List the tenant's keys (never their secrets)");
  list->footer(
      "Examples:\n"
      "  x420 keys list\n"
      "  x420 keys list --json | jq -r '.[] | select(.status == \"active\") | .id'\n"
      "  x420 --tenant acme keys list");
  inv.actions[list] = [](Context& ctx) { return run_list(ctx); };

  auto show_opts = std::make_shared<IdOptions>();
  auto* show = keys->add_subcommand("show", "Show one key's metadata");
  show->add_option("id", show_opts->id, "The key's id (x420 keys list)")->required();
  show->footer(
      "Examples:\n"
      "  x420 keys show 7f3aXk2PqL9m\n"
      "  x420 keys show 7f3aXk2PqL9m --json | jq -r .status");
  inv.actions[show] = [show_opts](Context& ctx) { return run_show(ctx, *show_opts); };

  auto rotate_opts = std::make_shared<IdOptions>();
  auto* rotate = keys->add_subcommand("rotate", "Give a key a new secret, printed once");
  rotate->add_option("id", rotate_opts->id, "The key's id (x420 keys list)")->required();
  rotate->add_option("--grace", rotate_opts->grace,
                     "How long the old secret keeps working (default 0: refused at once)")
      ->type_name("DURATION");
  rotate->footer(
      "The key keeps its id, name, limits and history.\n"
      "Example:\n"
      "  NEW=$(x420 keys rotate 7f3aXk2PqL9m --grace 1h -q)");
  inv.actions[rotate] = [rotate_opts](Context& ctx) { return run_rotate(ctx, *rotate_opts); };

  auto revoke_opts = std::make_shared<IdOptions>();
  auto* revoke = keys->add_subcommand("revoke", "Revoke a key: refused from now on");
  revoke->add_option("id", revoke_opts->id, "The key's id (x420 keys list)")->required();
  revoke->footer(
      "The key's rows and history stay; its secret is refused from the next request on.\n"
      "Examples:\n"
      "  x420 keys revoke 7f3aXk2PqL9m\n"
      "  x420 keys list --json | jq -r '.[] | select(.name == \"old-ci\") | .id' | xargs -n1 x420 keys revoke");
  inv.actions[revoke] = [revoke_opts](Context& ctx) { return run_revoke(ctx, *revoke_opts); };

  auto* verify = keys->add_subcommand("verify", "Check a key read from stdin: exit 0 valid, 3 not");
  verify->footer(
      "Example:\n"
      "  echo \"$KEY\" | x420 keys verify -q && echo still valid");
  inv.actions[verify] = [](Context& ctx) { return run_verify(ctx); };
}

}  // namespace x420::cli
