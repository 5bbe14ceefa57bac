#pragma once
// Ethereum transactions: legacy with EIP-155 replay protection. (EIP-1559 type-2 comes next.)
#include <cstdint>
#include <optional>
#include <vector>

#include "chain/address.hpp"
#include "chain/keys.hpp"
#include "chain/rlp.hpp"
#include "chain/signature.hpp"
#include "domain/money.hpp"

namespace lpops::chain {

struct LegacyTransaction {
  std::uint64_t chain_id = 1;
  std::uint64_t nonce = 0;
  Wei gas_price = 0;
  std::uint64_t gas = 21000;
  std::optional<Address> to;  // none = contract creation
  Wei value = 0;
  rlp::Bytes data;

  Hash256 signing_hash() const;                        // keccak(rlp([..., chain_id, 0, 0]))
  rlp::Bytes sign(const PrivateKey& key) const;        // the raw signed transaction
};

// Big-endian without leading zeros, as RLP encodes integers.
rlp::Bytes wei_bytes(const Wei& value);

}  // namespace lpops::chain
