#include "lib/crypto/base64.h"

#include <sodium.h>

namespace x420::crypto {
namespace {

int variant(Base64Form form) {
  if (form.url_safe) return form.padded ? sodium_base64_VARIANT_URLSAFE : sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  return form.padded ? sodium_base64_VARIANT_ORIGINAL : sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
}

}  // namespace

Base64Form base64_form_of(std::string_view text) {
  Base64Form form;
  form.url_safe = text.find_first_of("-_") != std::string_view::npos;
  const auto last = text.find_last_not_of(" \t\r\n");
  form.padded = last != std::string_view::npos && text[last] == '=';
  if (!form.padded) {  // unpadded input whose length needs no padding decodes either way
    std::size_t n = 0;
    for (char c : text) n += c != ' ' && c != '\t' && c != '\r' && c != '\n';
    form.padded = n % 4 == 0;
  }
  return form;
}

std::optional<std::string> base64_decode(std::string_view text, Base64Form form) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(),
                        " \t\r\n", &length, &end, variant(form)) != 0 ||
      end != text.data() + text.size())
    return std::nullopt;
  out.resize(length);
  return out;
}

std::string base64_encode(std::string_view bytes, Base64Form form) {
  std::string out(sodium_base64_encoded_len(bytes.size(), variant(form)), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    variant(form));
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

}  // namespace x420::crypto
