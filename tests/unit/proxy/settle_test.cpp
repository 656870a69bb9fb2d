// proxy/settle: the tokens a request is billed for. settle() and store_exchange() need a whole
// Proxy (ledger, limiter, writer queue) and are covered by the serve e2e tests; billed_tokens is
// the pure part.
#include <catch2/catch.hpp>

#include "proxy/settle.h"

using namespace x420;
using namespace x420::proxy;

namespace {

Admission admission(UpstreamKind kind, std::int64_t input_estimate, std::int64_t max_output) {
  Admission a;
  a.kind = kind;
  a.estimate.input_tokens = input_estimate;
  a.estimate.max_output_tokens = max_output;
  return a;
}

}  // namespace

TEST_CASE("reported OpenAI usage is billed with the cached tokens apart", "[proxy][settle]") {
  const auto a = admission(UpstreamKind::openai, 9999, 9999);
  Outcome o;
  o.usage_reported = true;
  o.usage = {.input = 1000, .output = 50, .cached = 400, .reasoning = 20, .cache_write = 7, .cache_write_1h = 3};
  o.reply_text_bytes = 123456;  // ignored when usage was reported
  const auto b = billed_tokens(a, o);
  CHECK(b.input == 600);  // OpenAI's prompt_tokens include the cached ones
  CHECK(b.cached_input == 400);
  CHECK(b.cache_write == 0);  // OpenAI does not bill cache writes
  CHECK(b.cache_write_1h == 0);
  CHECK(b.output == 50);
}

TEST_CASE("reported Anthropic usage is billed with both cache-write lifetimes", "[proxy][settle]") {
  const auto a = admission(UpstreamKind::anthropic, 9999, 9999);
  Outcome o;
  o.usage_reported = true;
  o.usage = {.input = 20, .output = 42, .cached = 4, .reasoning = 0, .cache_write = 9, .cache_write_1h = 3};
  const auto b = billed_tokens(a, o);
  CHECK(b.input == 20);  // Anthropic's input_tokens exclude the cached ones
  CHECK(b.cached_input == 4);
  CHECK(b.cache_write == 6);
  CHECK(b.cache_write_1h == 3);
  CHECK(b.output == 42);
}

TEST_CASE("without usage the input estimate and the relayed text at four bytes a token are billed",
          "[proxy][settle]") {
  for (auto kind : {UpstreamKind::openai, UpstreamKind::anthropic}) {
    INFO((kind == UpstreamKind::openai ? "openai" : "anthropic"));
    const auto a = admission(kind, 250, 1000);
    Outcome o;
    o.usage.input = 77;  // not reported: not trusted
    o.reply_text_bytes = 401;
    const auto b = billed_tokens(a, o);
    CHECK(b.input == 250);
    CHECK(b.cached_input == 0);
    CHECK(b.cache_write == 0);
    CHECK(b.output == 101);  // ceil(401 / 4)
  }
}

TEST_CASE("an estimated output is at least one token and at most the request's limit", "[proxy][settle]") {
  Outcome nothing;  // no usage, nothing relayed: never free
  CHECK(billed_tokens(admission(UpstreamKind::openai, 10, 1000), nothing).output == 1);

  Outcome a_lot;
  a_lot.reply_text_bytes = 1'000'000;
  CHECK(billed_tokens(admission(UpstreamKind::openai, 10, 1000), a_lot).output == 1000);
  // A limit of 0 (embeddings) still bills the one token floor.
  CHECK(billed_tokens(admission(UpstreamKind::openai, 10, 0), a_lot).output == 1);
}
