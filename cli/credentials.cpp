#include "cli/credentials.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "lib/crypto/secret_bytes.h"

namespace x420::cli {
namespace {

std::string normalised(std::string_view url) {
  while (url.ends_with('/')) url.remove_suffix(1);
  std::string out(url);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

Error no_token(const ServerUrl& server, const std::string& file) {
  return make_error(ErrorKind::auth, "no management token for " + server.text + ": set X420_TOKEN, or add the line '" +
                                         server.text + " x420m_…' to " + file +
                                         " (mode 0600); x420 init prints the operator token");
}

}  // namespace

Result<std::string> token_from_credentials(std::string_view text, const ServerUrl& server,
                                           const std::string& file) {
  const auto wanted = normalised(server.text);
  std::size_t number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const auto line = trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++number;
    if (line.empty() || line.front() == '#') continue;
    const auto gap = line.find_first_of(" \t");
    const auto url = line.substr(0, gap);
    const auto token = gap == std::string_view::npos ? std::string_view() : trim(line.substr(gap));
    // The line is not quoted back: it holds a token.
    if (token.empty() || token.find_first_of(" \t") != std::string_view::npos)
      return make_error(ErrorKind::usage, file + " line " + std::to_string(number) +
                                              " is not 'URL TOKEN' (one server URL, spaces, one token)");
    if (normalised(url) == wanted) return std::string(token);
  }
  return std::string();
}

Result<std::string> management_token(const ServerUrl& server,
                                     const std::function<std::filesystem::path()>& credentials_file) {
  if (const char* env = std::getenv("X420_TOKEN"); env && *env) return std::string(env);
  const auto path = credentials_file();
  const auto name = path.string();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return no_token(server, name);
    return make_error(ErrorKind::usage, "cannot read " + name + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return make_error(ErrorKind::usage, name + " is not a regular file");
  if ((st.st_mode & 077) != 0)
    return make_error(ErrorKind::usage, name + " holds management tokens but group or others can access it; run chmod 600 " + name);
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::usage, "cannot read " + name + ": " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto token = token_from_credentials(text, server, name);
  crypto::wipe(text);
  if (!token) return token.error();
  if (token->empty()) return no_token(server, name);
  return token;
}

}  // namespace x420::cli
