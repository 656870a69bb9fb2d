// A Store that passes every call to another one. Tests derive from it to count or fail chosen
// calls (fault injection) without restating the whole interface; wrappers such as a metrics or
// tracing store can do the same.
#pragma once

#include "lib/store/store.h"

namespace x420::store {

class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(Store& inner) : inner_(inner) {}

  void write_transaction(const std::function<void()>& w) override { inner_.write_transaction(w); }
  std::optional<Blob> meta(std::string_view n) override { return inner_.meta(n); }
  void set_meta(std::string_view n, const Blob& v) override { inner_.set_meta(n, v); }

  void insert_tenant(const TenantRow& r) override { inner_.insert_tenant(r); }
  std::optional<TenantRow> tenant_by_name(std::string_view n) override { return inner_.tenant_by_name(n); }
  std::optional<TenantRow> tenant_by_id(std::string_view i) override { return inner_.tenant_by_id(i); }
  std::vector<TenantRow> list_tenants() override { return inner_.list_tenants(); }
  bool delete_tenant(std::string_view i) override { return inner_.delete_tenant(i); }
  std::int64_t count_keys(std::string_view t) override { return inner_.count_keys(t); }
  void set_tenant_credit(std::string_view t, std::optional<std::int64_t> c) override {
    inner_.set_tenant_credit(t, c);
  }
  std::int64_t tenant_spent_micros(std::string_view t) override { return inner_.tenant_spent_micros(t); }

  void insert_key(const KeyRow& r) override { inner_.insert_key(r); }
  std::optional<KeyRow> key_by_id(std::string_view i) override { return inner_.key_by_id(i); }
  std::vector<KeyRow> list_keys(std::string_view t) override { return inner_.list_keys(t); }
  void update_key(const KeyRow& r) override { inner_.update_key(r); }

  void insert_token(const TokenRow& r) override { inner_.insert_token(r); }
  std::optional<TokenRow> token_by_id(std::string_view i) override { return inner_.token_by_id(i); }

  void insert_upstream(const UpstreamRow& r) override { inner_.insert_upstream(r); }
  void update_upstream(const UpstreamRow& r) override { inner_.update_upstream(r); }
  std::vector<UpstreamRow> list_upstreams(std::string_view t) override { return inner_.list_upstreams(t); }
  std::optional<UpstreamRow> upstream_by_name(std::string_view t, std::string_view n) override {
    return inner_.upstream_by_name(t, n);
  }
  bool delete_upstream(std::string_view t, std::string_view n) override { return inner_.delete_upstream(t, n); }

  void insert_usage(const UsageRow& r) override { inner_.insert_usage(r); }
  void touch_key(std::string_view k, UnixSeconds at) override { inner_.touch_key(k, at); }
  std::optional<UsageRow> usage_by_id(std::string_view i) override { return inner_.usage_by_id(i); }
  std::int64_t spent_micros(std::string_view k) override { return inner_.spent_micros(k); }
  std::vector<UsageRow> list_usage(std::string_view t, std::string_view k, UnixSeconds s, std::size_t l) override {
    return inner_.list_usage(t, k, s, l);
  }

  void set_tenant_dek(std::string_view t, const Blob& b) override { inner_.set_tenant_dek(t, b); }
  void set_upstream_secret(std::int64_t u, const Blob& b) override { inner_.set_upstream_secret(u, b); }

  void upsert_conversation(const ConversationRow& r) override { inner_.upsert_conversation(r); }
  std::int64_t next_record_seq(std::string_view t, std::string_view c) override { return inner_.next_record_seq(t, c); }
  void insert_conversation_record(const ConversationRecordRow& r) override { inner_.insert_conversation_record(r); }
  std::vector<ConversationRow> list_conversations(std::string_view t, std::size_t l) override {
    return inner_.list_conversations(t, l);
  }
  std::optional<ConversationRow> conversation_by_id(std::string_view t, std::string_view i) override {
    return inner_.conversation_by_id(t, i);
  }
  std::int64_t delete_expired_conversations(UnixSeconds n) override { return inner_.delete_expired_conversations(n); }
  void reclaim_deleted() override { inner_.reclaim_deleted(); }
  void for_each_conversation(std::string_view t, const std::optional<PagePosition>& a, std::size_t l,
                             const std::function<void(const ConversationRow&)>& v) override {
    inner_.for_each_conversation(t, a, l, v);
  }
  void for_each_conversation_record(std::string_view t, std::string_view c, std::int64_t a, std::size_t l,
                                    const std::function<void(const ConversationRecordRow&)>& v) override {
    inner_.for_each_conversation_record(t, c, a, l, v);
  }
  void for_each_usage(std::string_view t, const std::optional<PagePosition>& a, std::size_t l,
                      const std::function<void(const UsageRow&)>& v) override {
    inner_.for_each_usage(t, a, l, v);
  }

 protected:
  Store& inner_;
};

}  // namespace x420::store
