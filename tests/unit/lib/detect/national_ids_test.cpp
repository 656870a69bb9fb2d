// lib/detect/national_ids: each check takes the published examples and refuses the same number
// with one digit or letter changed, and the never-issued forms.
#include <catch2/catch.hpp>

#include "lib/detect/national_ids.h"

using namespace x420::detect;

TEST_CASE("es_dni_valid checks the DNI and NIE letter") {
  CHECK(es_dni_valid("12345678Z"));
  CHECK(es_dni_valid("12345678-z"));
  CHECK(es_dni_valid("X1234567L"));
  CHECK(es_dni_valid("Y-3145826-S"));
  CHECK_FALSE(es_dni_valid("12345678A"));
  CHECK_FALSE(es_dni_valid("X1234567M"));
  CHECK_FALSE(es_dni_valid("1234567Z"));
  CHECK_FALSE(es_dni_valid("W1234567L"));
}

TEST_CASE("nl_bsn_valid is the elfproef") {
  CHECK(nl_bsn_valid("111222333"));
  CHECK(nl_bsn_valid("1234.56.782"));
  CHECK_FALSE(nl_bsn_valid("111222334"));
  CHECK_FALSE(nl_bsn_valid("000000000"));
  CHECK_FALSE(nl_bsn_valid("11122233"));
}

TEST_CASE("pl_pesel_valid checks the digit and the date") {
  CHECK(pl_pesel_valid("44051401359"));
  CHECK(pl_pesel_valid("02270803624"));  // born in the 2000s: month + 20
  CHECK_FALSE(pl_pesel_valid("44051401358"));
  CHECK_FALSE(pl_pesel_valid("44133101357"));  // month 13
  CHECK_FALSE(pl_pesel_valid("4405140135"));
}

TEST_CASE("fr_nir_valid checks the key, Corsica too") {
  CHECK(fr_nir_valid("1 85 05 78 006 084 91"));
  CHECK(fr_nir_valid("269052A00100132"));
  CHECK_FALSE(fr_nir_valid("1 85 05 78 006 084 92"));
  CHECK_FALSE(fr_nir_valid("985057800608491"));  // no such sex digit
  CHECK_FALSE(fr_nir_valid("269052C00100132"));
}

TEST_CASE("it_codice_fiscale_valid checks the letter and the shape") {
  CHECK(it_codice_fiscale_valid("RSSMRA85T10A562S"));
  CHECK(it_codice_fiscale_valid("BNCLRA90A41F205I"));
  CHECK_FALSE(it_codice_fiscale_valid("RSSMRA85T10A562T"));
  CHECK_FALSE(it_codice_fiscale_valid("RSSMRA85X10A562S"));  // X is no month
  CHECK_FALSE(it_codice_fiscale_valid("RSSMRA85T10A562"));
}

TEST_CASE("de_tax_id_valid checks the digit and the repeat rule") {
  CHECK(de_tax_id_valid("86095742719"));
  CHECK(de_tax_id_valid("47 036 892 816"));
  CHECK_FALSE(de_tax_id_valid("86095742718"));
  CHECK_FALSE(de_tax_id_valid("12345678901"));  // no digit repeated
  CHECK_FALSE(de_tax_id_valid("06095742719"));  // leading zero
  CHECK_FALSE(de_tax_id_valid("11123456780"));  // three alike side by side
}

TEST_CASE("be_national_number_valid checks the key, also for those born from 2000") {
  CHECK(be_national_number_valid("85.07.30-033.28"));
  CHECK(be_national_number_valid("00012556777"));
  CHECK_FALSE(be_national_number_valid("85.07.30-033.29"));
  CHECK_FALSE(be_national_number_valid("85133003328"));
}

TEST_CASE("fi_hetu_valid checks the character, the date and the century sign") {
  CHECK(fi_hetu_valid("131052-308T"));
  CHECK(fi_hetu_valid("010594Y9032"));
  CHECK_FALSE(fi_hetu_valid("131052-308U"));
  CHECK_FALSE(fi_hetu_valid("311352-308T"));
  CHECK_FALSE(fi_hetu_valid("131052G308T"));
}

TEST_CASE("se_personnummer_valid is Luhn over ten digits and a date") {
  CHECK(se_personnummer_valid("811218-9876"));
  CHECK(se_personnummer_valid("198112189876"));
  CHECK(se_personnummer_valid("8112189876"));
  CHECK_FALSE(se_personnummer_valid("811218-9875"));
  CHECK_FALSE(se_personnummer_valid("811318-9876"));
}

TEST_CASE("pt_nif_valid checks the digit and the first digit") {
  CHECK(pt_nif_valid("123456789"));
  CHECK(pt_nif_valid("501442600"));
  CHECK_FALSE(pt_nif_valid("123456788"));
  CHECK_FALSE(pt_nif_valid("423456789"));
}

TEST_CASE("us_ssn_valid refuses the never-issued forms") {
  CHECK(us_ssn_valid("536-22-8746"));
  CHECK(us_ssn_valid("287 65 4321"));
  CHECK(us_ssn_valid("450114567"));
  CHECK_FALSE(us_ssn_valid("000-22-8746"));
  CHECK_FALSE(us_ssn_valid("666-22-8746"));
  CHECK_FALSE(us_ssn_valid("912-22-8746"));
  CHECK_FALSE(us_ssn_valid("536-00-8746"));
  CHECK_FALSE(us_ssn_valid("536-22-0000"));
  CHECK_FALSE(us_ssn_valid("078-05-1120"));
  CHECK_FALSE(us_ssn_valid("111-22-3333"));
  CHECK(us_ssn_valid("111-22-3334"));
}

TEST_CASE("uk_nino_valid refuses the prefixes HMRC never issues") {
  CHECK(uk_nino_valid("JH 43 71 22 C"));
  CHECK(uk_nino_valid("pw627315a"));
  CHECK_FALSE(uk_nino_valid("QQ123456C"));
  CHECK_FALSE(uk_nino_valid("GB437122C"));
  CHECK_FALSE(uk_nino_valid("JO437122C"));
  CHECK_FALSE(uk_nino_valid("JH437122E"));
}

TEST_CASE("public_ip_valid leaves out the ranges that name no one") {
  CHECK(public_ip_valid("81.2.69.142"));
  CHECK(public_ip_valid("2a01:4f8:c17:1d3f::1"));
  CHECK(public_ip_valid("::ffff:81.2.69.142"));
  for (const char* reserved : {"127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.20", "100.64.1.1", "169.254.0.9",
                               "192.0.2.1", "198.51.100.7", "203.0.113.7", "224.0.0.1", "255.255.255.255",
                               "0.0.0.0", "::1", "::", "fe80::1", "fd12:3456::1", "ff02::1",
                               "2001:db8::1", "::ffff:192.168.0.1"})
    CHECK_FALSE(public_ip_valid(reserved));
  CHECK_FALSE(public_ip_valid("1.2.3.256"));
  CHECK_FALSE(public_ip_valid("not an address"));
}

TEST_CASE("calendar_date_valid takes real dates in the usual orders") {
  CHECK(calendar_date_valid("1985-03-12"));
  CHECK(calendar_date_valid("12.03.1985"));
  CHECK(calendar_date_valid("03/25/1985"));  // M/D/Y
  CHECK(calendar_date_valid("29.02.2000"));
  CHECK_FALSE(calendar_date_valid("29.02.1900"));
  CHECK_FALSE(calendar_date_valid("1985-13-40"));
  CHECK_FALSE(calendar_date_valid("31.04.1985"));
  CHECK_FALSE(calendar_date_valid("12.03.1850"));
  CHECK_FALSE(calendar_date_valid("12.03.85"));
}

TEST_CASE("e164_valid takes international numbers and refuses counters and fillers") {
  CHECK(e164_valid("+44 20 7946 0958"));
  CHECK(e164_valid("+1 (415) 555-2671"));
  CHECK(e164_valid("+49-30-901820"));
  CHECK(e164_valid("+819047256183"));
  CHECK_FALSE(e164_valid("44 20 7946 0958"));      // no '+'
  CHECK_FALSE(e164_valid("+0 123 456 789"));       // no country code starts with 0
  CHECK_FALSE(e164_valid("+1234567"));             // 7 digits: too short
  CHECK_FALSE(e164_valid("+1234567890123456"));    // 16 digits: too long
  CHECK_FALSE(e164_valid("+12345678"));            // a run
  CHECK_FALSE(e164_valid("+98765432"));            // a run down
  CHECK_FALSE(e164_valid("+1111111111"));          // one digit
  CHECK_FALSE(e164_valid("+44 20 7946 0958 ext"));  // a letter
}
