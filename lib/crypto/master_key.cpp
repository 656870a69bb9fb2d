#include "lib/crypto/master_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "lib/crypto/aead.h"
#include "lib/crypto/random.h"

namespace x420::crypto {
namespace fs = std::filesystem;

namespace {

constexpr int kBase64Variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

std::string errno_text() { return std::strerror(errno); }

// Makes a rename in `dir` durable.
void sync_directory(const fs::path& dir) {
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace

std::string encode_master_key(const SecretBytes& key) {
  ensure_sodium();
  std::string out(sodium_base64_ENCODED_LEN(key.size(), kBase64Variant), '\0');
  sodium_bin2base64(out.data(), out.size(), key.data(), key.size(), kBase64Variant);
  out.resize(std::strlen(out.c_str()));
  return std::string(kMasterKeyPrefix) + out;
}

Result<SecretBytes> decode_master_key(std::string_view text) {
  ensure_sodium();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.remove_suffix(1);
  if (text.substr(0, kMasterKeyPrefix.size()) != kMasterKeyPrefix)
    return make_error(ErrorKind::usage, "master key is not in x420's format (it starts with \"" +
                                            std::string(kMasterKeyPrefix) + "\")");
  text.remove_prefix(kMasterKeyPrefix.size());
  SecretBytes key(kAeadKeySize);
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(key.data(), key.size(), text.data(), text.size(), nullptr, &len, &end,
                        kBase64Variant) != 0 ||
      len != kAeadKeySize || end != text.data() + text.size())
    return make_error(ErrorKind::usage, "master key does not decode to 32 bytes");
  return key;
}

Result<SecretBytes> read_master_key_file(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return make_error(ErrorKind::not_found, "no master key at " + path.string());
    return make_error(ErrorKind::usage,
                      "cannot read master key " + path.string() + ": " + errno_text());
  }
  if (!S_ISREG(st.st_mode))
    return make_error(ErrorKind::usage, "master key " + path.string() + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_error(ErrorKind::usage, "master key " + path.string() + " has mode " + mode +
                                            ": group or others can access it; run chmod 600 " +
                                            path.string());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error(ErrorKind::usage,
                      "cannot read master key " + path.string() + ": " + errno_text());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto key = decode_master_key(text);
  wipe(text);
  if (!key) return make_error(key.error().kind, key.error().message + " (in " + path.string() + ")");
  return key;
}

Status write_master_key_file(const fs::path& path, const SecretBytes& key) {
  std::error_code ec;
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (!fs::exists(dir)) {
    fs::create_directories(dir, ec);
    if (ec) return make_error(ErrorKind::usage, "cannot create " + dir.string() + ": " + ec.message());
    fs::permissions(dir, fs::perms::owner_all, ec);
  }
  const fs::path tmp = dir / (path.filename().string() + ".tmp-" + random_base62(8));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return make_error(ErrorKind::usage, "cannot write " + tmp.string() + ": " + errno_text());
  std::string text = encode_master_key(key) + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ok && ::fsync(fd) == 0;
  wipe(text);
  const int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    errno = ok ? errno : saved;
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    return make_error(ErrorKind::usage, "cannot write master key " + path.string() + ": " + why);
  }
  sync_directory(dir);
  return ok_status();
}

Status promote_master_key_file(const fs::path& pending, const fs::path& path) {
  if (::rename(pending.c_str(), path.c_str()) != 0)
    return make_error(errno == ENOENT ? ErrorKind::not_found : ErrorKind::usage,
                      "cannot rename " + pending.string() + " to " + path.string() + ": " + errno_text());
  sync_directory(path.has_parent_path() ? path.parent_path() : fs::path("."));
  return ok_status();
}

}  // namespace x420::crypto
