#include "lib/common/utf8.h"

#include <simdjson.h>

namespace x420 {

bool is_valid_utf8(std::string_view bytes) noexcept { return simdjson::validate_utf8(bytes.data(), bytes.size()); }

}  // namespace x420
