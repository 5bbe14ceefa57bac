#include <gtest/gtest.h>

#include <ctime>
#include <optional>
#include <string>
#include <utility>
#include <random>

#include "domain/clock.hpp"

namespace lpops {
namespace {

// The C library's calendar, as the reference formatting: "YYYY-MM-DDTHH:MM:SS[.ffffff]".
std::string libc_iso(UnixMicros t) {
  std::int64_t secs = t / 1'000'000, micros = t % 1'000'000;
  if (micros < 0) {
    micros += 1'000'000;
    secs -= 1;
  }
  const std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                        tm.tm_min, tm.tm_sec);
  std::string out(buf, static_cast<std::size_t>(n));
  if (micros) {
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(micros));
    out += buf;
  }
  return out;
}

TEST(Clock, IsoUtcMatchesTheCalendarEverywhere) {
  std::mt19937_64 rng(5);
  const UnixMicros lo = -62'135'596'800'000'000;  // 0001-01-01
  const UnixMicros hi = 253'402'300'799'999'999;  // 9999-12-31T23:59:59.999999
  for (int i = 0; i < 200000; ++i) {
    UnixMicros t = lo + static_cast<UnixMicros>(rng() % static_cast<std::uint64_t>(hi - lo));
    if (i % 3 == 0) t -= t % 1'000'000;  // whole seconds: no fraction
    ASSERT_EQ(iso_utc(t, UtcSuffix::none), libc_iso(t)) << t;
  }
  EXPECT_EQ(iso_utc(0, UtcSuffix::z), "1970-01-01T00:00:00Z");
  EXPECT_EQ(iso_utc(1'767'225'600'000'001, UtcSuffix::offset), "2026-01-01T00:00:00.000001+00:00");
  EXPECT_EQ(iso_utc(-1, UtcSuffix::z), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(day_text(utc_day(951'782'400'000'000)), "2000-02-29");
}

// Runs of timestamps within one day (the date comes from the thread's last day), broken by
// other days and by years past 9999 (formatted another way), in one thread.
TEST(Clock, IsoUtcRunsWithinADayAndAcrossDaysAgree) {
  std::mt19937_64 rng(11);
  const UnixMicros lo = -62'135'596'800'000'000;
  const UnixMicros hi = 253'402'300'799'999'999;
  const UnixMicros day = 86'400'000'000;
  for (int i = 0; i < 20000; ++i) {
    const UnixMicros start = lo + static_cast<UnixMicros>(rng() % static_cast<std::uint64_t>(hi - lo - day));
    for (int j = 0; j < 5; ++j) {
      const UnixMicros t = start + static_cast<UnixMicros>(rng() % static_cast<std::uint64_t>(day));
      ASSERT_EQ(iso_utc(t, UtcSuffix::none), libc_iso(t)) << t;
      ASSERT_EQ(std::string(IsoUtc(t, UtcSuffix::z).view()), libc_iso(t) + "Z") << t;
    }
    if (i % 100 == 0) {
      // Year 10000 and later: longer text, and not the day remembered.
      const UnixMicros far = hi + 1 + static_cast<UnixMicros>(rng() % static_cast<std::uint64_t>(day * 400));
      EXPECT_EQ(iso_utc(far, UtcSuffix::z).substr(0, 5), std::string(iso_utc(far, UtcSuffix::none)).substr(0, 5));
      EXPECT_GT(iso_utc(far, UtcSuffix::none).size(), libc_iso(0).size());
    }
  }
  EXPECT_EQ(iso_utc(253'402'300'800'000'000, UtcSuffix::z), "10000-01-01T00:00:00Z");
  // Past 9999, from a civil-calendar count of days (10000 is a leap year, as any year
  // divisible by 400).
  EXPECT_EQ(iso_utc(253'407'530'096'500'000, UtcSuffix::z), "10000-03-01T12:34:56.500000Z");
  EXPECT_EQ(iso_utc(327'434'918'399'000'001, UtcSuffix::offset), "12345-12-31T23:59:59.000001+00:00");
  EXPECT_EQ(iso_utc(1'767'225'600'000'001, UtcSuffix::offset), "2026-01-01T00:00:00.000001+00:00");
}

// What Python 3.11's datetime.fromisoformat reads (the reference's filters), and only that
// among these: real calendar days, seconds up to 59, HH / HH:MM / HH:MM:SS, any fraction
// length (past six digits dropped).
TEST(Clock, ParseIsoReadsWhatFromisoformatReads) {
  const UnixMicros day = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
  EXPECT_EQ(parse_iso("2026-01-01"), day);
  EXPECT_EQ(parse_iso("2026-01-01T10"), day + 10 * 3'600'000'000LL);
  EXPECT_EQ(parse_iso("2026-01-01T10:30"), day + 37'800'000'000LL);
  EXPECT_EQ(parse_iso("2026-01-01T00:00:01.5Z"), day + 1'500'000);
  EXPECT_EQ(parse_iso("2026-01-01T00:00:00." + std::string(60, '0') + "1"), day);
  EXPECT_EQ(parse_iso("2026-01-01T00:00:00.1234567"), day + 123'456);
  EXPECT_EQ(parse_iso("2026-01-01T01:00:00+01:00"), day);
  EXPECT_EQ(parse_iso("2024-02-29"), 1'709'164'800'000'000);  // a leap day
  for (const char* bad : {"2026-02-29", "2026-02-31", "2026-04-31", "1900-02-29", "0000-01-01", "2026-01-01T00:00:60",
                          "2026-01-01T24:00", "2026-01-01T00:60", "2026-01-01T00:00:00.", "2026-01-01T1", "2026-01-01T10:",
                          "2026-13-01", "2026-01-00", "2026-01-01T00:00:00Zx", "2026-01-01x"})
    EXPECT_FALSE(parse_iso(bad)) << bad;
}

// A zone that moves a time out of years 1-9999 in UTC: nothing, since the node writes the
// times it keeps in UTC and would write a year it cannot read back (10000-01-01T02:59:59Z).
TEST(Clock, ParseIsoKeepsTheUtcTimeWithinYearsOneTo9999) {
  const UnixMicros last = 253'402'300'799'999'999;  // 9999-12-31T23:59:59.999999Z
  const UnixMicros first = -62'135'596'800'000'000;  // 0001-01-01T00:00:00Z
  EXPECT_EQ(parse_iso("9999-12-31T23:59:59.999999"), last);
  EXPECT_EQ(parse_iso("9999-12-31T23:59:59.999999Z"), last);
  EXPECT_EQ(parse_iso("9999-12-31T23:59:59.999999+03:00"), last - 3 * 3'600'000'000LL);
  EXPECT_EQ(parse_iso("0001-01-01T00:00:00"), first);
  EXPECT_EQ(parse_iso("0001-01-01T00:00:00-00:01"), first + 60'000'000);
  EXPECT_FALSE(parse_iso("9999-12-31T23:59:59-03:00"));
  EXPECT_FALSE(parse_iso("9999-12-31T23:59:59.9992025-03"));
  EXPECT_FALSE(parse_iso("9999-12-31T23:59:59.999999-00:00:01.000001"));
  EXPECT_EQ(parse_iso("9999-12-31T23:59:59.999999-00:00:00.000001"), last);  // no whole seconds: UTC, as Python has it
  EXPECT_FALSE(parse_iso("0001-01-01T00:00:00+00:01"));
  EXPECT_FALSE(parse_iso("0001-01-01T00:00:00.999999+00:00:01"));
  EXPECT_EQ(iso_utc(last, UtcSuffix::z), "9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(parse_iso(iso_utc(first, UtcSuffix::offset)), first);
}

// The forms past the extended one, each with what Python 3.11.7's datetime.fromisoformat made
// of it after the reference's "drop one final Z" (UTC microseconds; naive read as UTC).
TEST(Clock, ParseIsoMatchesPythonOnEveryForm) {
  const std::pair<std::string, std::optional<UnixMicros>> cases[] = {
      {"20261203", UnixMicros{1796256000000000}},
      {"2026-W49-3", UnixMicros{1796169600000000}},
      {"2026W493", UnixMicros{1796169600000000}},
      {"2026W49", UnixMicros{1795996800000000}},
      {"2026-W49", UnixMicros{1795996800000000}},
      {"2026-12-03T123814", UnixMicros{1796301494000000}},
      {"2026-12-03t12:38:14", UnixMicros{1796301494000000}},
      {"2026-12-03 12:38", UnixMicros{1796301480000000}},
      {"2026-12-03T12:38:14z", std::nullopt},
      {"2026-12-03T12:38:14ZZ", UnixMicros{1796301494000000}},
      {"2026-12-03T10.5", UnixMicros{1796292000500000}},
      {"2026-12-03T10:30:15:5", UnixMicros{1796293815500000}},
      {"2026-12-03T103015123", UnixMicros{1796293815123000}},
      {"2026-12-03T10:30:15.Z", std::nullopt},
      {"2026-12-03T10:30+0130", UnixMicros{1796288400000000}},
      {"2026-12-03T10:30+01", UnixMicros{1796290200000000}},
      {"2026-12-03T10:30-01:30:15.5", UnixMicros{1796299215500000}},
      {"2026-12-03T10:30+24:00", std::nullopt},
      {"2026-12-03T10:30+23:59:59.999999", UnixMicros{1796207400000001}},
      {"2026-12-03T10:30+00:99", UnixMicros{1796287860000000}},
      {"2026-12-03T10:30+00:00:00.5", UnixMicros{1796293800000000}},  // no whole seconds: UTC
      {"2026-12-03T10:30-00:00:00.25", UnixMicros{1796293800000000}},
      {"2020-W53-7", UnixMicros{1609632000000000}},
      {"2026-W53", UnixMicros{1798416000000000}},
      {"2026-W00", std::nullopt},
      {"2026-W01-8", std::nullopt},
      {"0001-W01-1", UnixMicros{-62135596800000000}},
      {"9999-W52-5", UnixMicros{253402214400000000}},
      {"9999-W52-7", std::nullopt},
      {"2026-12-03T10:3015", std::nullopt},
      {"2026-1203", std::nullopt},
      {"2026-12-03T10:30:15.1234567Z", UnixMicros{1796293815123456}},
      {"2026-12-03X10", UnixMicros{1796292000000000}},
      {"2026-12-03\xc3\xa9" "10", UnixMicros{1796292000000000}},
      {"2026-12-03T", std::nullopt},
      {"2026-12", std::nullopt},
      {"2026-W49-", std::nullopt},
      {"2026-12-03T10:30Z+01:00", std::nullopt},
      {"2026-12-03T-01:00", std::nullopt},
      {"2026-12-03T10:30:15,25", UnixMicros{1796293815250000}},
  };
  for (const auto& [text, expected] : cases) EXPECT_EQ(parse_iso(text), expected) << text;
}

}  // namespace
}  // namespace lpops
