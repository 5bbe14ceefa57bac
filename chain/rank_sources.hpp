#pragma once
// The off-chain sources of the registration rank check, as the reference reads them when the
// BondingManager cannot be (or is not configured): the Livepeer subgraph's active transcoders
// (a GraphQL POST), then the explorer APIs (GETs, the first that yields addresses). An
// address counts when it looks like one: "0x" and 40 hex digits, all one case or a valid
// EIP-55 checksum.
#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "chain/address.hpp"
#include "chain/rpc_client.hpp"

namespace lpops::chain::rank {

// The GraphQL request: the first `limit` active transcoders' ids.
boost::json::object subgraph_request(std::size_t limit);
// data.transcoders[].id of a subgraph answer.
std::vector<Address> subgraph_addresses(const boost::json::value& answer);
// An explorer answer: a list of orchestrators, or an object with "orchestrators" (or
// "data.orchestrators"); of each, the first of address, id, serviceURI, ethAddress that is an
// address.
std::vector<Address> explorer_addresses(const boost::json::value& answer);

struct Sources {
  std::shared_ptr<RpcClient> subgraph;                // none: skipped
  std::vector<std::shared_ptr<RpcClient>> explorers;  // tried in order
};

struct Fetched {
  std::vector<Address> addresses;  // at most `limit`, in the order found, no repeats
  std::string errors;              // what failed on the way ("" when nothing did)
};
// The subgraph's addresses, then, while fewer than `limit`, the first explorer's that yields
// any.
boost::asio::awaitable<Fetched> fetch(const Sources& sources, std::size_t limit = 100);

}  // namespace lpops::chain::rank
