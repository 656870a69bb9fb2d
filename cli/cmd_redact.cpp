// x420 redact [FILE|-]: the text with its secrets replaced, on stdout. Also --restore.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/cli.h"
#include "cli/context.h"
#include "cli/detection_setup.h"
#include "cli/validators.h"
#include "lib/crypto/random.h"
#include "lib/detect/redactor.h"
#include "lib/service/redaction_keys.h"

namespace x420::cli {

void add_detection_options(CLI::App& cmd, DetectionOptions& d);  // cmd_scan.cpp

namespace {

constexpr std::size_t kMaxInput = 256 * 1024 * 1024;

struct RedactOptions {
  std::string input = "-";
  std::string mode = "mask";
  std::string map_file;
  bool restore = false;
  DetectionOptions detection;
};

Result<std::string> read_input(const std::string& input) {
  std::string data;
  if (input == "-") {
    char buf[1 << 16];
    for (;;) {
      const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return make_error(ErrorKind::usage, std::string("cannot read stdin: ") + std::strerror(errno));
      if (n == 0) break;
      data.append(buf, static_cast<std::size_t>(n));
      if (data.size() > kMaxInput) return make_error(ErrorKind::usage, "input is over 256 MiB");
    }
    return data;
  }
  std::ifstream in(input, std::ios::binary);
  if (!in) return make_error(ErrorKind::usage, "cannot read " + input + ": " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  data = s.str();
  if (data.size() > kMaxInput) return make_error(ErrorKind::usage, input + " is over 256 MiB");
  return data;
}

// Written 0600 and renamed into place, so a reader never sees half a map.
Status write_private_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  const std::string tmp = path + ".tmp-" + crypto::random_base62(8);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(ErrorKind::usage, "cannot write " + path + ": " + std::strerror(errno));
  const bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return make_error(ErrorKind::usage, "cannot write " + path + ": " + why);
  }
  return ok_status();
}

int run_restore(Context& ctx, const RedactOptions& o) {
  if (o.map_file.empty())
    return ctx.fail(make_error(ErrorKind::usage, "--restore needs --map FILE (written by x420 redact --map)"));
  auto bytes = read_input(o.map_file);
  if (!bytes) return ctx.fail(bytes.error());
  auto& local = ctx.local();
  auto map = service::open_placeholder_map(*local.store, *local.keyring, *bytes);
  if (!map) return ctx.fail(map.error());
  auto text = read_input(o.input);
  if (!text) return ctx.fail(text.error());
  detect::Restorer restorer(map.value());
  std::string out = restorer.feed(*text);
  out += restorer.finish();
  std::cout << out << std::flush;
  crypto::wipe(out);
  ctx.out().note("restored " + std::to_string(restorer.restored()) + " placeholder(s)");
  return 0;
}

int run_redact(Context& ctx, const RedactOptions& o) {
  if (o.restore) return run_restore(ctx, o);
  const bool pseudonymize = o.mode == "pseudonymize";
  if (!o.map_file.empty() && !pseudonymize)
    return ctx.fail(make_error(ErrorKind::usage, "--map goes with --mode pseudonymize"));
  auto detection = build_detection(o.detection);
  if (!detection) return ctx.fail(detection.error());

  // Placeholders are stable under the tenant's key when there is a store; without one they
  // are stable only within this run.
  std::optional<detect::Pseudonymizer> pseudonymizer;
  if (pseudonymize) {
    if (ctx.store_exists() || !o.map_file.empty()) {
      auto& local = ctx.local();
      auto key = service::placeholder_key(*local.store, *local.keyring, ctx.tenant());
      if (!key) return ctx.fail(key.error());
      pseudonymizer.emplace(std::move(key.value()));
    } else {
      ctx.out().note("no x420 store (x420 init): placeholders are stable only within this run");
      pseudonymizer.emplace(crypto::random_bytes(32));
    }
  }
  auto text = read_input(o.input);
  if (!text) return ctx.fail(text.error());
  auto scratch = detection->engine->make_scratch();
  const auto findings = detection->engine->scan(*text, *scratch);
  detect::PlaceholderMap map;
  auto redacted = detect::redact(*text, findings, *detection->engine,
                                 pseudonymize ? detect::RedactMode::pseudonymize : detect::RedactMode::mask,
                                 pseudonymizer ? &*pseudonymizer : nullptr, &map);
  crypto::wipe(*text);
  if (!o.map_file.empty()) {
    auto& local = ctx.local();
    auto sealed = service::seal_placeholder_map(*local.store, *local.keyring, ctx.tenant(), map);
    if (!sealed) return ctx.fail(sealed.error());
    if (auto written = write_private_file(o.map_file, *sealed); !written) return ctx.fail(written.error());
  }
  std::cout << redacted.text << std::flush;
  ctx.out().note("redacted " + std::to_string(redacted.replaced) + " secret(s)");
  return 0;
}

}  // namespace

void register_redact(CLI::App& root, Invocation& inv) {
  auto o = std::make_shared<RedactOptions>();
  auto* redact = root.add_subcommand("redact", "Print text with its secrets replaced");
  redact->add_option("input", o->input, "File to read; - or nothing reads stdin");
  redact->add_option("--mode", o->mode, "mask: [REDACTED:rule]; pseudonymize: stable placeholders")
      ->check(one_of({"mask", "pseudonymize"}))
      ->capture_default_str();
  redact->add_option("--map", o->map_file,
                     "Write the placeholder->secret map here, sealed with the store's key (or read it with --restore)")
      ->type_name("FILE");
  redact->add_flag("--restore", o->restore, "Put the secrets back into redacted text, using --map");
  add_detection_options(*redact, o->detection);
  redact->footer(
      "Examples:\n"
      "  x420 redact prompt.txt > safe.txt\n"
      "  x420 redact --mode pseudonymize --map prompt.map prompt.txt > safe.txt\n"
      "  x420 redact --restore --map prompt.map reply.txt");
  inv.actions[redact] = [o](Context& ctx) { return run_redact(ctx, *o); };
}

}  // namespace x420::cli
