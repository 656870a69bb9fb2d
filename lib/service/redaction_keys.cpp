#include "lib/service/redaction_keys.h"

#include <nlohmann/json.hpp>

#include "lib/crypto/aead.h"
#include "lib/crypto/keyed_hash.h"

namespace x420::service {
namespace {

constexpr std::string_view kMapMagic = "x420map1";

std::string map_ad(std::string_view tenant_id) {
  return "x420/placeholder-map/v1|tenant:" + std::string(tenant_id);
}

Result<store::TenantRow> tenant_row(store::Store& store, std::string_view tenant) {
  auto row = store.tenant_by_name(tenant);
  if (!row)
    return make_error(ErrorKind::not_found, "no tenant named " + std::string(tenant) +
                                                " (x420 tenants list shows the tenants)");
  return *row;
}

Result<crypto::SecretBytes> placeholder_key_of(const Keyring& keyring, const store::TenantRow& row) {
  auto dek = keyring.open_dek(row);
  if (!dek) return dek.error();
  const auto derived = crypto::keyed_hash(dek.value(), "x420/placeholder-key/v1");
  return crypto::SecretBytes(derived.data(), derived.size());
}

}  // namespace

Result<crypto::SecretBytes> placeholder_key(store::Store& store, const Keyring& keyring,
                                            std::string_view tenant) {
  auto row = tenant_row(store, tenant);
  if (!row) return row.error();
  return placeholder_key_of(keyring, *row);
}

Result<crypto::SecretBytes> placeholder_key_by_id(store::Store& store, const Keyring& keyring,
                                                  std::string_view tenant_id) {
  const auto row = store.tenant_by_id(tenant_id);
  if (!row) return make_error(ErrorKind::not_found, "the tenant is gone");
  return placeholder_key_of(keyring, *row);
}

Result<std::vector<std::uint8_t>> seal_placeholder_map(store::Store& store, const Keyring& keyring,
                                                       std::string_view tenant,
                                                       const detect::PlaceholderMap& map) {
  auto row = tenant_row(store, tenant);
  if (!row) return row.error();
  auto dek = keyring.open_dek(*row);
  if (!dek) return dek.error();
  nlohmann::json doc = nlohmann::json::object();
  for (const auto& [placeholder, secret] : map.entries()) doc[std::string(placeholder)] = std::string(secret);
  std::string plain = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const auto sealed = crypto::seal(dek.value(), plain, map_ad(row->id));
  crypto::wipe(plain);
  std::vector<std::uint8_t> out(kMapMagic.begin(), kMapMagic.end());
  out.push_back(static_cast<std::uint8_t>(row->id.size()));
  out.insert(out.end(), row->id.begin(), row->id.end());
  out.insert(out.end(), sealed.begin(), sealed.end());
  return out;
}

Result<detect::PlaceholderMap> open_placeholder_map(store::Store& store, const Keyring& keyring,
                                                    std::string_view bytes) {
  const Error bad = make_error(ErrorKind::usage, "not an x420 placeholder map (or it is truncated)");
  if (bytes.size() < kMapMagic.size() + 1 || bytes.substr(0, kMapMagic.size()) != kMapMagic) return bad;
  const std::size_t id_len = static_cast<std::uint8_t>(bytes[kMapMagic.size()]);
  if (bytes.size() < kMapMagic.size() + 1 + id_len) return bad;
  const std::string tenant_id(bytes.substr(kMapMagic.size() + 1, id_len));
  const auto row = store.tenant_by_id(tenant_id);
  if (!row)
    return make_error(ErrorKind::not_found, "the map belongs to a tenant this store does not have");
  auto dek = keyring.open_dek(*row);
  if (!dek) return dek.error();
  const auto sealed = bytes.substr(kMapMagic.size() + 1 + id_len);
  auto plain = crypto::open(dek.value(),
                            std::span(reinterpret_cast<const std::uint8_t*>(sealed.data()), sealed.size()),
                            map_ad(tenant_id));
  if (!plain) return make_error(ErrorKind::usage, "the placeholder map does not open: " + plain.error().message);
  detect::PlaceholderMap map;
  const auto doc = nlohmann::json::parse(plain->view(), nullptr, false);
  if (!doc.is_object()) return bad;
  for (const auto& [placeholder, secret] : doc.items()) {
    if (!secret.is_string()) return bad;
    map.add(placeholder, secret.get_ref<const std::string&>());
  }
  return map;
}

}  // namespace x420::service
