// Check digits of national identity and tax numbers, and the other checks that tell personal data
// from text of the same shape. Pure functions over the matched text; each takes the forms its
// rules match (separators included) and says whether the number is well formed, so that a rule
// reports `12345678Z` (its letter is right) and not `12345678A`.
//
// The algorithms are the published ones: each function names its source.
#pragma once

#include <string_view>

namespace x420::detect {

// Spain: DNI (8 digits and a letter) and NIE (X, Y or Z, 7 digits, a letter); the letter is
// "TRWAGMYFPDXBNJZSQVHLCKE"[number mod 23], X/Y/Z standing for 0/1/2 (Real Decreto 1553/2005).
bool es_dni_valid(std::string_view text);

// Netherlands: BSN, 9 digits passing the "elfproef" (9·d1 + 8·d2 + … + 2·d8 − d9 ≡ 0 mod 11).
bool nl_bsn_valid(std::string_view text);

// Poland: PESEL, 11 digits, weights 1 3 7 9 1 3 7 9 1 3; the 11th is (10 − sum mod 10) mod 10,
// and digits 3–6 are a month (with the century offset) and a day.
bool pl_pesel_valid(std::string_view text);

// France: NIR (numéro de sécurité sociale), 13 characters (sex, year, month, département with
// 2A/2B for Corsica, commune, order) and a key of 97 − (number mod 97).
bool fr_nir_valid(std::string_view text);

// Italy: codice fiscale, 16 characters; the last is the check letter computed from the odd- and
// even-position tables of DM 23/12/1976. Omocodia letters in the digit places are accepted.
bool it_codice_fiscale_valid(std::string_view text);

// Germany: Steuerliche Identifikationsnummer, 11 digits, no leading zero, one digit of the first
// ten repeated two or three times, and an ISO 7064 MOD 11,10 check digit.
bool de_tax_id_valid(std::string_view text);

// Belgium: Rijksregisternummer / numéro national, 11 digits (YYMMDD, a counter, a key); the key
// is 97 − (first 9 digits mod 97), or of 2 followed by them for those born from 2000.
bool be_national_number_valid(std::string_view text);

// Finland: henkilötunnus, DDMMYY, a century sign, 3 digits and a check character
// "0123456789ABCDEFHJKLMNPRSTUVWXY"[DDMMYYNNN mod 31].
bool fi_hetu_valid(std::string_view text);

// Sweden: personnummer, (YY)YYMMDD, '-' or '+', 4 digits; Luhn over the last ten digits.
bool se_personnummer_valid(std::string_view text);

// Portugal: NIF, 9 digits; the last is 11 − (Σ dᵢ·(10−i) mod 11), 0 when that is 10 or 11.
bool pt_nif_valid(std::string_view text);

// United States: SSN AAA-GG-SSSS (dashes, spaces or none), none of the never-issued forms: area
// 000, 666 or 900–999, group 00, serial 0000 (SSA, "Social Security Number Randomization").
bool us_ssn_valid(std::string_view text);

// United Kingdom: National Insurance number, two letters, six digits, a suffix A–D; the first
// letter not D F I Q U V, the second not D F I O Q U V, and not BG GB KN NK NT TN ZZ (HMRC
// NIM39110).
bool uk_nino_valid(std::string_view text);

// An IPv4 or IPv6 address that can name a person's connection: not unspecified, loopback,
// private (RFC 1918, RFC 4193), link-local, CGNAT, multicast, broadcast or documentation
// (RFC 5737, RFC 3849) space.
bool public_ip_valid(std::string_view text);

// A phone number in international form (ITU-T E.164): '+', a country code not starting with 0,
// 8 to 15 digits in all (separators " -.()" between them ignored), not one digit repeated and
// not a run such as 12345678.
bool e164_valid(std::string_view text);

// A calendar date that exists, written Y-M-D, D.M.Y, D/M/Y or M/D/Y (either reading of the
// last two is enough), its year from 1900 to 2099.
bool calendar_date_valid(std::string_view text);

}  // namespace x420::detect
