#include "domain/python_text.hpp"

#include <locale.h>
#include <wctype.h>

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

namespace lpops {
namespace {

// The C.UTF-8 locale's character classes: Unicode's simple case mappings, whatever locale the
// process runs in.
locale_t unicode_ctype() {
  static const locale_t ctype = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return ctype;
}

constexpr char32_t kNotUtf8 = 0x80000000;  // a byte kept as it is: kNotUtf8 | byte

bool cased(char32_t c, locale_t ctype) {
  if (c & kNotUtf8) return false;
  const auto w = static_cast<wint_t>(c);
  return iswupper_l(w, ctype) || iswlower_l(w, ctype) || towlower_l(w, ctype) != w || towupper_l(w, ctype) != w;
}

// Unicode's Case_Ignorable, as far as text around a sigma goes: combining marks and the
// word-internal punctuation (apostrophes, periods, colons, middle dots).
bool case_ignorable(char32_t c) {
  return (c >= 0x300 && c <= 0x36f) || c == '\'' || c == '.' || c == ':' || c == 0xb7 || c == 0x2019 || c == 0x2018 ||
         c == 0x2027 || c == 0x5f4 || c == 0xad;
}

void append_utf8(std::string& out, char32_t c) {
  if (c & kNotUtf8) {
    out += static_cast<char>(c & 0xff);
  } else if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xc0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xe0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  }
}

// The character at s[at] and its length in bytes; kNotUtf8 | byte (length 1) where no
// well-formed UTF-8 sequence starts (overlong, a surrogate, past U+10FFFF, cut short).
std::pair<char32_t, std::size_t> decode_at(std::string_view s, std::size_t at) {
  const std::size_t n = detail::sequence_length(static_cast<unsigned char>(s[at]));
  const char32_t c = at + n <= s.size() ? detail::code_point(s, at, n) : 0xffffffff;
  const bool shortest = n == 1 || (n == 2 && c >= 0x80) || (n == 3 && c >= 0x800) || (n == 4 && c >= 0x10000);
  if (c == 0xffffffff || !shortest || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) ||
      (n == 1 && static_cast<unsigned char>(s[at]) >= 0x80))
    return {kNotUtf8 | static_cast<unsigned char>(s[at]), 1};
  return {c, n};
}

std::vector<char32_t> code_points(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  for (std::size_t at = 0; at < s.size();) {
    const auto [c, n] = decode_at(s, at);
    out.push_back(c);
    at += n;
  }
  return out;
}

}  // namespace

std::string python_lower(std::string_view s) {
  const locale_t ctype = unicode_ctype();
  const std::vector<char32_t> cps = code_points(s);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < cps.size(); ++i) {
    const char32_t c = cps[i];
    if (c & kNotUtf8) {
      append_utf8(out, c);
    } else if (c < 0x80) {
      out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    } else if (c == 0x130) {
      append_utf8(out, 'i');
      append_utf8(out, 0x307);
    } else if (c == 0x3a3) {
      // Final_Sigma: a cased letter before it and none after it, case-ignorables skipped.
      std::size_t j = i;
      while (j > 0 && case_ignorable(cps[j - 1])) --j;
      const bool after_cased_letter = j > 0 && cased(cps[j - 1], ctype);
      std::size_t k = i + 1;
      while (k < cps.size() && case_ignorable(cps[k])) ++k;
      const bool before_cased_letter = k < cps.size() && cased(cps[k], ctype);
      append_utf8(out, after_cased_letter && !before_cased_letter ? 0x3c2 : 0x3c3);
    } else {
      append_utf8(out, ctype ? static_cast<char32_t>(towlower_l(static_cast<wint_t>(c), ctype)) : c);
    }
  }
  return out;
}

namespace {

// The first code point of each run of ten decimal digits (Unicode 14, Python 3.11's
// unicodedata: every character with a decimal value is in one of these runs, 0 to 9).
constexpr char32_t kDigitZeros[] = {0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0};

// The ASCII digit of a decimal digit of any script, or 0.
char ascii_digit(char32_t c) {
  for (char32_t zero : kDigitZeros)
    if (c >= zero && c < zero + 10) return static_cast<char>('0' + (c - zero));
  return 0;
}

}  // namespace

bool python_decimal_text(std::string_view& text, std::string& storage) {
  const bool plain = std::none_of(text.begin(), text.end(), [](char c) {
    const auto b = static_cast<unsigned char>(c);
    return c == '_' || b >= 0x80 || (b >= 0x1c && b <= 0x1f);
  });
  if (!plain) {
    auto read = python_decimal_ascii(text);
    if (!read) return false;
    storage = std::move(*read);
    text = storage;
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return true;
}

bool python_decimal_is_non_finite(std::string_view text) {
  std::string storage;
  if (!python_decimal_text(text, storage)) return false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) text.remove_prefix(1);
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "inf" || lower == "infinity") return true;
  std::string_view rest(lower);
  if (rest.substr(0, 1) == "s") rest.remove_prefix(1);
  if (rest.substr(0, 3) != "nan") return false;
  rest.remove_prefix(3);
  return std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::string> python_decimal_ascii(std::string_view s) {
  s = python_strip(s);
  std::string out;
  out.reserve(s.size());
  for (std::size_t at = 0; at < s.size();) {
    const std::size_t n = std::min(detail::sequence_length(static_cast<unsigned char>(s[at])), s.size() - at);
    const char32_t c = detail::code_point(s, at, n);
    at += n;
    if (c == 0xffffffff) return std::nullopt;
    if (c == '_') continue;
    if (c < 0x80) {
      if (std::isspace(static_cast<int>(c))) return std::nullopt;
      out += static_cast<char>(c);
      continue;
    }
    const char digit = ascii_digit(c);
    if (!digit) return std::nullopt;
    out += digit;
  }
  return out;
}

bool is_utf8(std::string_view s) {
  for (std::size_t at = 0; at < s.size();) {
    const auto [c, n] = decode_at(s, at);
    if (c & kNotUtf8) return false;
    at += n;
  }
  return true;
}

}  // namespace lpops
