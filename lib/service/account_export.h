// The export bundle of one tenant (man x420, EXPORT FORMAT), produced piece by piece so that
// neither the CLI nor the service ever holds the account in memory: a caller asks for the next
// part and writes it out (to a file, or as a chunk of an HTTP response) before asking again.
// Rows are read a page at a time; each record is decrypted, escaped into the output, and its
// plaintext wiped before the next one is read.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lib/common/result.h"
#include "lib/crypto/secret_bytes.h"
#include "lib/export/bundle_check.h"
#include "lib/service/service.h"
#include "lib/store/store.h"

namespace x420::service {

// The hash x420 keeps of each key (crypto/keyed_hash.h), named in the bundle.
inline constexpr std::string_view kKeyHashAlgorithm = "blake2b-256-keyed";

class AccountExport {
 public:
  // What the export needs that is small and known up front (keys and upstreams are a tenant's
  // configuration, not its traffic); conversations and usage are read as it goes.
  struct Start {
    store::TenantRow tenant;
    TenantInfo account;
    std::vector<KeyInfo> keys;
    std::vector<UpstreamInfo> upstreams;
    crypto::SecretBytes dek;
    UnixSeconds now = 0;
  };

  AccountExport(store::Store& store, Start start);

  // Appends the next part of the document to `out` (at least kChunkBytes unless the document
  // ends first). Returns false once the document is complete. An error (a record that does not
  // open) ends the export; what was produced stops without its "complete" trailer.
  Result<bool> next(std::string& out);

  const exporting::BundleCounts& counts() const { return counts_; }

  static constexpr std::size_t kChunkBytes = 256 * 1024;

 private:
  enum class Phase { header, conversations, records, usage, trailer, done };

  void write_header(std::string& out);
  void next_conversation(std::string& out);
  Status next_records(std::string& out, std::size_t target);
  void next_usage(std::string& out);
  void write_trailer(std::string& out);

  store::Store& store_;
  Start start_;
  Phase phase_ = Phase::header;
  exporting::BundleCounts counts_;
  // The page of conversations being written, and where the next page starts.
  std::vector<store::ConversationRow> page_;
  std::size_t page_index_ = 0;
  std::optional<store::PagePosition> after_conversation_;
  std::optional<store::ConversationRow> current_;
  std::int64_t after_seq_ = 0;
  std::int64_t current_records_ = 0;
  std::size_t last_sealed_bytes_ = 0;  // picks how many records to read at once
  std::optional<store::PagePosition> after_usage_;
};

}  // namespace x420::service
