#include "lib/common/result.h"

namespace x420 {

int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage: return 2;
    case ErrorKind::conflict: return 2;
    case ErrorKind::auth: return 3;
    case ErrorKind::forbidden: return 3;
    case ErrorKind::not_found: return 4;
    case ErrorKind::unavailable: return 5;
    case ErrorKind::internal: return 70;
  }
  return 70;
}

const char* kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage: return "usage";
    case ErrorKind::conflict: return "conflict";
    case ErrorKind::auth: return "auth";
    case ErrorKind::forbidden: return "forbidden";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::unavailable: return "unavailable";
    case ErrorKind::internal: return "internal";
  }
  return "internal";
}

}  // namespace x420
