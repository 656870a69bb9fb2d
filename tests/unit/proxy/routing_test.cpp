// proxy/routing: which upstream a model goes to, by "upstream/model" or by an upstream's globs.
#include <catch2/catch.hpp>

#include "proxy/routing.h"

using namespace x420;
using namespace x420::proxy;

namespace {

store::UpstreamRow upstream(std::string name, std::string kind, std::vector<std::string> models) {
  store::UpstreamRow u;
  u.name = std::move(name);
  u.kind = std::move(kind);
  u.base_url = "https://example.com/v1";
  u.models = std::move(models);
  return u;
}

const std::vector<store::UpstreamRow> kUpstreams = {
    upstream("openai", "openai", {"gpt-4o*", "o3"}),
    upstream("azure", "openai", {"gpt-*"}),
    upstream("claude", "anthropic", {"claude-*"}),
    upstream("bare", "openai", {}),
};

}  // namespace

TEST_CASE("upstream/model names the upstream and sends the model without the prefix", "[proxy][routing]") {
  auto r = choose_upstream(kUpstreams, "openai", "azure/gpt-4o-mini");
  REQUIRE(r.ok());
  CHECK(r->upstream == &kUpstreams[1]);
  CHECK(r->model == "gpt-4o-mini");
  CHECK(r->model_rewritten);

  SECTION("an upstream without globs is reachable by name only") {
    auto named = choose_upstream(kUpstreams, "openai", "bare/anything");
    REQUIRE(named.ok());
    CHECK(named->upstream == &kUpstreams[3]);
    CHECK(named->model == "anything");
  }
  SECTION("only the first slash separates: the rest is the model") {
    auto nested = choose_upstream(kUpstreams, "openai", "openai/org/model-x");
    REQUIRE(nested.ok());
    CHECK(nested->upstream == &kUpstreams[0]);
    CHECK(nested->model == "org/model-x");
  }
}

TEST_CASE("a named upstream of the other API kind is refused, naming both", "[proxy][routing]") {
  auto r = choose_upstream(kUpstreams, "openai", "claude/claude-3-opus");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::usage);
  CHECK(r.error().message.find("claude") != std::string::npos);
  CHECK(r.error().message.find("anthropic") != std::string::npos);
}

TEST_CASE("a prefix that names no upstream is matched as a whole model against the globs", "[proxy][routing]") {
  const std::vector<store::UpstreamRow> rows = {upstream("hf", "openai", {"meta-llama/*"})};
  auto r = choose_upstream(rows, "openai", "meta-llama/Llama-3-8b");
  REQUIRE(r.ok());
  CHECK(r->upstream == &rows[0]);
  CHECK(r->model == "meta-llama/Llama-3-8b");
  CHECK_FALSE(r->model_rewritten);
}

TEST_CASE("without a prefix, the first upstream of the endpoint's kind whose globs match wins", "[proxy][routing]") {
  auto first = choose_upstream(kUpstreams, "openai", "gpt-4o");
  REQUIRE(first.ok());
  CHECK(first->upstream == &kUpstreams[0]);  // azure's gpt-* matches too, but comes later
  CHECK(first->model == "gpt-4o");
  CHECK_FALSE(first->model_rewritten);

  auto later = choose_upstream(kUpstreams, "openai", "gpt-3.5-turbo");
  REQUIRE(later.ok());
  CHECK(later->upstream == &kUpstreams[1]);

  auto exact = choose_upstream(kUpstreams, "openai", "o3");
  REQUIRE(exact.ok());
  CHECK(exact->upstream == &kUpstreams[0]);
  CHECK_FALSE(choose_upstream(kUpstreams, "openai", "o3-mini").ok());  // a glob without * is exact

  auto anthropic = choose_upstream(kUpstreams, "anthropic", "claude-sonnet-4");
  REQUIRE(anthropic.ok());
  CHECK(anthropic->upstream == &kUpstreams[2]);
  // The globs of the other kind are not consulted.
  CHECK_FALSE(choose_upstream(kUpstreams, "anthropic", "gpt-4o").ok());
  CHECK_FALSE(choose_upstream(kUpstreams, "openai", "claude-sonnet-4").ok());
}

TEST_CASE("an unknown model is not_found, naming it and the two ways out", "[proxy][routing]") {
  auto r = choose_upstream(kUpstreams, "openai", "mistral-large");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::not_found);
  CHECK(r.error().message.find("'mistral-large'") != std::string::npos);
  CHECK(r.error().message.find("upstream/model") != std::string::npos);
  CHECK(r.error().message.find("--models") != std::string::npos);

  SECTION("a long model name is cut in the message") {
    const std::string longer(500, 'm');
    auto cut = choose_upstream(kUpstreams, "openai", longer);
    REQUIRE_FALSE(cut.ok());
    CHECK(cut.error().message.find(std::string(100, 'm')) != std::string::npos);
    CHECK(cut.error().message.find(std::string(101, 'm')) == std::string::npos);
  }
  SECTION("no upstreams at all") {
    CHECK(choose_upstream({}, "openai", "gpt-4o").error().kind == ErrorKind::not_found);
  }
}

TEST_CASE("a request without a model is a usage error", "[proxy][routing]") {
  auto r = choose_upstream(kUpstreams, "openai", "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::usage);
  CHECK(r.error().message.find("no model") != std::string::npos);
}
