#pragma once
// Integers in text as pydantic's lax mode reads them, for bodies, queries and settings alike.
#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace lpops {

// Text without the whitespace around it (pydantic's lax numbers are read trimmed).
inline std::string_view trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Surrounding whitespace ignored, an optional sign, digits, and optionally a '.' followed by
// zeros only ("3.0" is 3). `side` is set to +1 / -1 for a well-formed integer out of int64's
// range.
inline std::optional<std::int64_t> lax_int(std::string_view s, int& side) {
  side = 0;
  s = trimmed(s);
  if (const auto dot = s.find('.'); dot != std::string_view::npos) {
    if (s.find_first_not_of('0', dot + 1) != std::string_view::npos) return std::nullopt;
    s = s.substr(0, dot);
  }
  const bool negative = !s.empty() && s.front() == '-';
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (!s.empty() && s.front() == '-') return std::nullopt;  // one sign at most
  }
  std::int64_t n = 0;
  const auto res = std::from_chars(s.data(), s.data() + s.size(), n);
  if (res.ptr != s.data() + s.size()) return std::nullopt;
  if (res.ec == std::errc::result_out_of_range) {
    side = negative ? -1 : 1;
    return std::nullopt;
  }
  if (res.ec != std::errc{}) return std::nullopt;
  return n;
}

}  // namespace lpops
