// The rank check's off-chain answers read as the reference reads them: the subgraph's
// data.transcoders[].id; an explorer's list (or "orchestrators", or "data.orchestrators"),
// of each item the first of address, id, serviceURI, ethAddress that is an address.
#include <gtest/gtest.h>

#include "chain/address.hpp"
#include "chain/rank_sources.hpp"

namespace lpops::chain::rank {
namespace {

namespace json = boost::json;

std::vector<std::string> hex(const std::vector<Address>& v) {
  std::vector<std::string> out;
  for (const auto& a : v) out.push_back(to_lower_hex(a));
  return out;
}

const std::string a1 = "0x" + std::string(39, '0') + "1";
const std::string a2 = "0x" + std::string(39, '0') + "2";
// A mixed-case spelling must be EIP-55 to count (eth_utils.is_address).
const std::string checksummed = "0x52908400098527886E0F7030069857D2E4169EE7";
const std::string bad_checksum = "0x52908400098527886e0F7030069857D2E4169EE7";

TEST(RankSources, SubgraphIdsAreTheAddresses) {
  const auto answer = json::parse(R"({"data":{"transcoders":[{"id":")" + a1 + R"("},{"id":" )" + a2 +
                                  R"( "},{"id":"0x12"},{"id":5},{"x":1},"s",{"id":")" + checksummed + R"("},{"id":")" +
                                  bad_checksum + R"("}]}})");
  EXPECT_EQ(hex(subgraph_addresses(answer)), (std::vector<std::string>{a1, a2, to_lower_hex(parse_address(checksummed).value())}));
  EXPECT_TRUE(subgraph_addresses(json::parse(R"({"errors":[{"message":"no"}]})")).empty());
  EXPECT_TRUE(subgraph_addresses(json::parse(R"([1,2])")).empty());
  const auto request = subgraph_request(100);
  EXPECT_EQ(request.at("variables").at("limit").to_number<std::int64_t>(), 100);
  EXPECT_NE(std::string(request.at("query").as_string()).find("transcoders(first: $limit, where: {active: true})"),
            std::string::npos);
}

TEST(RankSources, ExplorerShapesAndKeysInTheReferenceOrder) {
  // A list; the first key that is an address decides (address before id).
  EXPECT_EQ(hex(explorer_addresses(json::parse(R"([{"address":")" + a1 + R"(","id":")" + a2 + R"("},{"id":")" + a2 +
                                               R"("},{"address":"nope","ethAddress":")" + a1 + R"("},{"serviceURI":"https://x"}])"))),
            (std::vector<std::string>{a1, a2, a1}));
  EXPECT_EQ(hex(explorer_addresses(json::parse(R"({"orchestrators":[{"id":")" + a1 + R"("}]})"))),
            (std::vector<std::string>{a1}));
  EXPECT_EQ(hex(explorer_addresses(json::parse(R"({"data":{"orchestrators":[{"ethAddress":")" + a2 + R"("}]}})"))),
            (std::vector<std::string>{a2}));
  EXPECT_TRUE(explorer_addresses(json::parse(R"({"orchestrators":"none"})")).empty());
  EXPECT_TRUE(explorer_addresses(json::parse(R"("text")")).empty());
}

}  // namespace
}  // namespace lpops::chain::rank
