#pragma once
// Livepeer protocol reads over JSON-RPC: contract discovery through the Controller, the
// ticket auxData from the RoundsManager, and a sender's TicketBroker deposit.
#include <boost/asio/awaitable.hpp>

#include "chain/eth_rpc.hpp"
#include "chain/ticket_broker.hpp"

namespace lpops::chain::livepeer {

struct Contracts {
  Address ticket_broker{};
  Address controller{};
  Address rounds_manager{};
};

// TicketBroker.controller(), then Controller.getContract(keccak256("RoundsManager")); a zero
// address is an error.
boost::asio::awaitable<RpcResult<Contracts>> discover(EthRpc& rpc, Address ticket_broker);

// currentRoundInitialized() must be true; then uint256(currentRound()) ‖ blockHashForRound(round).
boost::asio::awaitable<RpcResult<abi::Bytes>> fetch_aux_data(EthRpc& rpc, Address rounds_manager);

boost::asio::awaitable<RpcResult<SenderInfo>> fetch_sender_info(EthRpc& rpc, Address ticket_broker, Address sender);

}  // namespace lpops::chain::livepeer
