// SecretBytes: key material that is wiped (sodium_memzero) when it goes out of scope.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace x420::crypto {

// Calls sodium_init() once; safe to call from anywhere, but the first call should come from main.
void ensure_sodium();

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t size) : bytes_(size) {}
  SecretBytes(const std::uint8_t* data, size_t size) : bytes_(data, data + size) {}
  ~SecretBytes();

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  SecretBytes clone() const { return SecretBytes(data(), size()); }

  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  std::string_view view() const { return {reinterpret_cast<const char*>(data()), size()}; }

 private:
  void wipe();
  std::vector<std::uint8_t> bytes_;
};

// Wipes a std::string that held a secret (a key's plaintext after it was printed).
void wipe(std::string& s);

}  // namespace x420::crypto
