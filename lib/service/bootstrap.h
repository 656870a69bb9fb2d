// Creating and opening a store together with its master key: the policy that a store which
// exists is never given a fresh master key (that would orphan every sealed record), and that
// x420 init may be run any number of times.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "lib/common/clock.h"
#include "lib/common/result.h"
#include "lib/service/keyring.h"
#include "lib/store/store.h"

namespace x420::service {

struct MasterKeySource {
  std::optional<std::string> env_value;  // X420_MASTER_KEY, which wins over the file
  std::filesystem::path file;            // $XDG_CONFIG_HOME/x420/master.key by default
};

struct InitReport {
  bool store_created = false;
  bool master_key_created = false;
  bool default_tenant_created = false;
  std::optional<std::string> operator_token;  // shown once, on the first init only
};

struct OpenStore {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<Keyring> keyring;
};

Result<InitReport> initialize(const std::string& db_path, const MasterKeySource& source,
                              const Clock& clock);

// Opens an initialised store and unlocks its keyring. ErrorKind::usage when the store is
// missing or not initialised, ErrorKind::auth when the master key is missing or wrong.
Result<OpenStore> open_store(const std::string& db_path, const MasterKeySource& source);

}  // namespace x420::service
