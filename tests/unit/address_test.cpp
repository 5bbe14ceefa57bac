#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>

#include "chain/address.hpp"

namespace lpops::chain {
namespace {

boost::json::value vectors() {
  std::ifstream in(std::string(LPOPS_VECTORS_DIR) + "/chain.json");
  return boost::json::parse(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
}

TEST(Address, Eip55ReproducesTheSharedVectors) {
  const auto doc = vectors();
  for (const auto& v : doc.at("eip55").as_array()) {
    auto a = parse_address(v.at("lower").as_string());
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(to_checksummed(*a), v.at("checksummed").as_string());
    EXPECT_EQ(to_lower_hex(*a), v.at("lower").as_string());
    EXPECT_TRUE(parse_address(v.at("checksummed").as_string()).ok());
  }
}

TEST(Address, RejectsBadChecksumsAndShapes) {
  // One letter's case flipped in a valid checksummed address.
  EXPECT_FALSE(parse_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD").ok());
  EXPECT_TRUE(parse_address("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED").ok());  // all upper: no checksum
  for (const char* bad : {"", "0x", "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae",
                          "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaedd", "0xzaaeb6053f3e94c9b9a09f33669435e7ef1beaed"})
    EXPECT_FALSE(parse_address(bad).ok()) << bad;
}

}  // namespace
}  // namespace lpops::chain

#include "chain/keys.hpp"

namespace lpops::chain {
namespace {

TEST(PrivateKey, DerivesTheSharedVectorAddress) {
  const auto doc = vectors();
  const auto& key = doc.at("key");
  auto k = PrivateKey::from_hex(key.at("private_key").as_string());
  ASSERT_TRUE(k.ok()) << k.error();
  EXPECT_EQ(to_checksummed(k->address()), key.at("address").as_string());
  auto one = PrivateKey::from_hex(std::string(63, '0') + "1");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(to_lower_hex(one->address()), "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf");
}

TEST(PrivateKey, RejectsZeroOrderAndMalformedKeys) {
  EXPECT_FALSE(PrivateKey::from_hex(std::string(64, '0')).ok());
  EXPECT_FALSE(PrivateKey::from_hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141").ok());  // n
  EXPECT_FALSE(PrivateKey::from_hex("0x1234").ok());
  EXPECT_FALSE(PrivateKey::from_hex(std::string(64, 'g')).ok());
}

}  // namespace
}  // namespace lpops::chain
