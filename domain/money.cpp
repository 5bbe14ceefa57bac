#include "domain/money.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cctype>
#include <string>

#include "domain/python_text.hpp"

namespace lpops {
namespace {

// An exponent of more digits reads as this magnitude: past any amount's range either way (a
// value of 10^±10,000,000 ETH), and small enough that the scale arithmetic stays in an int. The
// work an exponent causes is bounded by the text's digits, never by the exponent: the checks
// below refuse or cut before any scaling.
constexpr int kExponentCap = 10'000'000;
constexpr std::size_t kMaxRoundedTextBytes = 4096;

const Wei& pow10(int n) {
  static const auto table = [] {
    std::array<Wei, 78> t{};
    t[0] = 1;
    for (std::size_t i = 1; i < t.size(); ++i) t[i] = t[i - 1] * 10;
    return t;
  }();
  return table.at(static_cast<std::size_t>(n));
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

Result<SignedWei> parse_eth_impl(std::string_view text, bool* rounded);

}  // namespace

const Wei& wei_per_eth() { return pow10(kEthDecimals); }

const Wei& max_wei() {
  static const Wei m = [] {
    Wei x = 0;
    x = ~x;
    return x;
  }();
  return m;
}

Result<SignedWei> parse_eth(std::string_view text) { return parse_eth_impl(text, nullptr); }

Result<SignedWei> parse_eth_toward_zero(std::string_view text, bool* rounded) {
  *rounded = false;
  return parse_eth_impl(text, rounded);
}

namespace {

// `rounded` null: an amount finer than 1 wei is an error; else it is cut to whole wei
// (toward zero) and *rounded tells whether any non-zero digit went.
Result<SignedWei> parse_eth_impl(std::string_view text, bool* rounded) {
  // As the reference's Decimal() reads text: underscores, digits of other scripts, spaces around.
  std::string ascii;
  if (!python_decimal_text(text, ascii)) return Error{"amount is not a decimal number"};
  if (text.empty()) return Error{"amount must not be empty"};
  // Cutting toward zero drops digits instead of scaling by them, so it takes longer text and
  // any negative exponent a file may hold (an amount another system computed).
  const std::size_t max_text = rounded ? kMaxRoundedTextBytes : kMaxAmountTextBytes;
  if (text.size() > max_text) return Error{"amount is too long"};

  bool negative = false;
  if (text.front() == '+' || text.front() == '-') {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  std::string_view mantissa = text;
  int exponent = 0;
  if (auto e = text.find_first_of("eE"); e != std::string_view::npos) {
    mantissa = text.substr(0, e);
    std::string_view exp_text = text.substr(e + 1);
    bool exp_negative = false;
    if (!exp_text.empty() && (exp_text.front() == '+' || exp_text.front() == '-')) {
      exp_negative = exp_text.front() == '-';
      exp_text.remove_prefix(1);
    }
    if (!all_digits(exp_text)) return Error{"amount is not a decimal number"};
    exp_text.remove_prefix(std::min(exp_text.find_first_not_of('0'), exp_text.size()));
    // "0e-200" is zero, as Decimal reads it; a non-zero value far past either end of the range
    // is too large or finer than a wei, decided once the digits are known.
    const int magnitude = exp_text.size() > 7 ? kExponentCap : (exp_text.empty() ? 0 : std::stoi(std::string(exp_text)));
    exponent = exp_negative ? -magnitude : magnitude;
  }
  std::string_view int_part = mantissa, frac_part;
  if (auto dot = mantissa.find('.'); dot != std::string_view::npos) {
    int_part = mantissa.substr(0, dot);
    frac_part = mantissa.substr(dot + 1);
  }
  if (int_part.empty() && frac_part.empty()) return Error{"amount is not a decimal number"};
  if (!int_part.empty() && !all_digits(int_part)) return Error{"amount is not a decimal number"};
  if (!frac_part.empty() && !all_digits(frac_part)) return Error{"amount is not a decimal number"};

  // value = digits * 10^(exponent - frac_len); wei = value * 10^18.
  std::string digits;
  digits.reserve(int_part.size() + frac_part.size());
  digits.append(int_part).append(frac_part);
  int scale = kEthDecimals + exponent - static_cast<int>(frac_part.size());
  // Drop trailing zeros that a negative scale would divide away.
  while (scale < 0 && !digits.empty() && digits.back() == '0') {
    digits.pop_back();
    ++scale;
  }
  digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size()));
  if (digits.empty()) return SignedWei{};
  if (scale < 0 && rounded) {
    // The digits past the wei place go; only zeros can be left of them after the trim above.
    const std::size_t cut = std::min(digits.size(), static_cast<std::size_t>(-scale));
    *rounded = digits.find_first_not_of('0', digits.size() - cut) != std::string::npos;
    digits.resize(digits.size() - cut);
    scale = 0;
    digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size()));
    if (digits.empty()) return SignedWei{};
  }
  if (scale < 0) return Error{"amount has more than 18 decimal places (smaller than 1 wei)"};
  if (digits.size() + static_cast<std::size_t>(scale) > 78)
    return Error{"amount is too large"};
  try {
    Wei magnitude{digits};
    magnitude *= pow10(scale);
    return SignedWei{negative, magnitude};
  } catch (const std::exception&) {
    return Error{"amount is too large"};
  }
}

}  // namespace

Result<Wei> parse_wei(std::string_view text) {
  if (!all_digits(text)) return Error{"wei amount must be a non-negative decimal integer"};
  // Boost reads a leading 0 as octal ("010" would be 8): leading zeros go first.
  while (text.size() > 1 && text.front() == '0') text.remove_prefix(1);
  if (text.size() > 78) return Error{"wei amount is too large"};
  try {
    return Wei{std::string(text)};
  } catch (const std::exception&) {
    return Error{"wei amount is too large"};
  }
}

std::string format_wei(const Wei& wei) {
  const auto& b = wei.backend();
  if (b.size() == 1) {
    char buf[24];
    const auto end = std::to_chars(buf, buf + sizeof buf, static_cast<std::uint64_t>(b.limbs()[0])).ptr;
    return std::string(buf, end);
  }
  return wei.str();
}

namespace {

std::string eth_from_wei_digits(std::string digits) {
  if (digits.size() <= static_cast<std::size_t>(kEthDecimals))
    digits.insert(0, static_cast<std::size_t>(kEthDecimals) + 1 - digits.size(), '0');
  std::string whole = digits.substr(0, digits.size() - kEthDecimals);
  std::string frac = digits.substr(digits.size() - kEthDecimals);
  frac.erase(frac.find_last_not_of('0') + 1);
  return frac.empty() ? whole : whole + "." + frac;
}

}  // namespace

std::string format_eth(const Wei& wei) { return eth_from_wei_digits(format_wei(wei)); }
std::string format_eth(const Wide& wei) { return eth_from_wei_digits(format_wei(wei)); }
std::string format_wei(const Wide& wei) { return wei.str(); }

std::string format_eth(const SignedWei& wei) {
  std::string s = format_eth(wei.magnitude);
  return wei.negative && !wei.is_zero() ? "-" + s : s;
}

std::string format_wei(const SignedWei& wei) {
  std::string s = format_wei(wei.magnitude);
  return wei.negative && !wei.is_zero() ? "-" + s : s;
}

SignedWei signed_difference(const Wei& plus, const Wei& minus) {
  if (plus >= minus) return SignedWei{false, plus - minus};
  return SignedWei{true, minus - plus};
}

}  // namespace lpops
