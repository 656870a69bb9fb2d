// lib/detect/validators: the structural checks (Luhn, IBAN, JWT shape) and entropy.
#include <catch2/catch.hpp>

#include "lib/detect/validators.h"

using namespace x420;
using namespace x420::detect;

TEST_CASE("structural validators decide") {
  CHECK(luhn_valid("4111111111111111"));
  CHECK(luhn_valid("4111-1111-1111-1111"));
  CHECK_FALSE(luhn_valid("4111111111111112"));
  CHECK(iban_valid("GB82WEST12345698765432"));
  CHECK(iban_valid("GB82 WEST 1234 5698 7654 32"));
  CHECK_FALSE(iban_valid("GB82WEST12345698765433"));
  CHECK(jwt_shaped("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"));
  CHECK_FALSE(jwt_shaped("eyJub3RhbGciOjF9.eyJzdWIiOiIxIn0.c2ln"));
  CHECK(shannon_entropy("aaaa") == 0);
  CHECK(shannon_entropy("abcd") == Approx(2.0));
}
