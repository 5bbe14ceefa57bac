#pragma once
// Wall-clock time as microseconds since the Unix epoch, and its ISO-8601 text forms.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lpops {

using UnixMicros = std::int64_t;

UnixMicros now_micros();
// Microseconds on a clock that never steps (CLOCK_MONOTONIC): for intervals, such as rate
// windows, that a wall-clock step must not stretch or shrink.
std::int64_t monotonic_micros();

enum class UtcSuffix { z, offset, none };  // "…Z", "…+00:00", naive

// "2026-01-01T00:00:00.123456Z"; the fraction only when microseconds != 0.
std::string iso_utc(UnixMicros t, UtcSuffix suffix);

// The same text in a buffer of its own, for writers that append it somewhere (a request
// formats several timestamps, mostly of one day): IsoUtc(t, suffix).view().
class IsoUtc {
 public:
  IsoUtc(UnixMicros t, UtcSuffix suffix);
  std::string_view view() const { return {text_, size_}; }

 private:
  char text_[64];
  std::size_t size_ = 0;
};

// A timestamp filter as the reference reads one: a final "Z" dropped, then whatever Python
// 3.11's datetime.fromisoformat accepts (YYYY-MM-DD, YYYYMMDD and ISO week dates; any one
// character before the time; HH[:MM[:SS]] with or without colons and a fraction of any
// length; "Z" or a ±HH[:MM[:SS[.f]]] zone). Naive means UTC. Nothing for anything else, nor
// for a time that its zone puts outside years 1-9999 in UTC (Python's datetime range; the
// node writes every time it keeps in UTC, and could not read such a one back).
std::optional<UnixMicros> parse_iso(std::string_view text);

// Days since 1970-01-01 (UTC) of a timestamp, and the "YYYY-MM-DD" of such a day.
std::int64_t utc_day(UnixMicros t);
std::string day_text(std::int64_t day);

}  // namespace lpops
