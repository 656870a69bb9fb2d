#include "lib/service/json_views.h"

#include <cmath>

#include "lib/common/time_format.h"

namespace x420::service {
namespace {

using ojson = nlohmann::ordered_json;

ojson time_or_null(const std::optional<UnixSeconds>& t) {
  return t ? ojson(format_timestamp(*t)) : ojson(nullptr);
}

template <class T>
ojson value_or_null(const std::optional<T>& v) {
  return v ? ojson(*v) : ojson(nullptr);
}

// Reads the fields of one document, remembering the first that is missing or of the wrong type,
// so that a converter reads as a list of fields and checks once at the end.
class FieldReader {
 public:
  FieldReader(const nlohmann::json& doc, const char* what) : doc_(doc), what_(what) {
    if (!doc_.is_object()) problem_ = std::string("is not an object");
  }

  std::string text(const char* name) { return required(name, &FieldReader::as_text, std::string()); }
  std::optional<std::string> optional_text(const char* name) { return optional(name, &FieldReader::as_text); }
  std::int64_t integer(const char* name) { return required(name, &FieldReader::as_integer, std::int64_t{0}); }
  std::optional<std::int64_t> optional_integer(const char* name) { return optional(name, &FieldReader::as_integer); }
  bool boolean(const char* name) { return required(name, &FieldReader::as_boolean, false); }
  std::optional<bool> optional_boolean(const char* name) { return optional(name, &FieldReader::as_boolean); }
  UnixSeconds time(const char* name) { return required(name, &FieldReader::as_time, UnixSeconds{0}); }
  std::optional<UnixSeconds> optional_time(const char* name) { return optional(name, &FieldReader::as_time); }
  std::optional<std::int64_t> optional_usd(const char* name) { return optional(name, &FieldReader::as_usd_micros); }
  std::int64_t usd(const char* name) { return required(name, &FieldReader::as_usd_micros, std::int64_t{0}); }

  std::vector<std::string> text_list(const char* name) {
    std::vector<std::string> out;
    const auto* v = find(name);
    if (!v || !v->is_array()) {
      note(name, "is not a list");
      return out;
    }
    for (const auto& item : *v) {
      if (!item.is_string()) {
        note(name, "holds something other than strings");
        return {};
      }
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  std::optional<Error> error() const {
    if (!problem_) return std::nullopt;
    return make_error(ErrorKind::internal, std::string("the server's ") + what_ + " " + *problem_ +
                                               " (is the server running another version of x420?)");
  }

 private:
  const nlohmann::json* find(const char* name) const {
    if (!doc_.is_object()) return nullptr;
    const auto it = doc_.find(name);
    return it == doc_.end() ? nullptr : &*it;
  }

  void note(const char* name, const char* why) {
    if (!problem_) problem_ = std::string("field '") + name + "' " + why;
  }

  template <class T>
  T required(const char* name, std::optional<T> (FieldReader::*convert)(const nlohmann::json&) const, T fallback) {
    const auto* v = find(name);
    if (!v || v->is_null()) {
      if (doc_.is_object()) note(name, "is missing");
      return fallback;
    }
    auto out = (this->*convert)(*v);
    if (!out) {
      note(name, "has the wrong type");
      return fallback;
    }
    return std::move(*out);
  }

  template <class T>
  std::optional<T> optional(const char* name, std::optional<T> (FieldReader::*convert)(const nlohmann::json&) const) {
    const auto* v = find(name);
    if (!v || v->is_null()) return std::nullopt;
    auto out = (this->*convert)(*v);
    if (!out) note(name, "has the wrong type");
    return out;
  }

  std::optional<std::string> as_text(const nlohmann::json& v) const {
    if (!v.is_string()) return std::nullopt;
    return v.get<std::string>();
  }
  std::optional<std::int64_t> as_integer(const nlohmann::json& v) const {
    if (!v.is_number_integer()) return std::nullopt;
    return v.get<std::int64_t>();
  }
  std::optional<bool> as_boolean(const nlohmann::json& v) const {
    if (!v.is_boolean()) return std::nullopt;
    return v.get<bool>();
  }
  std::optional<UnixSeconds> as_time(const nlohmann::json& v) const {
    if (!v.is_string()) return std::nullopt;
    return parse_timestamp(v.get_ref<const std::string&>());
  }
  // Dollars as a JSON number, back to exact micro-dollars (amounts are at most a billion
  // dollars, far inside a double's exact range at six decimals).
  std::optional<std::int64_t> as_usd_micros(const nlohmann::json& v) const {
    if (!v.is_number()) return std::nullopt;
    const double dollars = v.get<double>();
    if (!std::isfinite(dollars) || std::fabs(dollars) > 1e12) return std::nullopt;
    return static_cast<std::int64_t>(std::llround(dollars * 1e6));
  }

  const nlohmann::json& doc_;
  const char* what_;
  std::optional<std::string> problem_;
};

}  // namespace

ojson key_json(const KeyInfo& k) {
  ojson doc = {
      {"id", k.id},
      {"name", k.name},
      {"tenant", k.tenant},
      {"status", k.status},
      {"created_at", format_timestamp(k.created_at)},
      {"last_used_at", time_or_null(k.last_used_at)},
      {"expires_at", time_or_null(k.expires_at)},
      {"rotated_at", time_or_null(k.rotated_at)},
      {"revoked_at", time_or_null(k.revoked_at)},
      {"grace_until", time_or_null(k.previous_valid_until)},
      {"cap_usd", k.cap_usd_micros ? ojson(static_cast<double>(*k.cap_usd_micros) / 1e6) : ojson(nullptr)},
      {"rpm", value_or_null(k.rpm)},
      {"tpm", value_or_null(k.tpm)},
      {"no_log", k.no_log},
      {"redaction", k.redaction ? ojson(*k.redaction) : ojson(nullptr)},
      {"store_conversations", k.store_conversations ? ojson(*k.store_conversations) : ojson(nullptr)},
      {"conversation_ttl_seconds", value_or_null(k.conversation_ttl)},
      {"unscanned_payloads", k.unscanned_payloads ? ojson(*k.unscanned_payloads) : ojson(nullptr)},
      {"redact_personal", k.redact_personal ? ojson(*k.redact_personal) : ojson(nullptr)},
  };
  if (k.verified_secret) doc["verified_secret"] = *k.verified_secret;
  return doc;
}

ojson tenant_json(const TenantInfo& t) {
  const auto usd = [](std::int64_t micros) { return static_cast<double>(micros) / 1e6; };
  return {{"id", t.id},
          {"name", t.name},
          {"created_at", format_timestamp(t.created_at)},
          {"keys", t.key_count},
          {"credit_usd", t.credit_usd_micros ? ojson(usd(*t.credit_usd_micros)) : ojson(nullptr)},
          {"spent_usd", usd(t.spent_usd_micros)},
          {"balance_usd", t.credit_usd_micros ? ojson(usd(*t.credit_usd_micros - t.spent_usd_micros)) : ojson(nullptr)}};
}

ojson upstream_json(const UpstreamInfo& u) {
  return {{"name", u.name},         {"tenant", u.tenant}, {"kind", u.kind},
          {"base_url", u.base_url}, {"models", u.models}, {"created_at", format_timestamp(u.created_at)}};
}

ojson conversation_json(const ConversationInfo& c) {
  return {{"id", c.id},
          {"tenant", c.tenant},
          {"key_id", c.key_id.empty() ? ojson(nullptr) : ojson(c.key_id)},
          {"created_at", format_timestamp(c.created_at)},
          {"updated_at", format_timestamp(c.updated_at)},
          {"expires_at", time_or_null(c.expires_at)},
          {"records", c.record_count}};
}

ojson record_meta_json(const ConversationRecord& r) {
  return {{"id", r.id},
          {"seq", r.seq},
          {"kind", r.kind},
          {"generation_id", r.generation_id.empty() ? ojson(nullptr) : ojson(r.generation_id)},
          {"created_at", format_timestamp(r.created_at)}};
}

ojson conversation_detail_json(const ConversationDetail& d) {
  auto doc = conversation_json(d.info);
  doc.erase("records");
  doc["record_count"] = d.info.record_count;
  auto records = ojson::array();
  for (const auto& r : d.records) {
    auto one = record_meta_json(r);
    one["text"] = r.text;
    records.push_back(std::move(one));
  }
  doc["records"] = std::move(records);
  return doc;
}

Result<KeyInfo> key_from_json(const nlohmann::json& doc) {
  FieldReader f(doc, "key");
  KeyInfo k;
  k.id = f.text("id");
  k.name = f.text("name");
  k.tenant = f.text("tenant");
  k.status = f.text("status");
  k.created_at = f.time("created_at");
  k.last_used_at = f.optional_time("last_used_at");
  k.expires_at = f.optional_time("expires_at");
  k.rotated_at = f.optional_time("rotated_at");
  k.revoked_at = f.optional_time("revoked_at");
  k.previous_valid_until = f.optional_time("grace_until");
  k.cap_usd_micros = f.optional_usd("cap_usd");
  k.rpm = f.optional_integer("rpm");
  k.tpm = f.optional_integer("tpm");
  k.no_log = f.boolean("no_log");
  k.redaction = f.optional_text("redaction");
  k.store_conversations = f.optional_boolean("store_conversations");
  k.conversation_ttl = f.optional_integer("conversation_ttl_seconds");
  k.unscanned_payloads = f.optional_text("unscanned_payloads");
  k.redact_personal = f.optional_boolean("redact_personal");
  k.verified_secret = f.optional_text("verified_secret");
  if (auto e = f.error()) return *e;
  return k;
}

Result<TenantInfo> tenant_from_json(const nlohmann::json& doc) {
  FieldReader f(doc, "tenant");
  TenantInfo t;
  t.id = f.text("id");
  t.name = f.text("name");
  t.created_at = f.time("created_at");
  t.key_count = f.integer("keys");
  t.credit_usd_micros = f.optional_usd("credit_usd");
  t.spent_usd_micros = f.usd("spent_usd");
  if (auto e = f.error()) return *e;
  return t;
}

Result<UpstreamInfo> upstream_from_json(const nlohmann::json& doc) {
  FieldReader f(doc, "upstream");
  UpstreamInfo u;
  u.name = f.text("name");
  u.tenant = f.text("tenant");
  u.kind = f.text("kind");
  u.base_url = f.text("base_url");
  u.models = f.text_list("models");
  u.created_at = f.time("created_at");
  if (auto e = f.error()) return *e;
  return u;
}

Result<UsageInfo> usage_from_json(const nlohmann::json& doc) {
  FieldReader f(doc, "usage row");
  UsageInfo u;
  u.id = f.text("id");
  u.tenant = f.text("tenant");
  u.key_id = f.text("key_id");
  u.upstream = f.optional_text("upstream").value_or("");
  u.model = f.optional_text("model").value_or("");
  u.created_at = f.time("created_at");
  u.input_tokens = f.integer("input_tokens");
  u.output_tokens = f.integer("output_tokens");
  u.cached_tokens = f.integer("cached_tokens");
  u.reasoning_tokens = f.integer("reasoning_tokens");
  u.cost_usd_micros = f.usd("cost_usd");
  u.latency_ms = f.integer("latency_ms");
  u.ttfb_ms = f.optional_integer("ttfb_ms");
  u.status = static_cast<int>(f.integer("status"));
  u.error_type = f.optional_text("error_type").value_or("");
  u.redactions = f.integer("redactions");
  if (auto e = f.error()) return *e;
  return u;
}

namespace {

// The conversation's metadata; its record count is under `count_field` ("records" in a list,
// "record_count" in a detail, where "records" holds the records themselves).
Result<ConversationInfo> conversation_info_from_json(const nlohmann::json& doc, const char* count_field) {
  FieldReader f(doc, "conversation");
  ConversationInfo c;
  c.id = f.text("id");
  c.tenant = f.text("tenant");
  c.key_id = f.optional_text("key_id").value_or("");
  c.created_at = f.time("created_at");
  c.updated_at = f.time("updated_at");
  c.expires_at = f.optional_time("expires_at");
  c.record_count = f.integer(count_field);
  if (auto e = f.error()) return *e;
  return c;
}

}  // namespace

Result<ConversationInfo> conversation_from_json(const nlohmann::json& doc) {
  return conversation_info_from_json(doc, "records");
}

Result<ConversationDetail> conversation_detail_from_json(const nlohmann::json& doc) {
  ConversationDetail d;
  auto info = conversation_info_from_json(doc, "record_count");
  if (!info) return info.error();
  d.info = std::move(*info);
  const auto records = doc.find("records");
  if (records == doc.end() || !records->is_array())
    return make_error(ErrorKind::internal, "the server's conversation has no list of records (is the server running another version of x420?)");
  for (const auto& item : *records) {
    FieldReader r(item, "conversation record");
    ConversationRecord rec;
    rec.id = r.text("id");
    rec.seq = r.integer("seq");
    rec.kind = r.text("kind");
    rec.generation_id = r.optional_text("generation_id").value_or("");
    rec.created_at = r.time("created_at");
    rec.text = r.text("text");
    if (auto e = r.error()) return *e;
    d.records.push_back(std::move(rec));
  }
  return d;
}

ojson error_json(const Error& error) {
  return {{"error", {{"kind", kind_name(error.kind)}, {"message", error.message}}}};
}

std::optional<ErrorKind> error_kind_named(std::string_view name) {
  for (auto kind : {ErrorKind::usage, ErrorKind::auth, ErrorKind::forbidden, ErrorKind::not_found,
                    ErrorKind::conflict, ErrorKind::unavailable, ErrorKind::internal})
    if (name == kind_name(kind)) return kind;
  return std::nullopt;
}

}  // namespace x420::service
