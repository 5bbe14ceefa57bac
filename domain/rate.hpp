#pragma once
// Time-based pricing as exact rationals (invariant 1):
//   credit_wei = floor(rate_wei_per_min * ms / 60000)
// with the remainder carried by a Meter so that splitting work into more events never
// changes its total (split invariance).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/money.hpp"
#include "domain/result.hpp"

namespace lpops {

inline constexpr std::uint64_t kMsPerMinute = 60'000;
inline constexpr int kMaxRateDecimals = 36;

// A rate in ETH per minute, held as wei_per_minute = numerator / denominator.
class Rate {
 public:
  Rate() = default;

  // Parses a non-negative decimal ETH-per-minute rate; up to 36 decimal places are
  // kept exactly (sub-wei rates accumulate through a Meter).
  static Result<Rate> parse_eth_per_minute(std::string_view text);

  bool is_zero() const { return numerator_ == 0; }
  // The rate as it was configured, normalised ("0.000005353596").
  const std::string& text() const { return text_; }

  // floor(rate * ms / 60000) in wei, with no carried remainder.
  Wei credit_for(std::uint64_t ms) const;  // throws std::overflow_error past 2^256-1 wei
  // The same, or nothing when the credit does not fit in 256 bits.
  std::optional<Wei> checked_credit_for(std::uint64_t ms) const;

  const Wide& numerator() const { return numerator_; }
  const Wide& denominator() const { return denominator_; }

 private:
  Wide numerator_ = 0;    // wei per minute, scaled by denominator_ / 60000
  Wide denominator_ = 1;  // 60000 * 10^extra_decimals
  std::string text_ = "0";
};

// Carries the sub-wei remainder of one metered stream (a session or a workload) so
// that sum(credits of the parts) == credit of the whole.
class Meter {
 public:
  explicit Meter(const Rate& rate) : rate_(&rate) {}
  Wei add(std::uint64_t ms);
  const Wide& remainder() const { return remainder_; }

 private:
  const Rate* rate_;
  Wide remainder_ = 0;
};

}  // namespace lpops
