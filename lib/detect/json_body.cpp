#include "lib/detect/json_body.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <deque>
#include <unordered_set>

#include "lib/common/json_text.h"
#include "lib/common/utf8.h"
#include "lib/crypto/base64.h"
#include "lib/crypto/secret_bytes.h"
#include "lib/detect/normalized_text.h"

namespace x420::detect {

std::string_view api_shape_name(ApiShape shape) {
  switch (shape) {
    case ApiShape::openai_chat: return "openai_chat";
    case ApiShape::openai_completions: return "openai_completions";
    case ApiShape::openai_responses: return "openai_responses";
    case ApiShape::openai_embeddings: return "openai_embeddings";
    case ApiShape::anthropic_messages: return "anthropic_messages";
    case ApiShape::anthropic_count_tokens: return "anthropic_count_tokens";
  }
  return "unknown";
}

std::string path_string(JsonPath path) {
  std::string out;
  for (const auto& step : path) {
    if (step.is_index) {
      out += '[';
      out += std::to_string(step.index);
      out += ']';
    } else {
      if (!out.empty()) out += '.';
      out.append(step.key);
    }
  }
  return out;
}

namespace {

// ---- The policy (json_body.h explains it) ----

template <std::size_t N>
bool one_of(std::string_view s, const std::array<std::string_view, N>& set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

// Members whose value holds keys the user chose (tool inputs, JSON schemas, metadata).
constexpr std::array<std::string_view, 7> kFreeFormKeys = {
    "input", "parameters", "input_schema", "schema", "metadata", "variables", "headers"};

// Opaque tokens the provider must get back byte for byte (rule 3), by key.
bool opaque_key(ApiShape shape, std::string_view key) {
  switch (shape) {
    case ApiShape::openai_responses: return key == "encrypted_content";
    case ApiShape::anthropic_messages:
    case ApiShape::anthropic_count_tokens: return key == "signature";
    default: return false;
  }
}

bool is_base64_char(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=' || c == '-' || c == '_';
}

// Raw string content that is base64 and nothing else. "\/" (PHP escapes slashes) and "\n", "\r"
// (line-wrapped base64) are the only escapes base64 can need.
bool is_base64(std::string_view raw) {
  if (raw.empty()) return false;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const auto c = static_cast<unsigned char>(raw[i]);
    if (is_base64_char(c)) continue;
    if (c == '\\' && i + 1 < raw.size() && (raw[i + 1] == '/' || raw[i + 1] == 'n' || raw[i + 1] == 'r')) {
      ++i;
      continue;
    }
    return false;
  }
  return true;
}

// RFC 2397 with a base64 payload: "data:image/png;base64,iVBOR…". Returns the media type
// (lowercased into `media`, parameters dropped) when `raw` is one.
bool is_base64_data_url(std::string_view raw, std::string& media) {
  constexpr std::string_view kScheme = "data:", kMarker = ";base64,";
  constexpr std::size_t kMaxHeader = 256;
  if (raw.substr(0, kScheme.size()) != kScheme) return false;
  const std::size_t marker = raw.substr(0, kMaxHeader).find(kMarker);
  if (marker == std::string_view::npos) return false;
  for (std::size_t i = kScheme.size(); i < marker; ++i) {
    const auto c = static_cast<unsigned char>(raw[i]);
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    std::strchr("!#$&^_.+-/=;\\", c) != nullptr;
    if (!ok || c == 0) return false;
  }
  if (!is_base64(raw.substr(marker + kMarker.size()))) return false;
  media.clear();
  for (std::size_t i = kScheme.size(); i < marker && raw[i] != ';'; ++i)
    media += static_cast<char>(std::tolower(static_cast<unsigned char>(raw[i] == '\\' ? '/' : raw[i])));
  // "\/" is how PHP writes '/': "text\/plain" has become "text//plain"
  for (std::size_t at; (at = media.find("//")) != std::string::npos;) media.erase(at, 1);
  return true;
}

// Decodes a short key or "type" value with escapes into `buf`, for comparison, and says whether
// it did; longer ones compare as they are (they match no name the policy knows either way).
bool decode_short(std::string_view raw, std::string& buf);

// ---- The walk ----

struct Deferred {
  std::string_view key;
  StringValue value;
};

struct Frame {
  bool object = false;
  bool free_form = false;
  // The member being read (objects): decoded when it had escapes.
  std::string_view raw_key;
  std::string key_buf;
  bool key_escaped = false;
  // The object's "type" and "media_type" members, once seen.
  std::string type_buf;
  bool type_seen = false;
  std::string media_buf;
  // "data" members seen before "type" (rule 2); more than this many are decided at once, as text.
  std::array<Deferred, 4> deferred{};
  std::size_t deferred_count = 0;
  std::size_t keys_begin = 0;  // this object's keys in Walker::keys_ start here

  std::string_view key() const { return key_escaped ? std::string_view(key_buf) : raw_key; }
};

class Walker {
 public:
  Walker(std::string_view body, ApiShape shape, const StringVisitor& visit, const JsonLimits& limits,
         const TopMemberVisitor& top, bool free_form_root)
      : body_(body), n_(body.size()), shape_(shape), visit_(visit), limits_(limits), top_(top),
        free_form_root_(free_form_root) {}

  std::optional<JsonError> run();

 private:
  JsonError fail(std::size_t at, std::string_view reason) const {
    JsonError e;
    e.offset = at;
    e.reason = reason;
    return e;
  }
  JsonError over(std::size_t at, std::string_view reason) const {
    JsonError e = fail(at, reason);
    e.kind = JsonError::Kind::over_limit;
    return e;
  }
  void skip_ws() {
    while (pos_ < n_ && (body_[pos_] == ' ' || body_[pos_] == '\t' || body_[pos_] == '\n' ||
                         body_[pos_] == '\r'))
      ++pos_;
  }
  std::optional<JsonError> lex_string(std::size_t& end, bool& escaped);
  std::optional<JsonError> member_key();
  std::optional<JsonError> remember_key(std::size_t at, std::string_view raw, bool escaped);
  std::optional<JsonError> string_value();
  bool number();
  bool literal(std::string_view word);
  void open(bool object);
  void close();
  void decide_data(const Frame& f, std::string_view raw, StringValue& v) const;
  std::string_view parent_key() const {
    return frames_.size() >= 2 && frames_[frames_.size() - 2].object
               ? frames_[frames_.size() - 2].key()
               : std::string_view();
  }

  std::string_view body_;
  std::size_t n_;
  std::size_t pos_ = 0;
  ApiShape shape_;
  const StringVisitor& visit_;
  const JsonLimits& limits_;
  const TopMemberVisitor& top_;
  bool free_form_root_;
  std::size_t top_begin_ = 0;  // where the current top-level member's value starts
  std::vector<Frame> frames_;
  std::vector<PathStep> path_;  // path_[i] is where frames_[i] is
  // The keys of the open objects, decoded, for the duplicate check: views into the body, or
  // into decoded_keys_ (a deque: its strings stay where they are as it grows).
  std::vector<std::string_view> keys_;
  std::deque<std::string> decoded_keys_;
  std::string media_scratch_;
};

bool decode_short(std::string_view raw, std::string& buf) {
  constexpr std::size_t kMax = 64;
  if (raw.size() > kMax || raw.find('\\') == std::string_view::npos) return false;
  buf.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 1 >= raw.size()) {
      buf += raw[i];
      continue;
    }
    const char e = raw[++i];
    if (e == 'u' && i + 4 < raw.size()) {
      unsigned v = 0;
      for (int k = 1; k <= 4; ++k) {
        const char h = raw[i + k];
        v = v * 16 + static_cast<unsigned>(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
      }
      i += 4;
      buf += v < 0x80 ? static_cast<char>(v) : '?';  // names the policy knows are ASCII
    } else {
      buf += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b' : e == 'f' ? '\f' : e;
    }
  }
  return true;
}

std::optional<JsonError> Walker::lex_string(std::size_t& end, bool& escaped) {
  std::size_t p = pos_ + 1;
  escaped = false;
  bool wide = false;  // a byte above ASCII: the string's UTF-8 is checked once it ends
  for (;;) {
    if (p >= n_) return fail(p, "unterminated string");
    const auto c = static_cast<unsigned char>(body_[p]);
    if (c == '"') break;
    if (c < 0x20) return fail(p, "control character in a string (it must be escaped)");
    if (c != '\\') {
      wide |= c >= 0x80;
      ++p;
      continue;
    }
    escaped = true;
    if (p + 1 >= n_) return fail(p, "unterminated string");
    switch (body_[p + 1]) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        p += 2;
        continue;
      case 'u':
        for (std::size_t k = 2; k < 6; ++k) {
          if (p + k >= n_) return fail(p, "unterminated \\u escape");
          if (!std::isxdigit(static_cast<unsigned char>(body_[p + k])))
            return fail(p, "bad \\u escape (four hex digits expected)");
        }
        p += 6;
        continue;
      default:
        return fail(p, "bad escape in a string");
    }
  }
  // JSON text is UTF-8 (RFC 8259): what is not cannot be scanned as text, nor read by the APIs.
  if (wide && !is_valid_utf8(body_.substr(pos_ + 1, p - pos_ - 1)))
    return fail(pos_, "a string that is not valid UTF-8");
  end = p;
  pos_ = p + 1;
  return std::nullopt;
}

// The API's own keys are lowercase names; only such a key is repeated in an error.
bool plain_name(std::string_view key) {
  return !key.empty() && key.size() <= 32 &&
         std::all_of(key.begin(), key.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

std::optional<JsonError> Walker::remember_key(std::size_t at, std::string_view raw, bool escaped) {
  if (!limits_.refuse_duplicate_keys) return std::nullopt;
  std::string_view key = raw;
  if (escaped) {
    std::string decoded;
    decode_json_string(raw, decoded);
    key = decoded_keys_.emplace_back(std::move(decoded));
  }
  const std::size_t first = frames_.back().keys_begin;
  // Objects in requests have a handful of keys; one with very many is checked in a set.
  constexpr std::size_t kLinear = 32;
  bool duplicate = false;
  if (keys_.size() - first <= kLinear) {
    duplicate = std::find(keys_.begin() + static_cast<std::ptrdiff_t>(first), keys_.end(), key) != keys_.end();
  } else {
    std::unordered_set<std::string_view> seen(keys_.begin() + static_cast<std::ptrdiff_t>(first), keys_.end());
    duplicate = seen.count(key) != 0;
  }
  if (duplicate) {
    JsonError e = fail(at, "a key given twice in one object");
    e.kind = JsonError::Kind::duplicate_key;
    if (plain_name(key)) e.key = std::string(key);
    return e;
  }
  keys_.push_back(key);
  return std::nullopt;
}

std::optional<JsonError> Walker::member_key() {
  if (pos_ >= n_) return fail(pos_, "unexpected end of body, an object key was expected");
  if (body_[pos_] != '"') return fail(pos_, "an object key (a string) was expected");
  const std::size_t at = pos_;
  const std::size_t begin = pos_ + 1;
  std::size_t end = 0;
  bool escaped = false;
  if (auto e = lex_string(end, escaped)) return e;
  Frame& f = frames_.back();
  f.raw_key = body_.substr(begin, end - begin);
  f.key_escaped = escaped && decode_short(f.raw_key, f.key_buf);
  if (auto e = remember_key(at, f.raw_key, escaped)) return e;
  path_.back().key = f.raw_key;
  StringValue k;
  k.begin = begin;
  k.end = end;
  k.is_key = true;
  k.in_free_form = f.free_form;
  visit_(JsonPath(path_), k);
  skip_ws();
  if (pos_ >= n_ || body_[pos_] != ':') return fail(pos_, "':' was expected after an object key");
  ++pos_;
  skip_ws();
  return std::nullopt;
}

void Walker::open(bool object) {
  Frame f;
  f.object = object;
  f.keys_begin = keys_.size();
  if (frames_.empty()) {
    f.free_form = free_form_root_;
  } else {
    const Frame& parent = frames_.back();
    f.free_form = parent.free_form ||
                  (parent.object && one_of(parent.key(), kFreeFormKeys) &&
                   // Responses and embeddings `input` is an array of items or strings whose
                   // schema is known; only an object under `input` (a tool_use's) is free-form.
                   (object || parent.key() != "input"));
  }
  frames_.push_back(std::move(f));
  path_.push_back(PathStep{{}, 0, !object});
}

// Rule 2 for a "data" member, once its object's "type" is known (or the object has closed).
void Walker::decide_data(const Frame& f, std::string_view raw, StringValue& v) const {
  if (f.type_seen && f.type_buf == "redacted_thinking") {
    v.carries_user_text = false;  // rule 3
  } else if (f.type_seen && f.type_buf == "base64" && parent_key() == "source" && is_base64(raw)) {
    v.carries_user_text = false;
    v.payload = Payload::base64;
    v.media_type = f.media_buf;
  }
}

void Walker::close() {
  Frame& f = frames_.back();
  for (std::size_t i = 0; i < f.deferred_count; ++i) {
    Deferred& d = f.deferred[i];
    decide_data(f, body_.substr(d.value.begin, d.value.end - d.value.begin), d.value);
    path_.back().key = d.key;
    visit_(JsonPath(path_), d.value);
  }
  keys_.resize(f.keys_begin);
  frames_.pop_back();
  path_.pop_back();
  if (frames_.empty()) decoded_keys_.clear();
}

std::optional<JsonError> Walker::string_value() {
  const std::size_t begin = pos_ + 1;
  std::size_t end = 0;
  bool escaped = false;
  if (auto e = lex_string(end, escaped)) return e;
  const std::string_view raw = body_.substr(begin, end - begin);
  StringValue v;
  v.begin = begin;
  v.end = end;
  const bool in_object = !frames_.empty() && frames_.back().object;
  v.in_free_form = !frames_.empty() && frames_.back().free_form;
  if (is_base64_data_url(raw, media_scratch_)) {
    v.carries_user_text = false;
    v.payload = Payload::data_url;
    v.media_type = media_scratch_;
  } else if (in_object && !v.in_free_form) {
    Frame& f = frames_.back();
    const std::string_view key = f.key();
    if (key == "type") {
      f.type_seen = true;
      if (!decode_short(raw, f.type_buf)) f.type_buf.assign(raw.substr(0, 65));  // bounded
    } else if (key == "media_type") {
      f.media_buf.clear();
      for (char c : raw.substr(0, 128)) f.media_buf += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (std::size_t at; (at = f.media_buf.find("\\/")) != std::string::npos;) f.media_buf.erase(at, 1);
    }
    if (key == "model" || opaque_key(shape_, key)) {
      v.carries_user_text = false;
    } else if (key == "file_data" || (key == "data" && parent_key() == "input_audio")) {
      if (is_base64(raw)) {
        v.carries_user_text = false;
        v.payload = Payload::base64;
        if (key == "data") v.media_type = "audio/*";
      }
    } else if (key == "data") {
      if (!f.type_seen && f.deferred_count < f.deferred.size()) {
        f.deferred[f.deferred_count++] = Deferred{f.raw_key, v};
        return std::nullopt;  // decided and visited when the object closes
      }
      decide_data(f, raw, v);
    }
  }
  visit_(JsonPath(path_), v);
  return std::nullopt;
}

bool Walker::number() {
  auto digit = [&](std::size_t p) { return p < n_ && body_[p] >= '0' && body_[p] <= '9'; };
  std::size_t p = pos_;
  if (body_[p] == '-') ++p;
  if (p < n_ && body_[p] == '0') {
    ++p;
  } else if (digit(p)) {
    while (digit(p)) ++p;
  } else {
    pos_ = p;
    return false;
  }
  if (p < n_ && body_[p] == '.') {
    ++p;
    if (!digit(p)) return pos_ = p, false;
    while (digit(p)) ++p;
  }
  if (p < n_ && (body_[p] == 'e' || body_[p] == 'E')) {
    ++p;
    if (p < n_ && (body_[p] == '+' || body_[p] == '-')) ++p;
    if (!digit(p)) return pos_ = p, false;
    while (digit(p)) ++p;
  }
  pos_ = p;
  return true;
}

bool Walker::literal(std::string_view word) {
  if (body_.substr(pos_, word.size()) != word) return false;
  pos_ += word.size();
  return true;
}

std::optional<JsonError> Walker::run() {
  if (n_ > limits_.max_bytes) return over(limits_.max_bytes, "body larger than the limit");
  if (body_.substr(0, 3) == "\xEF\xBB\xBF") return fail(0, "byte order mark before the JSON value");
  skip_ws();
  if (pos_ >= n_) return fail(pos_, "empty body, a JSON value was expected");
  for (;;) {
    // A value starts at pos_.
    if (pos_ >= n_) return fail(pos_, "unexpected end of body, a value was expected");
    if (frames_.size() == 1 && frames_[0].object) top_begin_ = pos_;
    const char c = body_[pos_];
    bool complete = true;  // false: a container was opened and its first value comes next
    if (c == '{' || c == '[') {
      if (frames_.size() >= limits_.max_depth) return over(pos_, "nesting deeper than the limit");
      open(c == '{');
      ++pos_;
      skip_ws();
      if (pos_ < n_ && body_[pos_] == (c == '{' ? '}' : ']')) {
        ++pos_;
        close();
      } else {
        complete = false;
        if (c == '{')
          if (auto e = member_key()) return e;
      }
    } else if (c == '"') {
      if (auto e = string_value()) return e;
    } else if (c == 't' || c == 'f' || c == 'n') {
      if (!literal(c == 't' ? "true" : c == 'f' ? "false" : "null"))
        return fail(pos_, "invalid literal (true, false or null expected)");
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      if (!number()) return fail(pos_, "invalid number");
    } else {
      return fail(pos_, "unexpected character, a value was expected");
    }
    if (!complete) continue;

    // After a value: a separator, the end of its container, or the end of the body.
    bool value_ended = true;
    for (;;) {
      if (value_ended && top_ && frames_.size() == 1 && frames_[0].object)
        top_(frames_[0].key(), top_begin_, pos_);
      value_ended = false;
      skip_ws();
      if (frames_.empty()) {
        if (pos_ != n_) return fail(pos_, "trailing characters after the JSON value");
        return std::nullopt;
      }
      if (pos_ >= n_) return fail(pos_, "unexpected end of body inside an object or array");
      const bool object = frames_.back().object;
      const char d = body_[pos_];
      if (d == ',') {
        ++pos_;
        skip_ws();
        if (object) {
          if (auto e = member_key()) return e;
        } else {
          ++path_.back().index;
        }
        break;
      }
      if (d == (object ? '}' : ']')) {
        ++pos_;
        close();
        value_ended = true;
        continue;
      }
      return fail(pos_, object ? "',' or '}' was expected" : "',' or ']' was expected");
    }
  }
}

// ---- Redaction ----

// One escape sequence of a string: decoded bytes [dec, dec+dec_len) from raw [raw, raw+raw_len).
struct Escape {
  std::uint32_t dec, raw;
  std::uint8_t dec_len, raw_len;
};

// Four hex digits at raw[i..i+4), or -1 (the walk validated them; this stays safe regardless).
long hex4(std::string_view raw, std::size_t i) {
  if (i + 4 > raw.size()) return -1;
  long v = 0;
  for (std::size_t k = i; k < i + 4; ++k) {
    const auto h = static_cast<unsigned char>(raw[k]);
    if (!std::isxdigit(h)) return -1;
    v = v * 16 + (h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
  }
  return v;
}

// Appends the decoded content of a JSON string (raw bytes between the quotes, as the walk
// validated them) to `out`; with `escapes`, records each escape, raw offsets from `raw_offset`.
void append_decoded(std::string& out, std::string_view raw, std::size_t raw_offset, std::vector<Escape>* escapes) {
  std::size_t i = 0;
  while (i < raw.size()) {
    const std::size_t bs = raw.find('\\', i);
    const std::size_t run_end = bs == std::string_view::npos ? raw.size() : bs;
    out.append(raw.substr(i, run_end - i));
    i = run_end;
    if (i >= raw.size()) break;
    const std::size_t dec = out.size();
    std::size_t raw_len = 2;
    const char e = i + 1 < raw.size() ? raw[i + 1] : '\\';
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        long cp = hex4(raw, i + 2);
        if (cp < 0) {  // cannot happen after the walk; keep the byte rather than guess
          out += '\\';
          raw_len = 1;
          break;
        }
        raw_len = 6;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 12 <= raw.size() && raw[i + 6] == '\\' && raw[i + 7] == 'u') {
          const long lo = hex4(raw, i + 8);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            raw_len = 12;
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // a lone surrogate
        append_utf8(out, static_cast<std::uint32_t>(cp));
        break;
      }
      default: out += e; break;  // \" \\ \/
    }
    if (escapes)
      escapes->push_back(Escape{static_cast<std::uint32_t>(dec), static_cast<std::uint32_t>(raw_offset + i),
                                static_cast<std::uint8_t>(out.size() - dec), static_cast<std::uint8_t>(raw_len)});
    i += raw_len;
  }
}

}  // namespace

void decode_json_string(std::string_view raw, std::string& out) {
  out.clear();
  append_decoded(out, raw, 0, nullptr);
}

namespace {

// The text the engine scans: each user-text value decoded, on a line of its own (a segment of
// the scan: no finding crosses into the next), with where its bytes came from. Members whose key
// is not a prose field get their key as context, written as JSON ("api_key": "…"), so the
// assignment rules see what a pasted config file would show.
class ScanText {
 public:
  struct Segment {  // one value: decoded [dec_begin, dec_end) from raw [raw_begin, raw_end)
    std::uint32_t dec_begin, dec_end, raw_begin, raw_end;
    std::uint32_t escapes_begin, escapes_end;
  };

  // Adjacent text parts of one message, scanned once more as one text: a secret split across
  // two parts is whole there. Each piece is a segment's decoded text, starting at `at`.
  struct Joined {
    std::uint32_t dec_begin, dec_end;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> pieces;  // (at, segment index)
  };

  // A value's normalised view (what a model would read: invisible characters, escape codes and
  // encodings undone), when it differs: a segment of its own, mapped back to its value's bytes.
  struct Viewed {
    std::uint32_t dec_begin, dec_end;  // the view in `text`
    std::uint32_t segment;             // the value it is a view of
    NormalizedText view;
  };

  ~ScanText() {
    crypto::wipe(text);
    for (auto& v : views_) v.view.wipe();
  }

  // Returns the new segment's index.
  std::size_t add(std::string_view body, JsonPath path, const StringValue& v);
  // Adds the concatenation of these segments; call after every add.
  void join(const std::vector<std::size_t>& segments);
  const Segment* segment_of(std::uint64_t dec_begin, std::uint64_t dec_end) const;
  const Joined* joined_at(std::uint64_t dec) const;
  const Viewed* view_at(std::uint64_t dec_begin, std::uint64_t dec_end) const;
  const Segment& segment(std::size_t index) const { return segments_[index]; }
  // Raw span of decoded [dec_begin, dec_end), widened to whole escapes and UTF-8 characters.
  std::pair<std::size_t, std::size_t> raw_span(std::string_view body, const Segment& s,
                                               std::uint64_t dec_begin, std::uint64_t dec_end) const;

  std::string text;
  std::vector<std::uint64_t> segment_starts;  // for Engine::scan

 private:
  std::size_t raw_of(const Segment& s, std::uint64_t d, bool end) const;
  std::vector<Segment> segments_;
  std::vector<Escape> escapes_;
  std::vector<Joined> joined_;  // after every segment in the text
  std::vector<Viewed> views_;   // each right after its segment
};

constexpr std::array<std::string_view, 13> kProseKeys = {
    "content", "text",     "input",  "prompt",      "suffix", "system",        "instructions",
    "arguments", "thinking", "output", "description", "stop",  "stop_sequences"};

std::size_t ScanText::add(std::string_view body, JsonPath path, const StringValue& v) {
  std::string_view context;  // the key, when its value is not prose
  if (!v.is_key && !path.empty() && !path.back().is_index) {
    const std::string_view key = path.back().key;
    if (key.size() <= 64 && key.find('\\') == std::string_view::npos && !one_of(key, kProseKeys)) context = key;
  }
  const auto open_line = [&] {
    segment_starts.push_back(text.size());
    text += '\n';
    if (!context.empty()) {
      text += '"';
      text += context;
      text += "\": \"";
    }
  };
  open_line();
  Segment s{};
  s.dec_begin = static_cast<std::uint32_t>(text.size());
  s.raw_begin = static_cast<std::uint32_t>(v.begin);
  s.raw_end = static_cast<std::uint32_t>(v.end);
  s.escapes_begin = static_cast<std::uint32_t>(escapes_.size());
  append_decoded(text, body.substr(v.begin, v.end - v.begin), v.begin, &escapes_);
  s.dec_end = static_cast<std::uint32_t>(text.size());
  s.escapes_end = static_cast<std::uint32_t>(escapes_.size());
  segments_.push_back(s);
  if (!context.empty()) text += '"';
  const std::size_t index = segments_.size() - 1;
  if (auto view = normalize_for_scan(std::string_view(text).substr(s.dec_begin, s.dec_end - s.dec_begin))) {
    open_line();  // the view on a line of its own, with its value's key context
    Viewed viewed{static_cast<std::uint32_t>(text.size()), 0, static_cast<std::uint32_t>(index), std::move(*view)};
    text += viewed.view.text();
    viewed.dec_end = static_cast<std::uint32_t>(text.size());
    if (!context.empty()) text += '"';
    views_.push_back(std::move(viewed));
  }
  return index;
}

const ScanText::Viewed* ScanText::view_at(std::uint64_t dec_begin, std::uint64_t dec_end) const {
  auto it = std::upper_bound(views_.begin(), views_.end(), dec_begin,
                             [](std::uint64_t d, const Viewed& v) { return d < v.dec_begin; });
  if (it == views_.begin()) return nullptr;
  --it;
  return dec_end <= it->dec_end ? &*it : nullptr;
}

void ScanText::join(const std::vector<std::size_t>& segments) {
  segment_starts.push_back(text.size());
  text += '\n';
  Joined j;
  j.dec_begin = static_cast<std::uint32_t>(text.size());
  for (const std::size_t index : segments) {
    const Segment& s = segments_[index];
    j.pieces.emplace_back(static_cast<std::uint32_t>(text.size()), static_cast<std::uint32_t>(index));
    text.reserve(text.size() + (s.dec_end - s.dec_begin));  // no reallocation while appending from itself
    text.append(text, s.dec_begin, s.dec_end - s.dec_begin);
  }
  j.dec_end = static_cast<std::uint32_t>(text.size());
  joined_.push_back(std::move(j));
}

const ScanText::Joined* ScanText::joined_at(std::uint64_t dec) const {
  if (joined_.empty() || dec < joined_.front().dec_begin) return nullptr;
  auto it = std::upper_bound(joined_.begin(), joined_.end(), dec,
                             [](std::uint64_t d, const Joined& j) { return d < j.dec_begin; });
  return it == joined_.begin() ? nullptr : &*(it - 1);
}

const ScanText::Segment* ScanText::segment_of(std::uint64_t dec_begin, std::uint64_t dec_end) const {
  auto it = std::upper_bound(segments_.begin(), segments_.end(), dec_begin,
                             [](std::uint64_t d, const Segment& s) { return d < s.dec_begin; });
  if (it == segments_.begin()) return nullptr;
  --it;
  return dec_end <= it->dec_end ? &*it : nullptr;  // a span past the value's end is not ours
}

// The raw offset of decoded byte `d` of segment `s`: its first raw byte, or (end) one past its
// last. A byte produced by an escape maps to the whole escape.
std::size_t ScanText::raw_of(const Segment& s, std::uint64_t d, bool end) const {
  const auto first = escapes_.begin() + s.escapes_begin, last = escapes_.begin() + s.escapes_end;
  auto it = std::upper_bound(first, last, d, [](std::uint64_t x, const Escape& e) { return x < e.dec; });
  if (it == first) return s.raw_begin + (d - s.dec_begin) + (end ? 1 : 0);
  const Escape& e = *(it - 1);
  if (d < std::uint64_t{e.dec} + e.dec_len) return end ? e.raw + e.raw_len : e.raw;
  return e.raw + e.raw_len + (d - e.dec - e.dec_len) + (end ? 1 : 0);
}

std::pair<std::size_t, std::size_t> ScanText::raw_span(std::string_view body, const Segment& s,
                                                       std::uint64_t dec_begin,
                                                       std::uint64_t dec_end) const {
  std::size_t b = raw_of(s, dec_begin, false), e = raw_of(s, dec_end - 1, true);
  auto continuation = [&](std::size_t i) {
    return (static_cast<unsigned char>(body[i]) & 0xC0) == 0x80;
  };
  while (b > s.raw_begin && continuation(b)) --b;
  while (e < s.raw_end && continuation(e)) ++e;
  return {b, e};
}

// Replacements are spliced between the quotes of a JSON string: nothing in them may need escaping.
bool safe_in_json_string(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7F && c != '"' && c != '\\';
  });
}

// JSON inside JSON strings is walked this many levels down (tool-call arguments are one).
constexpr int kMaxNestedLevels = 4;

// Whether a raw string's content starts with '{' or '[' and ends with '}' or ']' once
// whitespace (written or escaped) is left out: the cheap test before a nested walk.
bool may_hold_json(std::string_view raw) {
  auto blank = [&](std::size_t i, bool forward) -> std::size_t {  // bytes of whitespace at i
    const char c = raw[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') return 1;
    if (forward && c == '\\' && i + 1 < raw.size() && (raw[i + 1] == 'n' || raw[i + 1] == 'r' || raw[i + 1] == 't'))
      return 2;
    if (!forward && i >= 1 && raw[i - 1] == '\\' && (c == 'n' || c == 'r' || c == 't')) return 2;
    return 0;
  };
  std::size_t b = 0, e = raw.size();
  while (b < e) {
    const std::size_t n = blank(b, true);
    if (!n) break;
    b += n;
  }
  while (e > b) {
    const std::size_t n = blank(e - 1, false);
    if (!n) break;
    e -= n;
  }
  if (e - b < 2) return false;
  return (raw[b] == '{' && raw[e - 1] == '}') || (raw[b] == '[' && raw[e - 1] == ']');
}

// Media types whose payload is text to scan; binary ones are not; anything else is looked at.
enum class MediaKind { text, binary, unknown };

MediaKind media_kind(std::string_view media) {
  if (media.empty() || media == "application/octet-stream") return MediaKind::unknown;
  if (media.starts_with("text/") || media.ends_with("+json") || media.ends_with("+xml") || media.ends_with("+yaml"))
    return MediaKind::text;
  constexpr std::array<std::string_view, 14> kText = {
      "application/json", "application/xml", "application/yaml", "application/x-yaml", "application/toml",
      "application/javascript", "application/x-javascript", "application/ecmascript", "application/x-sh",
      "application/x-shellscript", "application/sql", "application/x-ndjson", "application/jsonl",
      "application/x-www-form-urlencoded"};
  if (one_of(media, kText)) return MediaKind::text;
  for (std::string_view prefix : {"image/", "audio/", "video/", "font/", "model/"})
    if (media.starts_with(prefix)) return MediaKind::binary;
  constexpr std::array<std::string_view, 8> kBinary = {
      "application/pdf", "application/zip", "application/gzip", "application/x-tar", "application/msword",
      "application/vnd.ms-excel", "application/x-7z-compressed", "application/wasm"};
  if (one_of(media, kBinary) || media.starts_with("application/vnd.openxmlformats")) return MediaKind::binary;
  return MediaKind::unknown;
}

// Decoded bytes of an undeclared payload that read as text: UTF-8 with no control characters
// but tab, line breaks and form feed.
bool reads_as_text(std::string_view bytes) {
  if (bytes.empty() || !is_valid_utf8(bytes)) return false;
  return std::none_of(bytes.begin(), bytes.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || u == 0x7F;
  });
}

struct Splice {
  std::size_t begin, end;
  std::string text;
};

// One JSON document's redaction (the body, or JSON inside one of its strings).
class BodyRedactor {
 public:
  BodyRedactor(const Engine& engine, Engine::Scratch& scratch, RedactMode mode, const Pseudonymizer* pseudonymizer,
               PlaceholderMap* map, const JsonLimits& limits, int level)
      : engine_(engine), scratch_(scratch), mode_(mode), pseudonymizer_(pseudonymizer), map_(map),
        limits_(limits), level_(level) {}

  // `walk_error` gets the walk's own error, when that is why it failed.
  Result<BodyRedaction> json(std::string_view body, ApiShape shape, bool free_form_root,
                             const TopMemberVisitor& top, std::optional<JsonError>* walk_error = nullptr);

 private:
  std::string replacement_for(const std::string& rule_id, std::string_view secret);
  // True when the value held JSON and was redacted as such (into `splices_`).
  bool nested_json(std::string_view body, ApiShape shape, const StringValue& v);
  void payload(std::string_view body, const StringValue& v);
  void fail(Error e) {
    if (!failure_) failure_ = std::move(e);
  }

  const Engine& engine_;
  Engine::Scratch& scratch_;
  RedactMode mode_;
  const Pseudonymizer* pseudonymizer_;
  PlaceholderMap* map_;
  const JsonLimits& limits_;
  int level_;
  // Whole values replaced by a nested redaction, the findings made there and other state of a run.
  std::vector<Splice> splices_;
  std::vector<std::pair<std::string, std::size_t>> findings_;
  // The current run of adjacent text parts ("…[i].text", "…[i+1].text" in one array), and the
  // runs of two or more to scan joined.
  std::string run_array_;
  std::size_t run_last_index_ = 0;
  std::vector<std::size_t> run_;
  std::vector<std::vector<std::size_t>> joins_;
  void end_run() {
    if (run_.size() >= 2) joins_.push_back(run_);
    run_.clear();
  }
  void text_part(JsonPath path, std::size_t segment);
  std::size_t unscanned_ = 0;
  std::optional<Error> failure_;
};

std::string BodyRedactor::replacement_for(const std::string& rule_id, std::string_view secret) {
  if (mode_ == RedactMode::mask || !pseudonymizer_) return "[REDACTED:" + rule_id + "]";
  // As detect::redact: the long form when the short one is taken by another secret.
  std::string placeholder = pseudonymizer_->placeholder(rule_id, secret);
  if (map_ && !map_->add(placeholder, secret)) {
    placeholder = pseudonymizer_->placeholder(rule_id, secret, true);
    map_->add(placeholder, secret);
  }
  return placeholder;
}

bool BodyRedactor::nested_json(std::string_view body, ApiShape shape, const StringValue& v) {
  const std::string_view raw = body.substr(v.begin, v.end - v.begin);
  if (!may_hold_json(raw)) return false;
  std::string inner;
  decode_json_string(raw, inner);
  if (level_ + 1 >= kMaxNestedLevels) {
    const StringVisitor none = [](JsonPath, const StringValue&) {};
    const bool is_json = !Walker(inner, shape, none, limits_, {}, true).run();
    crypto::wipe(inner);
    if (!is_json) return false;
    fail(make_error(ErrorKind::usage, "JSON inside JSON strings nests more than " + std::to_string(kMaxNestedLevels) +
                                          " levels deep at byte " + std::to_string(v.begin)));
    return true;
  }
  std::optional<JsonError> walk_error;
  BodyRedactor child(engine_, scratch_, mode_, pseudonymizer_, map_, limits_, level_ + 1);
  auto redacted = child.json(inner, shape, true, {}, &walk_error);
  crypto::wipe(inner);
  if (!redacted) {
    if (walk_error && walk_error->kind == JsonError::Kind::syntax)
      return false;  // not JSON after all: scanned as the text it is
    fail(make_error(ErrorKind::usage, "the JSON inside the string at byte " + std::to_string(v.begin) + ": " +
                                          redacted.error().message));
    return true;
  }
  unscanned_ += redacted->unscanned;
  for (auto& f : redacted->findings) findings_.emplace_back(std::move(f.first), v.begin);
  if (redacted->redactions > 0) splices_.push_back(Splice{v.begin, v.end, json_string_body(redacted->body)});
  crypto::wipe(redacted->body);
  return true;
}

void BodyRedactor::payload(std::string_view body, const StringValue& v) {
  MediaKind kind = media_kind(v.media_type);
  if (kind == MediaKind::binary) {
    ++unscanned_;
    return;
  }
  std::string decoded;
  decode_json_string(body.substr(v.begin, v.end - v.begin), decoded);
  std::string header;
  std::string_view encoded = decoded;
  if (v.payload == Payload::data_url) {
    const auto marker = decoded.find(";base64,");
    header = decoded.substr(0, marker + 8);
    encoded = std::string_view(decoded).substr(marker + 8);
  }
  const crypto::Base64Form form = crypto::base64_form_of(encoded);
  auto bytes = crypto::base64_decode(encoded, form);
  if (!bytes) {
    if (kind == MediaKind::text)
      return fail(make_error(ErrorKind::usage, "the base64 payload at byte " + std::to_string(v.begin) +
                                                   " is declared as text but does not decode"));
    ++unscanned_;
    return;
  }
  if (kind == MediaKind::unknown && !reads_as_text(*bytes)) {
    ++unscanned_;
    crypto::wipe(*bytes);
    return;
  }
  if (kind == MediaKind::text && !is_valid_utf8(*bytes)) {
    crypto::wipe(*bytes);
    return fail(make_error(ErrorKind::usage, "the base64 payload at byte " + std::to_string(v.begin) +
                                                 " is declared as text but is not UTF-8"));
  }
  std::vector<Finding> found;
  try {
    found = engine_.scan(*bytes, scratch_);
  } catch (const Fatal& e) {
    crypto::wipe(*bytes);
    return fail(e.error());
  }
  if (!found.empty()) {
    std::string text;
    std::uint64_t at = 0;
    for (const auto& f : found) {
      text.append(*bytes, at, f.start - at);
      const std::string& rule_id = engine_.rule(f.rule).id;
      text += replacement_for(rule_id, std::string_view(*bytes).substr(f.start, f.end - f.start));
      findings_.emplace_back(rule_id, v.begin);
      at = f.end;
    }
    text.append(*bytes, at);
    splices_.push_back(Splice{v.begin, v.end, json_string_body(header + crypto::base64_encode(text, form))});
    crypto::wipe(text);
  }
  crypto::wipe(*bytes);
  crypto::wipe(decoded);
}

// A value at "<array>[i].text" continues the run when it is the next element of the same array.
void BodyRedactor::text_part(JsonPath path, std::size_t segment) {
  if (path.size() < 2 || path.back().is_index || path.back().key != "text" || !path[path.size() - 2].is_index) return;
  const std::size_t index = path[path.size() - 2].index;
  std::string array = path_string(path.first(path.size() - 2));
  if (!run_.empty() && (array != run_array_ || index != run_last_index_ + 1)) end_run();
  run_array_ = std::move(array);
  run_last_index_ = index;
  run_.push_back(segment);
}

Result<BodyRedaction> BodyRedactor::json(std::string_view body, ApiShape shape, bool free_form_root,
                                         const TopMemberVisitor& top, std::optional<JsonError>* walk_error) {
  ScanText scan;
  const auto error = Walker(body, shape,
                            [&](JsonPath path, const StringValue& v) {
                              if (failure_ || v.end == v.begin) return;
                              if (v.payload != Payload::none) return payload(body, v);
                              if (!v.carries_user_text) return;
                              if (!v.is_key && nested_json(body, shape, v)) return;
                              const std::size_t segment = scan.add(body, path, v);
                              if (!v.is_key) text_part(path, segment);
                            },
                            limits_, top, free_form_root)
                         .run();
  end_run();
  for (const auto& pieces : joins_) scan.join(pieces);
  if (error) {
    if (walk_error) *walk_error = error;
    std::string what = std::string(error->reason);
    if (!error->key.empty()) what += " (\"" + error->key + "\")";
    return make_error(ErrorKind::usage, "request body is not valid JSON at byte " + std::to_string(error->offset) +
                                            ": " + what + "; x420 does not forward what it cannot redact");
  }
  if (failure_) return *failure_;

  std::vector<Finding> found;
  try {
    found = engine_.scan(scan.text, scratch_, scan.segment_starts);
  } catch (const Fatal& e) {
    return e.error();
  }

  BodyRedaction out;
  out.unscanned = unscanned_;
  out.findings = std::move(findings_);
  std::vector<Splice> splices = std::move(splices_);
  // Raw spans of the findings in values, so a view's finding of the same secret is not a second.
  // A view comes right after its value in the scan, so its value's findings are already here.
  std::vector<std::pair<std::size_t, std::size_t>> found_spans;
  for (const auto& f : found) {
    if (const auto* joined = scan.joined_at(f.start)) {
      // Only a secret that crosses from one part into the next is new here: the first part's
      // share becomes the placeholder of the whole secret, the others' shares go.
      std::vector<std::pair<std::size_t, std::size_t>> shares;
      for (std::size_t k = 0; k < joined->pieces.size(); ++k) {
        const std::uint64_t at = joined->pieces[k].first;
        const std::uint64_t until = k + 1 < joined->pieces.size() ? joined->pieces[k + 1].first : joined->dec_end;
        const std::uint64_t b = std::max<std::uint64_t>(f.start, at), e = std::min<std::uint64_t>(f.end, until);
        if (b >= e) continue;
        const auto& seg = scan.segment(joined->pieces[k].second);
        shares.push_back(scan.raw_span(body, seg, seg.dec_begin + (b - at), seg.dec_begin + (e - at)));
      }
      if (shares.size() < 2) continue;
      const std::string& rule_id = engine_.rule(f.rule).id;
      out.findings.emplace_back(rule_id, shares.front().first);
      for (std::size_t k = 0; k < shares.size(); ++k)
        splices.push_back(Splice{shares[k].first, shares[k].second,
                                 k == 0 ? replacement_for(rule_id, std::string_view(scan.text).substr(f.start, f.end - f.start))
                                        : std::string()});
      continue;
    }
    if (const auto* viewed = f.end > f.start ? scan.view_at(f.start, f.end) : nullptr) {
      if (f.start < viewed->dec_begin) continue;  // in the key's written context
      // Found in what a model would read: the placeholder stands for the bytes as sent, so the
      // restored reply is byte for byte the original, hidden characters and all.
      const auto& seg = scan.segment(viewed->segment);
      const OriginalSpan o = viewed->view.original_span(f.start - viewed->dec_begin, f.end - viewed->dec_begin);
      if (o.end <= o.begin) continue;
      const std::uint64_t db = seg.dec_begin + o.begin, de = seg.dec_begin + o.end;
      const auto [begin, end] = scan.raw_span(body, seg, db, de);
      if (std::find(found_spans.begin(), found_spans.end(), std::pair{begin, end}) != found_spans.end())
        continue;  // found in the value itself already: one secret, one finding
      const std::string& rule_id = engine_.rule(f.rule).id;
      out.findings.emplace_back(rule_id, begin);
      splices.push_back(Splice{begin, end, replacement_for(rule_id, std::string_view(scan.text).substr(db, de - db))});
      continue;
    }
    const auto* seg = f.end > f.start ? scan.segment_of(f.start, f.end) : nullptr;
    if (!seg || f.start < seg->dec_begin) continue;  // in a key's written context
    const auto [begin, end] = scan.raw_span(body, *seg, f.start, f.end);
    const std::string& rule_id = engine_.rule(f.rule).id;
    std::string replacement = replacement_for(rule_id, std::string_view(scan.text).substr(f.start, f.end - f.start));
    if (!safe_in_json_string(replacement))
      return make_error(ErrorKind::internal, "rule " + rule_id + " yields a replacement that is not plain ASCII");
    out.findings.emplace_back(rule_id, begin);
    found_spans.emplace_back(begin, end);
    splices.push_back(Splice{begin, end, std::move(replacement)});
  }

  // Deferred values and nested documents were reported out of document order; widened spans
  // may touch.
  std::sort(splices.begin(), splices.end(), [](const Splice& a, const Splice& b) { return a.begin < b.begin; });
  std::sort(out.findings.begin(), out.findings.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  out.body.reserve(body.size());
  std::size_t at = 0;
  for (const auto& s : splices) {
    if (s.end <= at) continue;  // inside the previous, widened, replacement
    if (s.begin >= at) {
      out.body.append(body.substr(at, s.begin - at));
      out.body += s.text;
      out.splices.push_back({s.begin, s.end, s.text.size()});
    } else {  // overlaps the previous one: its tail is replaced along with it
      out.splices.back().end = s.end;
    }
    at = s.end;
  }
  out.body.append(body.substr(at));
  out.redactions = out.findings.size();
  return out;
}

}  // namespace

std::optional<JsonError> walk_json_strings(std::string_view body, ApiShape shape,
                                           const StringVisitor& visit, const JsonLimits& limits,
                                           const TopMemberVisitor& top) {
  return Walker(body, shape, visit, limits, top, false).run();
}

bool json_nesting_within(std::string_view json, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return false;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return true;
}

std::size_t BodyRedaction::moved(std::size_t original_offset) const {
  std::size_t at = original_offset;
  for (const auto& s : splices) {
    if (s.end > original_offset) break;
    at = at - (s.end - s.begin) + s.length;
  }
  return at;
}

Result<BodyRedaction> redact_body(std::string_view body, ApiShape shape, const Engine& engine,
                                  Engine::Scratch& scratch, RedactMode mode,
                                  const Pseudonymizer* pseudonymizer, PlaceholderMap* map,
                                  const JsonLimits& limits, const TopMemberVisitor& top) {
  // Offsets are 32-bit and the scan text can be up to about twice the body.
  constexpr std::size_t kMaxRedactable = std::size_t{1} << 30;
  if (body.size() > kMaxRedactable || body.size() > limits.max_bytes)
    return make_error(ErrorKind::usage,
                      "request body of " + std::to_string(body.size()) +
                          " bytes is over the limit of " +
                          std::to_string(std::min(kMaxRedactable, limits.max_bytes)) +
                          " bytes; x420 does not forward what it cannot redact");
  return BodyRedactor(engine, scratch, mode, pseudonymizer, map, limits, 0).json(body, shape, false, top);
}

}  // namespace x420::detect
