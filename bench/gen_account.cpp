// Fills a tenant of an initialised store with stored conversations, for bench/export_rss.sh: a
// generated account of a given size, written through the same path the proxy uses
// (service::record_exchanges: sealed per record with the tenant's DEK, one transaction per batch).
//
// Usage: gen_account --db PATH --key-file FILE [--tenant default] --mb N [--record-kb 256]
// Prints the plaintext megabytes written.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "lib/service/bootstrap.h"
#include "lib/service/conversations.h"

namespace {

struct Options {
  std::string db;
  std::string key_file;
  std::string tenant = "default";
  std::size_t mb = 0;
  std::size_t record_kb = 256;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "gen_account: %s\nusage: gen_account --db PATH --key-file FILE [--tenant NAME] --mb N [--record-kb K]\n", why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    const std::string v = argv[++i];
    if (a == "--db") o.db = v;
    else if (a == "--key-file") o.key_file = v;
    else if (a == "--tenant") o.tenant = v;
    else if (a == "--mb") o.mb = std::stoul(v);
    else if (a == "--record-kb") o.record_kb = std::stoul(v);
    else usage(("unknown option " + a).c_str());
  }
  if (o.db.empty() || o.key_file.empty() || o.mb == 0 || o.record_kb == 0) usage("--db, --key-file and --mb are required");
  return o;
}

// Prose-like text with the characters an export must escape (quotes, backslashes, newlines,
// tabs) and some multi-byte UTF-8, cheap to make: the benchmark measures the export, not this.
std::string filler(std::size_t bytes, std::uint64_t seed) {
  static const char* words[] = {"the ", "deploy ", "\"quoted\" ", "path\\to\\file ", "line\n", "tab\t",
                                "caf\xc3\xa9 ", "X420_REDACTED_aws_access_key_id_0a1b2c3d4e5f ", "model ", "token "};
  std::string out;
  out.reserve(bytes + 64);
  std::uint64_t x = seed | 1;
  while (out.size() < bytes) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out += words[x % 10];
  }
  out.resize(bytes);
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
  if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const auto o = parse(argc, argv);
  using namespace x420;
  auto opened = service::open_store(o.db, service::MasterKeySource{std::nullopt, o.key_file});
  if (!opened) {
    std::fprintf(stderr, "gen_account: %s\n", opened.error().message.c_str());
    return 1;
  }
  const auto tenant = opened->store->tenant_by_name(o.tenant);
  if (!tenant) usage("no such tenant");
  const std::size_t record_bytes = o.record_kb * 1024;
  const std::size_t exchanges = (o.mb * 1024 * 1024 + 2 * record_bytes - 1) / (2 * record_bytes);
  constexpr std::size_t kBatch = 32;      // exchanges per transaction
  constexpr std::size_t kPerConversation = 4;
  const auto started = std::chrono::steady_clock::now();
  const auto now = static_cast<UnixSeconds>(std::time(nullptr));
  std::size_t written = 0;
  const std::string request = filler(record_bytes, 0x9e3779b97f4a7c15ULL);
  const std::string response = filler(record_bytes, 0xda942042e4dd58b5ULL);
  for (std::size_t done = 0; done < exchanges;) {
    std::vector<service::ConversationWrite> batch;
    for (; batch.size() < kBatch && done < exchanges; ++done) {
      service::ConversationWrite w;
      w.tenant_id = tenant->id;
      w.conversation_id = "bench-" + std::to_string(done / kPerConversation);
      w.generation_id = "gen-bench-" + std::to_string(done);
      w.now = now;
      w.request_text = request;
      w.response_text = response;
      written += request.size() + response.size();
      batch.push_back(std::move(w));
    }
    if (auto s = service::record_exchanges(*opened->store, *opened->keyring, batch); !s) {
      std::fprintf(stderr, "gen_account: %s\n", s.error().message.c_str());
      return 1;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::fprintf(stderr, "gen_account: %zu exchanges, %.1f MB of text in %.1f s\n", exchanges, written / 1048576.0, seconds);
  std::printf("%.1f\n", written / 1048576.0);
  return 0;
}
