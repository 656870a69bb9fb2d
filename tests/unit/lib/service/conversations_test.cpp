// lib/service/conversations: sealed conversation records (record_exchange, open_record), what
// binds each to its place, id and TTL validation, the upsert of a later exchange, and the sweep.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "lib/crypto/aead.h"
#include "lib/service/conversations.h"
#include "support/data_fixture.h"
#include "support/temp_dir.h"

using namespace x420;
using namespace x420::service;

namespace {

using Fixture = test::DataFixture;
using test::text_of;

std::string as_text(const store::Blob& b) { return std::string(b.begin(), b.end()); }

}  // namespace

TEST_CASE("record_exchange seals the request and the reply, only open_record reveals them", "[lifecycle]") {
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

TEST_CASE("a TTL sets expires_at to now plus the TTL, none or 0 keeps the conversation", "[lifecycle]") {
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
