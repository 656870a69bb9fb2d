#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <fstream>

#include "lib/crypto/aead.h"
#include "lib/crypto/keyed_hash.h"
#include "lib/crypto/master_key.h"
#include "lib/crypto/random.h"
#include "support/temp_dir.h"

using namespace x420;
using namespace x420::crypto;

TEST_CASE("sealed record opens with the same key and associated data") {
  const auto key = generate_key();
  const auto sealed = seal(key, std::string_view("hello, tenant"), "tenant:t1|record:7");
  REQUIRE(sealed.size() == kEnvelopeOverhead + 13);
  auto opened = open(key, sealed, "tenant:t1|record:7");
  REQUIRE(opened.ok());
  CHECK(opened->view() == "hello, tenant");
}

TEST_CASE("every seal uses a fresh nonce") {
  const auto key = generate_key();
  const auto a = seal(key, std::string_view("same"), "ad");
  const auto b = seal(key, std::string_view("same"), "ad");
  CHECK(std::vector<std::uint8_t>(a.begin() + 1, a.begin() + 13) !=
        std::vector<std::uint8_t>(b.begin() + 1, b.begin() + 13));
  CHECK(a != b);
}

TEST_CASE("one flipped bit anywhere in a sealed record fails to open") {
  const auto key = generate_key();
  const auto sealed = seal(key, std::string_view("secret payload"), "ad");
  for (size_t byte = 0; byte < sealed.size(); ++byte) {
    auto tampered = sealed;
    tampered[byte] ^= 0x01;
    auto opened = open(key, tampered, "ad");
    INFO("flipped byte " << byte);
    REQUIRE_FALSE(opened.ok());
  }
}

TEST_CASE("a sealed record does not open under other associated data or another key") {
  const auto key = generate_key();
  const auto sealed = seal(key, std::string_view("payload"), "tenant:a");
  auto wrong_ad = open(key, sealed, "tenant:b");
  REQUIRE_FALSE(wrong_ad.ok());
  CHECK(wrong_ad.error().message.find("authentication") != std::string::npos);
  CHECK_FALSE(open(generate_key(), sealed, "tenant:a").ok());
}

TEST_CASE("a truncated or unknown-version envelope is refused with a reason") {
  const auto key = generate_key();
  auto sealed = seal(key, std::string_view("x"), "ad");
  auto truncated = open(key, std::span(sealed.data(), 10), "ad");
  REQUIRE_FALSE(truncated.ok());
  CHECK(truncated.error().message.find("truncated") != std::string::npos);
  sealed[0] = 0x7f;
  auto version = open(key, sealed, "ad");
  REQUIRE_FALSE(version.ok());
  CHECK(version.error().message.find("version") != std::string::npos);
}

TEST_CASE("keyed hash depends on the hashing key and the data") {
  const auto k1 = generate_key();
  const auto k2 = generate_key();
  CHECK(keyed_hash(k1, "abc") == keyed_hash(k1, "abc"));
  CHECK(keyed_hash(k1, "abc") != keyed_hash(k1, "abd"));
  CHECK(keyed_hash(k1, "abc") != keyed_hash(k2, "abc"));
  const auto h = keyed_hash(k1, "abc");
  auto other = h;
  CHECK(equal_constant_time(h, other));
  other[31] ^= 1;
  CHECK_FALSE(equal_constant_time(h, other));
}

TEST_CASE("random base62 strings use only the alphabet and differ") {
  const auto a = random_base62(64);
  const auto b = random_base62(64);
  CHECK(a.size() == 64);
  CHECK(a != b);
  for (char c : a) CHECK(kBase62Alphabet.find(c) != std::string_view::npos);
}

TEST_CASE("master key text form round-trips and rejects junk") {
  const auto key = generate_key();
  const auto text = encode_master_key(key);
  CHECK(text.starts_with("x420mk1:"));
  auto decoded = decode_master_key(text + "\n");
  REQUIRE(decoded.ok());
  CHECK(decoded->view() == key.view());
  CHECK_FALSE(decode_master_key("x420mk1:short").ok());
  CHECK_FALSE(decode_master_key("not-a-key").ok());
  CHECK_FALSE(decode_master_key(text + "A").ok());
}

TEST_CASE("master key file is written 0600 and read back") {
  test::TempDir dir;
  const auto path = dir.path() / "cfg" / "x420" / "master.key";
  const auto key = generate_key();
  REQUIRE(write_master_key_file(path, key).ok());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto read = read_master_key_file(path);
  REQUIRE(read.ok());
  CHECK(read->view() == key.view());
  // No temporary file is left beside it.
  CHECK(std::distance(std::filesystem::directory_iterator(path.parent_path()),
                      std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("master key file readable by group or others is refused") {
  test::TempDir dir;
  const auto path = dir.path() / "master.key";
  REQUIRE(write_master_key_file(path, generate_key()).ok());
  ::chmod(path.c_str(), 0640);
  auto read = read_master_key_file(path);
  REQUIRE_FALSE(read.ok());
  CHECK(read.error().message.find("chmod 600") != std::string::npos);
}

TEST_CASE("missing master key file is reported as not found") {
  test::TempDir dir;
  auto read = read_master_key_file(dir.path() / "absent.key");
  REQUIRE_FALSE(read.ok());
  CHECK(read.error().kind == ErrorKind::not_found);
}
