// lib/export/bundle_check: `x420 export check`. It spans two modules on purpose: each case checks
// a real export made through the service (lib/service/account_export), so the checker is held to
// what the exporter writes; it is about the checker, so it lives here.
#include <catch2/catch.hpp>

#include "lib/export/bundle_check.h"
#include "support/data_fixture.h"

using namespace x420;
using namespace x420::service;

namespace {

using Fixture = test::DataFixture;
using test::check;
using test::export_of;
using test::named;

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
