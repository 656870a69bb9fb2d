// The version `x420 --version` prints; CMake's project version is the source of truth.
#pragma once

namespace x420::cli {
#ifndef X420_VERSION
#define X420_VERSION "0.0.0-dev"
#endif
inline constexpr const char* kVersion = X420_VERSION;
// The git commit of the source ("1a2b3c4d5e6f", "…-dirty", or "unknown" outside a checkout),
// written at build time (cli/build_info).
extern const char* const kBuildCommit;
}  // namespace x420::cli
