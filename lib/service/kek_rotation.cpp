#include "lib/service/kek_rotation.h"

#include "lib/crypto/aead.h"
#include "lib/crypto/master_key.h"

namespace x420::service {

std::filesystem::path pending_key_path(const std::filesystem::path& key_file) {
  auto pending = key_file;
  pending += ".new";
  return pending;
}

std::filesystem::path old_key_path(const std::filesystem::path& key_file) {
  auto old = key_file;
  old += ".old";
  return old;
}

Result<Keyring> finish_interrupted_rotation(store::Store& store, const std::filesystem::path& key_file) {
  const auto pending = pending_key_path(key_file);
  auto kek = crypto::read_master_key_file(pending);
  if (!kek) return kek.error();
  auto keyring = Keyring::open(store, std::move(kek.value()));
  if (!keyring) return keyring.error();
  if (auto promoted = crypto::promote_master_key_file(pending, key_file);
      !promoted && promoted.error().kind != ErrorKind::not_found)  // not_found: another process finished it
    return promoted.error();
  return keyring;
}

Status refresh_keyring(Keyring& keyring, store::Store& store, const MasterKeySource& source) {
  if (!keyring.is_stale(store)) return ok_status();
  if (!source.env_value) {
    for (const auto& file : {source.file, pending_key_path(source.file)}) {
      auto kek = crypto::read_master_key_file(file);
      if (kek && keyring.adopt(store, std::move(kek.value()))) return ok_status();
    }
  }
  return make_error(ErrorKind::conflict,
                    "the store's master key was rotated and the new key is not in " +
                        (source.env_value ? std::string("X420_MASTER_KEY") : source.file.string()) +
                        "; restart x420 serve with the new key");
}

Result<KekRotation> rotate_kek(const std::string& db_path, const MasterKeySource& source,
                               const RotationCheckpoint& checkpoint) {
  if (source.env_value)
    return make_error(ErrorKind::usage,
                      "X420_MASTER_KEY is set: kek rotate writes the new master key to a file, never only to the "
                      "terminal. Move the key into " + source.file.string() +
                          " (mode 600), unset X420_MASTER_KEY, and run kek rotate again");
  auto opened = open_store(db_path, source);  // also finishes a rotation that was cut off
  if (!opened) return opened.error();
  auto& store = *opened->store;

  auto current_kek = crypto::read_master_key_file(source.file);
  if (!current_kek) return current_kek.error();
  const auto old_file = old_key_path(source.file);
  if (auto kept = crypto::write_master_key_file(old_file, *current_kek); !kept) return kept.error();

  const auto new_kek = crypto::generate_key();
  const auto pending = pending_key_path(source.file);
  if (auto written = crypto::write_master_key_file(pending, new_kek); !written) return written.error();
  checkpoint("key-written");

  KekRotation report;
  report.key_file = source.file;
  report.old_key_file = old_file;
  try {
    store.write_transaction([&] {
      const auto done = opened->keyring->rewrap(store, new_kek);
      report.tenants = done.tenants;
      report.upstreams = done.upstreams;
      checkpoint("in-transaction");
    });
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(pending, ec);  // the store stays on the old key
    throw;
  }
  checkpoint("committed");

  // From the commit on, the store is under the new key: only the rename is left.
  if (auto promoted = crypto::promote_master_key_file(pending, source.file); !promoted) {
    // Another process opening the store may have finished the rotation in between.
    auto current = crypto::read_master_key_file(source.file);
    if (!current || current->view() != new_kek.view())
      return make_error(ErrorKind::internal, "the store now uses the new master key, but " + promoted.error().message +
                                                 "; rename it by hand before anything else opens the store");
  }
  return report;
}

}  // namespace x420::service
