#include "domain/rate.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

#include "domain/python_text.hpp"

namespace lpops {
namespace {
constexpr std::size_t kMaxRateTextBytes = 96;
// 10^12 ETH per minute is far beyond any real price and keeps every product in 512 bits.
const Wide& max_rate_wei_per_minute() {
  static const Wide m = Wide{"1000000000000"} * Wide{"1000000000000000000"};
  return m;
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "12.5" as ("12", "5"): digits on either side of an optional point, at least one digit.
std::optional<std::pair<std::string_view, std::string_view>> split_decimal(std::string_view text) {
  std::string_view int_part = text, frac_part;
  if (auto dot = text.find('.'); dot != std::string_view::npos) {
    int_part = text.substr(0, dot);
    frac_part = text.substr(dot + 1);
  }
  if ((int_part.empty() && frac_part.empty()) || !all_digits(int_part) || !all_digits(frac_part)) return std::nullopt;
  return std::pair{int_part, frac_part};
}

// The same number without an exponent, as Decimal reads one ("1E-6" is "0.000001", "2.5e3" is
// "2500"); text without one comes back as it is. The exponent is bounded (a rate has at most
// 36 decimals and 12 digits before the point, so a larger one cannot give a valid rate).
Result<std::string> without_exponent(std::string_view text) {
  const auto e = text.find_first_of("eE");
  if (e == std::string_view::npos) return std::string(text);
  std::string_view mantissa = text.substr(0, e), exp_text = text.substr(e + 1);
  bool exp_negative = false;
  if (!exp_text.empty() && (exp_text.front() == '+' || exp_text.front() == '-')) {
    exp_negative = exp_text.front() == '-';
    exp_text.remove_prefix(1);
  }
  if (exp_text.empty() || !all_digits(exp_text)) return Error{"rate must be a decimal number"};
  exp_text.remove_prefix(std::min(exp_text.find_first_not_of('0'), exp_text.size()));
  if (exp_text.size() > 3 || (!exp_text.empty() && std::stoi(std::string(exp_text)) > 96))
    return Error{"rate exponent is out of range"};
  const int exponent = (exp_text.empty() ? 0 : std::stoi(std::string(exp_text))) * (exp_negative ? -1 : 1);
  const auto parts = split_decimal(mantissa);
  if (!parts) return Error{"rate must be a decimal number"};
  const auto [int_part, frac_part] = *parts;
  const std::string digits = std::string(int_part) + std::string(frac_part);
  const long point = static_cast<long>(int_part.size()) + exponent;  // where the point goes in `digits`
  if (point <= 0) return "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
  if (static_cast<std::size_t>(point) >= digits.size()) return digits + std::string(static_cast<std::size_t>(point) - digits.size(), '0');
  return digits.substr(0, static_cast<std::size_t>(point)) + "." + digits.substr(static_cast<std::size_t>(point));
}
}  // namespace

Result<Rate> Rate::parse_eth_per_minute(std::string_view text) {
  // As Decimal reads text (underscores, digits of other scripts, spaces around), as for amounts.
  std::string ascii;
  if (!python_decimal_text(text, ascii)) return Error{"rate must be a decimal number"};
  if (text.empty() || text.size() > kMaxRateTextBytes) return Error{"rate must be a decimal number"};
  // One sign at most. A minus sign is refused unless the number is zero: Decimal("-0") >= 0
  // holds, so "-0" and "-0.000" are the zero rate, as the reference reads them.
  const bool minus = text.front() == '-';
  if (minus || text.front() == '+') text.remove_prefix(1);
  auto plain = without_exponent(text);
  if (!plain) return Error{plain.error()};
  text = *plain;

  const auto parts = split_decimal(text);
  if (!parts) return Error{"rate must be a decimal number"};
  const auto [int_part, frac_part] = *parts;
  std::string frac{frac_part};
  frac.erase(frac.find_last_not_of('0') + 1);
  if (frac.size() > kMaxRateDecimals) return Error{"rate has more than 36 decimal places"};
  std::string whole{int_part};
  whole.erase(0, std::min(whole.find_first_not_of('0'), whole.size()));
  if (whole.size() > 12) return Error{"rate is too large"};

  Rate r;
  // rate_eth = digits / 10^frac ; wei_per_min = digits * 10^18 / 10^frac.
  std::string digits = whole + frac;
  digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size()));
  Wide scaled = digits.empty() ? Wide{0} : Wide{digits};
  int frac_len = static_cast<int>(frac.size());
  Wide ten = 10;
  if (frac_len <= kEthDecimals) {
    for (int i = 0; i < kEthDecimals - frac_len; ++i) scaled *= ten;
    r.denominator_ = kMsPerMinute;
  } else {
    Wide den = kMsPerMinute;
    for (int i = 0; i < frac_len - kEthDecimals; ++i) den *= ten;
    r.denominator_ = den;
  }
  if (minus && scaled != 0) return Error{"rate must not be negative"};
  r.numerator_ = scaled;
  if (r.numerator_ * kMsPerMinute > max_rate_wei_per_minute() * r.denominator_)
    return Error{"rate is too large"};
  r.text_ = whole.empty() ? "0" : whole;
  if (!frac.empty()) r.text_ += "." + frac;
  return r;
}

Wei Rate::credit_for(std::uint64_t ms) const {
  Wide total = numerator_ * Wide{ms} / denominator_;
  return Wei{total};
}

std::optional<Wei> Rate::checked_credit_for(std::uint64_t ms) const {
  Wide total = numerator_ * Wide{ms} / denominator_;
  if (total > Wide{max_wei()}) return std::nullopt;
  return Wei{total};
}

Wei Meter::add(std::uint64_t ms) {
  Wide total = rate_->numerator() * Wide{ms} + remainder_;
  Wide credit = total / rate_->denominator();
  remainder_ = total - credit * rate_->denominator();
  return Wei{credit};
}

}  // namespace lpops
