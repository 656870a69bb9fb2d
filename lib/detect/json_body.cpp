#include "lib/detect/json_body.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>

#include "lib/common/utf8.h"
#include "lib/crypto/secret_bytes.h"

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

constexpr std::array<std::string_view, 8> kCommonNonText = {
    "model", "role", "type", "id", "media_type", "detail", "status", "service_tier"};
constexpr std::array<std::string_view, 4> kChatNonText = {"tool_call_id", "reasoning_effort",
                                                          "format", "verbosity"};
constexpr std::array<std::string_view, 6> kResponsesNonText = {
    "call_id", "previous_response_id", "file_id", "encrypted_content", "effort", "truncation"};
constexpr std::array<std::string_view, 1> kEmbeddingsNonText = {"encoding_format"};
constexpr std::array<std::string_view, 3> kAnthropicNonText = {"tool_use_id", "file_id",
                                                               "signature"};

// Members whose value holds keys the user chose (tool inputs, JSON schemas, metadata).
constexpr std::array<std::string_view, 7> kFreeFormKeys = {
    "input", "parameters", "input_schema", "schema", "metadata", "variables", "headers"};

bool non_text_key(ApiShape shape, std::string_view key) {
  if (one_of(key, kCommonNonText)) return true;
  switch (shape) {
    case ApiShape::openai_chat: return one_of(key, kChatNonText);
    case ApiShape::openai_completions: return false;
    case ApiShape::openai_responses: return one_of(key, kResponsesNonText);
    case ApiShape::openai_embeddings: return one_of(key, kEmbeddingsNonText);
    case ApiShape::anthropic_messages:
    case ApiShape::anthropic_count_tokens: return one_of(key, kAnthropicNonText);
  }
  return false;
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

// RFC 2397 with a base64 payload: "data:image/png;base64,iVBOR…".
bool is_base64_data_url(std::string_view raw) {
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
  return is_base64(raw.substr(marker + kMarker.size()));
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
  // The object's "type" member, once seen.
  std::string type_buf;
  bool type_seen = false;
  // "data" members seen before "type" (rule 2); more than this many are decided at once, as text.
  std::array<Deferred, 4> deferred{};
  std::size_t deferred_count = 0;

  std::string_view key() const { return key_escaped ? std::string_view(key_buf) : raw_key; }
};

class Walker {
 public:
  Walker(std::string_view body, ApiShape shape, const StringVisitor& visit, const JsonLimits& limits,
         const TopMemberVisitor& top)
      : body_(body), n_(body.size()), shape_(shape), visit_(visit), limits_(limits), top_(top) {}

  std::optional<JsonError> run();

 private:
  JsonError fail(std::size_t at, std::string_view reason) const { return JsonError{at, reason}; }
  void skip_ws() {
    while (pos_ < n_ && (body_[pos_] == ' ' || body_[pos_] == '\t' || body_[pos_] == '\n' ||
                         body_[pos_] == '\r'))
      ++pos_;
  }
  std::optional<JsonError> lex_string(std::size_t& end, bool& escaped);
  std::optional<JsonError> member_key();
  std::optional<JsonError> string_value();
  bool number();
  bool literal(std::string_view word);
  void open(bool object);
  void close();
  bool data_is_text(const Frame& f, std::string_view raw) const;
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
  std::size_t top_begin_ = 0;  // where the current top-level member's value starts
  std::vector<Frame> frames_;
  std::vector<PathStep> path_;  // path_[i] is where frames_[i] is
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

std::optional<JsonError> Walker::member_key() {
  if (pos_ >= n_) return fail(pos_, "unexpected end of body, an object key was expected");
  if (body_[pos_] != '"') return fail(pos_, "an object key (a string) was expected");
  const std::size_t begin = pos_ + 1;
  std::size_t end = 0;
  bool escaped = false;
  if (auto e = lex_string(end, escaped)) return e;
  Frame& f = frames_.back();
  f.raw_key = body_.substr(begin, end - begin);
  f.key_escaped = escaped && decode_short(f.raw_key, f.key_buf);
  path_.back().key = f.raw_key;
  if (f.free_form) visit_(JsonPath(path_), StringValue{begin, end, true, true});
  skip_ws();
  if (pos_ >= n_ || body_[pos_] != ':') return fail(pos_, "':' was expected after an object key");
  ++pos_;
  skip_ws();
  return std::nullopt;
}

void Walker::open(bool object) {
  Frame f;
  f.object = object;
  if (!frames_.empty()) {
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

bool Walker::data_is_text(const Frame& f, std::string_view raw) const {
  if (f.type_seen && f.type_buf == "redacted_thinking") return false;
  if (f.type_seen && f.type_buf == "base64" && parent_key() == "source") return !is_base64(raw);
  return true;
}

void Walker::close() {
  Frame& f = frames_.back();
  for (std::size_t i = 0; i < f.deferred_count; ++i) {
    Deferred& d = f.deferred[i];
    d.value.carries_user_text = data_is_text(f, body_.substr(d.value.begin, d.value.end - d.value.begin));
    path_.back().key = d.key;
    visit_(JsonPath(path_), d.value);
  }
  frames_.pop_back();
  path_.pop_back();
}

std::optional<JsonError> Walker::string_value() {
  const std::size_t begin = pos_ + 1;
  std::size_t end = 0;
  bool escaped = false;
  if (auto e = lex_string(end, escaped)) return e;
  const std::string_view raw = body_.substr(begin, end - begin);
  StringValue v{begin, end, true};
  if (is_base64_data_url(raw)) {
    v.carries_user_text = false;
  } else if (!frames_.empty() && frames_.back().object && !frames_.back().free_form) {
    Frame& f = frames_.back();
    const std::string_view key = f.key();
    if (key == "type") {
      f.type_seen = true;
      if (!decode_short(raw, f.type_buf)) f.type_buf.assign(raw.substr(0, 65));  // bounded
    }
    if (non_text_key(shape_, key)) {
      v.carries_user_text = false;
    } else if (key == "file_data") {
      v.carries_user_text = !is_base64(raw);
    } else if (key == "data") {
      if (parent_key() == "input_audio") {
        v.carries_user_text = !is_base64(raw);
      } else if (!f.type_seen && f.deferred_count < f.deferred.size()) {
        f.deferred[f.deferred_count++] = Deferred{f.raw_key, v};
        return std::nullopt;  // visited when the object closes
      } else {
        v.carries_user_text = data_is_text(f, raw);
      }
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
  if (n_ > limits_.max_bytes) return fail(limits_.max_bytes, "body larger than the limit");
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
      if (frames_.size() >= limits_.max_depth) return fail(pos_, "nesting deeper than the limit");
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

// The text the engine scans: each user-text value decoded, on a line of its own, with where its
// bytes came from. Members whose key is not a prose field get their key as context, written as
// JSON ("api_key": "…"), so the assignment rules see what a pasted config file would show.
class ScanText {
 public:
  struct Escape {  // one escape sequence: decoded bytes [dec, dec+dec_len) from raw [raw, raw+raw_len)
    std::uint32_t dec, raw;
    std::uint8_t dec_len, raw_len;
  };
  struct Segment {  // one value: decoded [dec_begin, dec_end) from raw [raw_begin, raw_end)
    std::uint32_t dec_begin, dec_end, raw_begin, raw_end;
    std::uint32_t escapes_begin, escapes_end;
  };

  ~ScanText() { crypto::wipe(text); }

  void add(std::string_view body, JsonPath path, const StringValue& v);
  const Segment* segment_of(std::uint64_t dec_begin, std::uint64_t dec_end) const;
  // Raw span of decoded [dec_begin, dec_end), widened to whole escapes and UTF-8 characters.
  std::pair<std::size_t, std::size_t> raw_span(std::string_view body, const Segment& s,
                                               std::uint64_t dec_begin, std::uint64_t dec_end) const;

  std::string text;

 private:
  std::size_t raw_of(const Segment& s, std::uint64_t d, bool end) const;
  std::vector<Segment> segments_;
  std::vector<Escape> escapes_;
};

constexpr std::array<std::string_view, 13> kProseKeys = {
    "content", "text",     "input",  "prompt",      "suffix", "system",        "instructions",
    "arguments", "thinking", "output", "description", "stop",  "stop_sequences"};


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

void ScanText::add(std::string_view body, JsonPath path, const StringValue& v) {
  text += '\n';
  bool quoted = false;
  if (!v.is_key && !path.empty() && !path.back().is_index) {
    const std::string_view key = path.back().key;
    if (key.size() <= 64 && key.find('\\') == std::string_view::npos && !one_of(key, kProseKeys)) {
      text += '"';
      text += key;
      text += "\": \"";
      quoted = true;
    }
  }
  const std::string_view raw = body.substr(v.begin, v.end - v.begin);
  Segment s{};
  s.dec_begin = static_cast<std::uint32_t>(text.size());
  s.raw_begin = static_cast<std::uint32_t>(v.begin);
  s.raw_end = static_cast<std::uint32_t>(v.end);
  s.escapes_begin = static_cast<std::uint32_t>(escapes_.size());
  std::size_t i = 0;
  while (i < raw.size()) {
    const std::size_t bs = raw.find('\\', i);
    const std::size_t run_end = bs == std::string_view::npos ? raw.size() : bs;
    text.append(raw.substr(i, run_end - i));
    i = run_end;
    if (i >= raw.size()) break;
    const std::size_t dec = text.size();
    std::size_t raw_len = 2;
    const char e = i + 1 < raw.size() ? raw[i + 1] : '\\';
    switch (e) {
      case 'b': text += '\b'; break;
      case 'f': text += '\f'; break;
      case 'n': text += '\n'; break;
      case 'r': text += '\r'; break;
      case 't': text += '\t'; break;
      case 'u': {
        long cp = hex4(raw, i + 2);
        if (cp < 0) {  // cannot happen after the walk; keep the byte rather than guess
          text += '\\';
          raw_len = 1;
          break;
        }
        raw_len = 6;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 12 <= raw.size() && raw[i + 6] == '\\' &&
            raw[i + 7] == 'u') {
          const long lo = hex4(raw, i + 8);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            raw_len = 12;
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // a lone surrogate
        append_utf8(text, static_cast<std::uint32_t>(cp));
        break;
      }
      default: text += e; break;  // \" \\ \/
    }
    escapes_.push_back(Escape{static_cast<std::uint32_t>(dec), static_cast<std::uint32_t>(v.begin + i),
                              static_cast<std::uint8_t>(text.size() - dec),
                              static_cast<std::uint8_t>(raw_len)});
    i += raw_len;
  }
  s.dec_end = static_cast<std::uint32_t>(text.size());
  s.escapes_end = static_cast<std::uint32_t>(escapes_.size());
  segments_.push_back(s);
  if (quoted) text += '"';
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

}  // namespace

std::optional<JsonError> walk_json_strings(std::string_view body, ApiShape shape,
                                           const StringVisitor& visit, const JsonLimits& limits,
                                           const TopMemberVisitor& top) {
  return Walker(body, shape, visit, limits, top).run();
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

  ScanText scan;
  const auto error = walk_json_strings(
      body, shape,
      [&](JsonPath path, const StringValue& v) {
        if (v.carries_user_text && v.end > v.begin) scan.add(body, path, v);
      },
      limits, top);
  if (error)
    return make_error(ErrorKind::usage,
                      "request body is not valid JSON at byte " + std::to_string(error->offset) +
                          ": " + std::string(error->reason) +
                          "; x420 does not forward what it cannot redact");

  std::vector<Finding> findings;
  try {
    findings = engine.scan(scan.text, scratch);
  } catch (const Fatal& e) {
    return e.error();
  }

  struct Splice {
    std::size_t begin, end;
    std::string text;
  };
  std::vector<Splice> splices;
  BodyRedaction out;
  for (const auto& f : findings) {
    const auto* seg = f.end > f.start ? scan.segment_of(f.start, f.end) : nullptr;
    if (!seg || f.start < seg->dec_begin) continue;  // in a key's context or across values
    const auto [begin, end] = scan.raw_span(body, *seg, f.start, f.end);
    const std::string& rule_id = engine.rule(f.rule).id;
    const std::string_view secret = std::string_view(scan.text).substr(f.start, f.end - f.start);
    std::string replacement;
    if (mode == RedactMode::mask || !pseudonymizer) {
      replacement = "[REDACTED:" + rule_id + "]";
    } else {  // as detect::redact: the long form when the short one is taken by another secret
      replacement = pseudonymizer->placeholder(rule_id, secret);
      if (map && !map->add(replacement, secret)) {
        replacement = pseudonymizer->placeholder(rule_id, secret, true);
        map->add(replacement, secret);
      }
    }
    if (!safe_in_json_string(replacement))
      return make_error(ErrorKind::internal, "rule " + rule_id + " yields a replacement that is not plain ASCII");
    out.findings.emplace_back(rule_id, begin);
    splices.push_back(Splice{begin, end, std::move(replacement)});
  }

  // Deferred values were appended out of document order; widened spans may touch.
  std::sort(splices.begin(), splices.end(),
            [](const Splice& a, const Splice& b) { return a.begin < b.begin; });
  std::sort(out.findings.begin(), out.findings.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
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

}  // namespace x420::detect
