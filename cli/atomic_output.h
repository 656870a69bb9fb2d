// A file that appears whole or not at all: written under a temporary name in the same folder
// (mode 0600, since what goes in may be private), then fsynced and renamed over the target.
// Destroyed before commit(), it removes the temporary file and leaves the target untouched.
#pragma once

#include <filesystem>
#include <string_view>

#include "lib/common/result.h"

namespace x420::cli {

class AtomicOutput {
 public:
  static Result<AtomicOutput> create(const std::filesystem::path& target);
  AtomicOutput(AtomicOutput&& other) noexcept;
  AtomicOutput& operator=(AtomicOutput&&) = delete;
  ~AtomicOutput();

  Status write(std::string_view bytes);
  Status commit();  // fsync, rename over the target, fsync the folder

 private:
  AtomicOutput(std::filesystem::path target, std::filesystem::path temp, int fd)
      : target_(std::move(target)), temp_(std::move(temp)), fd_(fd) {}
  Error failure(std::string_view doing) const;

  std::filesystem::path target_;
  std::filesystem::path temp_;
  int fd_ = -1;
};

}  // namespace x420::cli
