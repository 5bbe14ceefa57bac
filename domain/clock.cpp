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

bool read_int(std::string_view s, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

UnixMicros now_micros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
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

std::optional<UnixMicros> parse_iso(std::string_view s) {
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (s.size() < 10 || !read_int(s, 0, 4, year) || s[4] != '-' || !read_int(s, 5, 2, month) ||
      s[7] != '-' || !read_int(s, 8, 2, day))
    return std::nullopt;
  // A real calendar day, as Python's datetime requires (2026-02-31 is no date).
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return std::nullopt;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDays[month - 1] + (month == 2 && leap ? 1 : 0) || year < 1) return std::nullopt;
  std::size_t pos = 10;
  std::int64_t micros = 0;
  // The time as Python 3.11's fromisoformat reads it: HH, HH:MM, HH:MM:SS, then a fraction of
  // any length (digits past the sixth dropped).
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
    if (!read_int(s, pos + 1, 2, hour)) return std::nullopt;
    pos += 3;
    if (pos < s.size() && s[pos] == ':') {
      if (!read_int(s, pos + 1, 2, minute)) return std::nullopt;
      pos += 3;
      if (pos < s.size() && s[pos] == ':') {
        if (!read_int(s, pos + 1, 2, second)) return std::nullopt;
        pos += 3;
        if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
          const std::size_t start = ++pos;
          while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
          const std::size_t len = pos - start;
          if (len == 0) return std::nullopt;
          std::int64_t frac = 0;
          for (std::size_t i = 0; i < 6; ++i) frac = frac * 10 + (i < len ? s[start + i] - '0' : 0);
          micros = frac;
        }
      }
    }
  }
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  std::int64_t offset_seconds = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int oh, om;
      if (!read_int(s, pos + 1, 2, oh) || s.size() < pos + 6 || s[pos + 3] != ':' ||
          !read_int(s, pos + 4, 2, om) || oh > 23 || om > 59)
        return std::nullopt;
      offset_seconds = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
      pos += 6;
    } else {
      return std::nullopt;
    }
  }
  if (pos != s.size()) return std::nullopt;
  std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  std::int64_t secs = days * kSecondsPerDay + hour * 3600 + minute * 60 + second - offset_seconds;
  return secs * kMicrosPerSecond + micros;
}

}  // namespace lpops
