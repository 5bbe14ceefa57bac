#pragma once
// Text as the reference's Python reads it: str.strip(), and integers as pydantic's lax mode
// reads them, for bodies, queries and settings alike.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace lpops {

// Text without the whitespace around it (pydantic's lax numbers are read trimmed).
inline std::string_view trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Surrounding whitespace (Unicode's too) ignored, an optional sign, digits (an underscore between two of them,
// as Python's int() and pydantic take "1_000"), and optionally a '.' followed by zeros only
// ("3.0" is 3, "3." is refused). `side` is set to +1 / -1 for a well-formed integer out of
// int64's range.
inline std::string_view python_strip(std::string_view s);  // below
inline std::string_view pydantic_number_strip(std::string_view s);  // below

inline std::optional<std::int64_t> lax_int(std::string_view s, int& side) {
  side = 0;
  s = pydantic_number_strip(s);  // Unicode whitespace too (a no-break space), as pydantic trims
  std::string without_underscores;
  if (const auto underscore = s.find('_'); underscore != std::string_view::npos) {
    if (const auto dot = s.find('.'); dot != std::string_view::npos && underscore > dot) return std::nullopt;  // "1.0_0"
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '_') {
        without_underscores += s[i];
        continue;
      }
      const auto digit = [](char c) { return c >= '0' && c <= '9'; };
      if (i == 0 || i + 1 == s.size() || !digit(s[i - 1]) || !digit(s[i + 1])) return std::nullopt;
    }
    s = without_underscores;
  }
  if (const auto dot = s.find('.'); dot != std::string_view::npos) {
    // "3.0" is 3; "3." is no integer (pydantic refuses it).
    if (dot + 1 == s.size() || s.find_first_not_of('0', dot + 1) != std::string_view::npos) return std::nullopt;
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

namespace detail {

// Python's str.isspace() code points (the Unicode White_Space set, plus U+001C..U+001F).
inline bool python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

// The code point of the UTF-8 sequence s[at, at+len); U+FFFD-ish 0xFFFFFFFF when malformed.
inline char32_t code_point(std::string_view s, std::size_t at, std::size_t len) {
  const auto b0 = static_cast<unsigned char>(s[at]);
  if (len == 1) return b0 < 0x80 ? b0 : 0xffffffff;
  char32_t c = b0 & (0xff >> (len + 1));
  for (std::size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[at + i]);
    if ((b & 0xc0) != 0x80) return 0xffffffff;
    c = (c << 6) | (b & 0x3f);
  }
  return c;
}

inline std::size_t sequence_length(unsigned char lead) {
  return lead < 0x80 ? 1 : (lead & 0xe0) == 0xc0 ? 2 : (lead & 0xf0) == 0xe0 ? 3 : (lead & 0xf8) == 0xf0 ? 4 : 1;
}

}  // namespace detail

// Python's str.strip() on UTF-8 text: every Unicode whitespace character at either end
// (U+00A0, U+2003, U+3000 and the like, not only ASCII).
namespace detail {

template <class Space>
std::string_view strip_code_points(std::string_view s, Space space) {
  while (!s.empty()) {
    const std::size_t n = std::min(sequence_length(static_cast<unsigned char>(s.front())), s.size());
    if (!space(code_point(s, 0, n))) break;
    s.remove_prefix(n);
  }
  while (!s.empty()) {
    std::size_t start = s.size() - 1;
    while (start > 0 && s.size() - start < 4 && (static_cast<unsigned char>(s[start]) & 0xc0) == 0x80) --start;
    const std::size_t n = s.size() - start;
    if (sequence_length(static_cast<unsigned char>(s[start])) != n || !space(code_point(s, start, n))) break;
    s.remove_suffix(n);
  }
  return s;
}

}  // namespace detail

inline std::string_view python_strip(std::string_view s) { return detail::strip_code_points(s, detail::python_space); }

// As pydantic trims a string it reads as an integer or a float: Unicode's White_Space only,
// without the four separators U+001C..U+001F that Python's str.strip() also takes ("\x1c5"
// is no integer to pydantic).
inline std::string_view pydantic_number_strip(std::string_view s) {
  return detail::strip_code_points(s, [](char32_t c) { return detail::python_space(c) && !(c >= 0x1c && c <= 0x1f); });
}

// A float's text as pydantic's lax mode reads it: trimmed of Unicode whitespace, an optional
// sign, a decimal number (or inf, nan); or, untrimmed, the same with underscores anywhere but
// first, last or two in a row (left out: " 1_0" is no number, "1_0" is 10). One past a
// double's range is an infinity (or zero), for bounds to refuse. Nothing for text that is no
// number.
inline std::optional<double> lax_float(std::string_view s) {
  const bool underscores = s.find('_') != std::string_view::npos;
  std::string text(underscores ? s : pydantic_number_strip(s));
  if (underscores && (text.front() == '_' || text.back() == '_' || text.find("__") != std::string::npos))
    return std::nullopt;
  std::erase(text, '_');
  std::string_view t = text;
  if (t.size() > 1 && t.front() == '+' && t[1] != '-') t.remove_prefix(1);
  double d = 0;
  const auto res = std::from_chars(t.data(), t.data() + t.size(), d);
  if (t.empty() || res.ptr != t.data() + t.size()) return std::nullopt;
  if (res.ec == std::errc::result_out_of_range) return std::strtod(std::string(t).c_str(), nullptr);
  if (res.ec != std::errc{}) return std::nullopt;
  return d;
}

// A decimal number's text as Python's Decimal() (and so pydantic) reads it, in ASCII: the
// Unicode whitespace around it dropped, digits of every script (Unicode category Nd: "١",
// "１") as ASCII digits, and every underscore removed ("1_000" is 1000; Python drops them
// wherever they stand). Nothing for text with any other non-ASCII character, or with
// whitespace left inside once the underscores are gone.
std::optional<std::string> python_decimal_ascii(std::string_view s);

// `text` as Decimal() reads a number's text, for the parsers of amounts and rates: rewritten
// by python_decimal_ascii when it has anything to do (an underscore, a non-ASCII byte, or one
// of the control characters Python counts as whitespace, 0x1c-0x1f; `storage` then holds the
// result), and stripped of ASCII whitespace. False: Decimal would not read it as a number.
bool python_decimal_text(std::string_view& text, std::string& storage);

// Whether Decimal() reads `text` as an infinity or a NaN ("Infinity", " -inf", "nan12",
// "sNaN", in any case, with underscores and spaces as python_decimal_text takes them):
// pydantic's finite_number rather than a text that is no decimal.
bool python_decimal_is_non_finite(std::string_view text);

// Python's str.lower() on UTF-8 text: every cased letter, not only ASCII ("ÉCOLE" and
// "école" are one id to the reference's duplicate check), with its two context rules: U+0130
// becomes "i" and a combining dot, and a capital sigma ending a word becomes the final sigma.
// Bytes that are not UTF-8 are kept as they are.
std::string python_lower(std::string_view s);

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates, code points past U+10FFFF
// or sequences cut short).
bool is_utf8(std::string_view s);

}  // namespace lpops
