#include "tests/anvil/deploy.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <thread>

#include "chain/eth_rpc.hpp"
#include "chain/fees.hpp"
#include "chain/hex.hpp"
#include "chain/transaction.hpp"
#include "tests/support/anvil_process.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/run_awaitable.hpp"

namespace lpops::testing {
namespace {

namespace asio = boost::asio;
using namespace lpops::chain;

// Signs and sends; the receipt, or nullopt when it never came.
std::optional<Receipt> transact(const std::string& url, const PrivateKey& key, std::optional<Address> to, abi::Bytes data) {
  asio::io_context ioc;
  EthRpc rpc(RpcClient::create(ioc.get_executor(), url).value());
  Eip1559Transaction tx;
  tx.chain_id = AnvilProcess::kChainId;
  tx.nonce = *run_awaitable(ioc, rpc.get_transaction_count(key.address()));
  auto fees = run_awaitable(ioc, fetch_fees(rpc, FeeCaps{}));
  tx.max_fee_per_gas = fees->max_fee_per_gas;
  tx.max_priority_fee_per_gas = fees->max_priority_fee_per_gas;
  tx.gas = 3'000'000;
  tx.to = to;
  tx.data = std::move(data);
  auto hash = run_awaitable(ioc, rpc.send_raw_transaction(tx.sign(key)));
  EXPECT_TRUE(hash.ok()) << hash.error->describe();
  if (!hash.ok()) return std::nullopt;
  for (int i = 0; i < 100; ++i) {
    auto receipt = run_awaitable(ioc, rpc.get_transaction_receipt(*hash));
    if (receipt.ok() && receipt->has_value()) return **receipt;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "no receipt for " << to_hex(*hash);
  return std::nullopt;
}

}  // namespace

Address deploy_contract(const std::string& url, const std::string& file, const std::string& contract,
                        const abi::Bytes& constructor_args) {
  auto compiled = run_command({LPOPS_NODE_PROGRAM, std::string(LPOPS_TESTS_DIR) + "/anvil/compile.mjs",
                               std::string(LPOPS_TESTS_DIR) + "/anvil/" + file, contract});
  EXPECT_EQ(compiled.exit_code, 0) << compiled.output;
  if (compiled.exit_code != 0) return {};
  abi::Bytes code = from_hex(boost::json::parse(compiled.output).at("bytecode").as_string()).value();
  code.insert(code.end(), constructor_args.begin(), constructor_args.end());
  auto receipt = transact(url, PrivateKey::from_hex(AnvilProcess::kFundedKey).value(), std::nullopt, std::move(code));
  EXPECT_TRUE(receipt && receipt->success && receipt->contract_address) << contract << " not deployed";
  return receipt && receipt->contract_address ? *receipt->contract_address : Address{};
}

bool send_transaction(const std::string& url, const PrivateKey& key, const Address& to, const abi::Bytes& data) {
  auto receipt = transact(url, key, to, data);
  return receipt && receipt->success;
}

}  // namespace lpops::testing
