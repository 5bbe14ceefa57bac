#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>

#include "chain/hex.hpp"
#include "chain/transaction.hpp"
#include "domain/digest.hpp"

namespace lpops::chain {
namespace {

TEST(LegacyTransaction, ReproducesTheSharedEip155Vector) {
  std::ifstream in(std::string(LPOPS_VECTORS_DIR) + "/chain.json");
  const auto doc = boost::json::parse(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  const auto& v = doc.at("legacy_tx");
  const auto& f = v.at("fields");
  LegacyTransaction tx;
  tx.chain_id = f.at("chain_id").to_number<std::uint64_t>();
  tx.nonce = f.at("nonce").to_number<std::uint64_t>();
  tx.gas_price = Wei{std::string(f.at("gas_price").as_string())};
  tx.gas = f.at("gas").to_number<std::uint64_t>();
  tx.to = parse_address(f.at("to").as_string()).value();
  tx.value = Wei{std::string(f.at("value").as_string())};
  auto key = PrivateKey::from_hex(doc.at("key").at("private_key").as_string()).value();
  rlp::Bytes raw = tx.sign(key);
  EXPECT_EQ("0x" + hex_lower(raw.data(), raw.size()), v.at("raw").as_string());
  Hash256 hash = keccak256(raw.data(), raw.size());
  EXPECT_EQ("0x" + hex_lower(hash.data(), hash.size()), v.at("hash").as_string());
}

TEST(LegacyTransaction, WeiBytesAreMinimalBigEndian) {
  EXPECT_TRUE(wei_bytes(Wei{0}).empty());
  EXPECT_EQ(wei_bytes(Wei{1}), (rlp::Bytes{1}));
  EXPECT_EQ(wei_bytes(Wei{256}), (rlp::Bytes{1, 0}));
  EXPECT_EQ(wei_bytes(max_wei()).size(), 32u);
}

TEST(DecodeTransaction, ReadsBackTheSharedLegacyVector) {
  std::ifstream in(std::string(LPOPS_VECTORS_DIR) + "/chain.json");
  const auto doc = boost::json::parse(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  const auto raw = from_hex(doc.at("legacy_tx").at("raw").as_string()).value();
  auto tx = decode_transaction(raw);
  ASSERT_TRUE(tx.ok()) << tx.error();
  EXPECT_EQ(tx->type, 0);
  EXPECT_EQ(tx->chain_id, 42161u);
  EXPECT_EQ(tx->nonce, 7u);
  EXPECT_EQ(tx->gas_price, 20000000);
  EXPECT_EQ(tx->value, Wei{1000000000000000ull});
  EXPECT_EQ(to_checksummed(tx->from), doc.at("key").at("address").as_string());
  EXPECT_EQ(to_hex(tx->hash), doc.at("legacy_tx").at("hash").as_string());
}

TEST(DecodeTransaction, Eip1559RoundTripsWithAccessList) {
  auto key = PrivateKey::from_hex("0x1111111111111111111111111111111111111111111111111111111111111111").value();
  Eip1559Transaction tx;
  tx.chain_id = 31337;
  tx.nonce = 3;
  tx.max_priority_fee_per_gas = 1'000'000'000;
  tx.max_fee_per_gas = Wei{"30000000000"};
  tx.gas = 50000;
  tx.to = parse_address("0x2222222222222222222222222222222222222222").value();
  tx.value = 12345;
  tx.data = {0xde, 0xad};
  Hash256 slot{};
  slot[31] = 7;
  tx.access_list = {{*tx.to, {slot}}};
  const auto raw = tx.sign(key);
  EXPECT_EQ(raw[0], 0x02);
  auto back = decode_transaction(raw);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->type, 2);
  EXPECT_EQ(back->chain_id, 31337u);
  EXPECT_EQ(back->max_fee_per_gas, tx.max_fee_per_gas);
  EXPECT_EQ(back->max_priority_fee_per_gas, tx.max_priority_fee_per_gas);
  EXPECT_EQ(back->data, tx.data);
  EXPECT_EQ(back->access_list, tx.access_list);
  EXPECT_EQ(back->from, key.address());
  EXPECT_EQ(back->hash, keccak256(raw.data(), raw.size()));
}

TEST(DecodeTransaction, RejectsMalformedInput) {
  auto key = PrivateKey::from_hex("0x1111111111111111111111111111111111111111111111111111111111111111").value();
  Eip1559Transaction tx;
  tx.to = parse_address("0x2222222222222222222222222222222222222222").value();
  const auto raw = tx.sign(key);
  EXPECT_FALSE(decode_transaction(rlp::Bytes{}).ok());
  EXPECT_FALSE(decode_transaction(rlp::Bytes(raw.begin(), raw.end() - 1)).ok());  // truncated
  auto trailing = raw;
  trailing.push_back(0);
  EXPECT_FALSE(decode_transaction(trailing).ok());
  auto other_type = raw;
  other_type[0] = 0x05;
  EXPECT_FALSE(decode_transaction(other_type).ok());
  // Re-encode with s replaced by n - s (the high, malleable twin): rejected.
  auto item = rlp::decode(raw.data() + 1, raw.size() - 1).value();
  auto fields = item.as_list();
  Wei n{"115792089237316195423570985008687907852837564279074904382605163141518161494337"};
  Wei s_value;
  const auto& s_bytes = fields[11].as_bytes();
  mp::import_bits(s_value, s_bytes.begin(), s_bytes.end(), 8);
  fields[11] = rlp::Item::bytes(wei_bytes(n - s_value));
  fields[9] = rlp::Item::bytes(rlp::integer_bytes(fields[9].as_bytes().empty() ? 1 : 0));
  rlp::Bytes high_s{0x02};
  rlp::encode_to(rlp::Item::list(fields), high_s);
  EXPECT_FALSE(decode_transaction(high_s).ok());
  // y parity out of range; a nonce with a leading zero byte (non-canonical).
  fields = item.as_list();
  fields[9] = rlp::Item::bytes({2});
  rlp::Bytes bad_parity{0x02};
  rlp::encode_to(rlp::Item::list(fields), bad_parity);
  EXPECT_FALSE(decode_transaction(bad_parity).ok());
  fields = item.as_list();
  fields[1] = rlp::Item::bytes({0, 1});
  rlp::Bytes leading_zero{0x02};
  rlp::encode_to(rlp::Item::list(fields), leading_zero);
  EXPECT_FALSE(decode_transaction(leading_zero).ok());
  // A legacy transaction with v = 29 is neither pre- nor post-EIP-155.
  const auto legacy_raw = LegacyTransaction{1, 0, 1, 21000, tx.to, 0, {}}.sign(key);
  auto legacy = rlp::decode(legacy_raw).value().as_list();
  legacy[6] = rlp::Item::bytes({29});
  EXPECT_FALSE(decode_transaction(rlp::encode(rlp::Item::list(legacy))).ok());
}

}  // namespace
}  // namespace lpops::chain
