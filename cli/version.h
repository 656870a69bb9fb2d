// The version `x420 --version` prints; CMake's project version is the source of truth.
#pragma once

namespace x420::cli {
#ifndef X420_VERSION
#define X420_VERSION "0.0.0-dev"
#endif
inline constexpr const char* kVersion = X420_VERSION;
}  // namespace x420::cli
