// The data lifecycle (DESIGN.md, "Data lifecycle"): sealed conversation records and their sweep,
// the streamed account export and its checker, KEK rotation, and what the proxy captures of a
// reply to store.
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <random>
#include <sstream>
#include <stdexcept>

#include "lib/common/clock.h"
#include "lib/common/utf8.h"
#include "lib/crypto/aead.h"
#include "lib/crypto/master_key.h"
#include "lib/export/bundle_check.h"
#include "lib/common/json_text.h"
#include "proxy/conversation_capture.h"
#include "proxy/reply_stream.h"
#include "lib/service/bootstrap.h"
#include "lib/service/conversations.h"
#include "lib/service/kek_rotation.h"
#include "lib/service/local_service.h"
#include "support/service_fixture.h"
#include "support/temp_dir.h"

using namespace x420;
using namespace x420::service;

namespace {

struct Fixture : test::ServiceFixture {
  store::Store& store() { return *open.store; }
  const Keyring& keyring() { return *open.keyring; }

  std::string default_id() { return store().tenant_by_name("default")->id; }

  ConversationWrite exchange(std::string conversation, std::string request, std::string response,
                             std::optional<UnixSeconds> ttl = std::nullopt) {
    ConversationWrite w;
    w.tenant_id = default_id();
    w.conversation_id = std::move(conversation);
    w.now = clock.now();
    w.ttl = ttl;
    w.request_text = std::move(request);
    w.response_text = std::move(response);
    return w;
  }

  std::vector<store::ConversationRecordRow> records(const std::string& tenant_id, const std::string& conversation) {
    std::vector<store::ConversationRecordRow> out;
    store().for_each_conversation_record(tenant_id, conversation, 0, 10'000,
                                         [&](const store::ConversationRecordRow& r) { out.push_back(r); });
    return out;
  }

  crypto::SecretBytes dek(const std::string& tenant_id) {
    auto d = open_tenant_dek(store(), keyring(), tenant_id);
    REQUIRE(d.ok());
    return std::move(d.value());
  }

  void insert_usage(const std::string& id, UnixSeconds at) {
    store::UsageRow row;
    row.id = id;
    row.tenant_id = default_id();
    row.key_id = "AAAAAAAAAAAA";
    row.upstream = "openai";
    row.model = "gpt-4o";
    row.created_at = at;
    row.input_tokens = 10;
    row.status = 200;
    store().write_transaction([&] { store().insert_usage(row); });
  }
};

std::string text_of(const Result<crypto::SecretBytes>& r) { return std::string(r->view()); }

std::string as_text(const store::Blob& b) { return std::string(b.begin(), b.end()); }

KeySpec named(std::string name) {
  KeySpec s;
  s.name = std::move(name);
  return s;
}

// The whole export, and the chunks the sink received.
struct Exported {
  Status status = ok_status();
  std::string bytes;
  std::vector<std::size_t> chunk_sizes;
};

Exported export_of(LocalService& svc, const std::string& tenant) {
  Exported e;
  e.status = svc.export_account(tenant, [&](std::string_view chunk) {
    e.bytes.append(chunk);
    e.chunk_sizes.push_back(chunk.size());
    return ok_status();
  });
  return e;
}

Result<exporting::BundleSummary> check(const std::string& bundle) {
  std::istringstream in(bundle);
  return exporting::check_bundle(in);
}

std::string hex(const crypto::Hash& h) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (auto b : h) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// Alters the sealed bytes of one stored record behind the service's back, as a disk or an
// attacker could.
void tamper_stored_record(const std::string& db_path, const std::string& record_id) {
  SQLite::Database db(db_path, SQLite::OPEN_READWRITE);
  SQLite::Statement st(db, "UPDATE conversation_records SET sealed = "
                           "substr(sealed, 1, 20) || X'5A' || substr(sealed, 22) WHERE id = ?");
  st.bind(1, record_id);
  REQUIRE(st.exec() == 1);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Conversations: sealing, binding, validation, TTL, upsert, sweep.

TEST_CASE("record_exchange seals the request and the reply; only open_record reveals them", "[lifecycle]") {
  Fixture f;
  const std::string request = "request text: the-plaintext-prompt-7f3a";
  const std::string response = "response text: the-plaintext-reply-9c2e";
  auto w = f.exchange("chat-1", request, response);
  w.generation_id = "gen-abc";
  w.key_id = "KEYKEYKEYKEY";
  REQUIRE(record_exchange(f.store(), f.keyring(), w).ok());

  const auto rows = f.records(f.default_id(), "chat-1");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].kind == "request");
  CHECK(rows[1].kind == "response");
  CHECK(rows[0].generation_id == "gen-abc");
  CHECK(rows[0].created_at == f.clock.now());
  CHECK(rows[0].id != rows[1].id);
  for (const auto& r : rows) CHECK(as_text(r.sealed).find("the-plaintext") == std::string::npos);
  CHECK(rows[0].sealed.size() == request.size() + crypto::kEnvelopeOverhead);
  CHECK(rows[1].sealed.size() == response.size() + crypto::kEnvelopeOverhead);
  const auto dek = f.dek(f.default_id());
  CHECK(text_of(open_record(dek, rows[0])) == request);
  CHECK(text_of(open_record(dek, rows[1])) == response);

  f.open.store.reset();  // checkpoint the WAL into the file
  const auto bytes = test::read_bytes(f.db);
  CHECK(bytes.find("the-plaintext-prompt") == std::string::npos);
  CHECK(bytes.find("the-plaintext-reply") == std::string::npos);
}

TEST_CASE("each record gets a fresh nonce: the same text twice seals differently", "[lifecycle]") {
  Fixture f;
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("c", "same text", "same text")).ok());
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("c", "same text", "same text")).ok());
  const auto rows = f.records(f.default_id(), "c");
  REQUIRE(rows.size() == 4);
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = i + 1; j < rows.size(); ++j) {
      CHECK(rows[i].sealed != rows[j].sealed);
      const store::Blob nonce_i(rows[i].sealed.begin() + 1, rows[i].sealed.begin() + 1 + crypto::kAeadNonceSize);
      const store::Blob nonce_j(rows[j].sealed.begin() + 1, rows[j].sealed.begin() + 1 + crypto::kAeadNonceSize);
      CHECK(nonce_i != nonce_j);
    }
}

TEST_CASE("a record with any one byte altered does not open, and the error names the record", "[lifecycle]") {
  Fixture f;
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("conv-x", "secret-ish text", "reply")).ok());
  const auto row = f.records(f.default_id(), "conv-x").at(0);
  const auto dek = f.dek(f.default_id());
  REQUIRE(open_record(dek, row).ok());
  for (std::size_t i = 0; i < row.sealed.size(); ++i) {
    auto altered = row;
    altered.sealed[i] ^= 0x01;
    auto opened = open_record(dek, altered);
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.error().kind == ErrorKind::internal);
    CHECK(opened.error().message.find(row.id) != std::string::npos);
    CHECK(opened.error().message.find("conv-x") != std::string::npos);
    CHECK(opened.error().message.find("secret-ish") == std::string::npos);
  }
  auto cut = row;
  cut.sealed.pop_back();
  CHECK(open_record(dek, cut).error().kind == ErrorKind::internal);
}

TEST_CASE("a record moved to another conversation, tenant, seq, id or kind does not open", "[lifecycle]") {
  Fixture f;
  auto acme = f.as_operator().create_tenant("acme");
  REQUIRE(acme.ok());
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("conv-a", "question", "answer")).ok());
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("conv-b", "question", "answer")).ok());
  const auto row = f.records(f.default_id(), "conv-a").at(0);
  const auto dek = f.dek(f.default_id());
  REQUIRE(text_of(open_record(dek, row)) == "question");

  auto moved = row;
  moved.conversation_id = "conv-b";
  CHECK(open_record(dek, moved).error().kind == ErrorKind::internal);
  moved = row;
  moved.tenant_id = acme->info.id;
  CHECK(open_record(dek, moved).error().kind == ErrorKind::internal);
  moved = row;
  moved.seq = 2;
  CHECK(open_record(dek, moved).error().kind == ErrorKind::internal);
  moved = row;
  moved.id = f.records(f.default_id(), "conv-b").at(0).id;
  CHECK(open_record(dek, moved).error().kind == ErrorKind::internal);
  moved = row;
  moved.kind = "response";
  CHECK(open_record(dek, moved).error().kind == ErrorKind::internal);
  // A blob copied over another record's row (same text, same position) does not open there.
  auto swapped = f.records(f.default_id(), "conv-b").at(0);
  swapped.sealed = row.sealed;
  CHECK(open_record(dek, swapped).error().kind == ErrorKind::internal);
}

TEST_CASE("a record does not open with another tenant's data key", "[lifecycle]") {
  Fixture f;
  auto acme = f.as_operator().create_tenant("acme");
  REQUIRE(acme.ok());
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("c", "default's text", "r")).ok());
  const auto row = f.records(f.default_id(), "c").at(0);
  const auto acme_dek = f.dek(acme->info.id);
  auto opened = open_record(acme_dek, row);
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.error().kind == ErrorKind::internal);
  CHECK(opened.error().message.find(row.id) != std::string::npos);
  CHECK(open_tenant_dek(f.store(), f.keyring(), "tnosuch").error().kind == ErrorKind::not_found);
}

TEST_CASE("record_exchanges writes a batch all or none", "[lifecycle]") {
  Fixture f;
  std::vector<ConversationWrite> batch = {f.exchange("first", "a", "b"), f.exchange("second", "c", "d"),
                                          f.exchange("third", "e", "f")};
  batch[1].tenant_id = "tnosuch";
  auto s = record_exchanges(f.store(), f.keyring(), batch);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind == ErrorKind::not_found);
  CHECK(f.store().list_conversations(f.default_id(), 100).empty());
  CHECK(f.records(f.default_id(), "first").empty());

  batch[1].tenant_id = f.default_id();
  batch[2].conversation_id = "bad id";
  CHECK(record_exchanges(f.store(), f.keyring(), batch).error().kind == ErrorKind::usage);
  CHECK(f.store().list_conversations(f.default_id(), 100).empty());

  batch[2].conversation_id = "third";
  REQUIRE(record_exchanges(f.store(), f.keyring(), batch).ok());
  CHECK(f.store().list_conversations(f.default_id(), 100).size() == 3);
}

TEST_CASE("bad conversation ids and negative TTLs are usage errors and write nothing", "[lifecycle]") {
  Fixture f;
  for (const std::string& id : {std::string(), std::string(129, 'a'), std::string("has space"),
                               std::string("ctl\x01" "char"), std::string("tab\there"), std::string("del\x7f"),
                               std::string("caf\xc3\xa9")}) {
    auto s = record_exchange(f.store(), f.keyring(), f.exchange(id, "q", "r"));
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().kind == ErrorKind::usage);
    CHECK(s.error().message.find("128") != std::string::npos);
  }
  auto negative = record_exchange(f.store(), f.keyring(), f.exchange("ok-id", "q", "r", -1));
  REQUIRE_FALSE(negative.ok());
  CHECK(negative.error().kind == ErrorKind::usage);
  CHECK(negative.error().message.find("TTL") != std::string::npos);
  CHECK(f.store().list_conversations(f.default_id(), 100).empty());

  CHECK(record_exchange(f.store(), f.keyring(), f.exchange(std::string(128, 'a'), "q", "r")).ok());
  CHECK(record_exchange(f.store(), f.keyring(), f.exchange("!~", "q", "r")).ok());
}

TEST_CASE("a TTL sets expires_at to now plus the TTL; none or 0 keeps the conversation", "[lifecycle]") {
  Fixture f;
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("ttl", "q", "r", 3600)).ok());
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("none", "q", "r", std::nullopt)).ok());
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("zero", "q", "r", 0)).ok());
  const auto t = f.default_id();
  CHECK(f.store().conversation_by_id(t, "ttl")->expires_at == f.clock.now() + 3600);
  CHECK_FALSE(f.store().conversation_by_id(t, "none")->expires_at.has_value());
  CHECK_FALSE(f.store().conversation_by_id(t, "zero")->expires_at.has_value());
}

TEST_CASE("a later exchange keeps created_at and key_id, moves updated_at and expires_at, and numbers records 1..n",
          "[lifecycle]") {
  Fixture f;
  auto first = f.exchange("chat", "q1", "r1", 100);
  first.key_id = "KEYAAAAAAAAA";
  REQUIRE(record_exchange(f.store(), f.keyring(), first).ok());
  const auto t0 = f.clock.now();
  f.clock.advance(50);
  auto second = f.exchange("chat", "q2", "r2", 1000);
  second.key_id = "KEYBBBBBBBBB";
  REQUIRE(record_exchange(f.store(), f.keyring(), second).ok());
  f.clock.advance(5);
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("chat", "q3", "r3", 1000)).ok());

  const auto row = f.store().conversation_by_id(f.default_id(), "chat");
  REQUIRE(row);
  CHECK(row->created_at == t0);
  CHECK(row->key_id == "KEYAAAAAAAAA");
  CHECK(row->updated_at == t0 + 55);
  CHECK(row->expires_at == t0 + 55 + 1000);
  CHECK(row->record_count == 6);

  const auto rows = f.records(f.default_id(), "chat");
  REQUIRE(rows.size() == 6);
  const auto dek = f.dek(f.default_id());
  const std::vector<std::string> texts = {"q1", "r1", "q2", "r2", "q3", "r3"};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CHECK(rows[i].seq == static_cast<std::int64_t>(i + 1));
    CHECK(rows[i].kind == (i % 2 == 0 ? "request" : "response"));
    CHECK(text_of(open_record(dek, rows[i])) == texts[i]);
  }
  // Another conversation numbers from 1 on its own.
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("other", "q", "r")).ok());
  CHECK(f.records(f.default_id(), "other").at(0).seq == 1);
}

TEST_CASE("the sweep deletes only expired conversations, with their records, and counts them", "[lifecycle]") {
  Fixture f;
  auto acme = f.as_operator().create_tenant("acme");
  REQUIRE(acme.ok());
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("short", "q", "r", 10)).ok());
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("long", "q", "r", 100)).ok());
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("forever", "q", "r")).ok());
  auto other = f.exchange("short", "q", "r", 10);
  other.tenant_id = acme->info.id;
  REQUIRE(record_exchange(f.store(), f.keyring(), other).ok());
  const auto now = f.clock.now();
  const auto t = f.default_id();

  CHECK(sweep_expired_conversations(f.store(), now + 9) == 0);
  CHECK(f.store().list_conversations(t, 100).size() == 3);

  CHECK(sweep_expired_conversations(f.store(), now + 10) == 2);  // expires_at <= now: both tenants'
  CHECK_FALSE(f.store().conversation_by_id(t, "short"));
  CHECK_FALSE(f.store().conversation_by_id(acme->info.id, "short"));
  CHECK(f.records(t, "short").empty());
  CHECK(f.records(acme->info.id, "short").empty());
  CHECK(f.records(t, "long").size() == 2);
  CHECK(sweep_expired_conversations(f.store(), now + 10) == 0);

  CHECK(sweep_expired_conversations(f.store(), now + 1'000'000) == 1);
  CHECK(f.store().conversation_by_id(t, "forever"));
  CHECK(f.records(t, "forever").size() == 2);
  CHECK(f.records(t, "long").empty());
}

// ---------------------------------------------------------------------------------------------
// The account export.

TEST_CASE("the export holds the account, its keys without secrets, decrypted conversations and usage",
          "[lifecycle]") {
  Fixture f;
  auto svc = f.as_operator();
  auto key = svc.create_key("default", named("laptop"));
  REQUIRE(key.ok());
  const std::string upstream_secret = "sk-upstream-secret-0123456789abcdef";
  REQUIRE(svc.add_upstream("default", {"openai", "openai", "https://api.openai.com/v1", {"gpt-4o*"}, upstream_secret})
              .ok());
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("c1", "first \"question\"\n", "first answer")).ok());
  f.clock.advance(1);
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("c2", "other question", "other answer")).ok());
  f.clock.advance(1);
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("c1", "second question", "second answer")).ok());
  for (int i = 0; i < 3; ++i) f.insert_usage("gen-" + std::to_string(i), f.clock.now() - i);

  const auto e = export_of(svc, "default");
  REQUIRE(e.status.ok());
  CHECK(e.bytes.find(key->plaintext) == std::string::npos);
  CHECK(e.bytes.find(key->plaintext.substr(18, 32)) == std::string::npos);  // the secret part
  CHECK(e.bytes.find(hex(f.keyring().hash(key->plaintext))) == std::string::npos);
  CHECK(e.bytes.find(upstream_secret) == std::string::npos);
  CHECK(e.bytes.find("sk-upstream") == std::string::npos);

  const auto doc = nlohmann::json::parse(e.bytes);
  CHECK(doc["format"] == "x420-export/1");
  CHECK(doc["account"]["name"] == "default");
  REQUIRE(doc["keys"].size() == 1);
  CHECK(doc["keys"][0]["id"] == key->info.id);
  CHECK(doc["keys"][0]["hash_algorithm"] == "blake2b-256-keyed");
  CHECK_FALSE(doc["keys"][0].contains("hash"));
  CHECK_FALSE(doc["keys"][0].contains("secret"));
  REQUIRE(doc["upstreams"].size() == 1);
  CHECK(doc["upstreams"][0]["name"] == "openai");
  CHECK(doc["upstreams"][0]["base_url"] == "https://api.openai.com/v1");
  CHECK_FALSE(doc["upstreams"][0].contains("api_key"));
  CHECK_FALSE(doc["upstreams"][0].contains("secret"));

  REQUIRE(doc["conversations"].size() == 2);
  const auto& c1 = doc["conversations"][0];
  CHECK(c1["id"] == "c1");
  REQUIRE(c1["records"].size() == 4);
  const std::vector<std::string> texts = {"first \"question\"\n", "first answer", "second question", "second answer"};
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(c1["records"][i]["seq"] == i + 1);
    CHECK(c1["records"][i]["text"] == texts[i]);
    CHECK(c1["records"][i]["kind"] == (i % 2 == 0 ? "request" : "response"));
  }
  CHECK(doc["conversations"][1]["id"] == "c2");
  CHECK(doc["conversations"][1]["records"][1]["text"] == "other answer");
  REQUIRE(doc["usage"].size() == 3);

  const auto& complete = doc["complete"];
  CHECK(complete["keys"] == doc["keys"].size());
  CHECK(complete["upstreams"] == doc["upstreams"].size());
  CHECK(complete["conversations"] == doc["conversations"].size());
  CHECK(complete["records"] == 6);
  CHECK(complete["usage"] == doc["usage"].size());

  auto summary = check(e.bytes);
  REQUIRE(summary.ok());
  CHECK(summary->tenant == "default");
  CHECK(summary->counts == exporting::BundleCounts{1, 1, 2, 6, 3});
}

TEST_CASE("a large account reaches the sink in several bounded chunks", "[lifecycle]") {
  Fixture f;
  const std::size_t text_size = 10 * 1024;
  std::vector<ConversationWrite> batch;
  for (int i = 0; i < 40; ++i)
    batch.push_back(f.exchange("conv-" + std::to_string(i % 4), std::string(text_size, 'q'), std::string(text_size, 'r')));
  REQUIRE(record_exchanges(f.store(), f.keyring(), batch).ok());

  auto svc = f.as_operator();
  const auto e = export_of(svc, "default");
  REQUIRE(e.status.ok());
  REQUIRE(e.bytes.size() > 3 * AccountExport::kChunkBytes);
  CHECK(e.chunk_sizes.size() >= 3);
  const std::size_t one_record = text_size + 512;  // its text and its metadata
  for (std::size_t i = 0; i < e.chunk_sizes.size(); ++i) {
    INFO("chunk " << i << " of " << e.chunk_sizes.size());
    if (i + 1 < e.chunk_sizes.size()) CHECK(e.chunk_sizes[i] >= AccountExport::kChunkBytes);
    CHECK(e.chunk_sizes[i] <= AccountExport::kChunkBytes + one_record);
  }
  auto summary = check(e.bytes);
  REQUIRE(summary.ok());
  CHECK(summary->counts.records == 80);
  CHECK(summary->counts.conversations == 4);
}

TEST_CASE("an error from the sink stops the export and is returned", "[lifecycle]") {
  Fixture f;
  std::vector<ConversationWrite> batch;
  for (int i = 0; i < 40; ++i) batch.push_back(f.exchange("c", std::string(10'000, 'q'), std::string(10'000, 'r')));
  REQUIRE(record_exchanges(f.store(), f.keyring(), batch).ok());

  auto svc = f.as_operator();
  int calls = 0;
  auto s = svc.export_account("default", [&](std::string_view) -> Status {
    ++calls;
    if (calls == 2) return make_error(ErrorKind::unavailable, "the disk is full");
    return ok_status();
  });
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind == ErrorKind::unavailable);
  CHECK(s.error().message == "the disk is full");
  CHECK(calls == 2);
}

TEST_CASE("a tampered record makes the export fail, without a complete bundle", "[lifecycle]") {
  Fixture f;
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("c", "private words", "private reply")).ok());
  const auto victim = f.records(f.default_id(), "c").at(1);
  tamper_stored_record(f.db, victim.id);

  auto svc = f.as_operator();
  const auto e = export_of(svc, "default");
  REQUIRE_FALSE(e.status.ok());
  CHECK(e.status.error().kind == ErrorKind::internal);
  CHECK(e.status.error().message.find(victim.id) != std::string::npos);
  CHECK(e.status.error().message.find("private") == std::string::npos);
  CHECK(e.bytes.find("\"complete\"") == std::string::npos);
  CHECK_FALSE(check(e.bytes).ok());
}

TEST_CASE("a tenant admin exports its own tenant only", "[lifecycle]") {
  Fixture f;
  auto acme = f.as_operator().create_tenant("acme");
  REQUIRE(acme.ok());
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("c", "default's words", "r")).ok());
  auto actor = authenticate_token(f.store(), f.keyring(), acme->admin_token);
  REQUIRE(actor.ok());
  auto admin = f.as(*actor);

  int calls = 0;
  auto other = admin.export_account("default", [&](std::string_view) {
    ++calls;
    return ok_status();
  });
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().kind == ErrorKind::not_found);
  CHECK(calls == 0);
  CHECK(admin.begin_export("default").error().kind == ErrorKind::not_found);

  const auto own = export_of(admin, "acme");
  REQUIRE(own.status.ok());
  CHECK(nlohmann::json::parse(own.bytes)["account"]["name"] == "acme");
  CHECK(own.bytes.find("default's words") == std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// x420 export check.

namespace {

// A small real export, with a conversation whose text must never appear in a checker's message.
const std::string kPrivateText = "the-private-conversation-text-5d1e";

std::string small_export() {
  Fixture f;
  auto svc = f.as_operator();
  REQUIRE(svc.create_key("default", named("k")).ok());
  REQUIRE(record_exchange(f.store(), f.keyring(), f.exchange("c1", kPrivateText, "r\u00e9ponse \xf0\x9f\x98\x80")).ok());
  f.insert_usage("gen-1", f.clock.now());
  const auto e = export_of(svc, "default");
  REQUIRE(e.status.ok());
  return e.bytes;
}

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.rfind(from);
  REQUIRE(at != std::string::npos);
  s.replace(at, from.size(), to);
  return s;
}

}  // namespace

TEST_CASE("export check accepts a real export and refuses every truncation of it", "[lifecycle]") {
  const auto bundle = small_export();
  auto whole = check(bundle);
  REQUIRE(whole.ok());
  CHECK(whole->format == "x420-export/1");
  CHECK(whole->counts == exporting::BundleCounts{1, 0, 1, 2, 1});

  // The bundle ends "}\n": without the newline it is still the whole document.
  REQUIRE(bundle.ends_with("}\n"));
  CHECK(check(bundle.substr(0, bundle.size() - 1)).ok());
  for (std::size_t cut = 0; cut + 1 < bundle.size(); ++cut) {
    auto r = check(bundle.substr(0, cut));
    INFO("cut at " << cut << " of " << bundle.size());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::usage);
    const bool says_cut = r.error().message.find("truncated") != std::string::npos ||
                          r.error().message.find("cut off") != std::string::npos;
    CHECK(says_cut);
    CHECK(r.error().message.find(kPrivateText) == std::string::npos);
  }
}

TEST_CASE("export check refuses altered counts, another format and deep nesting", "[lifecycle]") {
  const auto bundle = small_export();

  auto counts = check(replaced(bundle, "\"records\":2", "\"records\":3"));
  REQUIRE_FALSE(counts.ok());
  CHECK(counts.error().kind == ErrorKind::usage);
  CHECK(counts.error().message.find("holds 2 records") != std::string::npos);
  CHECK(counts.error().message.find("says 3") != std::string::npos);
  auto usage = check(replaced(bundle, "\"usage\":1}", "\"usage\":0}"));
  REQUIRE_FALSE(usage.ok());
  CHECK(usage.error().message.find("usage") != std::string::npos);

  auto format = check(replaced(bundle, "x420-export/1", "x420-export/2"));
  REQUIRE_FALSE(format.ok());
  CHECK(format.error().kind == ErrorKind::usage);
  CHECK(format.error().message.find("x420-export/1") != std::string::npos);

  auto no_complete = check(replaced(bundle, ",\n\"complete\":{\"keys\":1,\"upstreams\":0,\"conversations\":1,"
                                            "\"records\":2,\"usage\":1}", ""));
  REQUIRE_FALSE(no_complete.ok());
  CHECK(no_complete.error().message.find("complete") != std::string::npos);

  // Deeper than the checker's limit, also far deeper than a recursive parser's stack would take.
  for (std::size_t depth : {17, 100, 1'000'000}) {
    std::string deep = "{\"format\":\"x420-export/1\",\"account\":";
    deep += std::string(depth, '[');
    deep += std::string(depth, ']');
    deep += "}";
    auto r = check(deep);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::usage);
    CHECK(r.error().message.find("deeper") != std::string::npos);
  }

  CHECK(check("[]").error().kind == ErrorKind::usage);
  CHECK(check("\"x420-export/1\"").error().kind == ErrorKind::usage);
  CHECK(check("{\"account\":{}}").error().message.find("format") != std::string::npos);
}

TEST_CASE("export check messages never quote the conversation text", "[lifecycle]") {
  const auto bundle = small_export();
  const auto text_at = bundle.find(kPrivateText);
  REQUIRE(text_at != std::string::npos);

  std::vector<std::string> broken;
  broken.push_back(bundle.substr(0, text_at + 10));                 // cut inside the text
  std::string garbled = bundle;
  garbled[text_at + 5] = '\x01';                                     // a raw control character
  broken.push_back(garbled);
  garbled = bundle;
  garbled[text_at + kPrivateText.size()] = ' ';                     // the string's quote gone
  broken.push_back(garbled);
  broken.push_back(replaced(bundle, "\"records\":2", "\"records\":9"));
  broken.push_back(replaced(bundle, "x420-export/1", "x420-export/9"));
  broken.push_back(bundle.substr(0, text_at - 1) + std::string(100, '[') + bundle.substr(text_at - 1));  // too deep

  for (const auto& b : broken) {
    auto r = check(b);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::usage);
    CHECK(r.error().message.find(kPrivateText) == std::string::npos);
    CHECK(r.error().message.find("the-private") == std::string::npos);
  }
}

// ---------------------------------------------------------------------------------------------
// JSON text for the export.

namespace {

std::string body_of(std::string_view text) {
  std::string out;
  append_json_string_body(out, text);
  return out;
}

std::string parsed(std::string_view text) {
  return nlohmann::json::parse("\"" + body_of(text) + "\"").get<std::string>();
}

}  // namespace

TEST_CASE("JSON string bodies escape quotes, backslashes and control characters", "[lifecycle]") {
  CHECK(body_of("plain text") == "plain text");
  CHECK(body_of("a\"b\\c") == "a\\\"b\\\\c");
  CHECK(body_of("\n\r\t\b\f") == "\\n\\r\\t\\b\\f");
  CHECK(body_of(std::string_view("\x00\x01\x1f", 3)) == "\\u0000\\u0001\\u001f");
  CHECK(body_of("\x7f/") == "\x7f/");  // not control characters in JSON
  std::string out = "prefix:";
  append_json_string_body(out, "\"");
  CHECK(out == "prefix:\\\"");
}

TEST_CASE("JSON string bodies turn invalid UTF-8 into U+FFFD and keep valid UTF-8", "[lifecycle]") {
  CHECK(body_of("\xff") == "\\ufffd");
  CHECK(body_of("a\x80z") == "a\\ufffdz");
  CHECK(body_of("\xc0\xaf") == "\\ufffd\\ufffd");           // overlong '/'
  CHECK(body_of("\xe0\x80\xaf") == "\\ufffd\\ufffd\\ufffd");  // overlong, three bytes
  CHECK(body_of("\xed\xa0\x80") == "\\ufffd\\ufffd\\ufffd");  // a surrogate
  CHECK(body_of("\xf4\x90\x80\x80") == "\\ufffd\\ufffd\\ufffd\\ufffd");  // above U+10FFFF
  CHECK(body_of("ok\xe2\x82") == "ok\\ufffd\\ufffd");       // cut at the end
  CHECK(parsed("x\xe2\x82y") == "x\xef\xbf\xbd\xef\xbf\xbdy");
  const std::string valid = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xed\x9f\xbf";
  CHECK(body_of(valid) == valid);
}

TEST_CASE("JSON string bodies round-trip valid UTF-8 and always parse", "[lifecycle]") {
  std::string all_ascii;
  for (int c = 0; c < 0x80; ++c) all_ascii += static_cast<char>(c);
  CHECK(parsed(all_ascii) == all_ascii);

  std::mt19937 rng(42);
  std::uniform_int_distribution<std::uint32_t> any_cp(0, 0x10FFFF);
  std::uniform_int_distribution<int> length(0, 40);
  std::uniform_int_distribution<int> any_byte(0, 255);
  for (int round = 0; round < 2000; ++round) {
    std::string valid;
    for (int n = length(rng); n > 0; --n) {
      auto cp = static_cast<char32_t>(any_cp(rng));
      if (cp >= 0xD800 && cp <= 0xDFFF) continue;
      append_utf8(valid, static_cast<std::uint32_t>(cp));
    }
    REQUIRE(parsed(valid) == valid);

    std::string noise;
    for (int n = length(rng); n > 0; --n) noise += static_cast<char>(any_byte(rng));
    CHECK_NOTHROW(parsed(noise));
  }
}

// ---------------------------------------------------------------------------------------------
// KEK rotation.

namespace {

struct RotationFixture : Fixture {
  std::string key_plaintext;
  const std::string upstream_secret = "sk-upstream-secret-rotation-4242";
  std::vector<store::ConversationRecordRow> sealed_before;
  std::string old_key_file;

  RotationFixture() {
    auto svc = as_operator();
    auto key = svc.create_key("default", named("ci"));
    REQUIRE(key.ok());
    key_plaintext = key->plaintext;
    REQUIRE(svc.add_upstream("default", {"openai", "openai", "https://api.openai.com/v1", {}, upstream_secret}).ok());
    REQUIRE(record_exchange(store(), keyring(), exchange("c", "before rotation", "reply before")).ok());
    sealed_before = records(default_id(), "c");
    old_key_file = test::read_bytes(source.file);
  }

  std::filesystem::path pending() const { return pending_key_path(source.file); }
};

void fail_at(std::string_view point, std::string_view wanted) {
  if (point == wanted) throw std::runtime_error("simulated crash at " + std::string(point));
}

// Everything sealed before the rotation opens through a freshly opened store.
void check_everything_opens(RotationFixture& f, OpenStore& reopened) {
  LocalService svc(*reopened.store, *reopened.keyring, f.clock, Actor::operator_actor());
  CHECK(svc.verify_key(f.key_plaintext).ok());
  const auto upstream = reopened.store->upstream_by_name(f.default_id(), "openai");
  REQUIRE(upstream);
  auto secret = reopened.keyring->open_upstream_secret(*upstream);
  REQUIRE(secret.ok());
  CHECK(secret->view() == f.upstream_secret);
  auto dek = open_tenant_dek(*reopened.store, *reopened.keyring, f.default_id());
  REQUIRE(dek.ok());
  std::vector<store::ConversationRecordRow> after;
  reopened.store->for_each_conversation_record(f.default_id(), "c", 0, 100,
                                               [&](const store::ConversationRecordRow& r) { after.push_back(r); });
  REQUIRE(after.size() == 2);
  CHECK(text_of(open_record(*dek, after[0])) == "before rotation");
  CHECK(text_of(open_record(*dek, after[1])) == "reply before");
  CHECK(after[0].sealed == f.sealed_before[0].sealed);  // under the DEK: not re-encrypted
  CHECK(after[1].sealed == f.sealed_before[1].sealed);
  CHECK(reopened.keyring->check_current(*reopened.store).ok());
}

}  // namespace

TEST_CASE("KEK rotation: the new key opens everything, the old one nothing", "[lifecycle]") {
  RotationFixture f;
  const auto old_copy = f.dir.path() / "old.key";
  std::filesystem::copy_file(f.source.file, old_copy);

  std::vector<std::string> points;
  auto rotated = rotate_kek(f.db, f.source, [&](std::string_view p) { points.emplace_back(p); });
  REQUIRE(rotated.ok());
  CHECK(rotated->tenants == 1);
  CHECK(rotated->upstreams == 1);
  CHECK(points == std::vector<std::string>{"key-written", "in-transaction", "committed"});
  CHECK(test::read_bytes(f.source.file) != f.old_key_file);
  CHECK_FALSE(std::filesystem::exists(f.pending()));

  auto old = open_store(f.db, MasterKeySource{std::nullopt, old_copy});
  REQUIRE_FALSE(old.ok());
  CHECK(old.error().kind == ErrorKind::auth);

  auto reopened = open_store(f.db, f.source);
  REQUIRE(reopened.ok());
  check_everything_opens(f, *reopened);
}

TEST_CASE("KEK rotation refuses a master key from X420_MASTER_KEY", "[lifecycle]") {
  RotationFixture f;
  auto key = crypto::read_master_key_file(f.source.file);
  REQUIRE(key.ok());
  MasterKeySource env{crypto::encode_master_key(*key), f.source.file};
  bool called = false;
  auto r = rotate_kek(f.db, env, [&](std::string_view) { called = true; });
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::usage);
  CHECK(r.error().message.find("X420_MASTER_KEY") != std::string::npos);
  CHECK_FALSE(called);
  CHECK(test::read_bytes(f.source.file) == f.old_key_file);
  CHECK_FALSE(std::filesystem::exists(f.pending()));
}

TEST_CASE("KEK rotation stopped inside its transaction leaves the store on the old key", "[lifecycle]") {
  RotationFixture f;
  CHECK_THROWS_AS(rotate_kek(f.db, f.source, [](std::string_view p) { fail_at(p, "in-transaction"); }),
                  std::runtime_error);
  CHECK_FALSE(std::filesystem::exists(f.pending()));
  CHECK(test::read_bytes(f.source.file) == f.old_key_file);
  CHECK(f.keyring().check_current(f.store()).ok());  // the old keyring is still the store's

  auto reopened = open_store(f.db, f.source);
  REQUIRE(reopened.ok());
  check_everything_opens(f, *reopened);
  CHECK(f.as_operator().create_tenant("acme").ok());
}

TEST_CASE("KEK rotation cut off after its commit is finished by the next open", "[lifecycle]") {
  RotationFixture f;
  CHECK_THROWS_AS(rotate_kek(f.db, f.source, [](std::string_view p) { fail_at(p, "committed"); }),
                  std::runtime_error);
  REQUIRE(std::filesystem::exists(f.pending()));
  CHECK(test::read_bytes(f.source.file) == f.old_key_file);
  const auto new_key_file = test::read_bytes(f.pending());
  CHECK(new_key_file != f.old_key_file);

  auto reopened = open_store(f.db, f.source);
  REQUIRE(reopened.ok());
  CHECK(test::read_bytes(f.source.file) == new_key_file);
  CHECK_FALSE(std::filesystem::exists(f.pending()));
  check_everything_opens(f, *reopened);
}

TEST_CASE("a service holding the pre-rotation keyring refuses to seal anything new", "[lifecycle]") {
  RotationFixture f;
  REQUIRE(rotate_kek(f.db, f.source, [](std::string_view) {}).ok());
  auto stale = f.as_operator();  // the fixture's keyring is the old one

  auto tenant = stale.create_tenant("acme");
  REQUIRE_FALSE(tenant.ok());
  CHECK(tenant.error().kind == ErrorKind::conflict);
  CHECK(tenant.error().message.find("restart") != std::string::npos);
  auto upstream = stale.add_upstream("default", {"second", "openai", "https://api.openai.com/v1", {}, "sk-another-1234"});
  REQUIRE_FALSE(upstream.ok());
  CHECK(upstream.error().kind == ErrorKind::conflict);
  CHECK(f.keyring().check_current(f.store()).error().kind == ErrorKind::conflict);
  CHECK_FALSE(f.store().tenant_by_name("acme"));
  CHECK_FALSE(f.store().upstream_by_name(f.default_id(), "second"));
}

// ---------------------------------------------------------------------------------------------
// What the proxy captures of a reply.

namespace {

std::string sse(const nlohmann::json& doc) { return "data: " + doc.dump() + "\n\n"; }

std::string chat_delta(std::string_view text) {
  return sse({{"choices", {{{"index", 0}, {"delta", {{"content", text}}}}}}});
}

// Feeds `stream` cut at `cut` (and the rest whole) and returns the stored document.
nlohmann::json captured(const std::string& stream, std::size_t cut) {
  proxy::ReplyCapture capture;
  proxy::ReplyStream reply(nullptr, false, &capture);  // the proxy's one SSE decoder feeds the capture
  reply.feed(std::string_view(stream).substr(0, cut));
  reply.feed(std::string_view(stream).substr(cut));
  reply.finish();
  return nlohmann::json::parse(capture.finish());
}

}  // namespace

TEST_CASE("reply capture keeps a whole body as it is, and cuts it at the limit", "[lifecycle]") {
  proxy::ReplyCapture whole;
  const std::string body = R"({"choices":[{"message":{"content":"hello"}}]})";
  whole.whole(body);
  CHECK(whole.finish() == body);

  proxy::ReplyCapture limited(10);
  limited.whole("0123456789abcdef");
  limited.whole("more");
  const auto kept = limited.finish();
  CHECK(kept.starts_with("0123456789\n"));
  CHECK(kept.find("abcdef") == std::string::npos);
  CHECK(kept.find("more") == std::string::npos);
  CHECK(kept.find("cut at 10 bytes") != std::string::npos);
}

TEST_CASE("reply capture joins streamed deltas cut at any byte", "[lifecycle]") {
  const std::string chat = ": keep-alive\n\n" + chat_delta("Hel") + chat_delta("lo, ") + chat_delta("w\u00f6rld") +
                           sse({{"choices", {{{"index", 0}, {"delta", nlohmann::json::object()}, {"finish_reason", "stop"}}}}}) +
                           "data: [DONE]\n\n";
  const std::string anthropic =
      "event: message_start\ndata: " +
      nlohmann::json{{"type", "message_start"}, {"message", {{"content", nlohmann::json::array()}}}}.dump() + "\n\n" +
      "event: content_block_delta\ndata: " +
      nlohmann::json{{"type", "content_block_delta"}, {"index", 0}, {"delta", {{"type", "text_delta"}, {"text", "Bon"}}}}.dump() +
      "\n\nevent: content_block_delta\ndata: " +
      nlohmann::json{{"type", "content_block_delta"}, {"index", 0}, {"delta", {{"type", "text_delta"}, {"text", "jour"}}}}.dump() +
      "\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  const std::string responses =
      "event: response.created\ndata: {\"type\":\"response.created\"}\n\n"
      "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Ha\"}\n\n"
      "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"llo\"}\n\n"
      "event: response.completed\ndata: {\"type\":\"response.completed\"}\n\n";

  for (const auto& [stream, text] : {std::pair{chat, std::string("Hello, w\u00f6rld")},
                                     std::pair{anthropic, std::string("Bonjour")},
                                     std::pair{responses, std::string("Hallo")}}) {
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
      INFO("cut at " << cut);
      const auto doc = captured(stream, cut);
      REQUIRE(doc["text"] == text);
      CHECK(doc["streamed"] == true);
      CHECK_FALSE(doc.contains("truncated"));
    }
    proxy::ReplyCapture bytewise;
    proxy::ReplyStream bytewise_reply(nullptr, false, &bytewise);
    for (char c : stream) bytewise_reply.feed(std::string_view(&c, 1));
    bytewise_reply.finish();
    CHECK(nlohmann::json::parse(bytewise.finish())["text"] == text);
    // The same stream with CRLF line ends, which SSE allows.
    std::string crlf;
    for (char c : stream) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    for (std::size_t cut = 0; cut <= crlf.size(); cut += 7) {
      INFO("CRLF, cut at " << cut);
      CHECK(captured(crlf, cut)["text"] == text);
    }
  }
}

TEST_CASE("reply capture cuts a streamed reply at the limit and marks it", "[lifecycle]") {
  proxy::ReplyCapture capture(8);
  proxy::ReplyStream reply(nullptr, false, &capture);
  reply.feed(chat_delta("12345"));
  reply.feed(chat_delta("67890"));
  reply.feed(chat_delta("abcde"));
  const auto doc = nlohmann::json::parse(capture.finish());
  CHECK(doc["text"] == "12345678");
  CHECK(doc["truncated"] == true);
}

TEST_CASE("a derived conversation id follows the first message and the tenant's key", "[lifecycle]") {
  const auto key = crypto::generate_key();
  const auto other_key = crypto::generate_key();
  const nlohmann::json first = {{"role", "user"}, {"content", "Plan a trip to Lisbon"}};
  const nlohmann::json turn1 = {{"model", "gpt-4o"}, {"messages", {first}}};
  const nlohmann::json turn2 = {
      {"model", "gpt-4o"},
      {"messages", {first, {{"role", "assistant"}, {"content", "Sure."}}, {{"role", "user"}, {"content", "In May"}}}}};

  const auto id = proxy::derived_conversation_id(key, turn1);
  CHECK(id.starts_with("conv-"));
  CHECK(is_valid_conversation_id(id));
  CHECK(proxy::derived_conversation_id(key, turn1) == id);
  CHECK(proxy::derived_conversation_id(key, turn2) == id);  // later messages do not change it
  CHECK(proxy::derived_conversation_id(other_key, turn1) != id);
  const nlohmann::json different = {{"messages", {{{"role", "user"}, {"content", "Plan a trip to Porto"}}}}};
  CHECK(proxy::derived_conversation_id(key, different) != id);
  CHECK(id.find("Lisbon") == std::string::npos);

  // Responses "input" and completions "prompt" are first messages too.
  const auto from_input = proxy::derived_conversation_id(key, {{"input", "Plan a trip to Lisbon"}});
  CHECK_FALSE(from_input.empty());
  CHECK(proxy::derived_conversation_id(key, {{"input", "Plan a trip to Lisbon"}, {"model", "o3"}}) == from_input);
  CHECK_FALSE(proxy::derived_conversation_id(key, {{"prompt", "Once upon"}}).empty());

  CHECK(proxy::derived_conversation_id(key, {{"messages", nlohmann::json::array()}}).empty());
  CHECK(proxy::derived_conversation_id(key, {{"model", "gpt-4o"}}).empty());
  CHECK(proxy::derived_conversation_id(key, nlohmann::json::array()).empty());
}
