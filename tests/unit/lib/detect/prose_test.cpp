// A flow, not a module: the built-in rules on prose, the text of a prompt. Assignments quoted
// mid-sentence, headers in a pasted curl command, credentials in URLs, passwords holding quotes
// and backslashes. Each case pins the whole secret span (a partial one would send the rest) and
// that redaction leaves the sentence around it as it was; ordinary sentences and code with the
// same words stay clean.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "lib/detect/engine.h"
#include "lib/detect/redactor.h"
#include "support/engines.h"

using namespace x420;
using namespace x420::detect;
using test::builtin_engine;

namespace {

struct Case {
  std::string text;
  std::string secret;
  std::string rule;
};

// Every case holds one fake secret; the finding must be exactly it, from the named rule, and
// masking must change nothing but it.
void check_cases(const std::vector<Case>& cases) {
  auto e = builtin_engine();
  auto s = e->make_scratch();
  for (const auto& c : cases) {
    INFO(c.text);
    const auto found = e->scan(c.text, *s);
    REQUIRE(found.size() == 1);
    CHECK(c.text.substr(found[0].start, found[0].end - found[0].start) == c.secret);
    CHECK(e->rule(found[0].rule).id == c.rule);
    std::string expected = c.text;
    expected.replace(c.text.find(c.secret), c.secret.size(), "[REDACTED:" + c.rule + "]");
    CHECK(redact(c.text, found, *e, RedactMode::mask, nullptr, nullptr).text == expected);
  }
}

}  // namespace

TEST_CASE("an assignment quoted mid-sentence is found whole and redacted in place") {
  check_cases({
      {"my config has DB_PASSWORD=Qm7vX2pL9sKw4RtZ8nBc please fix", "Qm7vX2pL9sKw4RtZ8nBc", "generic.password_inline"},
      {"my config has DB_PASSWORD=Qm7vX2pL9sKw4RtZ8nBc, please fix", "Qm7vX2pL9sKw4RtZ8nBc", "generic.password_inline"},
      {"I put `DB_PASSWORD=Qm7vX2pL9sKw4RtZ8nBc` in .env.", "Qm7vX2pL9sKw4RtZ8nBc", "generic.password_inline"},
      {"login with admin_password=Summer2024! fails", "Summer2024!", "generic.password_inline"},
      {"why does password: Hn4!kQz82Lm#Pw not work?", "Hn4!kQz82Lm#Pw", "generic.password_inline"},
      {"the .env says API_KEY=h8Jk2LmN4pQr6StU8vWx0yZa2BcD4eF and it still fails", "h8Jk2LmN4pQr6StU8vWx0yZa2BcD4eF", "generic.secret_inline"},
      {"in my yaml I wrote api_token: 7fGh2Jk9LmQw4ErT6yUi8oPa0sDf and it breaks", "7fGh2Jk9LmQw4ErT6yUi8oPa0sDf", "generic.secret_inline"},
      {"the callback got access_token=h8Jk2LmN4pQr6StU8vWx0yZa2BcD4eF&expires_in=3600 back", "h8Jk2LmN4pQr6StU8vWx0yZa2BcD4eF", "generic.secret_inline"},
      {R"(my settings.json has "apiKey": "h8Jk2LmN4pQr6StU8vWx0yZa2BcD4eF" and it fails)", "h8Jk2LmN4pQr6StU8vWx0yZa2BcD4eF", "generic.secret_quoted"},
      {R"(my settings.json has "password": "Hn4kQz8x9Lw" in it)", "Hn4kQz8x9Lw", "generic.password_quoted"},
      {R"(docker inspect says "Env": ["API_TOKEN=7fGh2Jk9LmQw4ErT6yUi8oPa0sDf","PORT=80"])", "7fGh2Jk9LmQw4ErT6yUi8oPa0sDf", "generic.secret_inline"},
      {R"(the raw body {"env": "DB_PASSWORD=Qm7vX2pL9sKw4RtZ8nBc\nOTHER=1"})", "Qm7vX2pL9sKw4RtZ8nBc", "generic.password_inline"},
  });
}

TEST_CASE("headers in a pasted curl command and credentials in URLs are found") {
  check_cases({
      {"curl -H 'x-api-key: h8Jk2LmN4pQr6StU8vWx0yZa2BcD4eF' https://api.example.com/v1", "h8Jk2LmN4pQr6StU8vWx0yZa2BcD4eF", "generic.http_header_credential"},
      {R"(I ran curl -H "Authorization: Token 9a4b0c9f1c62bcf9418ad846dd0e4bbdfc6ee4b" https://app.example.org/api/ and got 401)", "9a4b0c9f1c62bcf9418ad846dd0e4bbdfc6ee4b", "generic.http_header_credential"},
      {R"(curl -H "Authorization: Bearer h8Jk2LmN4pQr6StU8vWx0yZa2BcD4eF" https://api.example.com/v1)", "h8Jk2LmN4pQr6StU8vWx0yZa2BcD4eF", "http.authorization_bearer"},
      {"see https://api.example.com/v1?refresh_token=h8Jk2LmN4pQr6StU8vWx0yZa2BcD4eF== for details", "h8Jk2LmN4pQr6StU8vWx0yZa2BcD4eF==", "generic.url_credential_param"},
      {"open https://api.example.com/v1?access_token=h8Jk2LmN4pQr6StU8vWx0yZa2BcD4eF.", "h8Jk2LmN4pQr6StU8vWx0yZa2BcD4eF", "generic.url_credential_param"},
      {"clone https://bob:Hn4kQz82Lm9x@git.example.com/x.git, then build", "Hn4kQz82Lm9x", "uri.generic_credentials"},
  });
}

TEST_CASE("passwords holding quotes and backslashes are found to their closing quote") {
  check_cases({
      {R"(password = "Hn4\"kQz82\\Lmw9")", R"(Hn4\"kQz82\\Lmw9)", "generic.password_quoted"},
      {R"(password = 'Hn4"kQz8\2Lmw9')", R"(Hn4"kQz8\2Lmw9)", "generic.password_quoted"},
      {R"({"password": "Hn4'kQz8x9", "user": "bob"})", "Hn4'kQz8x9", "generic.password_quoted"},
      {R"({"password":"Hn4kQz8x9","user":"bob"})", "Hn4kQz8x9", "generic.password_quoted"},
      {R"(my password is "Hn4\"kQz82\\Lm" as you see)", R"(Hn4\"kQz82\\Lm)", "generic.password_prose"},
      {R"(PASSWORD=Hn4"kQz8\2Lm'w9)", R"(Hn4"kQz8\2Lm'w9)", "generic.password_unquoted"},
      {R"(it says PASSWORD=Hn4"kQz8\2Lm'w9 and then fails)", R"(Hn4"kQz8\2Lm'w9)", "generic.password_inline"},
  });
}

TEST_CASE("a mid-sentence secret survives a pseudonymized round trip") {
  auto e = builtin_engine();
  auto s = e->make_scratch();
  const std::string text = "my config has DB_PASSWORD=Qm7vX2pL9sKw4RtZ8nBc please fix";
  const auto found = e->scan(text, *s);
  REQUIRE(found.size() == 1);
  Pseudonymizer p(crypto::SecretBytes(reinterpret_cast<const std::uint8_t*>("0123456789abcdef0123456789abcdef"), 32));
  PlaceholderMap map;
  const auto red = redact(text, found, *e, RedactMode::pseudonymize, &p, &map);
  CHECK(red.text.starts_with("my config has DB_PASSWORD=X420_REDACTED_generic_password_inline_"));
  CHECK(red.text.ends_with(" please fix"));
  CHECK(restore(red.text, map) == text);
}

TEST_CASE("sentences and code with the same words but no secret stay clean") {
  auto e = builtin_engine();
  auto s = e->make_scratch();
  const char* clean[] = {
      "Next page token: eav1OzQB0OM8rLdGXOEsyQWSG",
      "the password: see the admin guide",
      "set DB_PASSWORD=${DB_PASSWORD} first, then DB_PASSWORD=changeme1 for tests",
      "    auth(user, password=password2)",
      "gcloud sql instances create db1 --root-password=password123",
      "foo(api_key=settings.API_KEY)",
      "gsutil cp -o encryption_key=TEST_ENCRYPTION_KEY1) x",
      "    private_key: PKCS7PrivateKeyTypes,",
      "trigger create --secret=projects/my-project/secrets/my-secret/versions/2 --repo=x",
      R"(curl -H "X-API-Key: $API_KEY" -H "Content-Type: application/json" https://api.example.com/v1)",
      R"(curl -H "Authorization: token OAUTH-TOKEN" https://api.github.com/user)",
      "https://docs.example.com/spreadsheet/ccc?key=0Ao1yRmX6PQQzdG5wSFlrZl9HRWNET3ZyN0hnaGo5ZFE&usp=sharing",
      R"({"password":"abcdefg","x":"1"})",
      R"(conn = connect(password="x'" + pw + "'"))",
      "NPM_TOKEN=cdb25a5a-0ef9-98e5-2674-473aa662e8c9 is a uuid",
  };
  for (const char* text : clean) {
    INFO(text);
    CHECK(e->scan(text, *s).empty());
  }
}
