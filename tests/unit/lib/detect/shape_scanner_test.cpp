// lib/detect/shape_scanner: the dedicated scanners for card numbers and IBANs. The blocked,
// vectorised search must report exactly the runs a byte-by-byte reading of the definition finds,
// wherever in the buffer and across whichever block boundary they lie.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "lib/detect/shape_scanner.h"

using namespace x420::detect;

namespace {

using Run = std::tuple<Shape, std::uint64_t, std::uint64_t>;

std::vector<Run> runs_of(std::string_view text) {
  static constexpr Shape kBoth[] = {Shape::card_number, Shape::iban};
  std::vector<Run> out;
  find_shape_runs(text, kBoth, [&](Shape s, std::uint64_t b, std::uint64_t e) { out.emplace_back(s, b, e); });
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> texts_of(std::string_view text, Shape shape) {
  std::vector<std::string> out;
  for (const auto& [s, b, e] : runs_of(text))
    if (s == shape) out.emplace_back(text.substr(b, e - b));
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

// The definition, read byte by byte: maximal runs of body bytes with single separators between
// two of them, holding enough body bytes (an IBAN's run also two capitals and two digits; a
// card's at most 19 digits, and no '.' or ',' joining it to more digits).
std::vector<Run> reference_runs(std::string_view t) {
  std::vector<Run> out;
  for (const Shape shape : {Shape::card_number, Shape::iban}) {
    const bool card = shape == Shape::card_number;
    const auto body = [&](char c) { return is_digit(c) || (!card && is_upper(c)); };
    const auto sep = [&](char c) { return c == ' ' || (card && c == '-'); };
    const std::size_t need = card ? 12 : 15;
    std::size_t i = 0;
    while (i < t.size()) {
      if (!body(t[i])) {
        ++i;
        continue;
      }
      const std::size_t start = i;
      std::size_t count = 0, last = i;
      while (i < t.size()) {
        if (body(t[i])) {
          ++count;
          last = ++i;
        } else if (sep(t[i]) && i + 1 < t.size() && body(t[i + 1])) {
          ++i;
        } else {
          break;
        }
      }
      bool starts = card;
      for (std::size_t k = start; !starts && k + 3 < last; ++k)
        starts = is_upper(t[k]) && is_upper(t[k + 1]) && is_digit(t[k + 2]) && is_digit(t[k + 3]);
      const bool decimal = (start >= 2 && (t[start - 1] == '.' || t[start - 1] == ',') && is_digit(t[start - 2])) ||
                           (last + 1 < t.size() && (t[last] == '.' || t[last] == ',') && is_digit(t[last + 1]));
      if (card && (count > 19 || decimal)) starts = false;
      if (count >= need && starts) out.emplace_back(shape, start, last);
      i = std::max(i, last);
      if (i < t.size() && !body(t[i])) ++i;
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("card numbers are found in the ways they are written") {
  CHECK(texts_of("card 4111111111111111 ok", Shape::card_number) == std::vector<std::string>{"4111111111111111"});
  CHECK(texts_of("4111 1111 1111 1111", Shape::card_number) == std::vector<std::string>{"4111 1111 1111 1111"});
  CHECK(texts_of("pay 4111-1111-1111-1111.", Shape::card_number) == std::vector<std::string>{"4111-1111-1111-1111"});
  CHECK(texts_of("amex 3782 822463 10005", Shape::card_number) == std::vector<std::string>{"3782 822463 10005"});
}

TEST_CASE("digits that cannot be a card number are not a run") {
  CHECK(texts_of("eleven digits 12345678901 only", Shape::card_number).empty());
  CHECK(texts_of("0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07", Shape::card_number).empty());
  // Two separators in a row end a run: these are four runs of four digits.
  CHECK(texts_of("4111  1111  1111  1111", Shape::card_number).empty());
  CHECK(texts_of("4111 -1111- 1111--1111", Shape::card_number).empty());
  CHECK(texts_of("version 1.2.3.4.5.6.7.8.9.10.11.12", Shape::card_number).empty());
  // No card number has more than 19 digits (ISO/IEC 7812), and the digits of a fraction are none.
  CHECK(texts_of("pi = 3.14159265358979323846", Shape::card_number).empty());
  CHECK(texts_of("x = 0.4111111111111111", Shape::card_number).empty());
  CHECK(texts_of("4111111111111111.5e3", Shape::card_number).empty());
  CHECK(texts_of("1,4111111111111111", Shape::card_number).empty());
  CHECK(texts_of("id 41111111111111111111 ok", Shape::card_number).empty());
  CHECK(texts_of("19 digits 4111111111111111113 ok", Shape::card_number) == std::vector<std::string>{"4111111111111111113"});
  CHECK(texts_of("paid with 4111111111111111.", Shape::card_number) == std::vector<std::string>{"4111111111111111"});
}

TEST_CASE("IBANs are found electronic and printed, capitals that start none are not") {
  CHECK(texts_of("to GB82WEST12345698765432 now", Shape::iban) == std::vector<std::string>{"GB82WEST12345698765432"});
  CHECK(texts_of("IBAN: DE89 3704 0044 0532 0130 00", Shape::iban) ==
        std::vector<std::string>{"DE89 3704 0044 0532 0130 00"});
  CHECK(texts_of("THE SOFTWARE IS PROVIDED AS IS WITHOUT WARRANTY", Shape::iban).empty());
  CHECK(texts_of("lowercase gb82west12345698765432", Shape::iban).empty());
}

TEST_CASE("a run is found at every offset, across the 64-byte blocks") {
  for (const std::string value : {"4111111111111111", "4111 1111 1111 1111", "GB82WEST12345698765432"}) {
    for (std::size_t offset = 0; offset < 200; ++offset) {
      for (const std::size_t after : {0, 1, 5, 63, 64, 65}) {
        std::string text(offset, 'q');
        text += value;
        text += std::string(after, 'q');
        INFO(value << " at " << offset << " with " << after << " after");
        const Shape shape = value[0] == 'G' ? Shape::iban : Shape::card_number;
        CHECK(texts_of(text, shape) == std::vector<std::string>{value});
        const auto runs = runs_of(text);
        CHECK(std::find(runs.begin(), runs.end(), Run{shape, offset, offset + value.size()}) != runs.end());
      }
    }
  }
}

TEST_CASE("the blocked search reports what the definition reads byte by byte") {
  std::mt19937 rng(420);
  // Mostly digits, capitals and separators, so runs of every length and break form.
  const std::string alphabet = "0123456789012345678901234567890123456789ABGXZ  --x.,\n";
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1), length(0, 400);
  for (int round = 0; round < 3000; ++round) {
    std::string text(length(rng), ' ');
    for (auto& c : text) c = alphabet[pick(rng)];
    INFO(text);
    REQUIRE(runs_of(text) == reference_runs(text));
  }
}

namespace {

std::vector<std::string> dotted_quads(std::string_view text) {
  static constexpr Shape kIpv4[] = {Shape::ipv4};
  std::vector<std::string> out;
  find_shape_runs(text, kIpv4, [&](Shape s, std::uint64_t b, std::uint64_t e) {
    CHECK(s == Shape::ipv4);
    out.emplace_back(text.substr(b, e - b));
  });
  return out;
}

}  // namespace

TEST_CASE("IPv4 runs are four dotted numbers of one to three digits, alone") {
  using V = std::vector<std::string>;
  CHECK(dotted_quads("from 81.2.69.142 port 22") == V{"81.2.69.142"});
  CHECK(dotted_quads("reach it at 9.9.9.9.") == V{"9.9.9.9"});
  CHECK(dotted_quads("81.2.69.142:443 and 1.1.1.1") == V{"81.2.69.142", "1.1.1.1"});
  CHECK(dotted_quads("OID 1.3.6.1.4.1.311").empty());   // more than four numbers
  CHECK(dotted_quads("pi 3.14159").empty());
  CHECK(dotted_quads("10.0.19041.1").empty());          // a number of five digits
  CHECK(dotted_quads("1.2.3").empty());
  CHECK(dotted_quads(".1.2.3.4").empty());              // a dot before it: part of more
  for (std::size_t offset = 0; offset < 140; ++offset) {
    const std::string text = std::string(offset, 'q') + "185.199.108.153" + std::string(offset % 7, 'q');
    INFO("at " << offset);
    CHECK(dotted_quads(text) == V{"185.199.108.153"});
  }
}
