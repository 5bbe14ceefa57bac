#pragma once
// Reads Livepeer's active transcoder pool from the BondingManager: getFirstTranscoderInPool,
// then getNextTranscoderInPool until the zero address, at most `limit` entries (the
// registration rank check's "top 100"), every call at the block eth_blockNumber names first.
#include <boost/asio/awaitable.hpp>

#include <vector>

#include "chain/eth_rpc.hpp"

namespace lpops::chain {

boost::asio::awaitable<RpcResult<std::vector<Address>>> fetch_transcoder_pool(EthRpc& rpc, Address bonding_manager,
                                                                              std::size_t limit = 100);

}  // namespace lpops::chain
