// `lpops fees`: what a transaction sent now would pay, under the configured caps: the node's
// next base fee and suggested tip (EIP-1559), or its gas price (legacy), read from
// ETH_RPC_URL and capped by PAYMENTS_MAX_FEE_PER_GAS_WEI / PAYMENTS_MAX_PRIORITY_FEE_PER_GAS_WEI.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <cstdio>

#include "app/node.hpp"
#include "chain/fees.hpp"
#include "config/settings.hpp"

namespace lpops::app {

int fees(const FeesOptions& o) {
  auto settings = load_command_settings(o.env_file, "lpops fees");
  if (!settings) return 2;
  boost::asio::io_context io;
  chain::RpcOptions rpc_options;
  rpc_options.timeout = std::chrono::seconds(o.timeout_seconds);
  auto client = chain::RpcClient::create(io.get_executor(), settings->eth_rpc_url, rpc_options);
  if (!client) {
    std::fprintf(stderr, "lpops fees: ETH_RPC_URL: %s\n", client.error().c_str());
    return 2;
  }
  chain::EthRpc rpc(*client);
  const chain::FeeCaps caps{settings->max_fee_per_gas_wei, settings->max_priority_fee_per_gas_wei};
  chain::RpcResult<chain::FeeQuote> quote;
  boost::asio::co_spawn(io, chain::fetch_fees(rpc, caps), [&](std::exception_ptr e, chain::RpcResult<chain::FeeQuote> q) {
    if (e) {
      quote.error = chain::RpcError{chain::RpcError::Kind::Protocol, 0, "internal error", {}};
      return;
    }
    quote = std::move(q);
  });
  io.run();
  if (!quote.ok()) {
    // Named with the node it came from (ETH_RPC_URL, its secrets hidden): an HTTP status or a
    // JSON-RPC error alone does not say which endpoint refused.
    const std::string why = quote.error ? quote.error->describe() : "no answer";
    const std::string endpoint = (*client)->redacted_url();
    std::fprintf(stderr, "lpops fees: %s%s\n", why.c_str(),
                 why.find(endpoint) == std::string::npos ? (" (ETH_RPC_URL " + endpoint + ")").c_str() : "");
    return 1;
  }
  boost::json::object out{{"rpc", (*client)->redacted_url()},
                          {"type", quote->eip1559 ? "eip1559" : "legacy"},
                          {"cap_max_fee_per_gas_wei", caps.max_fee_per_gas.str()},
                          {"cap_max_priority_fee_per_gas_wei", caps.max_priority_fee_per_gas.str()}};
  if (quote->eip1559) {
    out["max_fee_per_gas_wei"] = quote->max_fee_per_gas.str();
    out["max_priority_fee_per_gas_wei"] = quote->max_priority_fee_per_gas.str();
  } else {
    out["gas_price_wei"] = quote->gas_price.str();
  }
  std::printf("%s\n", boost::json::serialize(out).c_str());
  return 0;
}

}  // namespace lpops::app
