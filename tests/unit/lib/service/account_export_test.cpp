// lib/service/account_export: the streamed export of one tenant, as LocalService::export_account
// drives it: what it holds and never holds, its chunks, and how it fails.
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>
#include <nlohmann/json.hpp>

#include "lib/crypto/keyed_hash.h"
#include "lib/service/account_export.h"
#include "support/data_fixture.h"

using namespace x420;
using namespace x420::service;

namespace {

using Fixture = test::DataFixture;
using test::check;
using test::export_of;
using test::named;

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
