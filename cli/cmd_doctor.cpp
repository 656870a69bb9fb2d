// x420 doctor: what this machine's x420 is made of and what is wrong with it, each problem with
// the next step. It writes nothing of its own (opening a store finishes what opening it always
// does: a pending schema migration, a key rotation cut off after its commit), and sends each
// upstream's key to that upstream alone (to ask for its models), as the proxy would.
#include <CLI/CLI.hpp>
#include <SQLiteCpp/SQLiteCpp.h>
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/context.h"
#include "cli/detection_setup.h"
#include "cli/http_client.h"
#include "cli/store_registry.h"
#include "cli/upstream_probe.h"
#include "lib/crypto/secret_bytes.h"
#include "lib/service/bootstrap.h"
#include "lib/store/store.h"

namespace x420::cli {
namespace {

struct Check {
  std::string name;
  std::string status;  // "ok", "warn", "fail", or "info"
  std::string detail;
  std::string fix;  // the next step, for warn and fail
  nlohmann::ordered_json data = nlohmann::ordered_json::object();
};

struct DoctorOptions {
  bool no_network = false;
  std::string serve_url = "http://127.0.0.1:8420";
};

std::string join(const std::vector<std::string>& items, std::size_t at_most) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < at_most; ++i) out += (out.empty() ? "" : ", ") + items[i];
  if (items.size() > at_most) out += ", … (" + std::to_string(items.size()) + " in all)";
  return out;
}

// Schema version and integrity, read from the file without the master key.
Check check_store_file(const std::string& db) {
  Check c{"store", "ok", db, {}};
  std::error_code ec;
  if (!std::filesystem::exists(db, ec)) {
    c.status = "fail";
    c.detail = "no store at " + db;
    c.fix = "x420 init creates it (or pass --db PATH to use another)";
    return c;
  }
  try {
    SQLite::Database file(db, SQLite::OPEN_READONLY);
    const int version = file.execAndGet("PRAGMA user_version").getInt();
    const std::string integrity = file.execAndGet("PRAGMA quick_check").getString();
    c.data = {{"path", db}, {"schema", version}, {"schema_current", store::current_schema_version()}, {"integrity", integrity}};
    c.detail = db + " (schema " + std::to_string(version) + ", integrity " + integrity + ")";
    if (integrity != "ok") {
      c.status = "fail";
      c.fix = "the file is damaged: restore it from a backup (x420 export keeps one as JSON)";
    } else if (version > store::current_schema_version()) {
      c.status = "fail";
      c.fix = "it was written by a newer x420 (schema " + std::to_string(version) + "; this one knows " +
              std::to_string(store::current_schema_version()) + "): upgrade x420";
    }
  } catch (const std::exception&) {
    c.status = "fail";
    c.detail = db + " cannot be read as an SQLite database";
    c.fix = "check that --db names an x420 store";
  }
  return c;
}

Check check_master_key(const service::MasterKeySource& source, const Result<service::OpenStore>& opened) {
  Check c{"master key", "ok", {}, {}};
  if (source.env_value) {
    c.detail = "from X420_MASTER_KEY";
    c.data = {{"source", "environment"}};
  } else {
    struct stat st{};
    const bool exists = ::stat(source.file.c_str(), &st) == 0;
    c.detail = source.file.string() + (exists ? " (mode " + [&] {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
      return std::string(mode);
    }() + ")" : " (missing)");
    c.data = {{"source", "file"}, {"path", source.file.string()}, {"exists", exists}};
  }
  if (!opened) {
    c.status = "fail";
    c.detail += ": " + opened.error().message;
    c.fix = opened.error().kind == ErrorKind::auth
                ? "restore the key file this store was made with from your backup (a rotation cut off leaves "
                  "the new key in <key file>.new, which x420 finishes on its own)"
                : "x420 init creates the store and its key";
  }
  return c;
}

Check check_shared_key(const service::MasterKeySource& source, const std::string& db) {
  Check c{"stores sharing the key", "ok", "none", {}};
  if (source.env_value) {
    c.status = "info";
    c.detail = "the key comes from X420_MASTER_KEY: stores that share it are not known";
    return c;
  }
  const auto others = stores_sharing(source.file, db);
  c.data = {{"stores", others}};
  if (others.empty()) return c;
  std::vector<std::string> stranded;
  for (const auto& other : others)
    if (!service::open_store(other, source)) stranded.push_back(other);
  c.status = "warn";
  c.detail = join(others, 5);
  c.fix = "kek rotate on one of them refuses (or with --force strands the others): give each store its own key "
          "(its own XDG_CONFIG_HOME, or X420_MASTER_KEY)";
  if (!stranded.empty()) {
    c.detail += "; no longer opened by the key file: " + join(stranded, 5);
    c.fix = "a rotation of another store left these on the old key: X420_MASTER_KEY=\"$(cat " +
            source.file.string() + ".old)\" x420 --db PATH … reaches them";
    c.data["not_opened"] = stranded;
  }
  return c;
}

std::vector<Check> check_upstreams(service::OpenStore& open, const std::string& tenant, bool network) {
  std::vector<Check> checks;
  const auto t = open.store->tenant_by_name(tenant);
  if (!t) return {Check{"upstreams", "fail", "no tenant named " + tenant, "x420 tenants list shows the tenants"}};
  const auto rows = open.store->list_upstreams(t->id);
  if (rows.empty())
    return {Check{"upstreams", "warn", "none in tenant " + tenant + ": serve has nowhere to forward",
                  "x420 upstreams add openai --kind openai --base-url https://api.openai.com/v1 --api-key-env "
                  "OPENAI_API_KEY --models 'gpt-*'"}};
  for (const auto& row : rows) {
    Check c{"upstream " + row.name, "ok", row.kind + " " + row.base_url, {}};
    c.data = {{"name", row.name}, {"kind", row.kind}, {"base_url", row.base_url}, {"routes", row.models}};
    if (!network) {
      c.status = "info";
      c.detail += " (not asked: --no-network)";
      checks.push_back(std::move(c));
      continue;
    }
    auto secret = open.keyring->open_upstream_secret(row);
    if (!secret) {
      c.status = "fail";
      c.detail += ": its sealed key does not open (" + secret.error().message + ")";
      c.fix = "x420 upstreams remove " + row.name + " and add it again";
      checks.push_back(std::move(c));
      continue;
    }
    const auto probe = probe_upstream(row, secret->view());
    c.data["reachable"] = probe.ok;
    c.data["status"] = probe.status;
    c.data["models"] = probe.models;
    c.data["ms"] = probe.elapsed.count();
    if (probe.ok) {
      c.detail += ": answers in " + std::to_string(probe.elapsed.count()) + " ms, " +
                  std::to_string(probe.models.size()) + " model(s)" +
                  (probe.models.empty() ? "" : ": " + join(probe.models, 6));
    } else {
      c.status = "fail";
      c.detail += ": " + probe.problem;
      c.fix = probe.fix;
    }
    checks.push_back(std::move(c));
  }
  return checks;
}

Check check_rules() {
  Check c{"rules", "ok", {}, {}};
  const auto started = std::chrono::steady_clock::now();
  auto detection = build_detection(DetectionOptions{});
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  if (!detection) {
    c.status = "fail";
    c.detail = detection.error().message;
    c.fix = "x420 rules check names the rule at fault";
    return c;
  }
  c.detail = std::to_string(detection->engine->rule_count()) + " built-in rules, engine ready in " +
             std::to_string(ms) + " ms";
  c.data = {{"rules", detection->engine->rule_count()}, {"ms", ms}};
  return c;
}

Check check_serve(const std::string& url_text, bool network) {
  Check c{"serve", "info", {}, {}};
  auto url = parse_server_url(url_text);
  if (!url) return Check{"serve", "fail", url.error().message, "pass --serve-url http://HOST:PORT"};
  if (!network) {
    c.detail = "not asked (--no-network)";
    return c;
  }
  auto reply = http_exchange(*url, HttpMethod::get, "/healthz", {}, {},
                             HttpTimeouts{std::chrono::seconds(2), std::chrono::seconds(2)});
  c.data = {{"url", url->text}, {"running", reply.ok() && reply->status == 200}};
  if (reply && reply->status == 200) {
    c.status = "ok";
    c.detail = "running at " + url->text;
  } else if (reply) {
    c.status = "warn";
    c.detail = url->text + "/healthz answered HTTP " + std::to_string(reply->status);
    c.fix = "something else listens there, or serve is unhealthy: its log says why";
  } else {
    c.detail = "not running at " + url->text + " (x420 serve starts it)";
  }
  return c;
}

int run_doctor(Context& ctx, const DoctorOptions& o) {
  std::vector<Check> checks;
  if (const auto server = ctx.server_url(); !server.empty()) {
    checks.push_back(check_serve(server, !o.no_network));
    try {
      auto tenants = ctx.service().list_tenants();
      checks.push_back(tenants ? Check{"token", "ok", "accepted by " + server, {}}
                               : Check{"token", "fail", tenants.error().message,
                                       "set X420_TOKEN, or add the server and token to the credentials file"});
    } catch (const Fatal& f) {
      checks.push_back(Check{"token", "fail", f.error().message, "set X420_TOKEN to a management token"});
    }
  } else {
    const auto db = ctx.db_path();
    const auto source = ctx.master_key_source();
    checks.push_back(check_store_file(db));
    auto opened = checks.back().status == "fail" && !std::filesystem::exists(db)
                      ? Result<service::OpenStore>(make_error(ErrorKind::usage, "no store"))
                      : service::open_store(db, source);
    checks.push_back(check_master_key(source, opened));
    checks.push_back(check_shared_key(source, db));
    if (opened)
      for (auto& c : check_upstreams(*opened, ctx.tenant(), !o.no_network)) checks.push_back(std::move(c));
    checks.push_back(check_rules());
    checks.push_back(check_serve(o.serve_url, !o.no_network));
  }

  int problems = 0, warnings = 0;
  for (const auto& c : checks) problems += c.status == "fail", warnings += c.status == "warn";
  const auto& out = ctx.out();
  if (out.json()) {
    auto list = nlohmann::ordered_json::array();
    for (const auto& c : checks) {
      nlohmann::ordered_json one = {{"check", c.name}, {"status", c.status}, {"detail", c.detail}};
      if (!c.fix.empty()) one["fix"] = c.fix;
      if (!c.data.empty()) one["data"] = c.data;
      list.push_back(std::move(one));
    }
    out.document({{"checks", list}, {"problems", problems}, {"warnings", warnings}});
  } else {
    std::size_t width = 0;
    for (const auto& c : checks) width = std::max(width, c.name.size());
    for (const auto& c : checks) {
      out.line(c.status + std::string(6 - c.status.size(), ' ') + c.name + std::string(width + 2 - c.name.size(), ' ') +
               c.detail);
      if (!c.fix.empty()) out.line(std::string(8 + width, ' ') + "→ " + c.fix);
    }
    out.note(problems == 0 && warnings == 0 ? "No problems found."
                                            : std::to_string(problems) + " problem(s), " + std::to_string(warnings) +
                                                  " warning(s).");
  }
  return problems == 0 ? 0 : 1;
}

}  // namespace

void register_doctor(CLI::App& root, Invocation& inv) {
  auto o = std::make_shared<DoctorOptions>();
  auto* doctor = root.add_subcommand("doctor", "Check the store, master key, upstreams, rules and serve; say what to fix");
  doctor->add_flag("--no-network", o->no_network, "Do not ask the upstreams or serve anything");
  doctor->add_option("--serve-url", o->serve_url, "Where to look for a running x420 serve")
      ->type_name("URL")
      ->capture_default_str();
  doctor->footer(
      "Exit 0 when nothing failed (warnings allowed), 1 when a check failed. It writes nothing of its own; it sends\n"
      "each upstream's key to that upstream only, to list its models (--no-network to skip).\n"
      "With --server it checks that the service answers and accepts the token.\n"
      "Examples:\n"
      "  x420 doctor\n"
      "  x420 doctor --json | jq -r '.checks[] | select(.status == \"fail\") | .fix'\n"
      "  x420 --tenant acme doctor --no-network");
  inv.actions[doctor] = [o](Context& ctx) { return run_doctor(ctx, *o); };
}

}  // namespace x420::cli
