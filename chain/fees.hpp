#pragma once
// Fee policy: EIP-1559 by default (max fee = 2 × next base fee + tip, the tip from
// eth_maxPriorityFeePerGas), each capped by configuration; legacy gasPrice when the node
// has no base fee. A price above its cap is an error: the payout waits rather than
// overpays.
#include <boost/asio/awaitable.hpp>

#include <optional>

#include "chain/eth_rpc.hpp"
#include "domain/money.hpp"

namespace lpops::chain {

struct FeeCaps {
  Wei max_fee_per_gas = Wei(500) * 1'000'000'000;         // 500 gwei
  Wei max_priority_fee_per_gas = Wei(5) * 1'000'000'000;  // 5 gwei
};

struct FeeQuote {
  bool eip1559 = true;
  Wei max_fee_per_gas = 0;
  Wei max_priority_fee_per_gas = 0;
  Wei gas_price = 0;  // legacy only
};

// next_base_fee: the next block's base fee (none or zero: the chain has no EIP-1559).
Result<FeeQuote> choose_fees(const std::optional<Wei>& next_base_fee, const Wei& suggested_tip, const Wei& gas_price,
                             const FeeCaps& caps);

// Asks the node (eth_feeHistory, eth_maxPriorityFeePerGas, eth_gasPrice) and applies choose_fees.
boost::asio::awaitable<RpcResult<FeeQuote>> fetch_fees(EthRpc& rpc, const FeeCaps& caps);

}  // namespace lpops::chain
