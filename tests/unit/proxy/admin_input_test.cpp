// proxy/admin_input: what the admin API reads from a request (token, path, query, body and its
// fields), each bounded and checked, and no message repeating a value.
#include <catch2/catch.hpp>

#include <limits>

#include "proxy/admin_input.h"

using namespace x420;
using namespace x420::proxy::admin;
using Json = nlohmann::json;

TEST_CASE("the bearer token is read from any case of the scheme, spaces trimmed", "[proxy][admin_input]") {
  CHECK(bearer_token("Bearer x420m_abc") == "x420m_abc");
  CHECK(bearer_token("bearer x420m_abc") == "x420m_abc");
  CHECK(bearer_token("BEARER    x420m_abc  ") == "x420m_abc");
  CHECK(bearer_token("Basic dXNlcjpwdw==").empty());
  CHECK(bearer_token("Bearer").empty());
  CHECK(bearer_token("Bearer ").empty());
  CHECK(bearer_token("Bearer    ").empty());
  CHECK(bearer_token("").empty());
  CHECK(bearer_token("Bearerx420m_abc").empty());
}

TEST_CASE("a path splits into its segments, empty ones kept and nothing decoded", "[proxy][admin_input]") {
  using Parts = std::vector<std::string_view>;
  CHECK(split_path("/x420/v1/tenants") == Parts{"x420", "v1", "tenants"});
  CHECK(split_path("/x420/v1/tenants/") == Parts{"x420", "v1", "tenants", ""});
  CHECK(split_path("/a//b") == Parts{"a", "", "b"});
  CHECK(split_path("/") == Parts{""});
  CHECK(split_path("/d%2Fx") == Parts{"d%2Fx"});
}

TEST_CASE("percent-decoding follows RFC 3986, '+' a space only in a query", "[proxy][admin_input]") {
  CHECK(*percent_decode("d%65fault", false) == "default");
  CHECK(*percent_decode("a%20b%7E", false) == "a b~");
  CHECK(*percent_decode("%c3%A9", false) == "\xc3\xa9");
  CHECK(*percent_decode("a+b", false) == "a+b");
  CHECK(*percent_decode("a+b", true) == "a b");
  CHECK(*percent_decode("a%2Bb", true) == "a+b");
  CHECK(*percent_decode("", false) == "");

  for (const char* bad : {"%", "%4", "%zz", "%g0", "abc%2", "%%41"}) {
    INFO(bad);
    auto r = percent_decode(bad, true);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::usage);
    CHECK(r.error().message.find("percent-encoding") != std::string::npos);
  }
  SECTION("an encoded slash is refused in a path segment, allowed in a query; NUL in neither") {
    CHECK(percent_decode("a%2Fb", false).error().message.find("slash") != std::string::npos);
    CHECK(*percent_decode("a%2Fb", true) == "a/b");
    CHECK_FALSE(percent_decode("a/b", false).ok());
    CHECK_FALSE(percent_decode("a%00b", false).ok());
    CHECK_FALSE(percent_decode("a%00b", true).ok());
  }
}

TEST_CASE("a query parses to decoded names and values, the last of a repeated name kept", "[proxy][admin_input]") {
  using Map = std::map<std::string, std::string>;
  CHECK(*parse_query("") == Map{});
  CHECK(*parse_query("limit=10&since=2024-01-01T00%3A00%3A00Z") ==
        Map{{"limit", "10"}, {"since", "2024-01-01T00:00:00Z"}});
  CHECK(*parse_query("a=1&a=2") == Map{{"a", "2"}});
  CHECK(*parse_query("flag&x=") == Map{{"flag", ""}, {"x", ""}});
  CHECK(*parse_query("&&a=b&") == Map{{"a", "b"}});
  CHECK(*parse_query("q=a+b%2Bc") == Map{{"q", "a b+c"}});
  CHECK(*parse_query("k=a=b") == Map{{"k", "a=b"}});
  CHECK(parse_query("a=%zz").error().kind == ErrorKind::usage);
  CHECK(parse_query("%zz=1").error().kind == ErrorKind::usage);
}

TEST_CASE("a body is a JSON object: empty or null is {}, anything else is refused", "[proxy][admin_input]") {
  CHECK(*parse_body("") == Json::object());
  CHECK(*parse_body(" \r\n\t") == Json::object());
  CHECK(*parse_body("null") == Json::object());
  CHECK(*parse_body("{\"name\":\"acme\"}") == Json{{"name", "acme"}});

  CHECK(parse_body("{\"name\":").error().message.find("not valid JSON") != std::string::npos);
  for (const char* other : {"[]", "\"acme\"", "12", "true"}) {
    INFO(other);
    auto r = parse_body(other);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::usage);
    CHECK(r.error().message.find("object") != std::string::npos);
  }
}

TEST_CASE("a body nested deeper than the limit is refused, one at the limit is not", "[proxy][admin_input]") {
  auto nested = [](int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += "{\"a\":";
    s += "1";
    for (int i = 0; i < depth; ++i) s += "}";
    return s;
  };
  CHECK(parse_body(nested(kMaxBodyDepth)).ok());
  auto deep = parse_body(nested(kMaxBodyDepth + 1));
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.error().kind == ErrorKind::usage);
  CHECK(deep.error().message.find("deeper than " + std::to_string(kMaxBodyDepth)) != std::string::npos);
  CHECK_FALSE(parse_body(std::string(100000, '[') + std::string(100000, ']')).ok());
}

TEST_CASE("body fields: an unknown field is refused, naming the ones the route takes", "[proxy][admin_input]") {
  const Json body = {{"name", "ci"}, {"colour", "red"}};
  BodyFields fields(body, {"name", "rpm"});
  CHECK(fields.text("name", true) == "ci");  // reading still works; the first problem is kept
  const auto s = fields.status();
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind == ErrorKind::usage);
  CHECK(s.error().message == "unknown field 'colour' (this route takes: name, rpm)");
  CHECK(BodyFields(Json::object(), {"name"}).status().ok());
}

TEST_CASE("body fields: text, integers, seconds, booleans, dollars and lists are typed", "[proxy][admin_input]") {
  const Json body = {{"name", "ci"},       {"rpm", 60},          {"grace", 3600},        {"no_log", true},
                     {"cap", "12.50"},     {"credit", 2.5},      {"models", {"a*", "b"}}, {"absent", nullptr}};
  BodyFields f(body, {"name", "rpm", "grace", "no_log", "cap", "credit", "models", "absent", "missing"});
  CHECK(f.text("name", true) == "ci");
  CHECK(f.integer("rpm") == 60);
  CHECK(f.seconds("grace") == 3600);
  CHECK(f.boolean("no_log"));
  CHECK(f.usd_micros("cap") == 12'500'000);
  CHECK(f.usd_micros("credit") == 2'500'000);
  CHECK(f.text_list("models") == std::vector<std::string>{"a*", "b"});
  // Absent and JSON null read as absent.
  CHECK(f.find("absent") == nullptr);
  CHECK_FALSE(f.text("absent", false));
  CHECK_FALSE(f.integer("missing"));
  CHECK_FALSE(f.boolean("missing"));
  CHECK_FALSE(f.usd_micros("missing"));
  CHECK(f.text_list("missing").empty());
  CHECK(f.status().ok());
}

TEST_CASE("body fields: the first wrong type or range is the problem reported", "[proxy][admin_input]") {
  auto problem = [](const Json& body, auto read) {
    BodyFields f(body, {"v"});
    read(f);
    const auto s = f.status();
    return s.ok() ? std::string() : s.error().message;
  };
  CHECK(problem(Json::object(), [](BodyFields& f) { f.text("v", true); }) == "field 'v' is required");
  CHECK(problem({{"v", 1}}, [](BodyFields& f) { f.text("v", false); }) == "field 'v' must be a string");
  CHECK(problem({{"v", 1.5}}, [](BodyFields& f) { f.integer("v"); }) == "field 'v' must be a whole number");
  CHECK(problem({{"v", "1"}}, [](BodyFields& f) { f.integer("v"); }) == "field 'v' must be a whole number");
  CHECK(problem({{"v", std::numeric_limits<std::uint64_t>::max()}}, [](BodyFields& f) { f.integer("v"); }) ==
        "field 'v' must be a whole number");
  CHECK(problem({{"v", -1}}, [](BodyFields& f) { f.seconds("v"); }).find("0 to") != std::string::npos);
  CHECK(problem({{"v", kMaxDurationSeconds + 1}}, [](BodyFields& f) { f.seconds("v"); }).find("3660 days") !=
        std::string::npos);
  CHECK(problem({{"v", kMaxDurationSeconds}}, [](BodyFields& f) { f.seconds("v"); }).empty());
  CHECK(problem({{"v", "yes"}}, [](BodyFields& f) { f.boolean("v"); }) == "field 'v' must be true or false");
  CHECK(problem({{"v", "12.5.0"}}, [](BodyFields& f) { f.usd_micros("v"); }).find("dollars") != std::string::npos);
  CHECK(problem({{"v", -1}}, [](BodyFields& f) { f.usd_micros("v"); }).find("dollars") != std::string::npos);
  CHECK(problem({{"v", 2e9}}, [](BodyFields& f) { f.usd_micros("v"); }).find("dollars") != std::string::npos);
  CHECK(problem({{"v", true}}, [](BodyFields& f) { f.usd_micros("v"); }).find("dollars") != std::string::npos);
  CHECK(problem({{"v", {"a", 1}}}, [](BodyFields& f) { f.text_list("v"); }) == "field 'v' must be a list of strings");
  CHECK(problem({{"v", "a"}}, [](BodyFields& f) { f.text_list("v"); }) == "field 'v' must be a list of strings");

  SECTION("only the first problem is kept") {
    const Json body = {{"v", 1}};
    BodyFields f(body, {"v"});
    f.text("v", false);
    f.text("w", true);
    CHECK(f.status().error().message == "field 'v' must be a string");
  }
}

TEST_CASE("body field messages never repeat a value, and cut an unknown name", "[proxy][admin_input]") {
  const std::string secret = "sk-live-value-that-must-not-echo";
  const Json body = {{"v", {{"nested", secret}}}, {"w", secret}};
  BodyFields f(body, {"v", "w"});
  f.text("v", true);
  f.integer("w");
  REQUIRE_FALSE(f.status().ok());
  CHECK(f.status().error().message.find(secret) == std::string::npos);

  const Json long_name = {{std::string(200, 'n'), 1}};
  BodyFields unknown(long_name, {"v"});
  const auto message = unknown.status().error().message;
  CHECK(message.find(std::string(64, 'n')) != std::string::npos);
  CHECK(message.find(std::string(65, 'n')) == std::string::npos);
}
