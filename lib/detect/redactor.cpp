#include "detect/redactor.h"

#include <nlohmann/json.hpp>

#include "crypto/keyed_hash.h"

namespace x420::detect {
namespace {

// Longest placeholder the restorer waits for: prefix + rule id (at most 64) + '_' + 16 hex.
constexpr std::size_t kMaxPlaceholder = kPlaceholderPrefix.size() + 64 + 1 + 16;

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

std::string json_escaped(std::string_view s) {
  const std::string quoted = nlohmann::json(std::string(s)).dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

namespace {
void wipe_all(std::unordered_map<std::string, std::string>& entries) {
  for (auto& [placeholder, secret] : entries) crypto::wipe(secret);
  entries.clear();
}
}  // namespace

PlaceholderMap::~PlaceholderMap() {
  wipe_all(entries_);
  wipe_all(previous_);
}

bool PlaceholderMap::add(const std::string& placeholder, std::string_view secret) {
  if (auto old = previous_.find(placeholder); old != previous_.end()) {
    if (old->second != secret) return false;
    entries_.insert(previous_.extract(old));  // used again: young again
    return true;
  }
  auto [it, inserted] = entries_.try_emplace(placeholder, secret);
  return inserted || it->second == secret;
}

const std::string* PlaceholderMap::find(std::string_view placeholder) const {
  const std::string key(placeholder);
  if (auto it = entries_.find(key); it != entries_.end()) return &it->second;
  auto it = previous_.find(key);
  return it == previous_.end() ? nullptr : &it->second;
}

void PlaceholderMap::next_generation() {
  wipe_all(previous_);
  previous_ = std::move(entries_);
  entries_.clear();
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
        case Escape::json_string: out += json_escaped(*secret); break;
        case Escape::json_in_json_string: out += json_escaped(json_escaped(*secret)); break;
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
