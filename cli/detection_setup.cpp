#include "cli/detection_setup.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lib/crypto/random.h"

namespace x420::cli {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kMaxRuleFile = 16 * 1024 * 1024;

// Compiled databases in $XDG_CACHE_HOME/x420/engine-<key>.hsdb. A cache that cannot be read or
// written only costs time, so every failure here is silent.
class FileCache final : public detect::CompiledCache {
 public:
  explicit FileCache(fs::path dir) : dir_(std::move(dir)) {}

  std::optional<std::string> load(std::string_view key) override {
    std::ifstream in(file(key), std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  void store(std::string_view key, std::string_view bytes) override {
    if (bytes.empty()) return;
    std::error_code ec;
    fs::create_directories(dir_, ec);
    const fs::path tmp = dir_ / ("." + std::string(key) + "." + crypto::random_base62(8));
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return;
    const bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), file(key).c_str()) != 0) ::unlink(tmp.c_str());
  }

 private:
  fs::path file(std::string_view key) const { return dir_ / ("engine-" + std::string(key) + ".hsdb"); }
  fs::path dir_;
};

std::optional<fs::path> cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x == '/') return fs::path(x) / "x420";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache" / "x420";
  return std::nullopt;
}

}  // namespace

Result<std::string> read_small_file(const std::string& path, std::string_view what) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return make_error(ErrorKind::usage, std::string(what) + " " + path + ": " + ec.message());
  if (size > kMaxRuleFile)
    return make_error(ErrorKind::usage, std::string(what) + " " + path + " is over 16 MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::usage, std::string(what) + " " + path + ": " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<std::vector<detect::KnownSecret>> read_env_file(const std::string& path, std::size_t* skipped) {
  auto text = read_small_file(path, "--known-file");
  if (!text) return text.error();
  std::vector<detect::KnownSecret> out;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    std::string_view l(line);
    while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) l.remove_prefix(1);
    while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t')) l.remove_suffix(1);
    if (l.empty() || l.front() == '#') continue;
    if (l.starts_with("export ")) l.remove_prefix(7);
    const auto eq = l.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    std::string_view key = l.substr(0, eq), value = l.substr(eq + 1);
    while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (const auto hash = value.find(" #"); hash != std::string_view::npos) {
      value = value.substr(0, hash);  // an inline comment after an unquoted value
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    }
    if (value.size() < 6) {
      if (skipped && !value.empty()) ++*skipped;
      continue;
    }
    out.push_back({"file:" + path + ":" + std::string(key), std::string(value)});
  }
  crypto::wipe(*text);
  return out;
}

Result<Detection> build_detection(const DetectionOptions& options) {
  detect::RuleFile rules = detect::builtin_rule_file();
  for (const auto& path : options.rule_files) {
    auto text = read_small_file(path, "--rules");
    if (!text) return text.error();
    auto file = detect::parse_rule_file(*text, path);
    if (!file) return file.error();
    if (auto taken = detect::merge_rule_file(rules, std::move(file.value()), path); !taken.empty())
      return make_error(ErrorKind::usage, taken.front().message);
  }
  detect::EngineConfig config;
  if (options.scope != DetectionOptions::Scope::all) {
    const bool personal = options.scope == DetectionOptions::Scope::redacted_by_default_and_personal;
    std::erase_if(rules.rules, [personal](const detect::Rule& r) {
      return !r.redact_by_default && !(personal && r.data_class == detect::DataClass::personal);
    });
  }
  config.rules = std::move(rules.rules);
  Detection out;
  out.allowlist = std::move(rules.allowlist);
  for (const auto& name : options.known_env) {
    const char* value = std::getenv(name.c_str());
    if (!value || !*value)
      return make_error(ErrorKind::usage, "--known-env " + name + ": the variable is not set");
    config.known_secrets.push_back({"env:" + name, value});
  }
  for (const auto& path : options.known_files) {
    auto secrets = read_env_file(path, nullptr);
    if (!secrets) return secrets.error();
    for (auto& s : *secrets) config.known_secrets.push_back(std::move(s));
  }
  config.allowlist = out.allowlist;
  config.inline_allow = options.inline_allow;

  std::unique_ptr<FileCache> cache;
  if (!options.no_cache)
    if (auto dir = cache_dir()) cache = std::make_unique<FileCache>(*dir);
  config.cache = cache.get();
  auto engine = detect::Engine::build(std::move(config));
  if (!engine) return engine.error();
  out.engine = std::move(engine.value());
  return out;
}

}  // namespace x420::cli
