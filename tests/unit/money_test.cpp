#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <limits>

#include "domain/money.hpp"
#include "domain/rate.hpp"

namespace lpops {
namespace {

Wei eth(std::string_view text) {
  auto r = parse_eth(text);
  EXPECT_TRUE(r.ok()) << text;
  EXPECT_FALSE(r->negative);
  return r->magnitude;
}

TEST(Money, ParsesDecimalEthExactly) {
  EXPECT_EQ(eth("1"), Wei{"1000000000000000000"});
  EXPECT_EQ(eth("0.000005353596"), Wei{"5353596000000"});
  EXPECT_EQ(eth("0.0010"), Wei{"1000000000000000"});
  EXPECT_EQ(eth("1E-7"), Wei{"100000000000"});
  EXPECT_EQ(eth("8.92266E-11"), Wei{"89226600"});
  EXPECT_EQ(eth("1e+2"), Wei{"100000000000000000000"});
  EXPECT_EQ(eth(".5"), Wei{"500000000000000000"});
  EXPECT_EQ(eth("5."), Wei{"5000000000000000000"});
  EXPECT_EQ(eth("  2.5 "), Wei{"2500000000000000000"});
  EXPECT_EQ(eth("0.000000000000000001"), Wei{1});
  EXPECT_EQ(eth("1.000000000000000000000"), Wei{"1000000000000000000"});
}

// Leading zeros are decimal digits (Boost's string constructor would read "010" as octal 8).
TEST(Money, TowardZeroCutsWhatIsFinerThanAWeiAndSaysSo) {
  auto cut = [](std::string_view text, bool expect_rounded) {
    bool rounded = !expect_rounded;
    auto r = parse_eth_toward_zero(text, &rounded);
    EXPECT_TRUE(r.ok()) << text;
    EXPECT_EQ(rounded, expect_rounded) << text;
    return r.ok() ? format_wei(*r) : std::string("error");
  };
  EXPECT_EQ(cut("1.5", false), "1500000000000000000");
  EXPECT_EQ(cut("0.1234567890123456789", true), "123456789012345678");
  EXPECT_EQ(cut("-0.1234567890123456789", true), "-123456789012345678");
  EXPECT_EQ(cut("0.0000000000000000015", true), "1");
  EXPECT_EQ(cut("0.0000000000000000001234", true), "0");
  EXPECT_EQ(cut("-0.0000000000000000001", true), "0");  // zero is never negative
  EXPECT_EQ(cut("1.0000000000000000000000", false), "1000000000000000000");
  EXPECT_EQ(cut("1.23E-20", true), "0");
  EXPECT_EQ(cut("8.92266E-11", false), "89226600");
  // Any negative exponent and long text: digits are cut, never scaled.
  EXPECT_EQ(cut("1E-100", true), "0");
  EXPECT_EQ(cut("-1E-97", true), "0");
  EXPECT_EQ(cut("1e-99999", true), "0");
  EXPECT_EQ(cut(std::string(200, '0') + "1.5", false), "1500000000000000000");
  EXPECT_EQ(cut("1" + std::string(150, '0') + "e-150", false), "1000000000000000000");
  bool rounded = false;
  EXPECT_FALSE(parse_eth_toward_zero("abc", &rounded).ok());
  EXPECT_FALSE(parse_eth_toward_zero("1e100001", &rounded).ok());
  EXPECT_FALSE(parse_eth_toward_zero("1e200", &rounded).ok());  // too large
  EXPECT_FALSE(parse_eth_toward_zero(std::string(5000, '1'), &rounded).ok());
  EXPECT_FALSE(parse_eth("1E-100").ok());  // a client's amount is never cut
  // parse_eth itself still refuses them.
  EXPECT_FALSE(parse_eth("0.1234567890123456789").ok());
}

// The forms Python's Decimal (and so the reference's pydantic models) also reads: underscores
// anywhere, digits of every script, Unicode spaces around. Cases checked against
// Decimal() of Python 3.11.
TEST(Money, ReadsWhatPythonsDecimalReads) {
  EXPECT_EQ(eth("1_000"), eth("1000"));
  EXPECT_EQ(eth("1_000.5_5"), eth("1000.55"));
  EXPECT_EQ(eth("_1"), eth("1"));
  EXPECT_EQ(eth("1__0"), eth("10"));
  EXPECT_EQ(eth("1e1_0"), eth("1e10"));
  EXPECT_EQ(eth("1_e5"), eth("1e5"));
  EXPECT_EQ(eth("\u0661\u0662"), eth("12"));        // Arabic-Indic digits
  EXPECT_EQ(eth("\uff11.\uff15"), eth("1.5"));       // fullwidth
  EXPECT_EQ(eth("\U0001D7CF"), eth("1"));             // mathematical bold one
  EXPECT_EQ(eth("\u30001\u3000"), eth("1"));         // ideographic spaces around
  EXPECT_EQ(eth("1\u00a0"), eth("1"));
  EXPECT_EQ(eth("\u0661e\u0662"), eth("100"));
  auto r = parse_eth("-\u0661_\u0660\u0660.5");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->negative);
  EXPECT_EQ(r->magnitude, Wei{"100500000000000000000"});
  EXPECT_EQ(eth("\x1c" "10\x1f"), eth("10"));  // Python's whitespace includes U+001C..U+001F
  for (const char* bad : {"_", "._", "_ 1", "1 _", "1\u200b", "1\u00e9", "\xff" "1", "1 000", "In_finity", "N_aN"})
    EXPECT_FALSE(parse_eth(bad).ok()) << bad;
}

TEST(Money, WeiWithLeadingZerosIsDecimal) {
  EXPECT_EQ(parse_wei("010").value(), Wei(10));
  EXPECT_EQ(parse_wei("0100").value(), Wei(100));
  EXPECT_EQ(parse_wei("09").value(), Wei(9));
  EXPECT_EQ(parse_wei("000").value(), Wei(0));
  EXPECT_EQ(parse_wei("0").value(), Wei(0));
  EXPECT_EQ(parse_wei(std::string(100, '0') + "7").value(), Wei(7));
}

TEST(Money, ZeroWithAnyExponentIsZero) {
  for (const char* text : {"0e-200", "0.0E+999", "-0e-5000", "00.000e7"}) {
    auto z = parse_eth(text);
    ASSERT_TRUE(z.ok()) << text << ": " << z.error();
    EXPECT_TRUE(z->is_zero()) << text;
  }
  EXPECT_FALSE(parse_eth("1e-200").ok());  // not zero: smaller than a wei
  EXPECT_FALSE(parse_eth("0.e").ok());
  // Far exponents say which end of the range the value is past; the value decides, not the
  // exponent alone (110 zeros and e-97 make 10^13 ETH).
  for (const char* tiny : {"1e-200", "-1e-400", "5e-9999999", "1e-99999999999999"})
    EXPECT_EQ(parse_eth(tiny).error(), "amount has more than 18 decimal places (smaller than 1 wei)") << tiny;
  for (const char* huge : {"1e400", "-1e9999999", "1e99999999999999"}) EXPECT_EQ(parse_eth(huge).error(), "amount is too large") << huge;
  EXPECT_EQ(parse_eth("1" + std::string(110, '0') + "e-97").value().magnitude, Wei{"10000000000000000000000000000000"});
  bool rounded = false;
  EXPECT_TRUE(parse_eth_toward_zero("1e-99999999999999", &rounded).value().is_zero());
  EXPECT_TRUE(rounded);
  EXPECT_FALSE(parse_eth(".e5").ok());
}

TEST(Money, NegativeAndZero) {
  auto r = parse_eth("-0.25");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->negative);
  EXPECT_EQ(r->magnitude, Wei{"250000000000000000"});
  auto z = parse_eth("-0");
  ASSERT_TRUE(z.ok());
  EXPECT_TRUE(z->is_zero());
  EXPECT_EQ(format_eth(*z), "0");
}

TEST(Money, RejectsWhatIsNotExactOrNotANumber) {
  for (const char* bad : {"", "abc", "1.2.3", "--1", "1e", "1e999", "0.0000000000000000001", "NaN", "Infinity",
                          "0x10", "1,5", "1 000", "e5", ".", "+-1", "1e-1000"})
    EXPECT_FALSE(parse_eth(bad).ok()) << bad;
  EXPECT_FALSE(parse_eth(std::string(200, '1')).ok());
  // 2^256 wei does not fit.
  EXPECT_FALSE(parse_eth("115792089237316195423570985008687907853269984665640564039457.584007913129639936").ok());
  EXPECT_TRUE(parse_eth("115792089237316195423570985008687907853269984665640564039457.584007913129639935").ok());
}

TEST(Money, FormatsExactEthWithoutExponentOrTrailingZeros) {
  EXPECT_EQ(format_eth(Wei{0}), "0");
  EXPECT_EQ(format_eth(Wei{1}), "0.000000000000000001");
  EXPECT_EQ(format_eth(Wei{"89226600"}), "0.0000000000892266");
  EXPECT_EQ(format_eth(Wei{"8030394000000"}), "0.000008030394");
  EXPECT_EQ(format_eth(Wei{"1000000000000000000"}), "1");
  EXPECT_EQ(format_eth(Wei{"1500000000000000000"}), "1.5");
  EXPECT_EQ(format_eth(SignedWei{true, Wei{"500000000000000000"}}), "-0.5");
}

TEST(Money, CheckedArithmeticThrowsInsteadOfWrapping) {
  Wei m = max_wei();
  EXPECT_THROW(m += 1, std::overflow_error);
  Wei z = 0;
  EXPECT_THROW(z -= 1, std::range_error);
}

TEST(Money, FormatParseRoundTripProperty) {
  EXPECT_TRUE(rc::check("format_eth then parse_eth is the identity", [](std::uint64_t hi, std::uint64_t lo) {
    Wei w = Wei{hi} * Wei{"18446744073709551616"} + Wei{lo};
    auto back = parse_eth(format_eth(w));
    RC_ASSERT(back.ok());
    RC_ASSERT(back->magnitude == w);
    RC_ASSERT(parse_wei(format_wei(w)).value() == w);
  }));
}

TEST(Money, FormatWeiEqualsTheLibraryDigitsProperty) {
  // The one-limb fast path and the general one agree with cpp_int's own decimal text.
  for (const Wei& w : {Wei(0), Wei(1), Wei(std::numeric_limits<std::uint64_t>::max()),
                       Wei(std::numeric_limits<std::uint64_t>::max()) + 1, max_wei()})
    EXPECT_EQ(format_wei(w), w.str());
  EXPECT_TRUE(rc::check("format_wei == str()", [](std::uint64_t a, std::uint64_t b, std::uint8_t shift) {
    const Wei w = (Wei{a} << (shift % 192)) + Wei{b};  // below 2^256: a < 2^64, shift <= 191
    RC_ASSERT(format_wei(w) == w.str());
    RC_ASSERT(format_wei(Wei{b}) == Wei{b}.str());
  }));
}

TEST(Rate, ReferenceVectors) {
  auto rate = Rate::parse_eth_per_minute("0.000005353596");
  ASSERT_TRUE(rate.ok());
  EXPECT_EQ(format_eth(rate->credit_for(1)), "0.0000000000892266");
  EXPECT_EQ(format_eth(rate->credit_for(90000)), "0.000008030394");
  EXPECT_EQ(format_eth(rate->credit_for(3600000)), "0.00032121576");
  EXPECT_EQ(rate->text(), "0.000005353596");
}

TEST(Rate, RejectsBadRates) {
  for (const char* bad : {"-1", "abc", "1e-5x", "", "1.2.3", "10000000000000", "1000000000000", "1e12", "+-1",
                          "-+0", "--0", "-", "-0.000000000000000000000000000000000001"})
    EXPECT_FALSE(Rate::parse_eth_per_minute(bad).ok()) << bad;
  EXPECT_FALSE(Rate::parse_eth_per_minute("0." + std::string(37, '1')).ok());
  EXPECT_EQ(Rate::parse_eth_per_minute("-1").error(), "rate must not be negative");
  EXPECT_EQ(Rate::parse_eth_per_minute("-2.5e-3").error(), "rate must not be negative");
}

TEST(Rate, NegativeZeroIsTheZeroRate) {
  // Decimal("-0") >= 0 holds in the reference, so a minus sign on zero is accepted.
  for (const char* zero : {"-0", "-0.000", "-0e5", "-.0", " -0 "}) {
    auto rate = Rate::parse_eth_per_minute(zero);
    ASSERT_TRUE(rate.ok()) << zero;
    EXPECT_EQ(rate->text(), "0") << zero;
    EXPECT_EQ(rate->credit_for(86'400'000), Wei{0}) << zero;
  }
}

TEST(Rate, SubWeiRatesAccumulateThroughAMeter) {
  // 1e-20 ETH/min = 0.01 wei/min: one minute credits nothing, 100 minutes credit 1 wei.
  auto rate = Rate::parse_eth_per_minute("0.00000000000000000001");
  ASSERT_TRUE(rate.ok());
  Meter meter(*rate);
  Wei total = 0;
  for (int i = 0; i < 100; ++i) total += meter.add(60'000);
  EXPECT_EQ(total, Wei{1});
  EXPECT_EQ(meter.remainder(), Wide{0});
}

TEST(Rate, SplitInvarianceProperty) {
  EXPECT_TRUE(rc::check("metering parts credits the whole", [] {
    const auto digits = *rc::gen::inRange<std::uint64_t>(0, 1'000'000'000'000ULL);  // at most 12 digits
    const int decimals = *rc::gen::inRange(0, 30);
    std::string text = std::to_string(digits);
    if (decimals > 0) {
      if (text.size() <= static_cast<std::size_t>(decimals)) text.insert(0, decimals + 1 - text.size(), '0');
      text.insert(text.size() - decimals, ".");
    }
    auto rate = Rate::parse_eth_per_minute(text);
    RC_ASSERT(rate.ok());
    const auto parts = *rc::gen::container<std::vector<std::uint32_t>>(rc::gen::inRange<std::uint32_t>(0, 86'400'000));
    Meter meter(*rate);
    Wei sum = 0;
    std::uint64_t total_ms = 0;
    for (auto ms : parts) {
      sum += meter.add(ms);
      total_ms += ms;
    }
    RC_ASSERT(sum == rate->credit_for(total_ms));
  }));
}

TEST(Rate, NoOverflowAtTheLimits) {
  auto rate = Rate::parse_eth_per_minute("999999999999.999999999999999999999999");
  ASSERT_TRUE(rate.ok());
  // A day at the largest rate: 1440 minutes × (10^12 − 10^−24) ETH, in wei cut toward zero
  // (1.44 × 10^33 − 0.00144).
  Wei credited;
  ASSERT_NO_THROW(credited = rate->credit_for(86'400'000));
  EXPECT_EQ(format_wei(credited), "1439999999999999999999999999999999");
}

}  // namespace
}  // namespace lpops
