// The registration rank check (TOP_CONTRACT_ADDRESS) end to end: a BondingManager pool
// contract on anvil, a started `lpops serve` reading it over JSON-RPC.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <thread>

#include "chain/abi.hpp"
#include "chain/eth_rpc.hpp"
#include "chain/fees.hpp"
#include "chain/hex.hpp"
#include "chain/transaction.hpp"
#include "tests/anvil/deploy.hpp"
#include "tests/support/anvil_process.hpp"
#include "tests/support/run_awaitable.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace lpops::testing {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace lpops::chain;

std::string address_hex(int i) {
  char buf[43];
  std::snprintf(buf, sizeof buf, "0x%040x", 0x1000 + i);
  return buf;
}

// Deploys BondingManagerPool(pool) and returns its address.
Address deploy_pool(const std::string& url, const std::vector<std::string>& pool) {
  std::vector<abi::Value> members;
  for (const auto& a : pool) members.push_back(abi::Value::address(parse_address(a).value()));
  auto args = abi::encode({abi::Type::parse("address[]").value()}, {abi::Value::list(members)}).value();
  return deploy_contract(url, "BondingManagerPool.sol", "BondingManagerPool", args);
}

json::value post_register(HttpClient& c, const std::string& id, const std::string& address, int* status) {
  auto r = c.request("POST", "/api/orchestrators/register",
                     json::serialize(json::object{{"orchestrator_id", id}, {"address", address}}));
  *status = r.status;
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  return ec ? json::value(r.body) : v;
}

// One series' value in the Prometheus text, if the series is there.
std::optional<double> metric_value(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(RankCheck, RegistrationNeedsAnAddressInTheTranscoderPool) {
  AnvilProcess anvil;
  ASSERT_TRUE(anvil.start()) << anvil.log();
  const Address pool = deploy_pool(anvil.url(), {address_hex(1), address_hex(2), address_hex(3)});
  TempDir dir;
  const std::map<std::string, std::string> env{{"TOP_CONTRACT_ADDRESS", to_lower_hex(pool)},
                                               {"ETH_RPC_URL", anvil.url()},
                                               {"TOP_CACHE_TTL_SECONDS", "1"},
                                               {"PAYMENTS_REGISTRATION_PER_MINUTE", "100"},
                                               {"PAYMENTS_REGISTRATION_BURST", "100"},
                                               // Bootstrap entries skip the rank check.
                                               {"PAYMENTS_BOOTSTRAP_ORCHESTRATORS",
                                                "[{\"orchestrator_id\":\"boot\",\"address\":\"" + address_hex(50) + "\"}]"}};
  NodeProcess node(dir.str() + "/data", env);
  ASSERT_TRUE(node.start()) << node.log();
  HttpClient c("127.0.0.1", node.port());
  auto ready = json::parse(c.request("GET", "/readyz").body);
  EXPECT_EQ(std::string(ready.at("rank_check").as_string()).rfind("enabled", 0), 0u) << ready;

  int status = 0;
  auto in_pool = post_register(c, "o1", address_hex(2), &status);
  EXPECT_EQ(status, 200) << in_pool;
  EXPECT_TRUE(in_pool.at("is_top_100").as_bool());
  auto outside = post_register(c, "o2", address_hex(9), &status);
  EXPECT_EQ(status, 403) << outside;
  EXPECT_EQ(outside.at("detail").as_string(), "Address is not part of the current top orchestrators");
  EXPECT_EQ(json::parse(c.request("GET", "/api/orchestrators/o2").body).at("detail").as_string(), "Not found");
  EXPECT_EQ(json::parse(c.request("GET", "/api/orchestrators/boot").body).at("orchestrator_id").as_string(), "boot");

  // The node goes away: once the cache is stale, the stale cache still answers.
  anvil.stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  post_register(c, "o3", address_hex(3), &status);
  EXPECT_EQ(status, 200);
  EXPECT_NE(node.log().find("using the cache"), std::string::npos) << node.log();
  // Just after a failed read, the stale cache answers at once: no registration waits for
  // another read (1 s TTL long past) until the back-off has passed.
  // (A read begins with eth_blockNumber, the block every call of the walk is made at.)
  const std::string failed_reads = R"(lpops_chain_rpc_calls_total{method="eth_blockNumber",outcome="transport"})";
  const auto reads_before = metric_value(c.request("GET", "/metrics").body, failed_reads);
  post_register(c, "o4", address_hex(10), &status);
  EXPECT_EQ(status, 403);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  post_register(c, "o5", address_hex(1), &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(metric_value(c.request("GET", "/metrics").body, failed_reads), reads_before);
  // The pool's reads, counted by outcome: answered while anvil ran, refused since.
  const std::string metrics = c.request("GET", "/metrics").body;
  EXPECT_GE(metric_value(metrics, R"(lpops_chain_rpc_calls_total{method="eth_call",outcome="ok"})").value_or(0), 1.0) << metrics;
  EXPECT_GE(metric_value(metrics, R"(lpops_chain_rpc_calls_total{method="eth_blockNumber",outcome="transport"})").value_or(0), 1.0)
      << metrics;
  EXPECT_EQ(node.terminate(), 0) << node.log();
}

TEST(RankCheck, NoPoolAndNoCacheIs503) {
  TempDir dir;
  NodeProcess node(dir.str() + "/data", {{"TOP_CONTRACT_ADDRESS", address_hex(77)},
                                         {"ETH_RPC_URL", "http://127.0.0.1:" + std::to_string(free_loopback_port())}});
  ASSERT_TRUE(node.start()) << node.log();
  HttpClient c("127.0.0.1", node.port(), std::chrono::seconds(30));
  int status = 0;
  auto r = post_register(c, "o1", address_hex(1), &status);
  EXPECT_EQ(status, 503) << r;
  EXPECT_EQ(r.at("detail").as_string(), "Unable to validate orchestrator rank at this time");
  const std::string metrics = c.request("GET", "/metrics").body;
  EXPECT_EQ(metric_value(metrics, R"(lpops_chain_rpc_calls_total{method="eth_call",outcome="ok"})"), std::nullopt) << metrics;
  EXPECT_GE(metric_value(metrics, R"(lpops_chain_rpc_calls_total{method="eth_blockNumber",outcome="transport"})").value_or(0), 1.0)
      << metrics;
  EXPECT_EQ(node.terminate(), 0) << node.log();
}

}  // namespace
}  // namespace lpops::testing
