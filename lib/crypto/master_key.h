// The master key (KEK): where it comes from and how it is written. Policy (which path, when to
// create one) belongs to the service; this file only does it safely.
//
// Text form, in the file and in X420_MASTER_KEY: "x420mk1:" + base64url(32 bytes), no padding.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "lib/common/result.h"
#include "lib/crypto/secret_bytes.h"

namespace x420::crypto {

inline constexpr std::string_view kMasterKeyPrefix = "x420mk1:";

std::string encode_master_key(const SecretBytes& key);
Result<SecretBytes> decode_master_key(std::string_view text);

// Reads the key file. Refuses one that group or others can read or write (the key guards every
// sealed record), one that is not a regular file, and one that does not decode.
Result<SecretBytes> read_master_key_file(const std::filesystem::path& path);

// Writes atomically (a 0600 temporary file in the same folder, fsync, rename) so a crash leaves
// either the old key or the new one, never a torn file. Creates missing folders with mode 0700.
Status write_master_key_file(const std::filesystem::path& path, const SecretBytes& key);

// Renames `pending` over `path` and makes the rename durable (fsync of the folder): the last
// step of a KEK rotation, atomic like the write.
Status promote_master_key_file(const std::filesystem::path& pending, const std::filesystem::path& path);

}  // namespace x420::crypto
