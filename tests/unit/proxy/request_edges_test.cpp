// proxy/request_edges: the query string and the forwarded header values, scanned like body text
// and redacted in place (or only scanned, for the block policy). No socket, the built-in rules.
#include <catch2/catch.hpp>

#include "proxy/request_edges.h"
#include "support/engines.h"

using namespace x420;
using namespace x420::proxy;

namespace {

// An AWS access key id of the right shape; not a real one.
const std::string kAws = "AKIA" + std::string("Q3VHZ7NXK4TB2MWD");

const detect::Engine& engine() {
  static const auto e = test::builtin_engine();
  return *e;
}

struct Edges {
  detect::Engine::ScratchPtr scratch = engine().make_scratch();
  detect::Pseudonymizer pseudonymizer{crypto::SecretBytes(32)};
  detect::PlaceholderMap map;

  Result<EdgeRedaction> run(const Request& req, std::string_view query, detect::RedactMode mode, bool scan_only = false) {
    return redact_edges(req, query, engine(), *scratch, scan_only, mode,
                        mode == detect::RedactMode::pseudonymize ? &pseudonymizer : nullptr, &map);
  }
};

Request request() {
  Request req{http::verb::post, "/v1/chat/completions", 11};
  req.set(http::field::authorization, "Bearer x420_client");
  return req;
}

}  // namespace

TEST_CASE("a query parameter holding a secret is redacted and encoded again, the others keep their bytes", "[proxy][request_edges]") {
  Edges e;
  const auto req = request();
  SECTION("mask, in a value") {
    const auto r = e.run(req, "?api-version=2024%2D10&key=" + kAws + "&x", detect::RedactMode::mask);
    REQUIRE(r);
    CHECK(r->query == "?api-version=2024%2D10&key=%5BREDACTED%3Aaws.access_key_id%5D&x");
    REQUIRE(r->findings.size() == 1);
    CHECK(r->findings[0].where == "the query string");
    CHECK(r->findings[0].rule == "aws.access_key_id");
  }
  SECTION("pseudonymize, percent-encoded as sent, and in a name") {
    const auto r = e.run(req, "?k=%41KIA" + kAws.substr(4) + "&" + kAws + "=1", detect::RedactMode::pseudonymize);
    REQUIRE(r);
    CHECK(r->query.find(kAws.substr(4)) == std::string::npos);
    CHECK(r->query.starts_with("?k=X420_REDACTED_aws_access_key_id_"));
    CHECK(r->query.ends_with("=1"));
    CHECK(e.map.size() == 1);  // one secret, one placeholder, restorable in the reply
    CHECK(r->findings.size() == 2);
  }
  SECTION("scan only: found, nothing replaced") {
    const auto r = e.run(req, "?key=" + kAws, detect::RedactMode::mask, true);
    REQUIRE(r);
    CHECK(r->query == "?key=" + kAws);
    CHECK(r->findings.size() == 1);
  }
  SECTION("nothing to find, no query") {
    const auto r = e.run(req, "", detect::RedactMode::mask);
    REQUIRE(r);
    CHECK(r->query.empty());
    CHECK(r->findings.empty());
  }
  SECTION("malformed percent-encoding is refused without quoting it") {
    const auto r = e.run(req, "?key=" + kAws + "%G", detect::RedactMode::mask);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::usage);
    CHECK(r.error().message.find(kAws) == std::string::npos);
  }
}

TEST_CASE("forwarded header values are scanned and redacted, other headers are neither forwarded nor scanned", "[proxy][request_edges]") {
  Edges e;
  auto req = request();
  req.set("OpenAI-Organization", "org-" + kAws);
  req.set("x-stainless-lang", "python");
  req.set(http::field::accept, "text/event-stream; k=" + kAws);
  req.set("x-forwarded-for", kAws);
  const auto r = e.run(req, "", detect::RedactMode::mask);
  REQUIRE(r);
  REQUIRE(r->replaced.size() == 2);
  CHECK(r->replaced[0].name == "Accept");
  CHECK(r->replaced[0].value == "text/event-stream; k=[REDACTED:aws.access_key_id]");
  CHECK(r->replaced[1].name == "OpenAI-Organization");
  CHECK(r->replaced[1].value == "org-[REDACTED:aws.access_key_id]");
  REQUIRE(r->findings.size() == 2);
  CHECK(r->findings[0].where == "header accept");
  CHECK(r->findings[1].where == "header openai-organization");
}

TEST_CASE("the upstream request carries the redacted header values instead of the client's", "[proxy][request_edges]") {
  auto req = request();
  req.set("openai-organization", "org-" + kAws);
  const auto url = parse_http_url("http://127.0.0.1:9/v1");
  REQUIRE(url.ok());
  const std::vector<ForwardedHeader> replaced = {{"openai-organization", "org-[REDACTED:aws.access_key_id]"}};
  const auto up = build_upstream_request(req, *find_endpoint("/v1/chat/completions"), "?a=1", *url,
                                         UpstreamKind::openai, "sk-up", "{}", replaced);
  CHECK(up.target() == "/v1/chat/completions?a=1");
  CHECK(std::string(ssv(up["openai-organization"])) == "org-[REDACTED:aws.access_key_id]");
}
