// Where the CLI finds its management token for --server: X420_TOKEN, else the credentials file,
// never a flag (a flag would land in shell history and the process list).
//
// The file, $XDG_CONFIG_HOME/x420/credentials (mode 0600, like the master key), holds one server
// per line, its URL and its token separated by spaces; blank lines and lines starting with #
// are ignored:
//
//     # x420 credentials
//     https://x420.example.com  x420m_…
//     http://127.0.0.1:8420     x420m_…
//
// A line matches the server URL exactly, ignoring case and trailing slashes.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "cli/http_client.h"
#include "lib/common/result.h"

namespace x420::cli {

// ErrorKind::auth when there is no token for this server (saying where to put one);
// ErrorKind::usage when the file is unsafe (group or others can read it) or malformed.
// `credentials_file` is called only when X420_TOKEN is unset, so a token in the environment
// needs no HOME.
Result<std::string> management_token(const ServerUrl& server,
                                     const std::function<std::filesystem::path()>& credentials_file);

// Looks the server up in the file's text; empty when no line names it. `file` is for messages.
Result<std::string> token_from_credentials(std::string_view text, const ServerUrl& server,
                                           const std::string& file);

}  // namespace x420::cli
