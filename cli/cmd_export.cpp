// x420 export [-o FILE] and x420 export check FILE: the account's bundle (x420-export/1), and a
// check that a bundle on disk is whole.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>

#include "cli/atomic_output.h"
#include "cli/cli.h"
#include "cli/context.h"
#include "lib/export/bundle_check.h"

namespace x420::cli {
namespace {

struct ExportOptions {
  std::string output;  // empty or "-": stdout
  std::string check_file;
};

Error stdout_failed() {
  return make_error(ErrorKind::usage, "cannot write the export to stdout (a closed pipe or a full disk)");
}

Status write_stdout(std::string_view bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size()) return stdout_failed();
  return ok_status();
}

int run_export(Context& ctx, const ExportOptions& o) {
  auto& service = ctx.service();
  if (o.output.empty() || o.output == "-") {
    // On a failure part-way the bundle lacks its "complete" trailer, which `export check` reports.
    auto done = service.export_account(ctx.tenant(), write_stdout);
    if (std::fflush(stdout) != 0 && done) done = stdout_failed();
    if (!done) return ctx.fail(done.error());
    return 0;
  }
  auto file = AtomicOutput::create(o.output);
  if (!file) return ctx.fail(file.error());
  auto done = service.export_account(ctx.tenant(), [&](std::string_view piece) { return file->write(piece); });
  if (done) done = file->commit();
  if (!done) return ctx.fail(done.error());  // the temporary file goes; o.output is untouched
  if (ctx.out().json()) ctx.out().document({{"tenant", ctx.tenant()}, {"file", o.output}});
  else ctx.out().note("Exported tenant " + ctx.tenant() + " to " + o.output + " (x420 export check " + o.output + ").");
  return 0;
}

int run_check(Context& ctx, const ExportOptions& o) {
  std::ifstream in(o.check_file, std::ios::binary);
  if (!in) return ctx.fail(make_error(ErrorKind::not_found, "cannot open " + o.check_file));
  auto summary = exporting::check_bundle(in);
  if (!summary) return ctx.fail(make_error(summary.error().kind, o.check_file + ": " + summary.error().message));
  const auto& c = summary->counts;
  if (ctx.out().json()) {
    ctx.out().document({{"file", o.check_file},
                        {"format", summary->format},
                        {"tenant", summary->tenant},
                        {"complete", true},
                        {"keys", c.keys},
                        {"upstreams", c.upstreams},
                        {"conversations", c.conversations},
                        {"records", c.records},
                        {"usage", c.usage}});
  } else {
    ctx.out().line(o.check_file + ": a complete " + summary->format + " bundle of tenant " + summary->tenant + ": " +
                   std::to_string(c.keys) + " key(s), " + std::to_string(c.upstreams) + " upstream(s), " +
                   std::to_string(c.conversations) + " conversation(s) with " + std::to_string(c.records) +
                   " record(s), " + std::to_string(c.usage) + " usage row(s)");
  }
  return 0;
}

}  // namespace

void register_export(CLI::App& root, Invocation& inv) {
  auto o = std::make_shared<ExportOptions>();
  auto* exp = root.add_subcommand("export", "Write the tenant's data as one JSON document (x420-export/1)");
  exp->require_subcommand(0, 1);
  exp->add_option("-o,--output", o->output, "Write to FILE (mode 600, whole or not at all) instead of stdout")
      ->type_name("FILE");
  exp->footer(
      "The bundle holds the account, its keys (ids, hash algorithm and settings, never a secret),\n"
      "upstreams (never a secret), stored conversations decrypted, and usage metadata; it ends with\n"
      "\"complete\" counts. It is streamed: memory does not grow with the account. The format is\n"
      "documented in man x420, EXPORT FORMAT.\n"
      "Examples:\n"
      "  x420 export -o acme.json --tenant acme\n"
      "  x420 export --server https://x420.internal | gzip > backup.json.gz\n"
      "  x420 export check acme.json");
  inv.actions[exp] = [o](Context& ctx) { return run_export(ctx, *o); };

  auto* check = exp->add_subcommand("check", "Check that an export file is whole and of a known format");
  check->add_option("file", o->check_file, "The export file")->required();
  inv.actions[check] = [o](Context& ctx) { return run_check(ctx, *o); };
}

}  // namespace x420::cli
