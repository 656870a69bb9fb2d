// How keys, tenants and upstreams look as JSON: the documents `--json` prints and the admin API
// answers with (usage rows: usage_view.h), and the way back from them, for the remote service.
// Never a secret or a hash: the Info types do not carry them.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string_view>

#include "lib/common/result.h"
#include "lib/service/service.h"

namespace x420::service {

nlohmann::ordered_json key_json(const KeyInfo& key);
nlohmann::ordered_json tenant_json(const TenantInfo& tenant);
nlohmann::ordered_json upstream_json(const UpstreamInfo& upstream);
nlohmann::ordered_json conversation_json(const ConversationInfo& conversation);
// A record's metadata, without its text (the export streams the text after it).
nlohmann::ordered_json record_meta_json(const ConversationRecord& record);
// The conversation with "records": [{…, "text"}], as `x420 history show --json` prints it.
nlohmann::ordered_json conversation_detail_json(const ConversationDetail& detail);

// The inverses, for documents that came over the wire. A missing field or one of the wrong type
// is ErrorKind::internal, naming the field: it means a server of another version, not bad user
// input. A key's tenant_id is not in its document and stays empty.
Result<KeyInfo> key_from_json(const nlohmann::json& doc);
Result<TenantInfo> tenant_from_json(const nlohmann::json& doc);
Result<UpstreamInfo> upstream_from_json(const nlohmann::json& doc);
Result<UsageInfo> usage_from_json(const nlohmann::json& doc);
Result<ConversationInfo> conversation_from_json(const nlohmann::json& doc);
Result<ConversationDetail> conversation_detail_from_json(const nlohmann::json& doc);

// The admin API's error document, {"error":{"kind","message"}}, as --json prints errors too.
nlohmann::ordered_json error_json(const Error& error);
// "not_found" → ErrorKind::not_found: the inverse of kind_name().
std::optional<ErrorKind> error_kind_named(std::string_view name);

}  // namespace x420::service
