// Builds the detection engine a command runs with: the built-in rules, the user's --rules files,
// known secrets from --known-env and --known-file, and the compiled-pattern cache in
// $XDG_CACHE_HOME/x420. Shared by `x420 scan` and `x420 redact` (and later the proxy), so all
// three use one engine, one rule set and one allowlist.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/common/result.h"
#include "lib/detect/engine.h"

namespace x420::cli {

struct DetectionOptions {
  std::vector<std::string> rule_files;   // --rules FILE
  std::vector<std::string> known_env;    // --known-env NAME
  std::vector<std::string> known_files;  // --known-file F (.env syntax)
  bool no_cache = false;
  // A line holding "x420:allow" suppresses its findings: for scan and redact, where the marker is
  // the user's own. Off for serve, whose content comes from anyone who can write a prompt or a
  // file an agent reads (DESIGN.md: its allowlists come only from configuration).
  bool inline_allow = true;
  // Which rules the engine holds. Serve holds the rules whose findings are redacted unless asked
  // (Rule::redact_by_default: secrets, cards, IBANs, national ids), and with --redact-personal
  // every personal-data rule too; identifiers pass either way. Scan and redact hold them all.
  enum class Scope { all, redacted_by_default, redacted_by_default_and_personal };
  Scope scope = Scope::all;
};

struct Detection {
  std::unique_ptr<detect::Engine> engine;
  detect::AllowlistSpec allowlist;  // merged: built-in and every --rules file (paths used by scan)
};

Result<Detection> build_detection(const DetectionOptions& options);

// A rule file or a .env file: at most 16 MiB; an error names `what` ("--rules") and the path.
Result<std::string> read_small_file(const std::string& path, std::string_view what);

// KEY=VALUE lines of a .env file (export prefixes, quotes and comments handled); values under
// the engine's minimum length are left out and counted in `skipped`.
Result<std::vector<detect::KnownSecret>> read_env_file(const std::string& path, std::size_t* skipped);

}  // namespace x420::cli
