#include "lib/common/json_text.h"

#include <array>
#include <cstdint>

#include "lib/common/utf8.h"

namespace x420 {
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
      if (const auto n = utf8_sequence_length(text, i); n != 0) {
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

std::string json_string_body(std::string_view text) {
  std::string out;
  append_json_string_body(out, text);
  return out;
}

}  // namespace x420
