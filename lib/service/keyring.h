// The keyring: the master key (KEK) and the key material it unlocks in a store — the hashing
// key for API keys and tokens, and each tenant's data key (DEK).
//
// The hashing key is random, sealed under the KEK in the store's meta table. KEK rotation reseals
// it without changing it, which is why key hashes survive a rotation.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "lib/common/result.h"
#include "lib/crypto/keyed_hash.h"
#include "lib/crypto/secret_bytes.h"
#include "lib/store/store.h"

namespace x420::service {

class Keyring {
 public:
  // For a store that has none yet: makes a hashing key and seals it under `kek` (in the caller's
  // transaction).
  static Keyring create(store::Store& store, crypto::SecretBytes kek);
  // Opens the hashing key with `kek`. ErrorKind::auth if the KEK does not open it (a wrong
  // master key); ErrorKind::usage if the store was never initialised.
  static Result<Keyring> open(store::Store& store, crypto::SecretBytes kek);
  static bool is_initialised(store::Store& store);

  crypto::Hash hash(std::string_view token) const;
  store::Blob hash_blob(std::string_view token) const;

  store::Blob seal_new_dek(std::string_view tenant_id) const;

  // Provider API keys, sealed under the KEK and bound to their tenant and upstream name.
  store::Blob seal_upstream_secret(std::string_view tenant_id, std::string_view name,
                                   std::string_view secret) const;
  Result<crypto::SecretBytes> open_upstream_secret(const store::UpstreamRow& row) const;
  Result<crypto::SecretBytes> open_dek(const store::TenantRow& tenant) const;

  // The KEK's public identity: a keyed hash of a constant under the KEK, which tells keys apart
  // and reveals nothing of them. Recorded in the store's meta at init and by each rotation.
  static store::Blob kek_id_of(const crypto::SecretBytes& kek);
  // ErrorKind::conflict when the store records another KEK than this keyring's: another process
  // rotated it since this one opened the store (a running `x420 serve` must be restarted).
  // Called before anything is sealed under the KEK, so that a store never holds a mix.
  Status check_current(store::Store& store) const;
  // Whether the store records another KEK than this keyring's (cheap: one meta read).
  bool is_stale(store::Store& store) const;
  // Takes `kek` as the KEK from now on, for a running process that another one rotated under:
  // it must be the KEK the store records and open its hashing key (which a rotation keeps), or
  // nothing changes (ErrorKind::auth). Safe while other threads use the keyring.
  Status adopt(store::Store& store, crypto::SecretBytes kek);

  struct Rewrapped {
    std::int64_t tenants = 0;
    std::int64_t upstreams = 0;
  };
  // KEK rotation, inside the caller's transaction: reseals the hashing key (unchanged, so key
  // hashes still verify), every tenant's DEK and every upstream secret under `new_kek`, and
  // records its identity. Sealed records are not touched: they are under the DEKs. Throws Fatal
  // naming the row if any of them does not open under the current KEK, which rolls the
  // transaction back: a rotation never leaves some rows under one key and some under another.
  Rewrapped rewrap(store::Store& store, const crypto::SecretBytes& new_kek) const;

 private:
  Keyring(crypto::SecretBytes kek, crypto::SecretBytes hashing_key)
      : kek_(std::move(kek)), hashing_key_(std::move(hashing_key)), kek_mutex_(std::make_unique<std::mutex>()) {}

  crypto::SecretBytes kek_;  // under kek_mutex_: adopt() replaces it
  crypto::SecretBytes hashing_key_;  // never changes, so hashing takes no lock
  std::unique_ptr<std::mutex> kek_mutex_;
};

}  // namespace x420::service
