// Reading a secret from the terminal: a key pasted at `x420 keys verify` must not stay on the
// screen, in the scrollback or in a screen recording.
#pragma once

#include <string>

namespace x420::cli {

// One line from stdin, a terminal, with its echo off; the terminal is restored however the read
// ends (Enter, end of input, or a signal that stops x420). The caller wipes the result.
std::string read_line_unechoed();

}  // namespace x420::cli
