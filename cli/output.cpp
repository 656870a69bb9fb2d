#include "cli/output.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace x420::cli {
namespace {

bool color_allowed(const OutputOptions& o, int fd) {
  if (o.no_color || o.json) return false;
  const char* no_color = std::getenv("NO_COLOR");  // https://no-color.org
  if (no_color && *no_color) return false;
  const char* term = std::getenv("TERM");
  if (term && std::string_view(term) == "dumb") return false;
  return ::isatty(fd) == 1;
}

// Display width of UTF-8 text: code points, not bytes, and colour escapes take no room.
size_t width_of(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b') {
      while (i < s.size() && s[i] != 'm') ++i;
      continue;
    }
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++n;
  }
  return n;
}

}  // namespace

Output::Output(const OutputOptions& options)
    : options_(options),
      stdout_color_(color_allowed(options, STDOUT_FILENO)),
      stderr_color_(color_allowed(options, STDERR_FILENO)) {}

void Output::document(const nlohmann::ordered_json& doc) const {
  std::cout << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  std::cout.flush();
}

void Output::line(std::string_view text) const {
  std::cout << text << '\n';
  std::cout.flush();
}

void Output::table(const std::vector<std::string>& headers,
                   const std::vector<std::vector<std::string>>& rows) const {
  std::vector<size_t> widths(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) widths[i] = width_of(headers[i]);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], width_of(row[i]));
  auto print_row = [&](const std::vector<std::string>& row, bool header) {
    std::string out;
    for (size_t i = 0; i < row.size(); ++i) {
      std::string cell = row[i];
      const bool last = i + 1 == row.size();
      const size_t pad = last ? 0 : widths[i] - width_of(cell) + 2;
      if (header && stdout_color_) cell = "\x1b[1m" + cell + "\x1b[0m";
      out += cell;
      out.append(pad, ' ');
    }
    std::cout << out << '\n';
  };
  print_row(headers, true);
  for (const auto& row : rows) print_row(row, false);
  std::cout.flush();
}

void Output::note(std::string_view text) const {
  if (options_.quiet) return;
  std::cerr << text << '\n';
}

void Output::warn(std::string_view text) const {
  std::cerr << (stderr_color_ ? "\x1b[33mwarning:\x1b[0m " : "warning: ") << text << '\n';
}

void Output::error(const Error& error) const {
  if (options_.json) {
    nlohmann::ordered_json doc = {{"error", {{"kind", kind_name(error.kind)}, {"message", error.message}}}};
    std::cerr << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return;
  }
  std::cerr << (stderr_color_ ? "\x1b[31merror:\x1b[0m " : "error: ") << error.message << '\n';
}

std::string Output::status(std::string_view word) const {
  if (!stdout_color_) return std::string(word);
  const char* color = word == "active" ? "\x1b[32m" : word == "expired" ? "\x1b[33m" : "\x1b[31m";
  return std::string(color) + std::string(word) + "\x1b[0m";
}

}  // namespace x420::cli
