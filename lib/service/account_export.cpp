#include "lib/service/account_export.h"

#include <nlohmann/json.hpp>

#include "lib/common/time_format.h"
#include "lib/common/json_text.h"
#include "lib/service/conversations.h"
#include "lib/service/json_views.h"
#include "lib/service/usage_view.h"

namespace x420::service {
namespace {

using ojson = nlohmann::ordered_json;

constexpr std::size_t kConversationPage = 64;
constexpr std::size_t kRecordPage = 16;
constexpr std::size_t kUsagePage = 512;

void append_json(std::string& out, const ojson& doc) {
  out += doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// `doc` without its closing brace, so that more members can follow.
void append_json_open(std::string& out, const ojson& doc) {
  append_json(out, doc);
  out.pop_back();
}

ConversationInfo info_of(const store::ConversationRow& row, const std::string& tenant) {
  return ConversationInfo{row.id, tenant, row.key_id, row.created_at, row.updated_at, row.expires_at, row.record_count};
}

}  // namespace

AccountExport::AccountExport(store::Store& store, Start start) : store_(store), start_(std::move(start)) {}

Result<bool> AccountExport::next(std::string& out) {
  const std::size_t target = out.size() + kChunkBytes;
  while (out.size() < target) {
    switch (phase_) {
      case Phase::header: write_header(out); break;
      case Phase::conversations: next_conversation(out); break;
      case Phase::records:
        if (auto s = next_records(out, target); !s) return s.error();
        break;
      case Phase::usage: next_usage(out); break;
      case Phase::trailer: write_trailer(out); break;
      case Phase::done: return false;
    }
  }
  return phase_ != Phase::done;
}

void AccountExport::write_header(std::string& out) {
  out += "{\"format\":\"";
  out += exporting::kExportFormat;
  out += "\",\n\"exported_at\":\"" + format_timestamp(start_.now) + "\",\n\"account\":";
  append_json(out, tenant_json(start_.account));
  out += ",\n\"keys\":[";
  for (const auto& k : start_.keys) {
    out += counts_.keys++ ? ",\n" : "\n";
    auto doc = key_json(k);
    doc["hash_algorithm"] = kKeyHashAlgorithm;
    append_json(out, doc);
  }
  out += "],\n\"upstreams\":[";
  for (const auto& u : start_.upstreams) {
    out += counts_.upstreams++ ? ",\n" : "\n";
    append_json(out, upstream_json(u));
  }
  out += "],\n\"conversations\":[";
  phase_ = Phase::conversations;
}

void AccountExport::next_conversation(std::string& out) {
  if (page_index_ == page_.size()) {
    page_.clear();
    page_index_ = 0;
    store_.for_each_conversation(start_.tenant.id, after_conversation_, kConversationPage,
                                 [&](const store::ConversationRow& row) { page_.push_back(row); });
    if (page_.empty()) {
      out += "],\n\"usage\":[";
      phase_ = Phase::usage;
      return;
    }
    after_conversation_ = store::PagePosition{page_.back().created_at, page_.back().id};
  }
  current_ = std::move(page_[page_index_++]);
  out += counts_.conversations++ ? ",\n" : "\n";
  auto doc = conversation_json(info_of(*current_, start_.tenant.name));
  doc.erase("records");  // the count: the list of records follows under the same name
  append_json_open(out, doc);
  out += ",\"records\":[";
  after_seq_ = 0;
  current_records_ = 0;
  phase_ = Phase::records;
}

Status AccountExport::next_records(std::string& out, std::size_t target) {
  std::optional<Error> failed;
  std::size_t read = 0;
  // Large records are read one at a time, so that a chunk holds at most one record past its
  // size; a record that does not fit this chunk is left for the next (not consumed below).
  const std::size_t page = last_sealed_bytes_ > kChunkBytes / kRecordPage ? 1 : kRecordPage;
  bool full = false;
  store_.for_each_conversation_record(
      start_.tenant.id, current_->id, after_seq_, page, [&](const store::ConversationRecordRow& row) {
        if (failed || full) return;
        if (read > 0 && out.size() >= target) {
          full = true;
          return;
        }
        ++read;
        after_seq_ = row.seq;
        last_sealed_bytes_ = row.sealed.size();
        auto text = open_record(start_.dek, row);
        if (!text) {
          failed = text.error();
          return;
        }
        out += current_records_++ ? ",\n" : "\n";
        ++counts_.records;
        append_json_open(out, record_meta_json(ConversationRecord{row.id, row.seq, row.kind, row.generation_id,
                                                                  row.created_at, {}}));
        out += ",\"text\":\"";
        append_json_string_body(out, text->view());
        out += "\"}";
      });
  if (failed) {
    phase_ = Phase::done;
    return *failed;
  }
  if (read == 0) {
    out += "]}";
    current_.reset();
    phase_ = Phase::conversations;
  }
  return ok_status();
}

void AccountExport::next_usage(std::string& out) {
  std::size_t read = 0;
  store_.for_each_usage(start_.tenant.id, after_usage_, kUsagePage, [&](const store::UsageRow& row) {
    ++read;
    after_usage_ = store::PagePosition{row.created_at, row.id};
    out += counts_.usage++ ? ",\n" : "\n";
    append_json(out, usage_json(usage_info(row, start_.tenant.name)));
  });
  if (read == 0) {
    out += "],\n";
    phase_ = Phase::trailer;
  }
}

void AccountExport::write_trailer(std::string& out) {
  // Last, so that a bundle cut off anywhere before its end lacks it (x420 export check).
  const ojson complete = {{"keys", counts_.keys},
                          {"upstreams", counts_.upstreams},
                          {"conversations", counts_.conversations},
                          {"records", counts_.records},
                          {"usage", counts_.usage}};
  out += "\"complete\":";
  append_json(out, complete);
  out += "}\n";
  phase_ = Phase::done;
}

}  // namespace x420::service
