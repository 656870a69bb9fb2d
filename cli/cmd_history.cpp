// x420 history list|show ID: the conversations the proxy stored (serve --store-conversations, or
// a key's --store-conversations), decrypted here or by the service. What is shown is what was
// stored: the redacted request and the upstream's reply, with placeholders, never a secret.
#include <CLI/CLI.hpp>

#include "cli/cli.h"
#include "cli/context.h"
#include "cli/validators.h"
#include "lib/common/time_format.h"
#include "lib/service/json_views.h"

namespace x420::cli {
namespace {

struct HistoryOptions {
  std::size_t limit = 50;
  std::string id;
};

std::string expiry(const std::optional<UnixSeconds>& at) { return at ? format_timestamp(*at) : "never"; }

int run_list(Context& ctx, const HistoryOptions& o) {
  auto rows = ctx.service().list_conversations(ctx.tenant(), o.limit);
  if (!rows) return ctx.fail(rows.error());
  if (ctx.out().json()) {
    auto doc = nlohmann::ordered_json::array();
    for (const auto& c : *rows) doc.push_back(service::conversation_json(c));
    ctx.out().document(doc);
    return 0;
  }
  if (rows->empty()) {
    ctx.out().note("No stored conversations in tenant " + ctx.tenant() +
                   " (storing is off unless x420 serve --store-conversations or a key's --store-conversations).");
    return 0;
  }
  std::vector<std::vector<std::string>> table;
  for (const auto& c : *rows)
    table.push_back({c.id, format_timestamp(c.updated_at), c.key_id.empty() ? "-" : c.key_id,
                     std::to_string(c.record_count), expiry(c.expires_at)});
  ctx.out().table({"ID", "UPDATED", "KEY", "RECORDS", "EXPIRES"}, table);
  return 0;
}

int run_show(Context& ctx, const HistoryOptions& o) {
  auto detail = ctx.service().show_conversation(ctx.tenant(), o.id);
  if (!detail) return ctx.fail(detail.error());
  if (ctx.out().json()) {
    ctx.out().document(service::conversation_detail_json(*detail));
    return 0;
  }
  const auto& info = detail->info;
  ctx.out().line("conversation " + info.id + " (tenant " + info.tenant + ", key " +
                 (info.key_id.empty() ? "-" : info.key_id) + ", " + std::to_string(info.record_count) +
                 " records, expires " + expiry(info.expires_at) + ")");
  for (const auto& r : detail->records) {
    ctx.out().line("");
    ctx.out().line("--- #" + std::to_string(r.seq) + " " + r.kind + " " + format_timestamp(r.created_at) +
                   (r.generation_id.empty() ? "" : " " + r.generation_id));
    ctx.out().line(r.text);
  }
  return 0;
}

}  // namespace

void register_history(CLI::App& root, Invocation& inv) {
  auto* history = root.add_subcommand("history", "List and read stored conversations (redacted text only)");
  history->require_subcommand(1);
  history->footer(
      "Conversations are stored only when turned on (x420 serve --store-conversations, or\n"
      "x420 keys create --store-conversations), sealed per record with the tenant's data key, and\n"
      "deleted when their TTL runs out (24h unless configured). What is kept is the request as it was\n"
      "forwarded (secrets already replaced by placeholders) and the upstream's reply.");

  auto o = std::make_shared<HistoryOptions>();
  auto* list = history->add_subcommand("list", "List conversations, most recently updated first");
  list->add_option("--limit", o->limit, "At most this many")->check(whole_number(1, 100000));
  list->footer(
      "Examples:\n"
      "  x420 history list --limit 10\n"
      "  x420 history list --json | jq -r '.[0].id'");
  inv.actions[list] = [o](Context& ctx) { return run_list(ctx, *o); };

  auto* show = history->add_subcommand("show", "Print one conversation's records, decrypted");
  show->add_option("id", o->id, "The conversation's id (from history list)")->required();
  show->footer(
      "Examples:\n"
      "  x420 history show chat-2026-12-01\n"
      "  x420 history show \"$(x420 history list --json | jq -r '.[0].id')\" --json");
  inv.actions[show] = [o](Context& ctx) { return run_show(ctx, *o); };
}

}  // namespace x420::cli
