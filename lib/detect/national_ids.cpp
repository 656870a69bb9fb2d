#include "lib/detect/national_ids.h"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <string>

namespace x420::detect {
namespace {

// The text without the separators people write numbers with.
std::string compact(std::string_view text) {
  std::string out;
  for (const char c : text)
    if (c != ' ' && c != '-' && c != '.' && c != '/' && c != '\t') out.push_back(c);
  return out;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

int digit(char c) { return c - '0'; }

std::uint64_t number(std::string_view digits) {
  std::uint64_t n = 0;
  for (const char c : digits) n = n * 10 + static_cast<std::uint64_t>(digit(c));
  return n;
}

char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

bool date_exists(int year, int month, int day) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return false;
  const int days = kDays[static_cast<std::size_t>(month - 1)] + (month == 2 && leap(year) ? 1 : 0);
  return day <= days;
}

}  // namespace

bool es_dni_valid(std::string_view text) {
  static constexpr std::string_view kLetters = "TRWAGMYFPDXBNJZSQVHLCKE";
  std::string s = compact(text);
  if (s.size() != 9) return false;
  for (char& c : s) c = upper(c);
  if (s[0] == 'X' || s[0] == 'Y' || s[0] == 'Z') s[0] = static_cast<char>('0' + (s[0] - 'X'));
  const std::string_view digits = std::string_view(s).substr(0, 8);
  if (!all_digits(digits)) return false;
  return kLetters[number(digits) % 23] == s[8];
}

bool nl_bsn_valid(std::string_view text) {
  const std::string s = compact(text);
  if (s.size() != 9 || !all_digits(s) || s == "000000000") return false;
  int sum = 0;
  for (int i = 0; i < 8; ++i) sum += (9 - i) * digit(s[static_cast<std::size_t>(i)]);
  sum -= digit(s[8]);
  return sum % 11 == 0;
}

bool pl_pesel_valid(std::string_view text) {
  static constexpr std::array<int, 10> kWeights = {1, 3, 7, 9, 1, 3, 7, 9, 1, 3};
  const std::string s = compact(text);
  if (s.size() != 11 || !all_digits(s)) return false;
  int sum = 0;
  for (std::size_t i = 0; i < 10; ++i) sum += kWeights[i] * digit(s[i]);
  if ((10 - sum % 10) % 10 != digit(s[10])) return false;
  const int month = digit(s[2]) * 10 + digit(s[3]), day = digit(s[4]) * 10 + digit(s[5]);
  const int century = month / 20;  // 0: 1900s, 1: 2000s, 2: 2100s, 3: 2200s, 4: 1800s
  const int year = (century == 4 ? 1800 : 1900 + 100 * century) + digit(s[0]) * 10 + digit(s[1]);
  return date_exists(year, month % 20, day);
}

bool fr_nir_valid(std::string_view text) {
  std::string s = compact(text);
  if (s.size() != 15) return false;
  for (char& c : s) c = upper(c);
  // Corsica: département 2A counts as 19 and 2B as 18 in the number the key is of.
  if (s[5] == '2' && (s[6] == 'A' || s[6] == 'B')) {
    s[6] = s[6] == 'A' ? '9' : '8';
    s[5] = '1';
  }
  if (!all_digits(s)) return false;
  const int sex = digit(s[0]);
  if (sex != 1 && sex != 2 && sex != 3 && sex != 4 && sex != 7 && sex != 8) return false;
  const int month = digit(s[3]) * 10 + digit(s[4]);
  if (!((month >= 1 && month <= 12) || (month >= 20 && month <= 42) || (month >= 50 && month <= 99))) return false;
  const std::uint64_t body = number(std::string_view(s).substr(0, 13));
  const std::uint64_t key = number(std::string_view(s).substr(13, 2));
  return key == 97 - body % 97;
}

bool it_codice_fiscale_valid(std::string_view text) {
  // Values of a character in an odd (1st, 3rd, …) place; digits count as the letter of their
  // index (0 as A). In an even place a digit counts its value and a letter its index.
  static constexpr std::array<int, 26> kOdd = {1,  0,  5,  7,  9,  13, 15, 17, 19, 21, 2,  4,  18,
                                               20, 11, 3,  6,  8,  12, 14, 16, 10, 22, 25, 24, 23};
  static constexpr std::string_view kOmocode = "LMNPQRSTUV";  // letters standing for 0–9
  static constexpr std::string_view kMonths = "ABCDEHLMPRST";
  std::string s = compact(text);
  if (s.size() != 16) return false;
  for (char& c : s) c = upper(c);
  const auto letter = [](char c) { return c >= 'A' && c <= 'Z'; };
  const auto digit_place = [&](char c) { return (c >= '0' && c <= '9') || kOmocode.find(c) != std::string_view::npos; };
  for (std::size_t i = 0; i < 6; ++i)
    if (!letter(s[i])) return false;
  if (!digit_place(s[6]) || !digit_place(s[7]) || kMonths.find(s[8]) == std::string_view::npos) return false;
  if (!digit_place(s[9]) || !digit_place(s[10]) || !letter(s[11])) return false;
  if (!digit_place(s[12]) || !digit_place(s[13]) || !digit_place(s[14]) || !letter(s[15])) return false;
  int sum = 0;
  for (std::size_t i = 0; i < 15; ++i) {
    const char c = s[i];
    const int index = c >= '0' && c <= '9' ? c - '0' : c - 'A';
    sum += i % 2 == 0 ? kOdd[static_cast<std::size_t>(index)] : index;
  }
  return s[15] == static_cast<char>('A' + sum % 26);
}

bool de_tax_id_valid(std::string_view text) {
  const std::string s = compact(text);
  if (s.size() != 11 || !all_digits(s) || s[0] == '0') return false;
  std::array<int, 10> count{};
  for (std::size_t i = 0; i < 10; ++i) ++count[static_cast<std::size_t>(digit(s[i]))];
  int repeated = 0;
  for (std::size_t d = 0; d < 10; ++d) {
    if (count[d] > 3) return false;
    if (count[d] >= 2) {
      ++repeated;
      if (count[d] == 3)  // three alike may not stand side by side
        for (std::size_t i = 0; i + 2 < 10; ++i)
          if (digit(s[i]) == static_cast<int>(d) && s[i] == s[i + 1] && s[i] == s[i + 2]) return false;
    }
  }
  if (repeated != 1) return false;
  int product = 10;
  for (std::size_t i = 0; i < 10; ++i) {
    int sum = (digit(s[i]) + product) % 10;
    if (sum == 0) sum = 10;
    product = (sum * 2) % 11;
  }
  int check = 11 - product;
  if (check == 10) check = 0;
  return check == digit(s[10]);
}

bool be_national_number_valid(std::string_view text) {
  const std::string s = compact(text);
  if (s.size() != 11 || !all_digits(s)) return false;
  const std::uint64_t body = number(std::string_view(s).substr(0, 9));
  const std::uint64_t key = number(std::string_view(s).substr(9, 2));
  const int month = digit(s[2]) * 10 + digit(s[3]);
  if (month > 12 && !(month >= 20 && month <= 32) && !(month >= 40 && month <= 52)) return false;
  return key == 97 - body % 97 || key == 97 - (2000000000ULL + body) % 97;
}

bool fi_hetu_valid(std::string_view text) {
  static constexpr std::string_view kCheck = "0123456789ABCDEFHJKLMNPRSTUVWXY";
  static constexpr std::string_view kCentury = "+-ABCDEFYXWVU";
  if (text.size() != 11) return false;
  const std::string_view date = text.substr(0, 6), serial = text.substr(7, 3);
  if (!all_digits(date) || !all_digits(serial)) return false;
  if (kCentury.find(upper(text[6])) == std::string_view::npos) return false;
  const int day = digit(date[0]) * 10 + digit(date[1]), month = digit(date[2]) * 10 + digit(date[3]);
  if (!date_exists(2000, month, day)) return false;  // a leap year, so 29.02 may stand
  const std::uint64_t n = number(date) * 1000 + number(serial);
  return kCheck[n % 31] == upper(text[10]);
}

bool se_personnummer_valid(std::string_view text) {
  std::string s;
  for (const char c : text)
    if (c != '-' && c != '+' && c != ' ') s.push_back(c);
  if (!all_digits(s) || (s.size() != 10 && s.size() != 12)) return false;
  if (s.size() == 12) s = s.substr(2);
  const int month = digit(s[2]) * 10 + digit(s[3]);
  int day = digit(s[4]) * 10 + digit(s[5]);
  if (day > 60) day -= 60;  // samordningsnummer
  if (!date_exists(2000, month, day)) return false;
  int sum = 0;
  for (std::size_t i = 0; i < 10; ++i) {
    int d = digit(s[i]);
    if (i % 2 == 0 && (d *= 2) > 9) d -= 9;
    sum += d;
  }
  return sum % 10 == 0;
}

bool pt_nif_valid(std::string_view text) {
  const std::string s = compact(text);
  if (s.size() != 9 || !all_digits(s)) return false;
  if (std::string_view("1235689").find(s[0]) == std::string_view::npos) return false;
  int sum = 0;
  for (std::size_t i = 0; i < 8; ++i) sum += digit(s[i]) * static_cast<int>(9 - i);
  const int r = 11 - sum % 11;
  return (r >= 10 ? 0 : r) == digit(s[8]);
}

bool us_ssn_valid(std::string_view text) {
  const std::string s = compact(text);
  if (s.size() != 9 || !all_digits(s)) return false;
  const int area = static_cast<int>(number(std::string_view(s).substr(0, 3)));
  if (area == 0 || area == 666 || area >= 900) return false;
  if (s.substr(3, 2) == "00" || s.substr(5, 4) == "0000") return false;
  // Numbers printed on sample cards and in advertising, void for decades, and the test value
  // whose every group repeats one digit (111-22-3333).
  if (s == "078051120" || s == "219099999") return false;
  const auto same = [&](std::size_t from, std::size_t n) { return s.find_first_not_of(s[from], from) >= from + n; };
  return !(same(0, 3) && same(3, 2) && same(5, 4));
}

bool uk_nino_valid(std::string_view text) {
  const std::string s = compact(text);
  if (s.size() != 9) return false;
  const char a = upper(s[0]), b = upper(s[1]), suffix = upper(s[8]);
  if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z' || suffix < 'A' || suffix > 'D') return false;
  if (std::string_view("DFIQUV").find(a) != std::string_view::npos) return false;
  if (std::string_view("DFIOQUV").find(b) != std::string_view::npos) return false;
  const std::string prefix{a, b};
  for (const std::string_view bad : {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
    if (prefix == bad) return false;
  return all_digits(std::string_view(s).substr(2, 6));
}

bool e164_valid(std::string_view text) {
  if (text.empty() || text.front() != '+') return false;
  std::string digits;
  for (const char c : text.substr(1)) {
    if (c >= '0' && c <= '9') digits.push_back(c);
    else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') return false;
  }
  if (digits.size() < 8 || digits.size() > 15 || digits.front() == '0') return false;
  bool same = true, ascending = true, descending = true;
  for (std::size_t i = 1; i < digits.size(); ++i) {
    same = same && digits[i] == digits[0];
    ascending = ascending && digits[i] == static_cast<char>('0' + (digits[i - 1] - '0' + 1) % 10);
    descending = descending && digits[i] == static_cast<char>('0' + (digits[i - 1] - '0' + 9) % 10);
  }
  return !same && !ascending && !descending;
}

bool public_ip_valid(std::string_view text) {
  const std::string s(text);
  unsigned char a[16];
  if (inet_pton(AF_INET, s.c_str(), a) == 1) {
    const auto in = [&](unsigned net0, unsigned net1, unsigned net2, int bits) {
      const std::uint32_t ip = (std::uint32_t{a[0]} << 24) | (std::uint32_t{a[1]} << 16) | (std::uint32_t{a[2]} << 8) | a[3];
      const std::uint32_t net = (net0 << 24) | (net1 << 16) | (net2 << 8);
      const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
      return (ip & mask) == (net & mask);
    };
    return !(in(0, 0, 0, 8) || in(10, 0, 0, 8) || in(100, 64, 0, 10) || in(127, 0, 0, 8) || in(169, 254, 0, 16) ||
             in(172, 16, 0, 12) || in(192, 0, 0, 24) || in(192, 0, 2, 24) || in(192, 168, 0, 16) ||
             in(198, 18, 0, 15) || in(198, 51, 100, 24) || in(203, 0, 113, 24) || in(224, 0, 0, 3));
  }
  if (inet_pton(AF_INET6, s.c_str(), a) == 1) {
    bool zero_head = true;
    for (int i = 0; i < 10; ++i) zero_head = zero_head && a[i] == 0;
    if (zero_head && a[10] == 0xff && a[11] == 0xff)  // ::ffff:a.b.c.d
      return public_ip_valid(std::to_string(a[12]) + "." + std::to_string(a[13]) + "." + std::to_string(a[14]) +
                             "." + std::to_string(a[15]));
    if (zero_head && a[10] == 0 && a[11] == 0) return false;  // ::, ::1 and the old compatible form
    if (a[0] == 0xff) return false;                           // multicast
    if ((a[0] & 0xfe) == 0xfc) return false;                  // unique local, fc00::/7
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return false;  // link-local, fe80::/10
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return false;  // 2001:db8::/32
    return true;
  }
  return false;
}

bool calendar_date_valid(std::string_view text) {
  std::array<int, 3> part{};
  std::array<std::size_t, 3> width{};
  std::size_t n = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] < '0' || text[i] > '9') {
      if (text[i] != '-' && text[i] != '.' && text[i] != '/') return false;
      ++i;
      continue;
    }
    if (n == 3) return false;
    std::size_t j = i;
    int v = 0;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9' && j - i < 4) v = v * 10 + digit(text[j++]);
    if (j < text.size() && text[j] >= '0' && text[j] <= '9') return false;
    part[n] = v;
    width[n++] = j - i;
    i = j;
  }
  if (n != 3) return false;
  const auto year_ok = [](int y) { return y >= 1900 && y <= 2099; };
  if (width[0] == 4) return year_ok(part[0]) && date_exists(part[0], part[1], part[2]);
  if (width[2] != 4 || !year_ok(part[2])) return false;
  return date_exists(part[2], part[1], part[0]) || date_exists(part[2], part[0], part[1]);
}

}  // namespace x420::detect
