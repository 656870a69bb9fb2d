// x420 kek rotate: a new master key (KEK) for the embedded store, with every tenant's data key
// and every upstream secret rewrapped in one transaction (service/kek_rotation.h says how a
// crash at any step is safe).
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "cli/cli.h"
#include "cli/context.h"
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

int run_rotate(Context& ctx) {
  if (!ctx.server_url().empty())
    return ctx.fail(make_error(ErrorKind::usage,
                               "kek rotate works on the embedded store: run it on the machine that holds the "
                               "master key and the database, with --db (stop x420 serve, rotate, start it again)"));
  auto rotated = service::rotate_kek(ctx.db_path(), ctx.master_key_source(), maybe_pause);
  if (!rotated) return ctx.fail(rotated.error());
  if (ctx.out().json()) {
    ctx.out().document({{"key_file", rotated->key_file.string()},
                        {"tenants_rewrapped", rotated->tenants},
                        {"upstreams_rewrapped", rotated->upstreams}});
  } else {
    ctx.out().note("Rotated the master key: " + std::to_string(rotated->tenants) + " data key(s) and " +
                   std::to_string(rotated->upstreams) + " upstream secret(s) rewrapped; the new key is in " +
                   rotated->key_file.string() + ". Restart any running x420 serve. Back up the new key file: "
                   "the old one no longer opens this store.");
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
      "Examples:\n"
      "  x420 kek rotate\n"
      "  x420 --db /srv/x420/x420.db kek rotate --json");
  inv.actions[rotate] = [](Context& ctx) { return run_rotate(ctx); };
}

}  // namespace x420::cli
