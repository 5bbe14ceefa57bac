#include "domain/clock.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>

namespace lpops {
namespace {

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kSecondsPerDay = 86'400;

// Howard Hinnant's civil-calendar algorithms (public domain), proleptic Gregorian.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

UnixMicros now_micros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::int64_t monotonic_micros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

std::int64_t utc_day(UnixMicros t) { return floor_div(t, kMicrosPerSecond * kSecondsPerDay); }

namespace {

// Writes v as exactly `width` decimal digits (v < 10^width); the hot path formats several
// timestamps per request, where snprintf showed up in profiles.
char* digits(char* p, std::uint64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

// "YYYY-MM-DD" into p (years 0..9999); returns the end.
char* write_day(char* p, std::int64_t day) {
  std::int64_t y;
  unsigned m, d;
  civil_from_days(day, y, m, d);
  p = digits(p, static_cast<std::uint64_t>(y), 4);
  *p++ = '-';
  p = digits(p, m, 2);
  *p++ = '-';
  return digits(p, d, 2);
}

bool four_digit_year(std::int64_t day) {
  std::int64_t y;
  unsigned m, d;
  civil_from_days(day, y, m, d);
  return y >= 0 && y <= 9999;
}

}  // namespace

std::string day_text(std::int64_t day) {
  if (four_digit_year(day)) {
    char buf[16];
    return std::string(buf, write_day(buf, day));
  }
  std::int64_t y;
  unsigned m, d;
  civil_from_days(day, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

IsoUtc::IsoUtc(UnixMicros t, UtcSuffix suffix) {
  const std::int64_t day = utc_day(t);
  const std::int64_t rem = t - day * kSecondsPerDay * kMicrosPerSecond;
  const std::int64_t secs = rem / kMicrosPerSecond;
  const std::int64_t micros = rem % kMicrosPerSecond;
  // The calendar date of the last day this thread wrote: timestamps come mostly from one.
  thread_local std::int64_t memo_day = std::numeric_limits<std::int64_t>::min();
  thread_local char memo_text[10];
  char* p = text_;
  if (day == memo_day) {
    p = std::copy_n(memo_text, sizeof memo_text, p);
  } else if (four_digit_year(day)) {
    p = write_day(p, day);
    std::copy_n(text_, sizeof memo_text, memo_text);
    memo_day = day;
  } else {
    const std::string text = day_text(day);  // at most 21 characters (years of UnixMicros)
    p = std::copy(text.begin(), text.end(), p);
  }
  *p++ = 'T';
  p = digits(p, static_cast<std::uint64_t>(secs / 3600), 2);
  *p++ = ':';
  p = digits(p, static_cast<std::uint64_t>(secs / 60 % 60), 2);
  *p++ = ':';
  p = digits(p, static_cast<std::uint64_t>(secs % 60), 2);
  if (micros != 0) {
    *p++ = '.';
    p = digits(p, static_cast<std::uint64_t>(micros), 6);
  }
  if (suffix == UtcSuffix::z) *p++ = 'Z';
  if (suffix == UtcSuffix::offset) p = std::copy_n("+00:00", 6, p);
  size_ = static_cast<std::size_t>(p - text_);
}

std::string iso_utc(UnixMicros t, UtcSuffix suffix) { return std::string(IsoUtc(t, suffix).view()); }

namespace {

// Python 3.11's datetime.fromisoformat as its C implementation reads a string, step for step
// (Modules/_datetimemodule.c): the reference's filters take whatever it takes. Reads past the
// end see '\0', as that code sees its string's terminator.
char at(std::string_view s, std::size_t i) { return i < s.size() ? s[i] : '\0'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool digits_at(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = at(s, pos + i);
    if (!is_digit(c)) return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

// Where the date ends and the (any one character) separator stands; -1 for none.
std::ptrdiff_t iso_separator(std::string_view s) {
  const std::size_t len = s.size();
  if (len == 7) return 7;
  if (s[4] == '-') {
    if (s[5] != 'W') return 10;                    // YYYY-MM-DD
    if (len > 8 && s[8] == '-') {                  // YYYY-Www-D, or YYYY-Www then a separator '-'
      if (len == 9) return -1;
      return len > 10 && is_digit(s[10]) ? 8 : 10;
    }
    return 8;                                      // YYYY-Www
  }
  if (s[4] != 'W') return 8;                       // YYYYMMDD
  std::size_t idx = 7;                             // YYYYWww or YYYYWwwD
  while (idx < len && is_digit(s[idx])) ++idx;
  if (idx < 9) return static_cast<std::ptrdiff_t>(idx);
  return idx % 2 == 0 ? 7 : 8;
}

bool leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return kDays[m - 1] + (m == 2 && leap_year(y) ? 1 : 0);
}
// Monday = 0, as Python's weekday().
int weekday(std::int64_t days_since_epoch) { return static_cast<int>(((days_since_epoch + 3) % 7 + 7) % 7); }

// The date in s[0, len): days since 1970-01-01 of a valid date.
std::optional<std::int64_t> iso_date(std::string_view s, std::size_t len) {
  int year, month, day;
  std::size_t p = 0;
  if (!digits_at(s, p, 4, year)) return std::nullopt;
  p = 4;
  const bool dashed = at(s, p) == '-';
  if (dashed) ++p;
  if (at(s, p) == 'W') {
    int week, wday = 1;
    if (!digits_at(s, ++p, 2, week)) return std::nullopt;
    p += 2;
    if (p < len) {
      if (dashed && at(s, p++) != '-') return std::nullopt;
      if (!digits_at(s, p, 1, wday)) return std::nullopt;
    }
    const std::int64_t jan1 = days_from_civil(year, 1, 1);
    if (week <= 0 || week >= 53) {
      // Week 53 exists in years that start on a Thursday, and leap years that start on a Wednesday.
      const int first = weekday(jan1);
      if (!(week == 53 && (first == 3 || (first == 2 && leap_year(year))))) return std::nullopt;
    }
    if (wday <= 0 || wday >= 8) return std::nullopt;
    std::int64_t monday = jan1 - weekday(jan1);
    if (weekday(jan1) > 3) monday += 7;
    const std::int64_t days = monday + (week - 1) * 7 + wday - 1;
    std::int64_t y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    if (y < 1 || y > 9999) return std::nullopt;
    return days;
  }
  if (!digits_at(s, p, 2, month)) return std::nullopt;
  p += 2;
  if (dashed && at(s, p++) != '-') return std::nullopt;
  if (!digits_at(s, p, 2, day)) return std::nullopt;
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
  return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
}

// HH[:?MM[:?SS]][{.,}f+] in t[p, end): 0 when it ends the string, 1 when something follows
// (the zone), -1 when malformed.
int hh_mm_ss_ff(std::string_view t, std::size_t p, std::size_t end, int (&vals)[4]) {
  vals[0] = vals[1] = vals[2] = vals[3] = 0;
  bool colons = true;
  for (int i = 0; i < 3; ++i) {
    if (!digits_at(t, p, 2, vals[i])) return -1;
    p += 2;
    const char c = at(t, p++);
    if (i == 0) colons = c == ':';
    if (p >= end) return c != '\0' ? 1 : 0;
    if (colons && c == ':') continue;
    if (c == '.' || c == ',') break;
    if (colons) return -1;
    --p;
  }
  const std::size_t n = std::min<std::size_t>(end - p, 6);
  if (!digits_at(t, p, n, vals[3])) return -1;
  for (std::size_t i = n; i < 6; ++i) vals[3] *= 10;
  p += n;
  while (is_digit(at(t, p))) ++p;  // digits past the sixth are dropped
  return at(t, p) != '\0' ? 1 : 0;
}

}  // namespace

std::optional<UnixMicros> parse_iso(std::string_view s) {
  // The reference drops one final "Z" before it parses.
  if (!s.empty() && s.back() == 'Z') s.remove_suffix(1);
  if (s.size() < 7) return std::nullopt;
  const std::ptrdiff_t sep = iso_separator(s);
  if (sep < 0) return std::nullopt;
  const auto days = iso_date(s, static_cast<std::size_t>(sep));
  if (!days) return std::nullopt;
  int time[4] = {0, 0, 0, 0};
  std::int64_t offset_micros = 0;
  if (s.size() > static_cast<std::size_t>(sep)) {
    // The separator is any one character, of however many UTF-8 bytes (told by its first).
    const unsigned char lead = static_cast<unsigned char>(s[static_cast<std::size_t>(sep)]);
    const std::size_t width = (lead & 0x80) == 0 ? 1 : (lead & 0xf0) == 0xe0 ? 3 : (lead & 0xf0) == 0xf0 ? 4 : 2;
    if (static_cast<std::size_t>(sep) + width > s.size()) return std::nullopt;
    const std::string_view t = s.substr(static_cast<std::size_t>(sep) + width);
    std::size_t zone = 0;
    do {
      const char c = at(t, zone);
      if (c == 'Z' || c == '+' || c == '-') break;
    } while (++zone < t.size());
    const int rv = hh_mm_ss_ff(t, 0, zone, time);
    if (rv < 0) return std::nullopt;
    if (zone >= t.size()) {
      if (rv == 1) return std::nullopt;
    } else if (t[zone] == 'Z') {
      if (at(t, zone + 1) != '\0') return std::nullopt;
    } else {
      int tz[4];
      if (hh_mm_ss_ff(t, zone + 1, t.size(), tz) != 0) return std::nullopt;
      // An offset of no whole seconds is UTC, its fraction dropped, as CPython 3.11 has it
      // ("+00:00:00.5" is +00:00).
      const std::int64_t whole = std::int64_t{tz[0]} * 3600 + tz[1] * 60 + tz[2];
      offset_micros = whole == 0 ? 0 : whole * kMicrosPerSecond + tz[3];
      if (t[zone] == '-') offset_micros = -offset_micros;
      // A zone strictly within a day either way, as datetime.timezone requires.
      if (offset_micros <= -kSecondsPerDay * kMicrosPerSecond || offset_micros >= kSecondsPerDay * kMicrosPerSecond)
        return std::nullopt;
    }
  }
  if (time[0] > 23 || time[1] > 59 || time[2] > 59) return std::nullopt;
  const std::int64_t secs = *days * kSecondsPerDay + time[0] * 3600 + time[1] * 60 + time[2];
  const std::int64_t utc = secs * kMicrosPerSecond + time[3] - offset_micros;
  // In UTC, years 1 to 9999 only (a zone can move a time at either end out of them): what
  // the node keeps is written in UTC, and a Python datetime holds no other year.
  constexpr std::int64_t kFirst = -719162 * kSecondsPerDay * kMicrosPerSecond;  // 0001-01-01
  constexpr std::int64_t kEnd = 2932897 * kSecondsPerDay * kMicrosPerSecond;    // 10000-01-01
  if (utc < kFirst || utc >= kEnd) return std::nullopt;
  return utc;
}

}  // namespace lpops
