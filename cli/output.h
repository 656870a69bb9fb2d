// The one place the CLI prints: results on stdout (a table, a line, or with --json one JSON
// document), progress and diagnostics on stderr, colour only on a terminal without NO_COLOR.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "lib/common/result.h"

namespace x420::cli {

struct OutputOptions {
  bool json = false;
  bool quiet = false;
  bool verbose = false;
  bool no_color = false;
};

class Output {
 public:
  explicit Output(const OutputOptions& options);

  bool json() const { return options_.json; }
  bool quiet() const { return options_.quiet; }

  void document(const nlohmann::ordered_json& doc) const;  // stdout, pretty-printed
  void line(std::string_view text) const;          // stdout
  void table(const std::vector<std::string>& headers,
             const std::vector<std::vector<std::string>>& rows) const;  // stdout

  void note(std::string_view text) const;  // stderr, not with -q
  void warn(std::string_view text) const;  // stderr, always
  void error(const Error& error) const;    // stderr; as JSON with --json

  // Colours a status word ("active", "revoked", "expired") when stdout is a terminal.
  std::string status(std::string_view word) const;

 private:
  OutputOptions options_;
  bool stdout_color_;
  bool stderr_color_;
};

}  // namespace x420::cli
