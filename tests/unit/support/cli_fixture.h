// What the cli/ tests share: the real command tree, and a --server URL known to parse.
#pragma once

#include <CLI/CLI.hpp>
#include <catch2/catch.hpp>

#include <string_view>

#include "cli/cli.h"
#include "cli/command_tree.h"
#include "cli/http_client.h"

namespace x420::test {

// The tree `x420` itself builds, described once.
inline cli::CommandTree command_tree() {
  static cli::Invocation inv;
  static auto app = cli::build_app(inv);
  return cli::describe(*app);
}

inline cli::ServerUrl server_url(std::string_view text) {
  auto parsed = cli::parse_server_url(text);
  REQUIRE(parsed.ok());
  return *parsed;
}

}  // namespace x420::test
