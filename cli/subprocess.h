// Runs a program (no shell: arguments are passed as they are) and captures its stdout.
#pragma once

#include <string>
#include <vector>

#include "lib/common/result.h"

namespace x420::cli {

// ErrorKind::usage with the program's stderr when it exits non-zero or cannot start.
Result<std::string> run_capture(const std::vector<std::string>& argv, std::size_t max_output);

}  // namespace x420::cli
