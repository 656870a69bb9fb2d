// x420 kek rotate: a new master key (KEK) for the embedded store, with every tenant's data key
// and every upstream secret rewrapped in one transaction (service/kek_rotation.h says how a
// crash at any step is safe).
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/context.h"
#include "cli/store_registry.h"
#include "lib/service/kek_rotation.h"

namespace x420::cli {
namespace {

// For the crash test only: X420_TEST_PAUSE_AT=<point> stops here, announced on stderr, until
// the test kills the process.
void maybe_pause(std::string_view point) {
  const char* at = std::getenv("X420_TEST_PAUSE_AT");
  if (!at || point != at) return;
  std::cerr << "x420: paused at " << point << std::endl;
  for (;;) ::pause();
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

int run_rotate(Context& ctx, bool force) {
  if (!ctx.server_url().empty())
    return ctx.fail(make_error(ErrorKind::usage,
                               "kek rotate works on the embedded store: run it on the machine that holds the "
                               "master key and the database, with --db (stop x420 serve, rotate, start it again)"));
  const auto source = ctx.master_key_source();
  const auto db = ctx.db_path();
  // The rotation rewraps this store only: any other store that opens with the same key file would
  // open with the .old copy alone from then on.
  const auto others = source.env_value ? std::vector<std::string>{} : stores_sharing(source.file, db);
  if (!others.empty() && !force)
    return ctx.fail(make_error(
        ErrorKind::usage, source.file.string() + " also opens " + std::to_string(others.size()) + " other store(s): " +
                              joined(others) + " (x420 doctor lists them). Rotating would rewrap " + db +
                              " only and leave the others unopenable with the key file. Give each store a key of "
                              "its own first (XDG_CONFIG_HOME or X420_MASTER_KEY per store), or pass --force to "
                              "rotate this one alone; the others then open with " +
                              service::old_key_path(source.file).string() + " only"));
  auto rotated = service::rotate_kek(db, source, maybe_pause);
  if (!rotated) return ctx.fail(rotated.error());
  if (ctx.out().json()) {
    ctx.out().document({{"key_file", rotated->key_file.string()},
                        {"old_key_file", rotated->old_key_file.string()},
                        {"stores_rewrapped", {db}},
                        {"stores_not_rewrapped", others},
                        {"tenants_rewrapped", rotated->tenants},
                        {"upstreams_rewrapped", rotated->upstreams}});
  } else {
    ctx.out().note("Rotated the master key of " + db + ": " + std::to_string(rotated->tenants) +
                   " data key(s) and " + std::to_string(rotated->upstreams) +
                   " upstream secret(s) rewrapped; the new key is in " + rotated->key_file.string() +
                   ", the old one in " + rotated->old_key_file.string() +
                   " (mode 0600). Restart any running x420 serve, and back up the new key file.");
    if (!others.empty())
      ctx.out().warn("not rewrapped, and now opened only by " + rotated->old_key_file.string() + ": " +
                     joined(others) + " (X420_MASTER_KEY=\"$(cat " + rotated->old_key_file.string() +
                     ")\" x420 --db PATH … reaches them)");
  }
  return 0;
}

}  // namespace

void register_kek(CLI::App& root, Invocation& inv) {
  auto* kek = root.add_subcommand("kek", "Manage the master key (KEK) of the embedded store");
  kek->require_subcommand(1);
  auto* rotate = kek->add_subcommand("rotate", "Make a new master key and rewrap every data key and upstream secret");
  rotate->footer(
      "One transaction rewraps the tenants' data keys, the key-hashing key and the upstream secrets\n"
      "under a new key; API keys keep verifying and stored conversations are not re-encrypted (they are\n"
      "under the data keys). The new key is first written to <key file>.new, the transaction commits,\n"
      "then it is renamed over the key file: killed at any point, the store opens with the old key or\n"
      "the new one, never a mix. Refused while X420_MASTER_KEY is set (the new key must go to a file).\n"
      "The key before the rotation is kept in <key file>.old (mode 0600). Refused when the key file also\n"
      "opens other stores this user has opened (x420 doctor lists them), unless --force.\n"
      "Examples:\n"
      "  x420 kek rotate\n"
      "  x420 --db /srv/x420/x420.db kek rotate --json");
  auto force = std::make_shared<bool>(false);
  rotate->add_flag("--force", *force,
                   "Rotate even when the key file also opens other stores, which are left on the old key");
  inv.actions[rotate] = [force](Context& ctx) { return run_rotate(ctx, *force); };
}

}  // namespace x420::cli
