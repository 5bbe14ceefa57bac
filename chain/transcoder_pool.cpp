#include "chain/transcoder_pool.hpp"

#include <cstdio>
#include <set>
#include <string>

#include "chain/ticket_broker.hpp"

namespace lpops::chain {
namespace {

// The walk, every call at block `at`.
boost::asio::awaitable<RpcResult<std::vector<Address>>> walk_pool(EthRpc& rpc, Address bonding_manager, std::size_t limit,
                                                                  std::string at) {
  RpcResult<std::vector<Address>> out;
  std::vector<Address> pool;
  std::set<Address> seen;
  const Address zero{};
  auto read_address = [](const abi::Function& f, const RpcResult<abi::Bytes>& r) -> Result<Address> {
    auto v = f.decode_output(*r);
    if (!v) return Error{f.name + ": " + v.error()};
    return (*v)[0].as_address();
  };
  const auto& first_fn = livepeer::get_first_transcoder_in_pool();
  const auto& next_fn = livepeer::get_next_transcoder_in_pool();
  CallRequest first_call{std::nullopt, bonding_manager, 0, first_fn.encode_call({}).value(), std::nullopt};
  auto first = co_await rpc.call(first_call, at);
  if (!first.ok()) {
    out.error = first.error;
    co_return out;
  }
  auto current = read_address(first_fn, first);
  while (current && *current != zero && pool.size() < limit) {
    if (!seen.insert(*current).second) break;  // a cycle would never end
    pool.push_back(*current);
    if (pool.size() == limit) break;
    CallRequest next_call{std::nullopt, bonding_manager, 0, next_fn.encode_call({abi::Value::address(*current)}).value(),
                          std::nullopt};
    auto next = co_await rpc.call(next_call, at);
    if (!next.ok()) {
      out.error = next.error;
      co_return out;
    }
    current = read_address(next_fn, next);
  }
  if (!current) {
    RpcError e;
    e.kind = RpcError::Kind::Protocol;
    e.message = current.error();
    out.error = std::move(e);
    co_return out;
  }
  out.value = std::move(pool);
  co_return out;
}

}  // namespace

boost::asio::awaitable<RpcResult<std::vector<Address>>> fetch_transcoder_pool(EthRpc& rpc, Address bonding_manager,
                                                                              std::size_t limit) {
  // Every call at one block: a pool that changes between two calls (a node behind a load
  // balancer may even answer them from different blocks) would cut the walk short at an
  // address no longer in it.
  auto block = co_await rpc.block_number();
  if (!block.ok() && block.error->kind != RpcError::Kind::Rpc) {
    RpcResult<std::vector<Address>> out;
    out.error = block.error;
    co_return out;
  }
  if (block.ok()) {
    char tag[24];
    std::snprintf(tag, sizeof tag, "0x%llx", static_cast<unsigned long long>(*block));
    auto pinned = co_await walk_pool(rpc, bonding_manager, limit, tag);
    // A node that answers an error for that block (one behind the node that named it, behind
    // the same load balancer: "header not found") is asked at "latest", as before.
    if (pinned.ok() || pinned.error->kind != RpcError::Kind::Rpc) co_return pinned;
  }
  co_return co_await walk_pool(rpc, bonding_manager, limit, "latest");
}

}  // namespace lpops::chain
