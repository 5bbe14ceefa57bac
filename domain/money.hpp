#pragma once
// Money is integers: amounts are wei in checked unsigned 256-bit integers; ETH appears
// only at the edges, as exact decimal strings (invariant 1).
#include <boost/multiprecision/cpp_int.hpp>

#include <string>
#include <string_view>

#include "domain/result.hpp"

namespace lpops {

namespace mp = boost::multiprecision;

// Throws std::overflow_error / std::range_error instead of wrapping.
using Wei = mp::number<mp::cpp_int_backend<256, 256, mp::unsigned_magnitude, mp::checked, void>>;
// Wide enough for any product of two 256-bit values; used for rate arithmetic.
using Wide = mp::number<mp::cpp_int_backend<512, 512, mp::unsigned_magnitude, mp::checked, void>>;

inline constexpr std::size_t kMaxAmountTextBytes = 128;
inline constexpr int kEthDecimals = 18;

// A signed amount: sign and magnitude. Zero is never negative.
struct SignedWei {
  bool negative = false;
  Wei magnitude = 0;

  bool is_zero() const { return magnitude == 0; }
  friend bool operator==(const SignedWei&, const SignedWei&) = default;
};

const Wei& wei_per_eth();
const Wei& max_wei();

// Parses a decimal ETH amount: optional sign, digits, optional fraction, optional
// exponent ("1.5", "-0.25", "1E-7", "2e+3"). It must be exactly representable in wei:
// more than 18 significant decimal places is an error, never a silent truncation.
Result<SignedWei> parse_eth(std::string_view text);
// The same, but an amount finer than 1 wei is cut to whole wei toward zero instead of
// refused; *rounded says whether anything was cut. For amounts another system computed
// with more decimals (the reference's Decimal keeps 28 significant digits), never for
// amounts a client sends.
Result<SignedWei> parse_eth_toward_zero(std::string_view text, bool* rounded);

// Parses a non-negative decimal integer wei string ("0", "1000").
Result<Wei> parse_wei(std::string_view text);

// Exact decimal ETH: "0", "1", "0.000005353596" (no exponent, no trailing zeros).
std::string format_eth(const Wei& wei);
std::string format_eth(const SignedWei& wei);
std::string format_wei(const SignedWei& wei);
// Decimal digits of a wei amount (== wei.str(); amounts below 2^64 take a fast path).
std::string format_wei(const Wei& wei);
// Totals of many amounts (e.g. a summary) may pass 2^256 wei.
std::string format_eth(const Wide& wei);
std::string format_wei(const Wide& wei);

// balance = credits - debits, which may be negative only after a forced adjustment.
SignedWei signed_difference(const Wei& plus, const Wei& minus);

}  // namespace lpops
