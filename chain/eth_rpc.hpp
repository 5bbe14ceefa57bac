#pragma once
// Typed Ethereum JSON-RPC methods on top of RpcClient: quantities become integers, data
// becomes bytes, receipts and logs become structs. A malformed answer is a Protocol error,
// never a crash or a silently wrong number.
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chain/abi.hpp"
#include "chain/address.hpp"
#include "chain/keccak.hpp"
#include "chain/rpc_client.hpp"
#include "domain/money.hpp"

namespace lpops::chain {

template <class T>
struct RpcResult {
  std::optional<T> value;
  std::optional<RpcError> error;
  bool ok() const { return value.has_value(); }
  const T& operator*() const { return *value; }
  const T* operator->() const { return &*value; }
};

struct Log {
  Address address{};
  std::vector<Hash256> topics;
  abi::Bytes data;
  std::uint64_t block_number = 0;
  Hash256 transaction_hash{};
  std::uint64_t log_index = 0;
  bool removed = false;
};

struct Receipt {
  Hash256 transaction_hash{};
  bool success = false;  // status 0x1
  std::uint64_t block_number = 0;
  std::uint64_t gas_used = 0;
  Wei effective_gas_price = 0;
  std::optional<Address> contract_address;
  std::vector<Log> logs;
};

struct FeeHistory {
  std::uint64_t oldest_block = 0;
  std::vector<Wei> base_fee_per_gas;  // one more than the blocks asked: the last is the next block's
  std::vector<std::vector<Wei>> reward;
};

struct CallRequest {
  std::optional<Address> from;
  std::optional<Address> to;  // none: contract creation (estimateGas)
  Wei value = 0;
  abi::Bytes data;
  std::optional<std::uint64_t> gas;
};

struct LogFilter {
  std::string from_block = "earliest";  // a block tag or 0x quantity
  std::string to_block = "latest";
  std::vector<Address> addresses;
  std::vector<std::optional<Hash256>> topics;  // none = any
};

std::string quantity(std::uint64_t v);  // "0x1a"
std::string quantity(const Wei& v);
Result<Wei> parse_quantity(const boost::json::value& v);
Result<std::uint64_t> parse_quantity_u64(const boost::json::value& v);

// The revert reason of an Rpc error carrying revert data (Error(string) or Panic(uint256)).
std::optional<std::string> revert_reason(const RpcError& error);

class EthRpc {
 public:
  explicit EthRpc(std::shared_ptr<RpcClient> client) : client_(std::move(client)) {}
  RpcClient& client() { return *client_; }

  boost::asio::awaitable<RpcResult<std::uint64_t>> chain_id();
  boost::asio::awaitable<RpcResult<std::uint64_t>> block_number();
  boost::asio::awaitable<RpcResult<Wei>> get_balance(const Address& a, std::string block = "latest");
  boost::asio::awaitable<RpcResult<std::uint64_t>> get_transaction_count(const Address& a, std::string block = "pending");
  boost::asio::awaitable<RpcResult<std::uint64_t>> estimate_gas(const CallRequest& request);
  boost::asio::awaitable<RpcResult<Wei>> gas_price();
  boost::asio::awaitable<RpcResult<Wei>> max_priority_fee_per_gas();
  boost::asio::awaitable<RpcResult<FeeHistory>> fee_history(std::uint64_t blocks, std::string newest = "latest",
                                                            std::vector<double> percentiles = {});
  boost::asio::awaitable<RpcResult<abi::Bytes>> call(const CallRequest& request, std::string block = "latest");
  boost::asio::awaitable<RpcResult<Hash256>> send_raw_transaction(const abi::Bytes& raw);
  // nullopt inside: not mined yet.
  boost::asio::awaitable<RpcResult<std::optional<Receipt>>> get_transaction_receipt(const Hash256& hash);
  boost::asio::awaitable<RpcResult<std::vector<Log>>> get_logs(const LogFilter& filter);

 private:
  std::shared_ptr<RpcClient> client_;
};

}  // namespace lpops::chain
