// x420's entry point: parse with CLI11, run the chosen command, and turn every way it can end
// into the exit codes of DESIGN.md.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/parse_error.h"
#include "lib/crypto/secret_bytes.h"

int main(int argc, char** argv) {
  using namespace x420;
  try {
    crypto::ensure_sodium();
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 70;
  }

  cli::Invocation inv;
  auto app = cli::build_app(inv);
  const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  try {
    app->parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app->exit(e);  // --help, --version
    const bool no_color = std::find(args.begin(), args.end(), "--no-color") != args.end();
    const cli::Output out(cli::OutputOptions{cli::wants_json(args), false, false, no_color});
    out.error(cli::explain_parse_error(*app, args, e));
    return exit_code_for(ErrorKind::usage);
  }

  std::unique_ptr<cli::Context> ctx;
  try {
    ctx = std::make_unique<cli::Context>(inv.global);
    const CLI::App* leaf = cli::parsed_leaf(*app);
    const auto action = inv.actions.find(leaf);
    if (action == inv.actions.end()) {  // a command group alone, or no command: teach
      std::cout << app->help();  // titled with its path: "Usage: x420 keys"
      return 0;
    }
    return action->second(*ctx);
  } catch (const Fatal& f) {
    std::cerr << "error: " << f.error().message << '\n';
    return exit_code_for(f.error().kind);
  } catch (const std::exception& e) {
    // Messages of the libraries below (SQLite, the JSON parser) carry no secrets or user text.
    std::cerr << "error: internal: " << e.what() << '\n';
    return exit_code_for(ErrorKind::internal);
  }
}
