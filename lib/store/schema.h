// The SQLite schema as an ordered list of migrations. Migration N takes a store from schema
// version N-1 to N; `PRAGMA user_version` records where a file stands.
#pragma once

#include <span>
#include <string_view>

namespace x420::store {

// 'x420' in ASCII, written to `PRAGMA application_id` so that x420 recognises its own files and
// refuses other programs' SQLite databases.
inline constexpr int kApplicationId = 0x78343230;

std::span<const std::string_view> sqlite_migrations();

}  // namespace x420::store
