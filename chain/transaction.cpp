#include "chain/transaction.hpp"

#include <algorithm>
#include <limits>

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

rlp::Item address_item(const std::optional<Address>& to) {
  return rlp::Item::bytes(to ? rlp::Bytes(to->begin(), to->end()) : rlp::Bytes{});
}

std::vector<rlp::Item> eip1559_fields(const Eip1559Transaction& tx) {
  using rlp::Item;
  std::vector<Item> access;
  for (const auto& entry : tx.access_list) {
    std::vector<Item> keys;
    for (const auto& k : entry.storage_keys) keys.push_back(Item::bytes(rlp::Bytes(k.begin(), k.end())));
    access.push_back(Item::list({Item::bytes(rlp::Bytes(entry.address.begin(), entry.address.end())), Item::list(std::move(keys))}));
  }
  return {Item::bytes(rlp::integer_bytes(tx.chain_id)),
          Item::bytes(rlp::integer_bytes(tx.nonce)),
          Item::bytes(wei_bytes(tx.max_priority_fee_per_gas)),
          Item::bytes(wei_bytes(tx.max_fee_per_gas)),
          Item::bytes(rlp::integer_bytes(tx.gas)),
          address_item(tx.to),
          Item::bytes(wei_bytes(tx.value)),
          Item::bytes(tx.data),
          Item::list(std::move(access))};
}

rlp::Bytes typed(std::uint8_t type, const rlp::Item& payload) {
  rlp::Bytes out{type};
  rlp::encode_to(payload, out);
  return out;
}

// --- decoding ---

const rlp::Bytes* bytes_field(const rlp::Item& item) { return item.is_list() ? nullptr : &item.as_bytes(); }

Result<Wei> read_wei(const rlp::Item& item, const char* name) {
  const rlp::Bytes* b = bytes_field(item);
  if (!b) return Error{std::string(name) + " must be a byte string"};
  if (b->size() > 32) return Error{std::string(name) + " is longer than 32 bytes"};
  if (!b->empty() && (*b)[0] == 0) return Error{std::string(name) + " has a leading zero byte"};
  Wei v = 0;
  if (!b->empty()) mp::import_bits(v, b->begin(), b->end(), 8);
  return v;
}

Result<std::uint64_t> read_u64(const rlp::Item& item, const char* name) {
  auto v = read_wei(item, name);
  if (!v) return Error{v.error()};
  if (*v > std::numeric_limits<std::uint64_t>::max()) return Error{std::string(name) + " does not fit in 64 bits"};
  return static_cast<std::uint64_t>(*v);
}

Result<std::optional<Address>> read_to(const rlp::Item& item) {
  const rlp::Bytes* b = bytes_field(item);
  if (!b) return Error{"to must be a byte string"};
  if (b->empty()) return std::optional<Address>{};
  if (b->size() != 20) return Error{"to must be 20 bytes or empty"};
  Address a;
  std::copy(b->begin(), b->end(), a.begin());
  return std::optional<Address>{a};
}

Result<std::array<std::uint8_t, 32>> read_scalar(const rlp::Item& item, const char* name) {
  auto v = read_wei(item, name);
  if (!v) return Error{v.error()};
  std::array<std::uint8_t, 32> out{};
  const rlp::Bytes& b = *bytes_field(item);
  std::copy(b.begin(), b.end(), out.end() - static_cast<std::ptrdiff_t>(b.size()));
  return out;
}

Result<Signature> read_signature(const rlp::Item& r, const rlp::Item& s, std::uint8_t recovery_id) {
  auto rr = read_scalar(r, "r");
  if (!rr) return Error{rr.error()};
  auto ss = read_scalar(s, "s");
  if (!ss) return Error{ss.error()};
  std::array<std::uint8_t, 65> rsv{};
  std::copy(rr->begin(), rr->end(), rsv.begin());
  std::copy(ss->begin(), ss->end(), rsv.begin() + 32);
  rsv[64] = recovery_id;
  return Signature::from_rsv(rsv.data(), rsv.size());
}

Result<std::vector<AccessListEntry>> read_access_list(const rlp::Item& item) {
  if (!item.is_list()) return Error{"access list must be a list"};
  std::vector<AccessListEntry> out;
  for (const auto& e : item.as_list()) {
    if (!e.is_list() || e.as_list().size() != 2 || e.as_list()[0].is_list() || !e.as_list()[1].is_list())
      return Error{"access list entries are [address, [keys]]"};
    const auto& addr = e.as_list()[0].as_bytes();
    if (addr.size() != 20) return Error{"access list address must be 20 bytes"};
    AccessListEntry entry;
    std::copy(addr.begin(), addr.end(), entry.address.begin());
    for (const auto& k : e.as_list()[1].as_list()) {
      if (k.is_list() || k.as_bytes().size() != 32) return Error{"access list storage keys are 32 bytes"};
      Hash256 key;
      std::copy(k.as_bytes().begin(), k.as_bytes().end(), key.begin());
      entry.storage_keys.push_back(key);
    }
    out.push_back(std::move(entry));
  }
  return out;
}

#define LPOPS_TRY(var, expr)            \
  auto var##_r = (expr);                \
  if (!var##_r) return Error{var##_r.error()}; \
  auto var = std::move(var##_r).value()

Result<DecodedTransaction> decode_legacy(const std::vector<rlp::Item>& f) {
  if (f.size() != 9) return Error{"a legacy transaction has 9 fields"};
  DecodedTransaction tx;
  tx.type = 0;
  LPOPS_TRY(nonce, read_u64(f[0], "nonce"));
  LPOPS_TRY(gas_price, read_wei(f[1], "gasPrice"));
  LPOPS_TRY(gas, read_u64(f[2], "gas"));
  LPOPS_TRY(to, read_to(f[3]));
  LPOPS_TRY(value, read_wei(f[4], "value"));
  if (f[5].is_list()) return Error{"data must be a byte string"};
  LPOPS_TRY(v, read_wei(f[6], "v"));
  tx.nonce = nonce;
  tx.gas_price = gas_price;
  tx.gas = gas;
  tx.to = to;
  tx.value = value;
  tx.data = f[5].as_bytes();
  std::uint8_t recovery_id;
  if (v == 27 || v == 28) {
    recovery_id = static_cast<std::uint8_t>(v - 27);
  } else if (v >= 37) {
    const Wei chain = (v - 35) / 2;
    if (chain > std::numeric_limits<std::uint64_t>::max()) return Error{"chain id does not fit in 64 bits"};
    tx.chain_id = static_cast<std::uint64_t>(chain);
    recovery_id = static_cast<std::uint8_t>((v - 35) % 2);
  } else {
    return Error{"legacy v must be 27, 28 or 35 + 2 * chainId + {0,1}"};
  }
  LPOPS_TRY(sig, read_signature(f[7], f[8], recovery_id));
  tx.signature = sig;
  LegacyTransaction unsigned_tx{tx.chain_id.value_or(0), tx.nonce, tx.gas_price, tx.gas, tx.to, tx.value, tx.data};
  Hash256 digest;
  if (tx.chain_id) {
    digest = unsigned_tx.signing_hash();
  } else {
    rlp::Bytes pre155 = rlp::encode(rlp::Item::list(legacy_fields(unsigned_tx)));
    digest = keccak256(pre155.data(), pre155.size());
  }
  LPOPS_TRY(from, recover_address(digest, tx.signature));
  tx.from = from;
  return tx;
}

Result<DecodedTransaction> decode_eip1559(const std::vector<rlp::Item>& f) {
  if (f.size() != 12) return Error{"an EIP-1559 transaction has 12 fields"};
  DecodedTransaction tx;
  tx.type = 2;
  LPOPS_TRY(chain_id, read_u64(f[0], "chainId"));
  LPOPS_TRY(nonce, read_u64(f[1], "nonce"));
  LPOPS_TRY(tip, read_wei(f[2], "maxPriorityFeePerGas"));
  LPOPS_TRY(cap, read_wei(f[3], "maxFeePerGas"));
  LPOPS_TRY(gas, read_u64(f[4], "gas"));
  LPOPS_TRY(to, read_to(f[5]));
  LPOPS_TRY(value, read_wei(f[6], "value"));
  if (f[7].is_list()) return Error{"data must be a byte string"};
  LPOPS_TRY(access, read_access_list(f[8]));
  LPOPS_TRY(parity, read_wei(f[9], "yParity"));
  if (parity > 1) return Error{"yParity must be 0 or 1"};
  LPOPS_TRY(sig, read_signature(f[10], f[11], static_cast<std::uint8_t>(parity)));
  tx.chain_id = chain_id;
  tx.nonce = nonce;
  tx.max_priority_fee_per_gas = tip;
  tx.max_fee_per_gas = cap;
  tx.gas = gas;
  tx.to = to;
  tx.value = value;
  tx.data = f[7].as_bytes();
  tx.access_list = access;
  tx.signature = sig;
  Eip1559Transaction unsigned_tx{chain_id, nonce, tip, cap, gas, to, value, tx.data, access};
  LPOPS_TRY(from, recover_address(unsigned_tx.signing_hash(), tx.signature));
  tx.from = from;
  return tx;
}

#undef LPOPS_TRY

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

rlp::Bytes LegacyTransaction::sign(const PrivateKey& key) const { return signed_with(sign_digest(key, signing_hash())); }

rlp::Bytes LegacyTransaction::signed_with(const Signature& sig) const {
  auto fields = legacy_fields(*this);
  // EIP-155 v, in 256 bits: a decoded transaction's chain id may take all 64 of its own.
  fields.push_back(rlp::Item::bytes(wei_bytes(Wei{35} + Wei{2} * chain_id + sig.recovery_id)));
  fields.push_back(rlp::Item::bytes(trimmed(sig.r)));
  fields.push_back(rlp::Item::bytes(trimmed(sig.s)));
  return rlp::encode(rlp::Item::list(std::move(fields)));
}

}  // namespace lpops::chain

namespace lpops::chain {

Hash256 Eip1559Transaction::signing_hash() const {
  const rlp::Bytes encoded = typed(0x02, rlp::Item::list(eip1559_fields(*this)));
  return keccak256(encoded.data(), encoded.size());
}

rlp::Bytes Eip1559Transaction::sign(const PrivateKey& key) const { return signed_with(sign_digest(key, signing_hash())); }

rlp::Bytes Eip1559Transaction::signed_with(const Signature& sig) const {
  auto fields = eip1559_fields(*this);
  fields.push_back(rlp::Item::bytes(rlp::integer_bytes(sig.recovery_id)));
  fields.push_back(rlp::Item::bytes(trimmed(sig.r)));
  fields.push_back(rlp::Item::bytes(trimmed(sig.s)));
  return typed(0x02, rlp::Item::list(std::move(fields)));
}

Result<DecodedTransaction> decode_transaction(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return Error{"empty transaction"};
  Result<DecodedTransaction> out = Error{""};
  if (data[0] >= 0xc0) {
    auto item = rlp::decode(data, size);
    if (!item) return Error{"transaction RLP: " + item.error()};
    if (!item->is_list()) return Error{"a legacy transaction is an RLP list"};
    out = decode_legacy(item->as_list());
  } else if (data[0] == 0x02) {
    auto item = rlp::decode(data + 1, size - 1);
    if (!item) return Error{"transaction RLP: " + item.error()};
    if (!item->is_list()) return Error{"a type-2 transaction payload is an RLP list"};
    out = decode_eip1559(item->as_list());
  } else {
    return Error{"unsupported transaction type 0x" + std::string(1, "0123456789abcdef"[data[0] >> 4]) +
                 std::string(1, "0123456789abcdef"[data[0] & 0xf])};
  }
  if (!out) return out;
  out.value().hash = keccak256(data, size);
  return out;
}

}  // namespace lpops::chain
