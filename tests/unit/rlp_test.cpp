#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <boost/json.hpp>

#include <fstream>

#include "chain/rlp.hpp"
#include "domain/digest.hpp"

namespace lpops::chain::rlp {
namespace {

Bytes str(std::string_view s) { return Bytes(s.begin(), s.end()); }
std::string hex(const Bytes& b) { return hex_lower(b.data(), b.size()); }
Bytes unhex(std::string_view h) {
  Bytes out(h.size() / 2);
  EXPECT_TRUE(hex_decode(h, out.data(), out.size()));
  return out;
}

TEST(Rlp, EncodesTheSpecificationExamples) {
  EXPECT_EQ(hex(encode(Item::bytes(str("dog")))), "83646f67");
  EXPECT_EQ(hex(encode(Item::list({Item::bytes(str("cat")), Item::bytes(str("dog"))}))), "c88363617483646f67");
  EXPECT_EQ(hex(encode(Item::bytes({}))), "80");
  EXPECT_EQ(hex(encode(Item::list({}))), "c0");
  EXPECT_EQ(hex(encode(Item::bytes(integer_bytes(0)))), "80");
  EXPECT_EQ(hex(encode(Item::bytes(integer_bytes(15)))), "0f");
  EXPECT_EQ(hex(encode(Item::bytes(integer_bytes(1024)))), "820400");
  // The set-theoretic representation of three: [ [], [[]], [ [], [[]] ] ]
  Item empty = Item::list({});
  Item one = Item::list({empty});
  EXPECT_EQ(hex(encode(Item::list({empty, one, Item::list({empty, one})}))), "c7c0c1c0c3c0c1c0");
  const std::string lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";
  EXPECT_EQ(hex(encode(Item::bytes(str(lorem)))).substr(0, 4), "b838");
}

TEST(Rlp, DecodeRejectsMalformedInput) {
  for (const char* bad : {"", "83646f", "c88363617483646f", "b80100", "8100", "8180" "00", "f800", "b90000",
                          "c1", "83646f6700"})
    EXPECT_FALSE(decode(unhex(bad)).ok()) << bad;
  EXPECT_FALSE(decode(Bytes(100, 0xc1)).ok());  // nested too deep and truncated
  Bytes deep(kMaxDepth + 2, 0xc0);
  EXPECT_FALSE(decode(deep).ok());
}

TEST(Rlp, RoundTripsTheSharedLegacyTransaction) {
  std::ifstream in(std::string(LPOPS_VECTORS_DIR) + "/chain.json");
  auto v = boost::json::parse(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  std::string raw(v.at("legacy_tx").at("raw").as_string());
  Bytes bytes = unhex(raw.substr(2));
  auto tx = decode(bytes);
  ASSERT_TRUE(tx.ok()) << tx.error();
  ASSERT_TRUE(tx->is_list());
  ASSERT_EQ(tx->as_list().size(), 9u);  // nonce, gasPrice, gas, to, value, data, v, r, s
  EXPECT_EQ(hex(tx->as_list()[0].as_bytes()), "07");
  EXPECT_EQ(hex(tx->as_list()[3].as_bytes()), "2222222222222222222222222222222222222222");
  EXPECT_EQ(encode(*tx), bytes);
}

Item random_item(int depth) {
  if (depth > 3 || *rc::gen::inRange(0, 3) == 0) return Item::bytes(*rc::gen::arbitrary<Bytes>());
  std::vector<Item> items;
  const int n = *rc::gen::inRange(0, 5);
  for (int i = 0; i < n; ++i) items.push_back(random_item(depth + 1));
  return Item::list(std::move(items));
}

TEST(Rlp, DecodeInvertsEncodeProperty) {
  EXPECT_TRUE(rc::check("decode(encode(x)) == x", [] {
    Item item = random_item(0);
    auto decoded = decode(encode(item));
    RC_ASSERT(decoded.ok());
    RC_ASSERT(*decoded == item);
  }));
}

}  // namespace
}  // namespace lpops::chain::rlp
