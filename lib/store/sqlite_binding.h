// Binding values to SQLiteCpp statements and reading them back, shared by the files of the SQLite
// store (internal to lib/store: no other layer sees an SQLite type).
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdint>
#include <optional>
#include <string>

#include "lib/store/records.h"

namespace x420::store::sqlite {

inline void bind_blob(SQLite::Statement& st, int index, const Blob& b) {
  st.bind(index, b.data(), static_cast<int>(b.size()));
}

inline void bind_opt(SQLite::Statement& st, int index, const std::optional<std::int64_t>& v) {
  if (v) st.bind(index, static_cast<std::int64_t>(*v));
  else st.bind(index);
}

inline void bind_opt(SQLite::Statement& st, int index, const std::optional<Blob>& v) {
  if (v) bind_blob(st, index, *v);
  else st.bind(index);
}

inline void bind_opt(SQLite::Statement& st, int index, const std::optional<std::string>& v) {
  if (v) st.bind(index, *v);
  else st.bind(index);
}

// An empty text is stored as NULL (a column that may have no value).
inline void bind_text_or_null(SQLite::Statement& st, int index, const std::string& v) {
  if (v.empty()) st.bind(index);
  else st.bind(index, v);
}

inline Blob blob_of(const SQLite::Column& c) {
  const auto* p = static_cast<const std::uint8_t*>(c.getBlob());
  return Blob(p, p + c.getBytes());
}

inline std::optional<std::int64_t> opt_int(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getInt64();
}

inline std::optional<Blob> opt_blob(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return blob_of(c);
}

inline std::string text_or_empty(const SQLite::Column& c) { return c.isNull() ? std::string() : c.getString(); }

}  // namespace x420::store::sqlite
