#include "lib/service/keyring.h"

#include "lib/crypto/aead.h"

namespace x420::service {
namespace {

constexpr std::string_view kHashingKeyMeta = "hashing_key";
// Associated data: a sealed blob opens only in the role it was sealed for.
constexpr std::string_view kHashingKeyAd = "x420/hashing-key/v1";
constexpr std::string_view kKekIdMeta = "kek_id";
constexpr std::string_view kKekIdContext = "x420/kek-id/v1";

std::string dek_ad(std::string_view tenant_id) {
  return "x420/dek/v1|tenant:" + std::string(tenant_id);
}

std::string upstream_ad(std::string_view tenant_id, std::string_view name) {
  return "x420/upstream-secret/v1|tenant:" + std::string(tenant_id) + "|upstream:" + std::string(name);
}

}  // namespace

Keyring Keyring::create(store::Store& store, crypto::SecretBytes kek) {
  auto hashing_key = crypto::generate_key();
  store.set_meta(kHashingKeyMeta, crypto::seal(kek, hashing_key.view(), kHashingKeyAd));
  store.set_meta(kKekIdMeta, kek_id_of(kek));
  return Keyring(std::move(kek), std::move(hashing_key));
}

bool Keyring::is_initialised(store::Store& store) { return store.meta(kHashingKeyMeta).has_value(); }

Result<Keyring> Keyring::open(store::Store& store, crypto::SecretBytes kek) {
  const auto sealed = store.meta(kHashingKeyMeta);
  if (!sealed)
    return make_error(ErrorKind::usage, "the store is not initialised (run `x420 init`)");
  auto hashing_key = crypto::open(kek, *sealed, kHashingKeyAd);
  if (!hashing_key)
    return make_error(ErrorKind::auth,
                      "the master key does not open this store (X420_MASTER_KEY or the key file "
                      "belongs to another store, or was changed)");
  return Keyring(std::move(kek), std::move(hashing_key.value()));
}

crypto::Hash Keyring::hash(std::string_view token) const {
  return crypto::keyed_hash(hashing_key_, token);
}

store::Blob Keyring::hash_blob(std::string_view token) const {
  const auto h = hash(token);
  return store::Blob(h.begin(), h.end());
}

store::Blob Keyring::seal_new_dek(std::string_view tenant_id) const {
  const auto dek = crypto::generate_key();
  const std::lock_guard lock(*kek_mutex_);
  return crypto::seal(kek_, dek.view(), dek_ad(tenant_id));
}

store::Blob Keyring::seal_upstream_secret(std::string_view tenant_id, std::string_view name,
                                          std::string_view secret) const {
  const std::lock_guard lock(*kek_mutex_);
  return crypto::seal(kek_, secret, upstream_ad(tenant_id, name));
}

Result<crypto::SecretBytes> Keyring::open_upstream_secret(const store::UpstreamRow& row) const {
  const std::lock_guard lock(*kek_mutex_);
  return crypto::open(kek_, row.sealed_secret, upstream_ad(row.tenant_id, row.name));
}

Result<crypto::SecretBytes> Keyring::open_dek(const store::TenantRow& tenant) const {
  const std::lock_guard lock(*kek_mutex_);
  return crypto::open(kek_, tenant.wrapped_dek, dek_ad(tenant.id));
}

store::Blob Keyring::kek_id_of(const crypto::SecretBytes& kek) {
  const auto h = crypto::keyed_hash(kek, kKekIdContext);
  return store::Blob(h.begin(), h.begin() + 16);
}

Status Keyring::check_current(store::Store& store) const {
  if (!is_stale(store)) return ok_status();
  return make_error(ErrorKind::conflict,
                    "the store's master key was rotated (x420 kek rotate) after this process opened it; "
                    "restart it (x420 serve) so that it uses the new key");
}

bool Keyring::is_stale(store::Store& store) const {
  const auto recorded = store.meta(kKekIdMeta);
  const std::lock_guard lock(*kek_mutex_);
  return recorded && *recorded != kek_id_of(kek_);
}

Status Keyring::adopt(store::Store& store, crypto::SecretBytes kek) {
  const auto recorded = store.meta(kKekIdMeta);
  const auto sealed = store.meta(kHashingKeyMeta);
  auto hashing_key = sealed ? crypto::open(kek, *sealed, kHashingKeyAd) : make_error(ErrorKind::auth, "");
  if (!recorded || *recorded != kek_id_of(kek) || !hashing_key || hashing_key->view() != hashing_key_.view())
    return make_error(ErrorKind::auth, "that master key is not the one the store now records");
  const std::lock_guard lock(*kek_mutex_);
  kek_ = std::move(kek);
  return ok_status();
}

Keyring::Rewrapped Keyring::rewrap(store::Store& store, const crypto::SecretBytes& new_kek) const {
  Rewrapped done;
  store.set_meta(kHashingKeyMeta, crypto::seal(new_kek, hashing_key_.view(), kHashingKeyAd));
  for (const auto& tenant : store.list_tenants()) {
    auto dek = open_dek(tenant);
    if (!dek)
      throw Fatal(ErrorKind::internal, "the data key of tenant " + tenant.name +
                                           " does not open with the current master key; nothing was changed");
    store.set_tenant_dek(tenant.id, crypto::seal(new_kek, dek->view(), dek_ad(tenant.id)));
    ++done.tenants;
    for (const auto& upstream : store.list_upstreams(tenant.id)) {
      auto secret = open_upstream_secret(upstream);
      if (!secret)
        throw Fatal(ErrorKind::internal, "the secret of upstream " + upstream.name + " (tenant " + tenant.name +
                                             ") does not open with the current master key; nothing was changed");
      store.set_upstream_secret(upstream.id, crypto::seal(new_kek, secret->view(), upstream_ad(tenant.id, upstream.name)));
      ++done.upstreams;
    }
  }
  store.set_meta(kKekIdMeta, kek_id_of(new_kek));
  return done;
}

}  // namespace x420::service
