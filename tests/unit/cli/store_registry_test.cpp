// cli/store_registry: the list of stores opened with a key file, which kek rotate and doctor read.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "cli/store_registry.h"
#include "support/temp_dir.h"

using namespace x420::cli;

namespace {

void touch(const std::string& path) { std::ofstream(path) << "x"; }

}  // namespace

TEST_CASE("stores opened with a key file are remembered once, and read back if they still exist") {
  x420::test::TempDir dir;
  const auto key = dir.path() / "config" / "master.key";
  std::filesystem::create_directories(key.parent_path());
  const auto a = dir.file("a.db"), b = dir.file("b.db"), gone = dir.file("gone.db");
  touch(a), touch(b), touch(gone);

  CHECK(stores_sharing(key).empty());  // no list yet
  remember_store(key, a);
  remember_store(key, b);
  remember_store(key, a);  // once only
  remember_store(key, gone);
  std::filesystem::remove(gone);
  const auto canonical = [](const std::string& p) { return std::filesystem::weakly_canonical(p).string(); };
  CHECK(stores_sharing(key) == std::vector<std::string>{canonical(a), canonical(b)});
  CHECK(stores_sharing(key, a) == std::vector<std::string>{canonical(b)});
  // A relative spelling of the same store is the same store.
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  CHECK(stores_sharing(key, "./a.db") == std::vector<std::string>{canonical(b)});
  std::filesystem::current_path(cwd);

  const auto registry = store_registry_path(key);
  CHECK(registry == key.parent_path() / "stores");
  CHECK((std::filesystem::status(registry).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
}

TEST_CASE("an unwritable folder leaves the store unlisted, and the command unharmed") {
  x420::test::TempDir dir;
  const auto key = dir.path() / "missing-folder" / "master.key";
  remember_store(key, dir.file("a.db"));  // no folder to write in: nothing happens
  CHECK(stores_sharing(key).empty());
}
