// How keys and tenants look on the terminal (their --json documents: service/json_views.h).
// Never a secret or a hash: the Info types do not carry them, and the plaintext of a new key is
// added by its command alone.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/output.h"
#include "lib/service/json_views.h"
#include "lib/service/service.h"

namespace x420::cli {

std::string timestamp_or_dash(const std::optional<UnixSeconds>& t);

void print_key_table(const Output& out, const std::vector<service::KeyInfo>& keys);
void print_key_details(const Output& out, const service::KeyInfo& key);
void print_tenant_table(const Output& out, const std::vector<service::TenantInfo>& tenants);

}  // namespace x420::cli
