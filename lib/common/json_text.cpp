#include "lib/export/json_text.h"

#include <array>
#include <cstdint>

namespace x420::exporting {
namespace {

constexpr std::string_view kReplacement = "\\ufffd";

// 0: copied as is; 1: escaped; 2: the first byte of a multi-byte sequence (checked).
constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> c{};
  for (int i = 0; i < 0x20; ++i) c[i] = 1;
  c['"'] = 1;
  c['\\'] = 1;
  for (int i = 0x80; i < 0x100; ++i) c[i] = 2;
  return c;
}
constexpr auto kClasses = make_classes();

void append_escape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    default: {
      const char u[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out.append(u, sizeof u);
    }
  }
}

bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// The length of the valid UTF-8 sequence at text[i] (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF), or 0 when it is not one.
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const std::size_t left = text.size() - i;
  const unsigned char c = b(0);
  if (c >= 0xC2 && c <= 0xDF) return left >= 2 && continuation(b(1)) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || !continuation(b(1)) || !continuation(b(2))) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // a surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || !continuation(b(1)) || !continuation(b(2)) || !continuation(b(3))) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

void append_json_string_body(std::string& out, std::string_view text) {
  out.reserve(out.size() + text.size() + text.size() / 16 + 16);
  std::size_t run = 0;  // start of the bytes not yet copied
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    const auto cls = kClasses[c];
    if (cls == 0) {
      ++i;
      continue;
    }
    if (cls == 2) {
      if (const auto n = utf8_length(text, i); n != 0) {
        i += n;
        continue;
      }
    }
    out.append(text.data() + run, i - run);
    if (cls == 1) append_escape(out, c);
    else out += kReplacement;
    run = ++i;
  }
  out.append(text.data() + run, text.size() - run);
}

}  // namespace x420::exporting
