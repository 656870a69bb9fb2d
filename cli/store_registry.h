// The stores opened with a master key file, listed beside it (<key file's folder>/stores): a key
// file can open more than one store (the default one and a --db elsewhere), and `x420 kek rotate`
// on one of them leaves the others unopenable. doctor lists them; kek rotate refuses to strand one.
//
// Best effort by design: the list only learns of stores this user opened, and a store that was
// moved or deleted is left out when read. It never holds a key, only paths.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace x420::cli {

std::filesystem::path store_registry_path(const std::filesystem::path& key_file);

// Adds `db` (made absolute) if it is not listed yet. Never fails the command: an unwritable
// folder only means the store is not listed.
void remember_store(const std::filesystem::path& key_file, const std::string& db);

// The listed stores that exist, `except` (the one at hand) left out.
std::vector<std::string> stores_sharing(const std::filesystem::path& key_file, const std::string& except = {});

}  // namespace x420::cli
