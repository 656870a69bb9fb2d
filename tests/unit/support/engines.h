// Detection engines for the lib/detect tests: one from given rules, one from the built-ins.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "lib/detect/engine.h"

namespace x420::test {

inline std::unique_ptr<detect::Engine> build(detect::EngineConfig config) {
  auto e = detect::Engine::build(std::move(config));
  if (!e) FAIL(e.error().message);
  return std::move(e.value());
}

inline std::unique_ptr<detect::Engine> builtin_engine() {
  detect::EngineConfig c;
  c.rules = detect::builtin_rule_file().rules;
  c.allowlist = detect::builtin_rule_file().allowlist;
  return build(std::move(c));
}

// A GitHub token of the right shape (36 characters after the prefix); not a real one.
inline const std::string kGithub = "ghp_" + std::string("aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A");

}  // namespace x420::test
