#include "chain/transaction.hpp"

namespace lpops::chain {
namespace {

std::vector<rlp::Item> legacy_fields(const LegacyTransaction& tx) {
  using rlp::Item;
  return {Item::bytes(rlp::integer_bytes(tx.nonce)),
          Item::bytes(wei_bytes(tx.gas_price)),
          Item::bytes(rlp::integer_bytes(tx.gas)),
          Item::bytes(tx.to ? rlp::Bytes(tx.to->begin(), tx.to->end()) : rlp::Bytes{}),
          Item::bytes(wei_bytes(tx.value)),
          Item::bytes(tx.data)};
}

rlp::Bytes trimmed(const std::array<std::uint8_t, 32>& word) {
  std::size_t first = 0;
  while (first < word.size() && word[first] == 0) ++first;
  return rlp::Bytes(word.begin() + static_cast<std::ptrdiff_t>(first), word.end());
}

}  // namespace

rlp::Bytes wei_bytes(const Wei& value) {
  rlp::Bytes out;
  if (value == 0) return out;
  mp::export_bits(value, std::back_inserter(out), 8);
  return out;
}

Hash256 LegacyTransaction::signing_hash() const {
  auto fields = legacy_fields(*this);
  fields.push_back(rlp::Item::bytes(rlp::integer_bytes(chain_id)));
  fields.push_back(rlp::Item::bytes({}));
  fields.push_back(rlp::Item::bytes({}));
  rlp::Bytes encoded = rlp::encode(rlp::Item::list(std::move(fields)));
  return keccak256(encoded.data(), encoded.size());
}

rlp::Bytes LegacyTransaction::sign(const PrivateKey& key) const {
  const Signature sig = sign_digest(key, signing_hash());
  auto fields = legacy_fields(*this);
  fields.push_back(rlp::Item::bytes(rlp::integer_bytes(35 + 2 * chain_id + sig.recovery_id)));  // EIP-155 v
  fields.push_back(rlp::Item::bytes(trimmed(sig.r)));
  fields.push_back(rlp::Item::bytes(trimmed(sig.s)));
  return rlp::encode(rlp::Item::list(std::move(fields)));
}

}  // namespace lpops::chain
