#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "lib/crypto/secret_bytes.h"

int main(int argc, char* argv[]) {
  x420::crypto::ensure_sodium();  // libsodium wants its first init on the main thread
  return Catch::Session().run(argc, argv);
}
