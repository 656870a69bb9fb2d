// x420 usage [--key ID] [--since T] and x420 generation ID: the metadata rows the proxy wrote.
#include <CLI/CLI.hpp>

#include "cli/cli.h"
#include "cli/context.h"
#include "cli/validators.h"
#include "lib/common/money.h"
#include "lib/common/time_format.h"
#include "lib/service/usage_view.h"

namespace x420::cli {
namespace {

struct UsageOptions {
  std::string key;
  std::string since = "30d";
  std::size_t limit = 100;
};

// "24h" (that long ago) or a timestamp ("2026-11-01", "2026-11-01T10:00:00Z").
std::optional<UnixSeconds> parse_since(std::string_view text, UnixSeconds now) {
  if (auto d = parse_duration(text)) return now - *d;
  return parse_timestamp(text);
}

int run_usage(Context& ctx, const UsageOptions& o) {
  const auto since = parse_since(o.since, ctx.clock().now());
  if (!since)
    return ctx.fail(make_error(ErrorKind::usage, "--since '" + o.since +
                                                     "' is neither a duration (24h, 7d) nor a date (2026-11-01)"));
  auto rows = ctx.service().list_usage(ctx.tenant(), o.key, *since, o.limit);
  if (!rows) return ctx.fail(rows.error());
  if (ctx.out().json()) {
    auto doc = nlohmann::ordered_json::array();
    for (const auto& r : *rows) doc.push_back(service::usage_json(r));
    ctx.out().document(doc);
    return 0;
  }
  if (rows->empty()) {
    ctx.out().note("No requests since " + format_timestamp(*since) + ".");
    return 0;
  }
  std::vector<std::vector<std::string>> table;
  std::int64_t in = 0, out = 0, cost = 0;
  for (const auto& r : *rows) {
    table.push_back({r.id, format_timestamp(r.created_at), r.key_id, r.model.empty() ? "-" : r.model,
                     std::to_string(r.status), std::to_string(r.input_tokens), std::to_string(r.output_tokens),
                     std::to_string(r.latency_ms) + "ms", std::to_string(r.redactions)});
    in += r.input_tokens;
    out += r.output_tokens;
    cost += r.cost_usd_micros;
  }
  ctx.out().table({"ID", "TIME", "KEY", "MODEL", "STATUS", "IN", "OUT", "LATENCY", "REDACTED"}, table);
  ctx.out().note(std::to_string(rows->size()) + " request(s), " + std::to_string(in) + " input and " +
                 std::to_string(out) + " output tokens, $" + format_usd_micros(cost));
  return 0;
}

int run_generation(Context& ctx, const std::string& id) {
  auto row = ctx.service().generation(ctx.tenant(), id);
  if (!row) return ctx.fail(row.error());
  const auto doc = service::usage_json(*row);
  if (ctx.out().json()) {
    ctx.out().document(doc);
    return 0;
  }
  for (const auto& [k, v] : doc.items()) {
    std::string label = k + ":";
    label.resize(18, ' ');
    ctx.out().line(label + (v.is_string() ? v.get<std::string>() : v.is_null() ? "-" : v.dump()));
  }
  return 0;
}

}  // namespace

void register_usage(CLI::App& root, Invocation& inv) {
  auto o = std::make_shared<UsageOptions>();
  auto* usage = root.add_subcommand("usage", "Show the proxy's per-request metadata (never content)");
  usage->add_option("--key", o->key, "Only this key's requests")->type_name("ID");
  usage->add_option("--since", o->since, "How far back: a duration (24h) or a date")
      ->type_name("WHEN")
      ->capture_default_str();
  usage->add_option("--limit", o->limit, "At most this many rows, newest first")
      ->check(whole_number(1, 100000))
      ->capture_default_str();
  usage->footer(
      "Examples:\n"
      "  x420 usage --since 1h\n"
      "  x420 usage --key 7f3aXk2PqL9m --since 2026-11-01 --limit 1000\n"
      "  x420 usage --json | jq '[.[].cost_usd] | add'");
  inv.actions[usage] = [o](Context& ctx) { return run_usage(ctx, *o); };

  auto id = std::make_shared<std::string>();
  auto* gen = root.add_subcommand("generation", "Show one request's metadata by its gen- id");
  gen->add_option("id", *id, "The id (the x420-generation-id response header)")->required();
  gen->footer(
      "Example:\n"
      "  x420 generation gen-3kTzQ9v0bX2mN8pL4rW6yA1c --json");
  inv.actions[gen] = [id](Context& ctx) { return run_generation(ctx, *id); };
}

}  // namespace x420::cli
