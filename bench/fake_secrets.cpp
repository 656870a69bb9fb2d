#include "fake_secrets.h"

#include <algorithm>
#include <set>

#include "lib/keys/key_format.h"

namespace x420::bench {
namespace {

constexpr std::string_view kBase62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// `before` + secret + `after` + '\n', the secret's span remembered.
FakeSecret line(std::string_view kind, std::string_view before, const std::string& secret,
                std::string_view after = {}) {
  FakeSecret f;
  f.kind = kind;
  f.text.append(before).append(secret).append(after).push_back('\n');
  f.secret_offset = before.size();
  f.secret_size = secret.size();
  return f;
}

}  // namespace

const std::vector<std::string_view>& FakeSecretMaker::kinds() {
  static const std::vector<std::string_view> k = {"aws",    "github", "anthropic", "slack",
                                                  "stripe", "jwt",    "pem",       "password",
                                                  "postgres", "google"};
  return k;
}

std::string FakeSecretMaker::chars(std::string_view alphabet, std::size_t n) {
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::string out(n, ' ');
  for (auto& c : out) c = alphabet[pick(rng_)];
  return out;
}

std::string FakeSecretMaker::base62(std::size_t n) {
  std::string out = chars(kBase62, n);
  // Password and URI rules want a digit or symbol somewhere: a value without one reads as a word.
  if (std::none_of(out.begin(), out.end(), [](char c) { return c >= '0' && c <= '9'; }))
    out[n / 2] = static_cast<char>('0' + rng_() % 10);
  return out;
}

std::string FakeSecretMaker::base64url_of(std::string_view bytes) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kBase64Url[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kBase64Url[(acc << (6 - bits)) & 63];
  return out;
}

FakeSecret FakeSecretMaker::next() { return make(kinds()[turn_++ % kinds().size()]); }

FakeSecret FakeSecretMaker::make(std::string_view kind) {
  const bool flip = rng_() & 1;  // the two ways each kind is written
  if (kind == "aws")
    return line(kind, flip ? "aws_access_key_id = " : "    \"AccessKeyId\": \"",
                "AKIA" + chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), flip ? "" : "\",");
  if (kind == "github") {
    // ghp_ + 30 random base62 + 6 base62 of their CRC32, so the checksum holds.
    const std::string body = chars(kBase62, 30);
    return line(kind, flip ? "GITHUB_TOKEN=" : "// token: ", "ghp_" + body + keys::checksum_for(body));
  }
  if (kind == "anthropic")
    return line(kind, flip ? "ANTHROPIC_API_KEY=\"" : "client = Anthropic(api_key='",
                "sk-ant-api03-" + chars(kBase64Url, 93) + "AA", flip ? "\"" : "')");
  if (kind == "slack")
    return line(kind, flip ? "SLACK_BOT_TOKEN=" : "  slack_token: ",
                "xoxb-" + digits(12) + "-" + digits(13) + "-" + chars(kBase62, 24));
  if (kind == "stripe")
    return line(kind, flip ? "Stripe.api_key = \"" : "STRIPE_SECRET_KEY=",
                "sk_live_" + chars(kBase62, flip ? 99 : 24), flip ? "\"" : "");
  if (kind == "jwt") {
    const std::string payload = "{\"sub\":\"" + chars(kBase62, 12) + "\",\"name\":\"bench\",\"iat\":" +
                                std::to_string(1700000000 + rng_() % 50000000) + "}";
    const std::string token = base64url_of(R"({"alg":"HS256","typ":"JWT"})") + "." +
                              base64url_of(payload) + "." + chars(kBase64Url, 43);
    return line(kind, flip ? "Authorization: Bearer " : "    \"id_token\": \"", token,
                flip ? "" : "\",");
  }
  if (kind == "pem") {
    static constexpr std::string_view kLabels[] = {"RSA PRIVATE KEY", "PRIVATE KEY",
                                                   "OPENSSH PRIVATE KEY"};
    const std::string label(kLabels[rng_() % 3]);
    std::string block = "-----BEGIN " + label + "-----\n";
    for (int i = 0; i < 12; ++i) block += chars(kBase64, 64) + "\n";
    block += chars(kBase64, 40) + "==\n-----END " + label + "-----";
    return line(kind, "", block);
  }
  if (kind == "password")
    return flip ? line(kind, "DB_PASSWORD=", base62(20))
                : line(kind, "static const char *db_password = \"", base62(20), "\";");
  if (kind == "postgres")
    return line(kind, flip ? "DATABASE_URL=postgres://app:" : "  url: postgresql://svc_reporting:",
                base62(20), flip ? "@db.internal:5432/app" : "@10.0.3.7/reports");
  if (kind == "google")
    return line(kind, flip ? "GOOGLE_API_KEY=" : "const firebaseConfig = { apiKey: \"",
                "AIza" + chars(kBase64Url, 35), flip ? "" : "\" };");
  return line("unknown", "", std::string(kind));
}

std::vector<Sprinkled> sprinkle(std::string& text, std::size_t count, FakeSecretMaker& maker) {
  std::vector<std::size_t> line_ends;
  for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 1))
    line_ends.push_back(at + 1);
  if (line_ends.empty()) {
    text.push_back('\n');
    line_ends.push_back(text.size());
  }
  std::set<std::size_t> places;
  std::uniform_int_distribution<std::size_t> pick(0, line_ends.size() - 1);
  while (places.size() < std::min(count, line_ends.size())) places.insert(line_ends[pick(maker.rng())]);

  std::string out;
  out.reserve(text.size() + count * 256);
  std::vector<Sprinkled> spans;
  std::size_t from = 0;
  for (const std::size_t at : places) {
    out.append(text, from, at - from);
    const FakeSecret f = maker.next();
    const std::uint64_t start = out.size() + f.secret_offset;
    spans.push_back({f.kind, start, start + f.secret_size});
    out += f.text;
    from = at;
  }
  out.append(text, from, std::string::npos);
  text = std::move(out);
  return spans;
}

}  // namespace x420::bench
