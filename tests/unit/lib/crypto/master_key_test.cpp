// lib/crypto/master_key: the master key's text form and its 0600 file.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <filesystem>

#include "lib/crypto/aead.h"
#include "lib/crypto/master_key.h"
#include "support/temp_dir.h"

using namespace x420;
using namespace x420::crypto;

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
