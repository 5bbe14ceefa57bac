#pragma once
// Recoverable secp256k1 signatures (RFC 6979 nonces, low-s) and EIP-191 personal messages.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "chain/address.hpp"
#include "chain/keccak.hpp"
#include "chain/keys.hpp"
#include "domain/result.hpp"

namespace lpops::chain {

struct Signature {
  std::array<std::uint8_t, 32> r{}, s{};
  std::uint8_t recovery_id = 0;  // 0 or 1

  // r ‖ s ‖ v with v = 27 + recovery_id, as EIP-191 signatures are written.
  std::array<std::uint8_t, 65> to_rsv() const;
  // Accepts v in {0, 1, 27, 28}; rejects s > n/2 (malleable) and r or s out of range.
  static Result<Signature> from_rsv(const std::uint8_t* data, std::size_t size);
  static Result<Signature> from_hex(std::string_view text);
  // The same, with v also in the chain-id form of EIP-155 (35 and above: 35 + 2 × chain id +
  // recovery id), as eth_account's recover_message reads a signature.
  static Result<Signature> from_hex_any_v(std::string_view text);
  std::string to_hex() const;
};

Signature sign_digest(const PrivateKey& key, const Hash256& digest);
Result<Address> recover_address(const Hash256& digest, const Signature& signature);

// keccak256("\x19Ethereum Signed Message:\n32" ‖ hash): what personal_sign signs for a hash.
Hash256 eip191_hash32(const Hash256& hash);

}  // namespace lpops::chain
