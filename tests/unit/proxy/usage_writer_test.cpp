// proxy/usage_writer: rows and exchanges handed to the writer thread reach the store, and the
// queue is drained when the writer stops. (The timed sweep is left to the serve e2e tests: it
// would need a wait.)
#include <catch2/catch.hpp>

#include "lib/store/store.h"
#include "proxy/usage_writer.h"
#include "support/service_fixture.h"

using namespace x420;
using namespace x420::proxy;
using namespace std::chrono_literals;

namespace {

store::UsageRow usage_row(const std::string& id, const std::string& tenant_id) {
  store::UsageRow row;
  row.id = id;
  row.tenant_id = tenant_id;
  row.key_id = "AAAAAAAAAAAA";
  row.upstream = "openai";
  row.model = "gpt-4o";
  row.created_at = 1'800'000'000;
  row.input_tokens = 10;
  row.status = 200;
  return row;
}

}  // namespace

TEST_CASE("everything submitted is written by the time the writer is gone", "[proxy][usage_writer]") {
  test::ServiceFixture f;
  const auto tenant_id = f.open.store->tenant_by_name("default")->id;
  constexpr int kRows = 1200;  // more than one batch
  {
    UsageWriter writer(store::open_sqlite_store(f.db, {}), *f.open.keyring, 0s);
    for (int i = 0; i < kRows; ++i) writer.submit(usage_row("gen-" + std::to_string(i), tenant_id));
    service::ConversationWrite exchange;
    exchange.tenant_id = tenant_id;
    exchange.conversation_id = "chat-1";
    exchange.now = f.clock.now();
    exchange.request_text = "the question";
    exchange.response_text = "the answer";
    writer.submit(std::move(exchange));
  }
  for (int i = 0; i < kRows; i += 97) {
    INFO(i);
    const auto row = f.open.store->usage_by_id("gen-" + std::to_string(i));
    REQUIRE(row);
    CHECK(row->model == "gpt-4o");
    CHECK(row->input_tokens == 10);
  }
  CHECK(f.open.store->usage_by_id("gen-" + std::to_string(kRows - 1)));
  CHECK(f.open.store->list_usage(tenant_id, "", 0, 10'000).size() == kRows);
  const auto conversation = f.open.store->conversation_by_id(tenant_id, "chat-1");
  REQUIRE(conversation);
  CHECK(conversation->record_count == 2);
}

TEST_CASE("an exchange the writer cannot record is dropped without stopping the others", "[proxy][usage_writer]") {
  test::ServiceFixture f;
  const auto tenant_id = f.open.store->tenant_by_name("default")->id;
  {
    UsageWriter writer(store::open_sqlite_store(f.db, {}), *f.open.keyring, 0s);
    service::ConversationWrite bad;
    bad.tenant_id = tenant_id;
    bad.conversation_id = "has space";  // not a valid conversation id
    bad.now = f.clock.now();
    writer.submit(std::move(bad));
    writer.submit(usage_row("gen-after", tenant_id));
  }
  CHECK_FALSE(f.open.store->conversation_by_id(tenant_id, "has space"));
  CHECK(f.open.store->usage_by_id("gen-after"));
}
