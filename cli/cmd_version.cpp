// x420 version: what was built, from which commit, and with which libraries, for bug reports
// and for checking that a package runs the libraries it was built against.
#include <CLI/CLI.hpp>
#include <boost/version.hpp>
#include <hs/hs.h>
#include <openssl/crypto.h>
#include <sodium.h>
#include <sqlite3.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <string>

#include "cli/cli.h"
#include "cli/context.h"
#include "cli/version.h"
#include "lib/detect/rule.h"

namespace x420::cli {
namespace {

#ifndef X420_BUILD_TYPE
#define X420_BUILD_TYPE "unknown"
#endif
#ifndef X420_COMPILER
#define X420_COMPILER "unknown"
#endif

std::string pcre2_version() {
  char buffer[64] = {};
  return pcre2_config(PCRE2_CONFIG_VERSION, buffer) > 0 ? buffer : "unknown";
}

std::string first_word(std::string text) { return text.substr(0, text.find(' ')); }

int run_version(Context& ctx) {
  std::string boost = BOOST_LIB_VERSION;
  for (char& c : boost)
    if (c == '_') c = '.';
  nlohmann::ordered_json libraries = {
      {"vectorscan", first_word(hs_version())},
      {"pcre2", first_word(pcre2_version())},
      {"sqlite", sqlite3_libversion()},
      {"libsodium", sodium_version_string()},
      {"openssl", OpenSSL_version(OPENSSL_VERSION_STRING)},
      {"boost", boost},
  };
  const auto rules = detect::builtin_rule_file().rules.size();
  if (ctx.out().json()) {
    ctx.out().document({{"version", kVersion},
                        {"commit", kBuildCommit},
                        {"build_type", X420_BUILD_TYPE},
                        {"compiler", X420_COMPILER},
                        {"builtin_rules", rules},
                        {"libraries", libraries}});
    return 0;
  }
  ctx.out().line(std::string("x420 ") + kVersion + " (commit " + kBuildCommit + ", " + X420_BUILD_TYPE +
                 ", " + X420_COMPILER + ")");
  ctx.out().line(std::to_string(rules) + " built-in detection rules");
  std::string line = "libraries:";
  for (const auto& [name, version] : libraries.items()) line += " " + name + " " + version.get<std::string>() + ",";
  line.pop_back();
  ctx.out().line(line);
  return 0;
}

}  // namespace

void register_version(CLI::App& root, Invocation& inv) {
  auto* version = root.add_subcommand("version", "Show the version, the commit and the libraries in use");
  version->footer(
      "`x420 --version` prints the first line only.\n"
      "Examples:\n"
      "  x420 version\n"
      "  x420 version --json | jq -r .commit");
  inv.actions[version] = [](Context& ctx) { return run_version(ctx); };
}

}  // namespace x420::cli
