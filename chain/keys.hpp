#pragma once
// secp256k1 private keys (libsecp256k1): validation and address derivation. Key bytes
// are wiped when a PrivateKey dies.
#include <array>
#include <cstdint>
#include <string_view>

#include "chain/address.hpp"
#include "domain/result.hpp"

namespace lpops::chain {

class PrivateKey {
 public:
  // 32 bytes as 64 hex digits, with or without 0x; must be in [1, n-1].
  static Result<PrivateKey> from_hex(std::string_view text);
  static Result<PrivateKey> from_bytes(const std::array<std::uint8_t, 32>& bytes);
  ~PrivateKey();
  PrivateKey(const PrivateKey&) = default;
  PrivateKey& operator=(const PrivateKey&) = default;

  const std::array<std::uint8_t, 32>& bytes() const { return bytes_; }
  Address address() const;

 private:
  PrivateKey() = default;
  std::array<std::uint8_t, 32> bytes_{};
};

}  // namespace lpops::chain
