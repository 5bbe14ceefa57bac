// chain/ against a real Ethereum node: anvil (tests/node_modules) on a loopback port.
// Our client and signer send EIP-1559 and legacy transfers, deploy a contract compiled
// with solc, call it, decode its logs, and get the node's errors back typed.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <cctype>
#include <chrono>
#include <thread>

#include "chain/abi.hpp"
#include "chain/eth_rpc.hpp"
#include "chain/fees.hpp"
#include "chain/hex.hpp"
#include "chain/livepeer_rpc.hpp"
#include "chain/nonce_manager.hpp"
#include "chain/transaction.hpp"
#include "tests/support/anvil_process.hpp"
#include "tests/support/run_awaitable.hpp"
#include "tests/support/node_process.hpp"

namespace lpops::chain {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using testing::AnvilProcess;

const Wei kGwei = 1'000'000'000;

template <class T>
T run(asio::io_context& ioc, asio::awaitable<T> work) {
  return testing::run_awaitable(ioc, std::move(work));
}

class AnvilTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    anvil_ = new AnvilProcess();
    ASSERT_TRUE(anvil_->start()) << "anvil did not start (run scripts/setup.sh): " << anvil_->log();
  }
  static void TearDownTestSuite() {
    delete anvil_;
    anvil_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(anvil_, nullptr);
    client_ = RpcClient::create(ioc_.get_executor(), anvil_->url()).value();
    rpc_ = std::make_unique<EthRpc>(client_);
  }

  // Polls (bounded) until the transaction is mined; anvil mines each transaction at once.
  Receipt wait_receipt(const Hash256& hash) {
    for (int i = 0; i < 100; ++i) {
      auto r = run(ioc_, rpc_->get_transaction_receipt(hash));
      EXPECT_TRUE(r.ok()) << r.error->describe();
      if (r.ok() && r->has_value()) return **r;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "no receipt for " << to_hex(hash);
    return {};
  }

  Hash256 send(const abi::Bytes& raw) {
    auto sent = run(ioc_, rpc_->send_raw_transaction(raw));
    EXPECT_TRUE(sent.ok()) << sent.error->describe();
    return sent.ok() ? *sent : Hash256{};
  }

  Eip1559Transaction eip1559_to(const PrivateKey& key, std::optional<Address> to, Wei value, abi::Bytes data = {}) {
    Eip1559Transaction tx;
    tx.chain_id = AnvilProcess::kChainId;
    auto pending = run(ioc_, rpc_->get_transaction_count(key.address()));
    EXPECT_TRUE(pending.ok());
    tx.nonce = nonces_.reserve(key.address(), pending.ok() ? *pending : 0);
    auto fees = run(ioc_, fetch_fees(*rpc_, FeeCaps{}));
    EXPECT_TRUE(fees.ok()) << fees.error->describe();
    EXPECT_TRUE(fees->eip1559);
    tx.max_fee_per_gas = fees->max_fee_per_gas;
    tx.max_priority_fee_per_gas = fees->max_priority_fee_per_gas;
    tx.to = to;
    tx.value = value;
    tx.data = std::move(data);
    auto gas = run(ioc_, rpc_->estimate_gas(CallRequest{key.address(), to, value, tx.data, std::nullopt}));
    EXPECT_TRUE(gas.ok()) << gas.error->describe();
    tx.gas = gas.ok() ? *gas : 1'000'000;
    return tx;
  }

  static AnvilProcess* anvil_;
  asio::io_context ioc_;
  std::shared_ptr<RpcClient> client_;
  std::unique_ptr<EthRpc> rpc_;
  NonceManager nonces_;
  PrivateKey funded_ = PrivateKey::from_hex(AnvilProcess::kFundedKey).value();
};

AnvilProcess* AnvilTest::anvil_ = nullptr;

TEST_F(AnvilTest, ReadsChainState) {
  auto id = run(ioc_, rpc_->chain_id());
  ASSERT_TRUE(id.ok()) << id.error->describe();
  EXPECT_EQ(*id, AnvilProcess::kChainId);
  auto balance = run(ioc_, rpc_->get_balance(funded_.address()));
  ASSERT_TRUE(balance.ok());
  EXPECT_GT(*balance, Wei(1000) * kGwei * kGwei);
  auto block = run(ioc_, rpc_->block_number());
  ASSERT_TRUE(block.ok());
  auto history = run(ioc_, rpc_->fee_history(1, "latest", std::vector<double>{50.0}));
  ASSERT_TRUE(history.ok()) << history.error->describe();
  EXPECT_EQ(history->base_fee_per_gas.size(), 2u);
}

TEST_F(AnvilTest, SendsEip1559AndLegacyTransfers) {
  const Address to = PrivateKey::from_hex("0x" + std::string(63, '0') + "7").value().address();
  const auto before = run(ioc_, rpc_->get_balance(to));
  ASSERT_TRUE(before.ok());

  auto tx = eip1559_to(funded_, to, Wei(12345) * kGwei);
  const auto raw = tx.sign(funded_);
  const Hash256 hash = send(raw);
  EXPECT_EQ(hash, keccak256(raw.data(), raw.size()));
  const Receipt r1 = wait_receipt(hash);
  EXPECT_TRUE(r1.success);
  EXPECT_EQ(r1.gas_used, 21000u);
  nonces_.confirm(funded_.address(), tx.nonce);

  LegacyTransaction legacy;
  legacy.chain_id = AnvilProcess::kChainId;
  legacy.nonce = nonces_.reserve(funded_.address(), *run(ioc_, rpc_->get_transaction_count(funded_.address())));
  legacy.gas_price = *run(ioc_, rpc_->gas_price());
  legacy.gas = 21000;
  legacy.to = to;
  legacy.value = 1;
  const Receipt r2 = wait_receipt(send(legacy.sign(funded_)));
  EXPECT_TRUE(r2.success);
  EXPECT_EQ(r2.effective_gas_price, legacy.gas_price);

  const auto after = run(ioc_, rpc_->get_balance(to));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before + Wei(12345) * kGwei + 1);
}

TEST_F(AnvilTest, DeploysCallsAndDecodesLogsOfASolcContract) {
  auto compiled = testing::run_command(
      {LPOPS_NODE_PROGRAM, std::string(LPOPS_TESTS_DIR) + "/anvil/compile.mjs", std::string(LPOPS_TESTS_DIR) + "/anvil/Probe.sol",
       "Probe"});
  ASSERT_EQ(compiled.exit_code, 0) << compiled.output;
  const json::value artifact = json::parse(compiled.output);
  const abi::Bytes bytecode = from_hex(artifact.at("bytecode").as_string()).value();

  auto deploy = eip1559_to(funded_, std::nullopt, 0, bytecode);
  const Receipt deployed = wait_receipt(send(deploy.sign(funded_)));
  ASSERT_TRUE(deployed.success);
  ASSERT_TRUE(deployed.contract_address.has_value());
  const Address probe = *deployed.contract_address;

  // A call that returns, and one that reverts with a reason.
  const auto doubler = abi::Function::parse("double(uint256)", "uint256").value();
  auto ok = run(ioc_, rpc_->call(CallRequest{std::nullopt, probe, 0, doubler.encode_call({abi::Value::uint(4)}).value(), std::nullopt}));
  ASSERT_TRUE(ok.ok()) << ok.error->describe();
  EXPECT_EQ(doubler.decode_output(*ok).value()[0].as_uint(), 8);
  auto reverted = run(ioc_, rpc_->call(CallRequest{std::nullopt, probe, 0, doubler.encode_call({abi::Value::uint(11)}).value(), std::nullopt}));
  ASSERT_FALSE(reverted.ok());
  EXPECT_EQ(reverted.error->kind, RpcError::Kind::Rpc);
  EXPECT_EQ(revert_reason(*reverted.error).value_or(""), "x too large") << reverted.error->describe();
  EXPECT_NE(reverted.error->message.find("x too large"), std::string::npos) << reverted.error->message;
  const auto boom = abi::Function::parse("boom(uint256)", "uint256").value();
  auto panicked = run(ioc_, rpc_->call(CallRequest{std::nullopt, probe, 0, boom.encode_call({abi::Value::uint(3)}).value(), std::nullopt}));
  ASSERT_FALSE(panicked.ok());
  EXPECT_EQ(revert_reason(*panicked.error).value_or(""), "panic 0x32");  // array index out of bounds
  auto estimate = run(ioc_, rpc_->estimate_gas(CallRequest{funded_.address(), probe, 0, doubler.encode_call({abi::Value::uint(11)}).value(), std::nullopt}));
  ASSERT_FALSE(estimate.ok());
  EXPECT_EQ(revert_reason(*estimate.error).value_or(""), "x too large");

  // A transaction whose event carries indexed values, a string and a tuple array.
  const auto store = abi::Function::parse("store(uint256,string,(uint256,bytes)[])").value();
  const auto items = abi::Value::list({abi::Value::list({abi::Value::uint(5), abi::Value::bytes_of({0xaa, 0xbb})}),
                                       abi::Value::list({abi::Value::uint(7), abi::Value::bytes_of({})})});
  auto tx = eip1559_to(funded_, probe, 0, store.encode_call({abi::Value::uint(42), abi::Value::string_of("hello €"), items}).value());
  const Receipt stored = wait_receipt(send(tx.sign(funded_)));
  ASSERT_TRUE(stored.success);
  ASSERT_EQ(stored.logs.size(), 1u);
  const auto stored_event = abi::Event::parse("Stored(address indexed who, uint256 indexed key, string note, (uint256,bytes)[] items)").value();
  auto decoded = stored_event.decode_log(stored.logs[0].topics, stored.logs[0].data);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_EQ((*decoded)[0].as_address(), funded_.address());
  EXPECT_EQ((*decoded)[1].as_uint(), 42);
  EXPECT_EQ((*decoded)[2].as_string(), "hello €");
  EXPECT_EQ((*decoded)[3], items);
  EXPECT_EQ(stored.logs[0].address, probe);

  // The same log through eth_getLogs with a topic filter.
  LogFilter filter;
  filter.addresses = {probe};
  filter.topics = {stored_event.topic()};
  auto logs = run(ioc_, rpc_->get_logs(filter));
  ASSERT_TRUE(logs.ok()) << logs.error->describe();
  ASSERT_EQ(logs->size(), 1u);
  EXPECT_EQ((*logs)[0].data, stored.logs[0].data);
  const auto total = abi::Function::parse("total()", "uint256").value();
  auto t = run(ioc_, rpc_->call(CallRequest{std::nullopt, probe, 0, total.encode_call({}).value(), std::nullopt}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(total.decode_output(*t).value()[0].as_uint(), 12);
}

TEST_F(AnvilTest, LivepeerDiscoveryAuxDataAndDeposits) {
  auto compiled = testing::run_command({LPOPS_NODE_PROGRAM, std::string(LPOPS_TESTS_DIR) + "/anvil/compile.mjs",
                                        std::string(LPOPS_TESTS_DIR) + "/anvil/LivepeerMock.sol", "LivepeerMock"});
  ASSERT_EQ(compiled.exit_code, 0) << compiled.output;
  auto deploy = eip1559_to(funded_, std::nullopt, 0, from_hex(json::parse(compiled.output).at("bytecode").as_string()).value());
  const Receipt deployed = wait_receipt(send(deploy.sign(funded_)));
  ASSERT_TRUE(deployed.contract_address.has_value());
  const Address broker = *deployed.contract_address;

  auto contracts = run(ioc_, livepeer::discover(*rpc_, broker));
  ASSERT_TRUE(contracts.ok()) << contracts.error->describe();
  EXPECT_EQ(contracts->controller, broker);
  EXPECT_EQ(contracts->rounds_manager, broker);
  auto aux = run(ioc_, livepeer::fetch_aux_data(*rpc_, contracts->rounds_manager));
  ASSERT_TRUE(aux.ok()) << aux.error->describe();
  // uint256 creationRound ‖ bytes32 creationRoundBlockHash, written out by hand.
  abi::Bytes expected(32, 0);
  expected[30] = 0x0f;  // 4000 = 0x0fa0
  expected[31] = 0xa0;
  const Hash256 block_hash = keccak256("round 4000");
  expected.insert(expected.end(), block_hash.begin(), block_hash.end());
  EXPECT_EQ(*aux, expected);
  EXPECT_EQ(livepeer::aux_data(4000, block_hash), expected);

  // fundDeposit from our signer; the receipt's DepositFunded log decodes; getSenderInfo agrees.
  auto fund = eip1559_to(funded_, broker, Wei(3) * kGwei, livepeer::fund_deposit_calldata());
  const Receipt funded = wait_receipt(send(fund.sign(funded_)));
  ASSERT_TRUE(funded.success);
  ASSERT_EQ(funded.logs.size(), 1u);
  auto event = livepeer::decode_deposit_funded(funded.logs[0].topics, funded.logs[0].data);
  ASSERT_TRUE(event.ok()) << event.error();
  EXPECT_EQ(event->sender, funded_.address());
  EXPECT_EQ(event->amount, Wei(3) * kGwei);
  auto info = run(ioc_, livepeer::fetch_sender_info(*rpc_, broker, funded_.address()));
  ASSERT_TRUE(info.ok()) << info.error->describe();
  EXPECT_EQ(info->deposit, Wei(3) * kGwei);

  // An uninitialised round is an error, not a ticket with stale auxData.
  const auto set_round = abi::Function::parse("setRound(uint256,bool)").value();
  auto tx = eip1559_to(funded_, broker, 0, set_round.encode_call({abi::Value::uint(4001), abi::Value::boolean(false)}).value());
  ASSERT_TRUE(wait_receipt(send(tx.sign(funded_))).success);
  auto stale = run(ioc_, livepeer::fetch_aux_data(*rpc_, broker));
  ASSERT_FALSE(stale.ok());
  EXPECT_NE(stale.error->message.find("not initialized"), std::string::npos);
  // A contract that is not a Controller: discovery fails with a clear error.
  auto none = run(ioc_, livepeer::discover(*rpc_, funded_.address()));
  EXPECT_FALSE(none.ok());
}

TEST_F(AnvilTest, NodeErrorsComeBackTyped) {
  // Nonce too low: a nonce the chain has already used.
  auto tx = eip1559_to(funded_, funded_.address(), 1);
  wait_receipt(send(tx.sign(funded_)));
  auto again = tx;
  again.value = 2;  // same nonce, different transaction
  auto low = run(ioc_, rpc_->send_raw_transaction(again.sign(funded_)));
  ASSERT_FALSE(low.ok());
  EXPECT_EQ(low.error->kind, RpcError::Kind::Rpc);
  EXPECT_NE(low.error->message.find("nonce too low"), std::string::npos) << low.error->describe();

  // Insufficient funds: a fresh key with nothing on it.
  const auto poor = PrivateKey::from_hex("0x" + std::string(60, '0') + "beef").value();
  Eip1559Transaction broke;
  broke.chain_id = AnvilProcess::kChainId;
  broke.max_fee_per_gas = Wei(10) * kGwei;
  broke.max_priority_fee_per_gas = kGwei;
  broke.to = funded_.address();
  broke.value = kGwei;
  auto poor_result = run(ioc_, rpc_->send_raw_transaction(broke.sign(poor)));
  ASSERT_FALSE(poor_result.ok());
  EXPECT_EQ(poor_result.error->kind, RpcError::Kind::Rpc);
  std::string message = poor_result.error->message;
  for (auto& c : message) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_NE(message.find("insufficient funds"), std::string::npos) << poor_result.error->describe();

  // A wrong chain id is refused by the node too.
  broke.chain_id = 1;
  auto wrong_chain = run(ioc_, rpc_->send_raw_transaction(broke.sign(funded_)));
  ASSERT_FALSE(wrong_chain.ok());
  EXPECT_EQ(wrong_chain.error->kind, RpcError::Kind::Rpc);
}

TEST_F(AnvilTest, FeesCommandAppliesTheConfiguredCaps) {
  auto ok = testing::run_command({testing::lpops_binary(), "fees"}, {{"ETH_RPC_URL", anvil_->url()}});
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  auto quote = json::parse(ok.output);
  EXPECT_EQ(quote.at("type").as_string(), "eip1559");
  EXPECT_LE(parse_wei(quote.at("max_fee_per_gas_wei").as_string()).value(), Wei(500) * kGwei);
  // A cap below the node's base fee: the price is refused, not paid.
  auto capped = testing::run_command({testing::lpops_binary(), "fees"},
                                     {{"ETH_RPC_URL", anvil_->url()}, {"PAYMENTS_MAX_FEE_PER_GAS_WEI", "1"}});
  EXPECT_EQ(capped.exit_code, 1) << capped.output;
  EXPECT_NE(capped.output.find("above the max fee cap"), std::string::npos) << capped.output;
  auto bad = testing::run_command({testing::lpops_binary(), "fees"},
                                  {{"ETH_RPC_URL", anvil_->url()}, {"PAYMENTS_MAX_PRIORITY_FEE_PER_GAS_WEI", "-3"}});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("PAYMENTS_MAX_PRIORITY_FEE_PER_GAS_WEI"), std::string::npos) << bad.output;
}

TEST_F(AnvilTest, BatchesMatchRepliesToCalls) {
  std::vector<RpcCall> calls{{"eth_chainId", {}}, {"no_such_method", {}}, {"eth_blockNumber", {}}};
  auto replies = run(ioc_, client_->batch(std::move(calls)));
  ASSERT_EQ(replies.size(), 3u);
  ASSERT_TRUE(replies[0].ok());
  EXPECT_EQ(parse_quantity_u64(replies[0].result).value(), AnvilProcess::kChainId);
  ASSERT_FALSE(replies[1].ok());
  EXPECT_EQ(replies[1].error->kind, RpcError::Kind::Rpc);
  EXPECT_EQ(replies[1].error->code, -32601);
  EXPECT_TRUE(replies[2].ok());
}

TEST(RpcTransport, RefusedConnectionsAreRetriedThenReported) {
  asio::io_context ioc;
  const auto port = testing::free_loopback_port();  // nothing listens there
  RpcOptions options;
  options.max_attempts = 3;
  options.backoff = std::chrono::milliseconds(50);
  auto client = RpcClient::create(ioc.get_executor(), "http://127.0.0.1:" + std::to_string(port), options).value();
  const auto start = std::chrono::steady_clock::now();
  auto reply = run(ioc, client->call("eth_chainId"));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error->kind, RpcError::Kind::Transport);
  EXPECT_NE(reply.error->message.find("after 3 attempts"), std::string::npos) << reply.error->message;
  EXPECT_GE(elapsed, std::chrono::milliseconds(150));  // 50 + 100 ms of backoff
}

TEST(RpcTransport, ASilentServerTimesOut) {
  asio::io_context ioc;
  // Accepts connections (through the backlog) and never answers.
  asio::ip::tcp::acceptor silent(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  RpcOptions options;
  options.timeout = std::chrono::milliseconds(200);
  options.max_attempts = 2;
  options.backoff = std::chrono::milliseconds(10);
  auto client = RpcClient::create(ioc.get_executor(), "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()), options)
                    .value();
  auto reply = run(ioc, client->call("eth_chainId"));
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error->kind, RpcError::Kind::Timeout) << reply.error->describe();
  EXPECT_EQ(client->requests_sent(), 2u);
}

TEST(RpcTransport, RejectsBadUrls) {
  asio::io_context ioc;
  EXPECT_FALSE(RpcClient::create(ioc.get_executor(), "ftp://127.0.0.1").ok());
  EXPECT_FALSE(RpcClient::create(ioc.get_executor(), "not a url").ok());
  auto c = RpcClient::create(ioc.get_executor(), "https://user:secret@node.example:8545/v1/key?x=1").value();
  EXPECT_EQ(c->redacted_url(), "https://node.example:8545/…");  // a path or query may hold an API key
  EXPECT_EQ(RpcClient::create(ioc.get_executor(), "http://127.0.0.1:8545/").value()->redacted_url(), "http://127.0.0.1:8545");
}

}  // namespace
}  // namespace lpops::chain
