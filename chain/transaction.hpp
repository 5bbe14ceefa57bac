#pragma once
// Ethereum transactions: legacy with EIP-155 replay protection and EIP-1559 (type 2): build,
// sign, serialise, hash, and decode a raw signed transaction back (to check what a remote
// signer returns before broadcasting it).
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
  rlp::Bytes signed_with(const Signature& sig) const;  // the same with a signature made elsewhere
};

struct AccessListEntry {
  Address address{};
  std::vector<Hash256> storage_keys;
  friend bool operator==(const AccessListEntry&, const AccessListEntry&) = default;
};

struct Eip1559Transaction {
  std::uint64_t chain_id = 1;
  std::uint64_t nonce = 0;
  Wei max_priority_fee_per_gas = 0;
  Wei max_fee_per_gas = 0;
  std::uint64_t gas = 21000;
  std::optional<Address> to;
  Wei value = 0;
  rlp::Bytes data;
  std::vector<AccessListEntry> access_list;

  Hash256 signing_hash() const;                  // keccak(0x02 ‖ rlp([9 fields]))
  rlp::Bytes sign(const PrivateKey& key) const;  // 0x02 ‖ rlp([9 fields, y_parity, r, s])
  rlp::Bytes signed_with(const Signature& sig) const;
};

// A signed transaction read back from its raw bytes, with its sender recovered.
struct DecodedTransaction {
  int type = 0;                          // 0 legacy, 2 EIP-1559
  std::optional<std::uint64_t> chain_id;  // none for a pre-EIP-155 legacy transaction
  std::uint64_t nonce = 0;
  Wei gas_price = 0;                     // legacy
  Wei max_priority_fee_per_gas = 0;      // type 2
  Wei max_fee_per_gas = 0;               // type 2
  std::uint64_t gas = 0;
  std::optional<Address> to;
  Wei value = 0;
  rlp::Bytes data;
  std::vector<AccessListEntry> access_list;
  Signature signature;
  Address from{};
  Hash256 hash{};  // keccak256 of the raw bytes: the transaction hash
};

// Strict: canonical integers, 20-byte addresses, low-s, no trailing bytes; the sender must
// be recoverable.
Result<DecodedTransaction> decode_transaction(const std::uint8_t* data, std::size_t size);
inline Result<DecodedTransaction> decode_transaction(const rlp::Bytes& raw) { return decode_transaction(raw.data(), raw.size()); }

// Big-endian without leading zeros, as RLP encodes integers.
rlp::Bytes wei_bytes(const Wei& value);

}  // namespace lpops::chain
