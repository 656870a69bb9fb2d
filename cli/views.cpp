#include "cli/views.h"

#include "lib/common/money.h"
#include "lib/common/time_format.h"

namespace x420::cli {
namespace {

std::string limits_of(const service::KeyInfo& k) {
  std::string out;
  auto add = [&](const std::string& part) { out += (out.empty() ? "" : " ") + part; };
  if (k.cap_usd_micros) add("$" + format_usd_micros(*k.cap_usd_micros));
  if (k.rpm) add(std::to_string(*k.rpm) + "rpm");
  if (k.tpm) add(std::to_string(*k.tpm) + "tpm");
  if (k.no_log) add("no-log");
  if (k.redaction) add("redact=" + *k.redaction);
  if (k.unscanned_payloads) add("unscanned=" + *k.unscanned_payloads);
  if (k.redact_personal) add(*k.redact_personal ? "personal=redact" : "personal=keep");
  if (k.store_conversations.value_or(false)) add("store");
  if (k.conversation_ttl) add("ttl=" + std::to_string(*k.conversation_ttl) + "s");
  return out.empty() ? "-" : out;
}

}  // namespace

std::string timestamp_or_dash(const std::optional<UnixSeconds>& t) {
  return t ? format_timestamp(*t) : "-";
}

void print_key_table(const Output& out, const std::vector<service::KeyInfo>& keys) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : keys)
    rows.push_back({k.id, k.name, out.status(k.status), format_timestamp(k.created_at),
                    timestamp_or_dash(k.last_used_at), timestamp_or_dash(k.expires_at),
                    limits_of(k)});
  out.table({"ID", "NAME", "STATUS", "CREATED", "LAST USED", "EXPIRES", "LIMITS"}, rows);
}

void print_key_details(const Output& out, const service::KeyInfo& k) {
  std::vector<std::vector<std::string>> rows = {
      {"id:", k.id},
      {"name:", k.name},
      {"tenant:", k.tenant},
      {"status:", out.status(k.status)},
      {"created:", format_timestamp(k.created_at)},
      {"last used:", timestamp_or_dash(k.last_used_at)},
      {"expires:", timestamp_or_dash(k.expires_at)},
      {"rotated:", timestamp_or_dash(k.rotated_at)},
      {"revoked:", timestamp_or_dash(k.revoked_at)},
      {"limits:", limits_of(k)},
  };
  if (k.previous_valid_until)
    rows.push_back({"grace until:", format_timestamp(*k.previous_valid_until)});
  for (const auto& r : rows) {
    std::string label = r[0];
    label.resize(13, ' ');
    out.line(label + r[1]);
  }
}

void print_tenant_table(const Output& out, const std::vector<service::TenantInfo>& tenants) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : tenants)
    rows.push_back({t.name, t.id, std::to_string(t.key_count), format_timestamp(t.created_at),
                    "$" + format_usd_micros(t.spent_usd_micros),
                    t.credit_usd_micros ? "$" + format_usd_micros(*t.credit_usd_micros - t.spent_usd_micros)
                                        : "unlimited"});
  out.table({"NAME", "ID", "KEYS", "CREATED", "SPENT", "BALANCE"}, rows);
}

}  // namespace x420::cli
