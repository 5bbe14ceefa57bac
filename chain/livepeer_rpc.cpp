#include "chain/livepeer_rpc.hpp"

// GCC 12 reports Asio's awaitable-frame deallocation (its own operator new/delete pair) as
// mismatched in this file's coroutines: a known false positive of that compiler.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace lpops::chain::livepeer {
namespace {

template <class T>
RpcResult<T> failed(std::string message) {
  RpcResult<T> out;
  RpcError e;
  e.kind = RpcError::Kind::Protocol;
  e.message = std::move(message);
  out.error = std::move(e);
  return out;
}

// eth_call of `f` with `args` on `to`, decoded with f's outputs.
boost::asio::awaitable<RpcResult<std::vector<abi::Value>>> read(EthRpc& rpc, const Address& to, const abi::Function& f,
                                                                std::vector<abi::Value> args) {
  auto data = f.encode_call(args);
  if (!data) co_return failed<std::vector<abi::Value>>(f.name + ": " + data.error());
  CallRequest request{std::nullopt, to, 0, std::move(data).value(), std::nullopt};
  auto returned = co_await rpc.call(request);
  RpcResult<std::vector<abi::Value>> out;
  if (!returned.ok()) {
    out.error = returned.error;
    co_return out;
  }
  auto values = f.decode_output(*returned);
  if (!values) co_return failed<std::vector<abi::Value>>(f.name + " returned " + values.error());
  out.value = std::move(values).value();
  co_return out;
}

}  // namespace

boost::asio::awaitable<RpcResult<Contracts>> discover(EthRpc& rpc, Address ticket_broker) {
  RpcResult<Contracts> out;
  const Address zero{};
  std::vector<abi::Value> no_args;
  auto c = co_await read(rpc, ticket_broker, controller(), no_args);
  if (!c.ok()) {
    out.error = c.error;
    co_return out;
  }
  Contracts found;
  found.ticket_broker = ticket_broker;
  found.controller = (*c)[0].as_address();
  if (found.controller == zero) co_return failed<Contracts>("TicketBroker.controller() is the zero address");
  const Hash256 name = keccak256("RoundsManager");
  std::vector<abi::Value> name_arg{abi::Value::word_of(name)};
  auto rm = co_await read(rpc, found.controller, get_contract(), std::move(name_arg));
  if (!rm.ok()) {
    out.error = rm.error;
    co_return out;
  }
  found.rounds_manager = (*rm)[0].as_address();
  if (found.rounds_manager == zero) co_return failed<Contracts>("Controller.getContract(RoundsManager) is the zero address");
  out.value = found;
  co_return out;
}

boost::asio::awaitable<RpcResult<abi::Bytes>> fetch_aux_data(EthRpc& rpc, Address rounds_manager) {
  RpcResult<abi::Bytes> out;
  std::vector<abi::Value> no_args;
  auto initialized = co_await read(rpc, rounds_manager, current_round_initialized(), no_args);
  if (!initialized.ok()) {
    out.error = initialized.error;
    co_return out;
  }
  if (!(*initialized)[0].as_bool()) co_return failed<abi::Bytes>("the current round is not initialized");
  auto round = co_await read(rpc, rounds_manager, current_round(), no_args);
  if (!round.ok()) {
    out.error = round.error;
    co_return out;
  }
  const Wei r = (*round)[0].as_uint();
  std::vector<abi::Value> round_arg{abi::Value::uint(r)};
  auto hash = co_await read(rpc, rounds_manager, block_hash_for_round(), std::move(round_arg));
  if (!hash.ok()) {
    out.error = hash.error;
    co_return out;
  }
  Hash256 block_hash{};
  const auto& bytes = (*hash)[0].bytes;
  std::copy(bytes.begin(), bytes.end(), block_hash.begin());
  if (block_hash == Hash256{}) co_return failed<abi::Bytes>("round " + r.str() + " has no block hash yet");
  out.value = aux_data(r, block_hash);
  co_return out;
}

boost::asio::awaitable<RpcResult<SenderInfo>> fetch_sender_info(EthRpc& rpc, Address ticket_broker, Address sender) {
  RpcResult<SenderInfo> out;
  CallRequest request{std::nullopt, ticket_broker, 0, get_sender_info_calldata(sender), std::nullopt};
  auto returned = co_await rpc.call(request);
  if (!returned.ok()) {
    out.error = returned.error;
    co_return out;
  }
  auto info = decode_sender_info(*returned);
  if (!info) co_return failed<SenderInfo>(info.error());
  out.value = *info;
  co_return out;
}

}  // namespace lpops::chain::livepeer
