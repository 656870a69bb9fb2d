// lib/store/sqlite_store: opening and migrating a store (the migrations of lib/store/schema are
// run through it), its rows, transactions and concurrent writers.
#include <SQLiteCpp/SQLiteCpp.h>
#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "lib/common/result.h"
#include "lib/store/schema.h"
#include "lib/store/store.h"
#include "support/temp_dir.h"

using namespace x420;
using namespace x420::store;

namespace {

TenantRow tenant(const std::string& id, const std::string& name) {
  TenantRow row;
  row.id = id;
  row.name = name;
  row.created_at = 1000;
  row.wrapped_dek = Blob{1, 2, 3};
  return row;
}

KeyRow key(const std::string& id, const std::string& tenant_id) {
  KeyRow k;
  k.id = id;
  k.tenant_id = tenant_id;
  k.name = "key " + id;
  k.hash = Blob(32, 7);
  k.created_at = 2000;
  return k;
}

std::string fatal_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Fatal& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a new store is migrated from empty to the current schema") {
  test::TempDir dir;
  const auto path = dir.file("x420.db");
  { auto s = open_sqlite_store(path, {.create = true}); }
  SQLite::Database db(path);
  CHECK(db.execAndGet("PRAGMA user_version").getInt() == current_schema_version());
  CHECK(db.execAndGet("PRAGMA application_id").getInt() == kApplicationId);
  CHECK(db.execAndGet("PRAGMA journal_mode").getString() == "wal");
  for (const char* table : {"meta", "tenants", "api_keys", "management_tokens", "upstreams",
                            "usage_events"}) {
    SQLite::Statement q(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?");
    q.bind(1, table);
    q.executeStep();
    INFO(table);
    CHECK(q.getColumn(0).getInt() == 1);
  }
}

TEST_CASE("reopening a store keeps its rows and does not migrate again") {
  test::TempDir dir;
  const auto path = dir.file("x420.db");
  {
    auto s = open_sqlite_store(path, {.create = true});
    s->write_transaction([&] { s->insert_tenant(tenant("t1", "acme")); });
  }
  auto s = open_sqlite_store(path, {.create = false});
  REQUIRE(s->tenant_by_name("acme").has_value());
  CHECK(s->tenant_by_id("t1")->name == "acme");
}

TEST_CASE("a missing store is not created unless asked") {
  test::TempDir dir;
  const auto msg = fatal_message([&] { open_sqlite_store(dir.file("none.db"), {}); });
  CHECK(msg.find("x420 init") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("none.db")));
}

TEST_CASE("a file that is not an x420 store is refused, not overwritten") {
  test::TempDir dir;
  const auto text = dir.file("notes.txt");
  std::ofstream(text) << "this is not a database, it is a long enough text file to have a header";
  CHECK(fatal_message([&] { open_sqlite_store(text, {}); }).find("not an x420 store") !=
        std::string::npos);

  const auto other = dir.file("other.db");
  {
    SQLite::Database db(other, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE songs(title TEXT)");
  }
  CHECK(fatal_message([&] { open_sqlite_store(other, {.create = true}); })
            .find("another program") != std::string::npos);
  SQLite::Database db(other);
  CHECK(db.execAndGet("SELECT count(*) FROM sqlite_master").getInt() == 1);
}

TEST_CASE("a store with a newer schema is refused with the versions named") {
  test::TempDir dir;
  const auto path = dir.file("x420.db");
  { auto s = open_sqlite_store(path, {.create = true}); }
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("PRAGMA user_version = 99");
  }
  const auto msg = fatal_message([&] { open_sqlite_store(path, {}); });
  CHECK(msg.find("v99") != std::string::npos);
  CHECK(msg.find("upgrade x420") != std::string::npos);
}

TEST_CASE("key rows round-trip every field") {
  test::TempDir dir;
  auto s = open_sqlite_store(dir.file("x420.db"), {.create = true});
  s->insert_tenant(tenant("t1", "acme"));
  auto k = key("AAAAAAAAAAAA", "t1");
  k.previous_hash = Blob(32, 9);
  k.previous_valid_until = 5000;
  k.expires_at = 9000;
  k.cap_usd_micros = 12'500'000;
  k.rpm = 60;
  k.tpm = 100000;
  k.no_log = true;
  k.redaction = "mask";
  k.store_conversations = false;
  k.conversation_ttl_s = 0;
  k.unscanned_payloads = "refuse";
  k.redact_personal = true;
  s->insert_key(k);
  auto got = s->key_by_id("AAAAAAAAAAAA");
  REQUIRE(got.has_value());
  CHECK(got->hash == k.hash);
  CHECK(got->previous_hash == k.previous_hash);
  CHECK(got->previous_valid_until == 5000);
  CHECK(got->expires_at == 9000);
  CHECK_FALSE(got->revoked_at.has_value());
  CHECK(got->cap_usd_micros == 12'500'000);
  CHECK(got->rpm == 60);
  CHECK(got->tpm == 100000);
  CHECK(got->no_log);
  CHECK(got->redaction == "mask");
  CHECK(got->store_conversations == false);
  CHECK(got->conversation_ttl_s == 0);
  CHECK(got->unscanned_payloads == "refuse");
  CHECK(s->list_keys("t1").front().unscanned_payloads == "refuse");
  CHECK(got->redact_personal == true);

  got->revoked_at = 6000;
  got->previous_hash.reset();
  got->unscanned_payloads = "forward";
  got->redact_personal = false;
  s->update_key(*got);
  auto again = s->key_by_id("AAAAAAAAAAAA");
  CHECK(again->revoked_at == 6000);
  CHECK_FALSE(again->previous_hash.has_value());
  CHECK(again->unscanned_payloads == "forward");
  CHECK(again->redact_personal == false);
  CHECK_FALSE(s->key_by_id("BBBBBBBBBBBB").has_value());
}

TEST_CASE("a v2 store is migrated with its keys kept, their unscanned-payload policy unset") {
  test::TempDir dir;
  const auto path = dir.file("x420.db");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    const auto migrations = sqlite_migrations();
    REQUIRE(migrations.size() >= 3);
    db.exec(std::string(migrations[0]));
    db.exec(std::string(migrations[1]));
    db.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
    db.exec("PRAGMA user_version = 2");
    db.exec("INSERT INTO tenants(id, name, created_at, wrapped_dek) VALUES('t1', 'acme', 1000, x'010203')");
    db.exec("INSERT INTO api_keys(id, tenant_id, name, hash, created_at, redaction) "
            "VALUES('AAAAAAAAAAAA', 't1', 'old', x'07', 2000, 'mask')");
  }
  auto s = open_sqlite_store(path, {});
  const auto got = s->key_by_id("AAAAAAAAAAAA");
  REQUIRE(got.has_value());
  CHECK(got->name == "old");
  CHECK(got->redaction == "mask");
  CHECK_FALSE(got->unscanned_payloads.has_value());  // the server's setting
  CHECK_FALSE(got->redact_personal.has_value());     // v4: the server's setting too
  SQLite::Database db(path);
  CHECK(db.execAndGet("PRAGMA user_version").getInt() == current_schema_version());
}

TEST_CASE("a key's last use only moves forward") {
  test::TempDir dir;
  auto s = open_sqlite_store(dir.file("x420.db"), {.create = true});
  s->insert_tenant(tenant("t1", "acme"));
  s->insert_key(key("AAAAAAAAAAAA", "t1"));
  CHECK_FALSE(s->key_by_id("AAAAAAAAAAAA")->last_used_at);
  s->touch_key("AAAAAAAAAAAA", 2000);
  CHECK(s->key_by_id("AAAAAAAAAAAA")->last_used_at == 2000);
  s->touch_key("AAAAAAAAAAAA", 1500);  // a late batch with an older row
  CHECK(s->key_by_id("AAAAAAAAAAAA")->last_used_at == 2000);
  s->touch_key("ZZZZZZZZZZZZ", 3000);  // gone meanwhile: nothing to do, no error
}

TEST_CASE("deleting a tenant removes its keys and tokens and no other tenant's") {
  test::TempDir dir;
  auto s = open_sqlite_store(dir.file("x420.db"), {.create = true});
  s->write_transaction([&] {
    s->insert_tenant(tenant("t1", "acme"));
    s->insert_tenant(tenant("t2", "globex"));
    s->insert_key(key("AAAAAAAAAAAA", "t1"));
    s->insert_key(key("BBBBBBBBBBBB", "t2"));
    TokenRow tok;
    tok.id = "CCCCCCCCCCCC";
    tok.tenant_id = "t1";
    tok.name = "admin";
    tok.hash = Blob(32, 1);
    s->insert_token(tok);
  });
  CHECK(s->delete_tenant("t1"));
  CHECK_FALSE(s->delete_tenant("t1"));
  CHECK_FALSE(s->key_by_id("AAAAAAAAAAAA").has_value());
  CHECK_FALSE(s->token_by_id("CCCCCCCCCCCC").has_value());
  CHECK(s->key_by_id("BBBBBBBBBBBB").has_value());
  CHECK(s->list_tenants().size() == 1);
}

TEST_CASE("a transaction that throws leaves nothing behind") {
  test::TempDir dir;
  auto s = open_sqlite_store(dir.file("x420.db"), {.create = true});
  CHECK_THROWS(s->write_transaction([&] {
    s->insert_tenant(tenant("t1", "acme"));
    throw std::runtime_error("fail midway");
  }));
  CHECK_FALSE(s->tenant_by_name("acme").has_value());
}

TEST_CASE("two processes writing one store at once lose no row") {
  test::TempDir dir;
  const auto path = dir.file("x420.db");
  {
    auto s = open_sqlite_store(path, {.create = true});
    s->insert_tenant(tenant("t1", "acme"));
  }
  constexpr int kPerProcess = 150;
  std::vector<pid_t> children;
  for (int p = 0; p < 2; ++p) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int rc = 0;
      try {
        auto s = open_sqlite_store(path, {});
        for (int i = 0; i < kPerProcess; ++i) {
          char id[13];
          std::snprintf(id, sizeof id, "P%dK%09d", p, i);
          s->write_transaction([&] { s->insert_key(key(id, "t1")); });
        }
      } catch (...) {
        rc = 1;
      }
      ::_exit(rc);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  auto s = open_sqlite_store(path, {});
  CHECK(s->count_keys("t1") == 2 * kPerProcess);
}
