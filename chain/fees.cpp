#include "chain/fees.hpp"

namespace lpops::chain {

Result<FeeQuote> choose_fees(const std::optional<Wei>& next_base_fee, const Wei& suggested_tip, const Wei& gas_price,
                             const FeeCaps& caps) {
  FeeQuote q;
  if (!next_base_fee || *next_base_fee == 0) {
    q.eip1559 = false;
    if (gas_price > caps.max_fee_per_gas)
      return Error{"gas price " + gas_price.str() + " wei is above the cap of " + caps.max_fee_per_gas.str() + " wei"};
    q.gas_price = gas_price;
    return q;
  }
  const Wei& base = *next_base_fee;
  const Wei& cap = caps.max_fee_per_gas;
  const Wei tip = std::min(suggested_tip, caps.max_priority_fee_per_gas);
  q.max_priority_fee_per_gas = tip;
  // Compared without a sum that could pass 2^256 (a node may answer any base fee).
  if (tip > cap || base > cap - tip)
    return Error{"base fee " + base.str() + " wei plus tip is above the max fee cap of " + cap.str() + " wei"};
  // Twice the base fee plus the tip (room for the base fee to double), at most the cap.
  const Wei room = cap - (base + tip);
  q.max_fee_per_gas = base <= room ? base + base + tip : cap;
  return q;
}

boost::asio::awaitable<RpcResult<FeeQuote>> fetch_fees(EthRpc& rpc, const FeeCaps& caps) {
  RpcResult<FeeQuote> out;
  std::vector<double> percentiles{50.0};
  auto history = co_await rpc.fee_history(1, "latest", std::move(percentiles));
  std::optional<Wei> base;
  Wei tip = 0;
  if (history.ok() && !history->base_fee_per_gas.empty()) {
    base = history->base_fee_per_gas.back();
    if (!history->reward.empty() && !history->reward[0].empty()) tip = history->reward[0][0];
  } else if (history.error && history.error->kind != RpcError::Kind::Rpc) {
    out.error = history.error;  // the node is unreachable: nothing else will work either
    co_return out;
  }
  Wei gas_price = 0;
  if (base && *base > 0) {
    auto suggested = co_await rpc.max_priority_fee_per_gas();
    if (suggested.ok()) tip = *suggested;
  } else {
    auto price = co_await rpc.gas_price();
    if (!price.ok()) {
      out.error = price.error;
      co_return out;
    }
    gas_price = *price;
  }
  auto quote = choose_fees(base, tip, gas_price, caps);
  if (!quote) {
    RpcError e;
    e.kind = RpcError::Kind::Cap;
    e.message = quote.error();
    out.error = std::move(e);
    co_return out;
  }
  out.value = *quote;
  co_return out;
}

}  // namespace lpops::chain
