#include "lib/service/bootstrap.h"

#include "lib/crypto/aead.h"
#include "lib/crypto/master_key.h"
#include "lib/service/kek_rotation.h"
#include "lib/service/local_service.h"

namespace x420::service {
namespace {

std::string describe(const MasterKeySource& source) {
  return source.env_value ? std::string("X420_MASTER_KEY") : source.file.string();
}

// The master key from the environment or the file; ErrorKind::not_found when neither has one.
Result<crypto::SecretBytes> load_master_key(const MasterKeySource& source) {
  if (source.env_value) {
    auto key = crypto::decode_master_key(*source.env_value);
    if (!key) return make_error(ErrorKind::usage, "X420_MASTER_KEY: " + key.error().message);
    return key;
  }
  return crypto::read_master_key_file(source.file);
}

Result<crypto::SecretBytes> require_master_key(const std::string& db_path,
                                               const MasterKeySource& source) {
  auto key = load_master_key(source);
  if (!key && key.error().kind == ErrorKind::not_found)
    return make_error(ErrorKind::auth,
                      "the store at " + db_path + " needs its master key, and there is none at " +
                          source.file.string() +
                          " (restore that file, or set X420_MASTER_KEY); x420 will not make a new "
                          "one, which would lose every sealed secret");
  return key;
}

// The keyring of an initialised store: its master key, or — when a KEK rotation committed and
// was cut off before renaming the new key into place — the new one, finishing that rotation.
Result<Keyring> unlock(store::Store& store, const std::string& db_path, const MasterKeySource& source) {
  auto kek = require_master_key(db_path, source);
  if (!kek) return kek.error();
  auto keyring = Keyring::open(store, std::move(kek.value()));
  if (keyring) return keyring;
  if (keyring.error().kind == ErrorKind::auth && !source.env_value)
    if (auto finished = finish_interrupted_rotation(store, source.file)) return finished;
  return make_error(keyring.error().kind, keyring.error().message + " (" + describe(source) + ")");
}

void ensure_default_tenant(store::Store& store, const Keyring& keyring, const Clock& clock,
                           InitReport& report) {
  if (store.tenant_by_name(kDefaultTenant)) return;
  store::TenantRow row;
  row.id = "tdefault";
  row.name = std::string(kDefaultTenant);
  row.created_at = clock.now();
  row.wrapped_dek = keyring.seal_new_dek(row.id);
  store.insert_tenant(row);
  report.default_tenant_created = true;
}

}  // namespace

Result<InitReport> initialize(const std::string& db_path, const MasterKeySource& source,
                              const Clock& clock) {
  std::error_code ec;
  InitReport report;
  report.store_created = !std::filesystem::exists(db_path, ec);
  auto store = store::open_sqlite_store(db_path, {.create = true});

  if (Keyring::is_initialised(*store)) {
    auto keyring = unlock(*store, db_path, source);
    if (!keyring) return keyring.error();
    store->write_transaction([&] { ensure_default_tenant(*store, *keyring, clock, report); });
    return report;
  }

  auto kek = load_master_key(source);
  if (!kek && kek.error().kind == ErrorKind::not_found) {
    kek = crypto::generate_key();
    if (auto written = crypto::write_master_key_file(source.file, kek.value()); !written)
      return written.error();
    report.master_key_created = true;
  }
  if (!kek) return kek.error();

  store->write_transaction([&] {
    auto keyring = Keyring::create(*store, std::move(kek.value()));
    ensure_default_tenant(*store, keyring, clock, report);
    report.operator_token = issue_token(*store, keyring, clock, Actor::operator_actor(), "operator");
  });
  return report;
}

Result<OpenStore> open_store(const std::string& db_path, const MasterKeySource& source) {
  auto store = store::open_sqlite_store(db_path, {.create = false});
  if (!Keyring::is_initialised(*store))
    return make_error(ErrorKind::usage,
                      "the store at " + db_path + " is not initialised (run `x420 init`)");
  auto keyring = unlock(*store, db_path, source);
  if (!keyring) return keyring.error();
  return OpenStore{std::move(store), std::make_unique<Keyring>(std::move(keyring.value()))};
}

}  // namespace x420::service
