// KEK rotation (`x420 kek rotate`): a new master key, with every DEK, the hashing key and every
// upstream secret rewrapped under it in one transaction. Crash-safe at every step:
//   0. the current key is copied to <key file>.old (0600, fsync, atomic), for a backup taken
//      before the rotation and for any other store that shared the key file;
//   1. the new key is written to <key file>.new (0600, fsync, atomic);
//   2. one transaction rewraps everything and records the new key's identity — the commit is
//      the moment the store switches keys;
//   3. <key file>.new is renamed over the key file.
// A crash before 2 commits leaves the store on the old key (a stale .new is overwritten by the
// next rotation); a crash between 2 and 3 leaves a key file that no longer opens the store and
// a .new that does, which opening the store finishes (finish_interrupted_rotation).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "lib/common/result.h"
#include "lib/service/bootstrap.h"
#include "lib/service/keyring.h"

namespace x420::service {

struct KekRotation {
  std::int64_t tenants = 0;    // DEKs rewrapped
  std::int64_t upstreams = 0;  // upstream secrets rewrapped
  std::filesystem::path key_file;
  std::filesystem::path old_key_file;  // the key before this rotation
};

// Called at each named step ("key-written", "in-transaction", "committed"); the CLI passes one
// that can stop the process there for the crash test (X420_TEST_PAUSE_AT).
using RotationCheckpoint = std::function<void(std::string_view point)>;

// Refused (ErrorKind::usage) when the master key comes from X420_MASTER_KEY: x420 would have to
// print the only copy of the new key and trust that it reaches the environment of every later
// run before anything crashes; move the key into the key file first.
Result<KekRotation> rotate_kek(const std::string& db_path, const MasterKeySource& source,
                               const RotationCheckpoint& checkpoint);

std::filesystem::path pending_key_path(const std::filesystem::path& key_file);
std::filesystem::path old_key_path(const std::filesystem::path& key_file);

// When the key file does not open `store` but <key file>.new does, a rotation committed and was
// cut off before its rename: finish it and return the keyring. ErrorKind::not_found when there
// is no such file; auth when it does not open the store either.
Result<Keyring> finish_interrupted_rotation(store::Store& store, const std::filesystem::path& key_file);

// For a running process (x420 serve) that another process rotated under: adopts the KEK the
// store now records, read from the key file, or from <key file>.new while that rotation has yet
// to rename it. A no-op when the keyring is current. ErrorKind::conflict when the new key cannot
// be found (a key from X420_MASTER_KEY can only change by a restart with the new value).
Status refresh_keyring(Keyring& keyring, store::Store& store, const MasterKeySource& source);

}  // namespace x420::service
