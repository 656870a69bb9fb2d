// Asking before something that cannot be undone: the user types the name of what goes, on a
// terminal; a script passes --yes. Without either the answer is no, never a guess.
#pragma once

#include <string>

namespace x420::cli {

// True with `yes`; else, when stdin and stderr are a terminal, prints `what` and asks for
// `name` to be typed; false otherwise (no terminal, or something else was typed).
bool confirmed_by_typing(const std::string& what, const std::string& name, bool yes);

}  // namespace x420::cli
