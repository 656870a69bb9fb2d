#include "bench_inputs.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "lib/common/json_text.h"

namespace x420::bench {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kBinaryProbe = 8192;  // as `x420 scan` decides a file is binary

bool looks_binary(std::string_view data) {
  return std::memchr(data.data(), '\0', std::min(data.size(), kBinaryProbe)) != nullptr;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Regular files under `root`, symlinks not followed, in path order.
std::vector<fs::path> regular_files(const fs::path& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) out.push_back(it->path());
  if (ec && out.empty()) throw std::runtime_error("cannot walk " + root.string() + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

// What a user pastes around the secrets: prose with no character JSON would escape, so it can
// be cut anywhere to make the prompt its exact size.
constexpr std::string_view kProse[] = {
    "I am trying to figure out why the checkout service times out under load. ",
    "The logs show the connection pool running dry after about ten minutes, then every request "
    "waits for the full thirty second timeout before it fails. ",
    "Here is the relevant part of the configuration and the code that opens the connections. ",
    "Can you explain what the retry loop does when the upstream returns a 503, and whether the "
    "backoff is applied per request or per connection? ",
    "We deploy with two replicas behind a load balancer and the database is a managed instance "
    "with a limit of one hundred connections. ",
    "Please suggest a minimal change, keep the public interface the same, and point out anything "
    "that looks unsafe. ",
    "The tests pass locally but the integration suite fails in CI with a timeout in the payment "
    "step, which never happened before last week. ",
    "For context, this is the part of the handler that builds the request and parses the reply. ",
};

// Code as it appears inside a JSON string: real newlines and quotes, escaped later.
constexpr std::string_view kCode[] = {
    "\n```cpp\nstd::vector<Order> load_orders(Db& db, std::string_view customer) {\n"
    "  auto stmt = db.prepare(\"SELECT id, total, status FROM orders WHERE customer = ?\");\n"
    "  stmt.bind(1, customer);\n  std::vector<Order> out;\n"
    "  while (stmt.step()) out.push_back({stmt.column_int(0), stmt.column_double(1)});\n"
    "  return out;\n}\n```\n",
    "\n```python\ndef fetch_with_retry(session, url, attempts=5):\n"
    "    for i in range(attempts):\n        resp = session.get(url, timeout=30)\n"
    "        if resp.status_code != 503:\n            return resp\n"
    "        time.sleep(min(2 ** i, 30))\n    raise TimeoutError(url)\n```\n",
    "\n```yaml\nservices:\n  checkout:\n    image: registry.internal/checkout:1.42.0\n"
    "    environment:\n      POOL_SIZE: \"20\"\n      LOG_LEVEL: debug\n    ports:\n"
    "      - \"8080:8080\"\n```\n",
    "\n```js\nexport async function handler(event) {\n"
    "  const body = JSON.parse(event.body ?? \"{}\");\n"
    "  const res = await fetch(`${BASE_URL}/v1/orders/${body.id}`, { method: \"GET\" });\n"
    "  if (!res.ok) throw new Error(`upstream ${res.status}`);\n  return res.json();\n}\n```\n",
};

}  // namespace

SourceCorpus read_source_corpus(const fs::path& root, std::size_t max_bytes) {
  SourceCorpus corpus;
  corpus.text.reserve(max_bytes);
  for (const auto& path : regular_files(root)) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec || size == 0) continue;
    if (corpus.text.size() + size > max_bytes) break;
    const std::string content = read_file(path);
    if (looks_binary(content)) continue;
    corpus.text += content;
    ++corpus.files;
  }
  return corpus;
}

ChatPrompt chat_prompt(std::size_t size, std::size_t secrets, FakeSecretMaker& maker) {
  static constexpr std::string_view kPrefix =
      R"({"model":"claude-sonnet-4-5","max_tokens":4096,"stream":true,)"
      R"("messages":[{"role":"user","content":")";
  static constexpr std::string_view kSuffix = R"("}]})";
  static constexpr std::string_view kKinds[] = {"aws", "github", "anthropic", "postgres", "jwt"};
  if (size < kPrefix.size() + kSuffix.size() + 1024) throw std::invalid_argument("prompt too small");
  const std::size_t budget = size - kPrefix.size() - kSuffix.size();

  ChatPrompt prompt;
  std::string content;
  std::size_t piece = 0;
  while (content.size() < budget) {
    std::string escaped, secret;
    // The next secret goes in once the text has passed its share of the prompt.
    if (prompt.secrets.size() < secrets &&
        content.size() >= budget * (prompt.secrets.size() + 1) / (secrets + 2)) {
      const FakeSecret f = maker.make(kKinds[prompt.secrets.size() % std::size(kKinds)]);
      secret = f.text.substr(f.secret_offset, f.secret_size);
      append_json_string_body(escaped, "\n" + f.text);
    } else if (++piece % 4 == 0) {
      append_json_string_body(escaped, kCode[maker.rng()() % std::size(kCode)]);
    } else {
      escaped = kProse[maker.rng()() % std::size(kProse)];
    }
    if (content.size() + escaped.size() > budget) {
      // Fill the rest with prose, which can be cut anywhere.
      while (content.size() < budget) content += kProse[maker.rng()() % std::size(kProse)];
      content.resize(budget);
      break;
    }
    content += escaped;
    if (!secret.empty()) prompt.secrets.push_back(std::move(secret));
  }
  prompt.body.reserve(size);
  prompt.body.append(kPrefix).append(content).append(kSuffix);
  return prompt;
}

std::map<std::string, std::size_t> sprinkle_tree(const fs::path& dir, std::size_t count,
                                                 FakeSecretMaker& maker) {
  const auto files = regular_files(dir);
  if (files.empty()) throw std::runtime_error("no files under " + dir.string());
  std::map<fs::path, std::size_t> per_file;
  std::uniform_int_distribution<std::size_t> pick(0, files.size() - 1);
  for (std::size_t i = 0; i < count; ++i) ++per_file[files[pick(maker.rng())]];

  std::map<std::string, std::size_t> kinds;
  std::size_t tries = 0;
  while (!per_file.empty()) {
    auto node = per_file.extract(per_file.begin());
    std::string text = read_file(node.key());
    if (looks_binary(text)) {  // not scanned by either tool: put its secrets elsewhere
      if (++tries > 1000) throw std::runtime_error("too many binary files under " + dir.string());
      per_file[files[pick(maker.rng())]] += node.mapped();
      continue;
    }
    for (const auto& s : sprinkle(text, node.mapped(), maker)) ++kinds[s.kind];
    std::ofstream out(node.key(), std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + node.key().string());
  }
  return kinds;
}

std::string rust_regex_of(std::string_view pcre) {
  // Rust's metacharacters (regex-syntax 0.6 is_meta_character): these stay escaped.
  static constexpr std::string_view kMeta = "\\.+*?()|[]{}^$#&-~";
  std::string out;
  out.reserve(pcre.size());
  for (std::size_t i = 0; i < pcre.size(); ++i) {
    const char c = pcre[i];
    if (c != '\\' || i + 1 == pcre.size()) {
      out += c;
      continue;
    }
    const char next = pcre[++i];
    const bool alnum = (next >= '0' && next <= '9') || (next >= 'a' && next <= 'z') ||
                       (next >= 'A' && next <= 'Z');
    if (alnum || kMeta.find(next) != std::string_view::npos) out += '\\';
    out += next;
  }
  return out;
}

}  // namespace x420::bench
