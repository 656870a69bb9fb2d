#include "lib/detect/redactor.h"

#include "lib/common/json_text.h"
#include "lib/crypto/keyed_hash.h"

namespace x420::detect {
namespace {

// Longest placeholder the restorer waits for: prefix + rule id (at most 64) + '_' + 16 hex.
constexpr std::size_t kMaxPlaceholder = kPlaceholderPrefix.size() + 64 + 1 + 16;

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

PlaceholderMap::~PlaceholderMap() {
  for (auto& [placeholder, entry] : entries_) crypto::wipe(entry.secret);
}

bool PlaceholderMap::add(const std::string& placeholder, std::string_view secret) {
  if (auto it = entries_.find(placeholder); it != entries_.end()) {
    if (it->second.secret != secret) return false;
    it->second.generation = generation_;  // used again: young again
    order_.splice(order_.begin(), order_, it->second.order);
    return true;
  }
  order_.push_front(placeholder);
  entries_.emplace(placeholder, Entry{std::string(secret), generation_, order_.begin()});
  bytes_ += placeholder.size() + secret.size() + kEntryOverhead;
  keep_within_budget();
  return true;
}

const std::string* PlaceholderMap::find(std::string_view placeholder) const {
  const auto it = entries_.find(std::string(placeholder));
  return it == entries_.end() ? nullptr : &it->second.secret;
}

std::vector<std::pair<std::string_view, std::string_view>> PlaceholderMap::entries() const {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  out.reserve(entries_.size());
  for (const auto& placeholder : order_) out.emplace_back(placeholder, entries_.at(placeholder).secret);
  return out;
}

void PlaceholderMap::forget(const std::string& placeholder) {
  const auto it = entries_.find(placeholder);
  bytes_ -= placeholder.size() + it->second.secret.size() + kEntryOverhead;
  crypto::wipe(it->second.secret);
  const auto where = it->second.order;
  entries_.erase(it);
  order_.erase(where);  // `placeholder` may be this node's string: erased last
}

void PlaceholderMap::keep_within_budget() {
  while (!order_.empty() && (entries_.size() > budget_.max_entries || bytes_ > budget_.max_bytes)) {
    forget(order_.back());
    ++evicted_;
  }
}

void PlaceholderMap::next_generation() {
  ++generation_;
  // The least recently added are at the back, so the too old are found there and nowhere else.
  while (!order_.empty() && entries_.at(order_.back()).generation + 2 <= generation_) forget(order_.back());
}

std::string Pseudonymizer::placeholder(std::string_view rule_id, std::string_view secret,
                                       bool long_form) const {
  std::string out(kPlaceholderPrefix);
  for (char c : rule_id.substr(0, 64)) out += (c == '.' || c == '-') ? '_' : c;
  out += '_';
  out += crypto::hex_of(crypto::keyed_hash(key_, secret), long_form ? 8 : 4);
  return out;
}

Redacted redact(std::string_view data, const std::vector<Finding>& findings, const Engine& engine,
                RedactMode mode, const Pseudonymizer* pseudonymizer, PlaceholderMap* map) {
  Redacted out;
  out.text.reserve(data.size());
  std::uint64_t at = 0;
  for (const auto& f : findings) {
    if (f.start < at || f.end > data.size()) continue;  // not sorted or not ours: never corrupt
    out.text.append(data.substr(at, f.start - at));
    const auto& rule_id = engine.rule(f.rule).id;
    const auto secret = data.substr(f.start, f.end - f.start);
    if (mode == RedactMode::mask || !pseudonymizer) {
      out.text += "[REDACTED:" + rule_id + "]";
    } else {
      std::string placeholder = pseudonymizer->placeholder(rule_id, secret);
      if (map && !map->add(placeholder, secret)) {
        placeholder = pseudonymizer->placeholder(rule_id, secret, true);
        map->add(placeholder, secret);
      }
      out.text += placeholder;
    }
    ++out.replaced;
    at = f.end;
  }
  out.text.append(data.substr(at));
  return out;
}

std::string Restorer::feed(std::string_view chunk) {
  pending_.append(chunk);
  return process(false);
}

std::string Restorer::finish() { return process(true); }

std::string Restorer::process(bool final) {
  std::string out;
  std::size_t at = 0;
  for (;;) {
    const std::size_t hit = pending_.find(kPlaceholderPrefix, at);
    if (hit == std::string::npos) {
      // Hold back a tail that could be the start of a placeholder.
      std::size_t keep = 0;
      if (!final)
        for (std::size_t n = std::min(kPlaceholderPrefix.size() - 1, pending_.size() - at); n > 0; --n)
          if (pending_.compare(pending_.size() - n, n, kPlaceholderPrefix, 0, n) == 0) {
            keep = n;
            break;
          }
      out.append(pending_, at, pending_.size() - at - keep);
      pending_.erase(0, pending_.size() - keep);
      return out;
    }
    out.append(pending_, at, hit - at);
    std::size_t end = hit + kPlaceholderPrefix.size();
    while (end < pending_.size() && is_token_char(pending_[end]) && end - hit <= kMaxPlaceholder) ++end;
    if (end == pending_.size() && !final && end - hit <= kMaxPlaceholder) {
      pending_.erase(0, hit);  // the placeholder may go on in the next chunk
      return out;
    }
    // The longest prefix of the token that is a known placeholder wins; what follows it is
    // ordinary text ("X420_REDACTED_x_1a2b3c4d_backup").
    const std::string* secret = nullptr;
    std::size_t placeholder_end = 0;
    for (std::size_t p = end; p >= hit + kPlaceholderPrefix.size() + 10; --p) {
      if (!is_hex(pending_[p - 1])) continue;
      if (const auto* s = map_.find(std::string_view(pending_).substr(hit, p - hit))) {
        secret = s;
        placeholder_end = p;
        break;
      }
    }
    if (!secret) {
      out.append(pending_, hit, end - hit);
    } else {
      switch (escape_) {
        case Escape::none: out += *secret; break;
        case Escape::json_string: out += json_string_body(*secret); break;
        case Escape::json_in_json_string: out += json_string_body(json_string_body(*secret)); break;
      }
      out.append(pending_, placeholder_end, end - placeholder_end);
      ++restored_;
    }
    at = end;
  }
}

std::string restore(std::string_view text, const PlaceholderMap& map, Restorer::Escape escape) {
  Restorer r(map, escape);
  std::string out = r.feed(text);
  out += r.finish();
  return out;
}

}  // namespace x420::detect
