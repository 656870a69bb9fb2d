#include "lib/detect/validators.h"

#include <sodium.h>
#include <zlib.h>

#include <array>
#include <cmath>
#include <string>

#include "lib/detect/national_ids.h"
#include "lib/keys/key_format.h"

namespace x420::detect {

double shannon_entropy(std::string_view text) {
  if (text.empty()) return 0;
  std::array<unsigned, 256> counts{};
  for (unsigned char c : text) ++counts[c];
  double h = 0;
  const double n = static_cast<double>(text.size());
  for (unsigned count : counts) {
    if (!count) continue;
    const double p = count / n;
    h -= p * std::log2(p);
  }
  return h;
}

bool luhn_valid(std::string_view digits) {
  int sum = 0, count = 0;
  bool twice = false;
  for (size_t i = digits.size(); i-- > 0;) {
    const char c = digits[i];
    if (c == ' ' || c == '-') continue;
    if (c < '0' || c > '9') return false;
    int d = c - '0';
    if (twice && (d *= 2) > 9) d -= 9;
    sum += d;
    twice = !twice;
    ++count;
  }
  return count >= 12 && sum % 10 == 0;
}

bool iban_valid(std::string_view iban) {
  std::string compact;
  for (char c : iban)
    if (c != ' ') compact.push_back(c);
  if (compact.size() < 15 || compact.size() > 34) return false;
  // Move the country code and check digits to the end, letters become 10..35, then mod 97.
  const std::string rotated = compact.substr(4) + compact.substr(0, 4);
  int remainder = 0;
  for (char c : rotated) {
    int value;
    if (c >= '0' && c <= '9') value = c - '0';
    else if (c >= 'A' && c <= 'Z') value = c - 'A' + 10;
    else if (c >= 'a' && c <= 'z') value = c - 'a' + 10;
    else return false;
    remainder = (value >= 10 ? remainder * 100 : remainder * 10) + value;
    remainder %= 97;
  }
  return remainder == 1;
}

bool jwt_shaped(std::string_view token) {
  const auto dot = token.find('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  const auto header = token.substr(0, dot);
  unsigned char decoded[512];
  size_t len = 0;
  if (header.size() > 680) return false;
  if (sodium_base642bin(decoded, sizeof decoded, header.data(), header.size(), nullptr, &len,
                        nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 &&
      sodium_base642bin(decoded, sizeof decoded, header.data(), header.size(), nullptr, &len,
                        nullptr, sodium_base64_VARIANT_URLSAFE) != 0)
    return false;
  const std::string_view json(reinterpret_cast<const char*>(decoded), len);
  return json.starts_with("{") && json.find("\"alg\"") != std::string_view::npos;
}

bool github_checksum_valid(std::string_view token) {
  // ghp_/gho_/ghu_/ghs_/ghr_ + 30 random base62 + 6 base62 digits of CRC32(random part).
  const auto underscore = token.find('_');
  if (underscore == std::string_view::npos) return false;
  const auto body = token.substr(underscore + 1);
  if (body.size() != 36) return false;
  const auto random = body.substr(0, 30);
  return keys::checksum_for(random) == body.substr(30);
}

bool x420_checksum_valid(std::string_view token) { return keys::parse(token).ok(); }

Verdict validate(Validator v, std::string_view secret) {
  switch (v) {
    case Validator::none: return Verdict::accept;
    case Validator::luhn: return luhn_valid(secret) ? Verdict::accept : Verdict::reject;
    case Validator::iban_mod97: return iban_valid(secret) ? Verdict::accept : Verdict::reject;
    case Validator::jwt: return jwt_shaped(secret) ? Verdict::accept : Verdict::reject;
    case Validator::github_crc32:
      return github_checksum_valid(secret) ? Verdict::accept : Verdict::accept_bad_checksum;
    case Validator::x420_checksum:
      return x420_checksum_valid(secret) ? Verdict::accept : Verdict::accept_bad_checksum;
    case Validator::es_dni: return es_dni_valid(secret) ? Verdict::accept : Verdict::reject;
    case Validator::nl_bsn: return nl_bsn_valid(secret) ? Verdict::accept : Verdict::reject;
    case Validator::pl_pesel: return pl_pesel_valid(secret) ? Verdict::accept : Verdict::reject;
    case Validator::fr_nir: return fr_nir_valid(secret) ? Verdict::accept : Verdict::reject;
    case Validator::it_codice_fiscale: return it_codice_fiscale_valid(secret) ? Verdict::accept : Verdict::reject;
    case Validator::de_tax_id: return de_tax_id_valid(secret) ? Verdict::accept : Verdict::reject;
    case Validator::be_national_number: return be_national_number_valid(secret) ? Verdict::accept : Verdict::reject;
    case Validator::fi_hetu: return fi_hetu_valid(secret) ? Verdict::accept : Verdict::reject;
    case Validator::se_personnummer: return se_personnummer_valid(secret) ? Verdict::accept : Verdict::reject;
    case Validator::pt_nif: return pt_nif_valid(secret) ? Verdict::accept : Verdict::reject;
    case Validator::us_ssn: return us_ssn_valid(secret) ? Verdict::accept : Verdict::reject;
    case Validator::uk_nino: return uk_nino_valid(secret) ? Verdict::accept : Verdict::reject;
    case Validator::public_ip: return public_ip_valid(secret) ? Verdict::accept : Verdict::reject;
    case Validator::e164: return e164_valid(secret) ? Verdict::accept : Verdict::reject;
    case Validator::calendar_date: return calendar_date_valid(secret) ? Verdict::accept : Verdict::reject;
  }
  return Verdict::accept;
}

}  // namespace x420::detect
