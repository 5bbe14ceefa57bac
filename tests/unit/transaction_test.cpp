#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>

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

}  // namespace
}  // namespace lpops::chain
