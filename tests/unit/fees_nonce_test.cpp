#include <gtest/gtest.h>

#include "chain/fees.hpp"
#include "chain/nonce_manager.hpp"

namespace lpops::chain {
namespace {

const Wei kGwei = 1'000'000'000;

TEST(Fees, Eip1559DoublesTheBaseFeeAndCapsTheTip) {
  FeeCaps caps;
  auto q = choose_fees(Wei(10) * kGwei, Wei(2) * kGwei, 0, caps).value();
  EXPECT_TRUE(q.eip1559);
  EXPECT_EQ(q.max_priority_fee_per_gas, Wei(2) * kGwei);
  EXPECT_EQ(q.max_fee_per_gas, Wei(22) * kGwei);
  auto capped_tip = choose_fees(Wei(10) * kGwei, Wei(50) * kGwei, 0, caps).value();
  EXPECT_EQ(capped_tip.max_priority_fee_per_gas, caps.max_priority_fee_per_gas);
  auto capped_fee = choose_fees(Wei(400) * kGwei, Wei(1) * kGwei, 0, caps).value();
  EXPECT_EQ(capped_fee.max_fee_per_gas, caps.max_fee_per_gas);  // 801 gwei capped to 500
  EXPECT_FALSE(choose_fees(Wei(600) * kGwei, Wei(1) * kGwei, 0, caps).ok());  // cannot be included under the cap
}

// A node may answer any fee (to 2^256 - 1): each is compared with the caps without a sum
// that could pass 2^256 (which threw), and a cap near the top still holds.
TEST(Fees, HugeFeesAreRefusedNotOverflowed) {
  const Wei top = max_wei();
  FeeCaps caps;
  EXPECT_NO_THROW({
    auto huge = choose_fees(top, Wei(1), 0, caps);
    EXPECT_FALSE(huge.ok());
  });
  FeeCaps wide;
  wide.max_fee_per_gas = top;
  wide.max_priority_fee_per_gas = top;
  EXPECT_NO_THROW({
    auto at_cap = choose_fees(top - Wei(1), Wei(1), 0, wide);
    ASSERT_TRUE(at_cap.ok()) << at_cap.error();
    EXPECT_EQ(at_cap->max_fee_per_gas, top);  // twice the base fee would pass the cap
    auto half = choose_fees(Wei(1) << 254, Wei(1), 0, wide);
    ASSERT_TRUE(half.ok()) << half.error();
    EXPECT_EQ(half->max_fee_per_gas, (Wei(1) << 255) + Wei(1));
    EXPECT_FALSE(choose_fees(top, Wei(1), 0, wide).ok());
  });
}

TEST(Fees, LegacyWhenTheChainHasNoBaseFee) {
  FeeCaps caps;
  auto q = choose_fees(std::nullopt, 0, Wei(3) * kGwei, caps).value();
  EXPECT_FALSE(q.eip1559);
  EXPECT_EQ(q.gas_price, Wei(3) * kGwei);
  EXPECT_FALSE(choose_fees(Wei(0), 0, Wei(501) * kGwei, caps).ok());
}

TEST(NonceManager, NeverHandsOutAnInFlightNonce) {
  NonceManager m;
  Address a{};
  EXPECT_EQ(m.reserve(a, 5), 5u);
  EXPECT_EQ(m.reserve(a, 5), 6u);  // the node has not seen 5 yet
  EXPECT_EQ(m.reserve(a, 5), 7u);
  m.release(a, 6);                  // never broadcast: a gap to fill first
  EXPECT_EQ(m.reserve(a, 5), 6u);
  m.release(a, 7);                  // the top: next goes back down
  EXPECT_EQ(m.reserve(a, 5), 7u);
  m.confirm(a, 5);
  EXPECT_EQ(m.in_flight(a), (std::vector<std::uint64_t>{6, 7}));
  EXPECT_EQ(m.reserve(a, 20), 20u);  // the key was used elsewhere: follow the node
  m.release(a, 6);
  EXPECT_EQ(m.reserve(a, 21), 21u);  // 6 is below the node's count now: not reused
  Address b{};
  b[0] = 1;
  EXPECT_EQ(m.reserve(b, 0), 0u);  // senders are independent
}

}  // namespace
}  // namespace lpops::chain
