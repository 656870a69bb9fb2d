// Key material for pseudonymized redaction, per tenant: the key placeholders are derived with
// (so a secret gets the same placeholder in every run and process of that tenant), and the
// sealing of placeholder maps that `x420 redact --map` writes.
#pragma once

#include <string_view>
#include <vector>

#include "lib/common/result.h"
#include "lib/crypto/secret_bytes.h"
#include "lib/detect/redactor.h"
#include "lib/service/keyring.h"
#include "lib/store/store.h"

namespace x420::service {

Result<crypto::SecretBytes> placeholder_key(store::Store& store, const Keyring& keyring,
                                            std::string_view tenant);
// The same key, for the tenant with this id (the proxy's caches are keyed by id: a tenant made
// again under a deleted one's name must not get its key).
Result<crypto::SecretBytes> placeholder_key_by_id(store::Store& store, const Keyring& keyring,
                                                  std::string_view tenant_id);

// A map sealed under the tenant's DEK; the file names the tenant it belongs to.
Result<std::vector<std::uint8_t>> seal_placeholder_map(store::Store& store, const Keyring& keyring,
                                                       std::string_view tenant,
                                                       const detect::PlaceholderMap& map);
// Fails loudly on anything but an intact map of a tenant of this store.
Result<detect::PlaceholderMap> open_placeholder_map(store::Store& store, const Keyring& keyring,
                                                    std::string_view bytes);

}  // namespace x420::service
