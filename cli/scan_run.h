// Runs the engine over files (in parallel, one scratch per thread), git's staged blobs, or
// standard input (as a stream, in bounded memory), and turns findings into reported ones with
// line, column and a masked preview.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/scan_report.h"
#include "lib/detect/engine.h"

namespace x420::cli {

struct ScanSettings {
  std::uint64_t max_file_size = 10 * 1024 * 1024;
  unsigned threads = 0;  // 0: one per core
  bool show_secrets = false;
  bool progress = false;  // a progress line on stderr (a terminal) when the scan takes a while
};

// What one scanned source holds: a file on disk, or bytes already in memory (a staged blob).
struct ScanSource {
  std::string display;                // the path as reported
  std::string path;                   // to open; empty when `content` is set
  const std::string* content = nullptr;
};

struct ScanOutcome {
  std::vector<ReportedFinding> findings;  // grouped by source, in source order
  std::vector<ScanProblem> errors;        // could not be read: these make exit code 2
  std::vector<ScanProblem> notices;       // skipped on purpose (too large, binary given by name)
  ScanSummary summary;
};

void scan_sources(const detect::Engine& engine, const std::vector<ScanSource>& sources,
                  const ScanSettings& settings, ScanOutcome& outcome);

// Standard input, as a stream: a secret split across reads is still found.
void scan_stdin(const detect::Engine& engine, const ScanSettings& settings, ScanOutcome& outcome);

}  // namespace x420::cli
