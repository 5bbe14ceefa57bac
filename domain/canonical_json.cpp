#include "domain/canonical_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "domain/python_text.hpp"

namespace lpops {
namespace {

bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

constexpr char kHex[] = "0123456789abcdef";

void append_u_escape(std::string& out, unsigned unit) {
  out += "\\u";
  out += kHex[(unit >> 12) & 0xf];
  out += kHex[(unit >> 8) & 0xf];
  out += kHex[(unit >> 4) & 0xf];
  out += kHex[unit & 0xf];
}

void write_string(std::string_view s, std::string& out) {
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    // The run of characters that need no escape goes in with one append.
    std::size_t run = i;
    while (run < s.size() && !needs_escape(static_cast<unsigned char>(s[run]))) ++run;
    out.append(s.data() + i, run - i);
    if (run == s.size()) break;
    const auto c = static_cast<unsigned char>(s[run]);
    i = run + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:  // the other control characters
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
    }
  }
  out += '"';
}

// Python's float repr: the shortest round-trip digits; scientific when the decimal
// exponent is < -4 or >= 16, with a sign and at least two exponent digits.
void write_double(double d, std::string& out) {
  if (std::isnan(d)) { out += "NaN"; return; }
  if (std::isinf(d)) { out += d < 0 ? "-Infinity" : "Infinity"; return; }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, end);  // d.ddddde±XX
  const auto e = sci.find('e');
  std::string mantissa = sci.substr(0, e);
  const int exponent = std::stoi(sci.substr(e + 1));
  const bool negative = mantissa[0] == '-';
  if (negative) mantissa.erase(0, 1);
  std::string digits;
  for (char c : mantissa)
    if (c != '.') digits += c;
  if (negative) out += '-';
  if (exponent < -4 || exponent >= 16) {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += exponent < 0 ? '-' : '+';
    const int a = std::abs(exponent);
    if (a < 10) out += '0';
    out += std::to_string(a);
    return;
  }
  if (exponent < 0) {
    out += "0.";
    out += std::string(static_cast<std::size_t>(-exponent - 1), '0');
    out += digits;
    return;
  }
  const auto int_digits = static_cast<std::size_t>(exponent) + 1;
  if (digits.size() <= int_digits) {
    out += digits + std::string(int_digits - digits.size(), '0') + ".0";
  } else {
    out += digits.substr(0, int_digits) + "." + digits.substr(int_digits);
  }
}

void write(const boost::json::value& v, std::string& out, bool sort_keys = true);

void write_object(const boost::json::object& o, std::string& out, std::initializer_list<std::string_view> skip,
                  bool sort_keys = true) {
  std::vector<const boost::json::key_value_pair*> members;
  members.reserve(o.size());
  for (const auto& kv : o)
    if (std::find(skip.begin(), skip.end(), kv.key()) == skip.end()) members.push_back(&kv);
  // UTF-8 byte order is code-point order, which is how Python sorts str keys.
  if (sort_keys) std::sort(members.begin(), members.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
  out += '{';
  bool first = true;
  for (const auto* kv : members) {
    if (!first) out += ',';
    first = false;
    write_string(kv->key(), out);
    out += ':';
    write(kv->value(), out, sort_keys);
  }
  out += '}';
}

void write(const boost::json::value& v, std::string& out, bool sort_keys) {
  switch (v.kind()) {
    case boost::json::kind::null: out += "null"; return;
    case boost::json::kind::bool_: out += v.get_bool() ? "true" : "false"; return;
    case boost::json::kind::int64: out += std::to_string(v.get_int64()); return;
    case boost::json::kind::uint64: out += std::to_string(v.get_uint64()); return;
    case boost::json::kind::double_: write_double(v.get_double(), out); return;
    case boost::json::kind::string: write_string(v.get_string(), out); return;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& x : v.get_array()) {
        if (!first) out += ',';
        first = false;
        write(x, out, sort_keys);
      }
      out += ']';
      return;
    }
    case boost::json::kind::object:
      write_object(v.get_object(), out, {}, sort_keys);
      return;
  }
}

}  // namespace

void append_canonical_string(std::string& out, std::string_view s) { write_string(s, out); }

void append_serialized(std::string& out, const boost::json::object& o) {
  boost::json::serializer sr;
  sr.reset(&o);
  std::size_t size = out.size();
  while (!sr.done()) {
    constexpr std::size_t kPiece = 512;
    out.resize(size + kPiece);
    size += sr.read(out.data() + size, kPiece).size();
  }
  out.resize(size);
}

void append_canonical_json(std::string& out, const boost::json::object& o) { write_object(o, out, {}); }

std::string canonical_json(const boost::json::value& v) {
  std::string out;
  out.reserve(512);
  write(v, out);
  return out;
}

std::string python_json(const boost::json::value& v) {
  std::string out;
  out.reserve(256);
  write(v, out, false);
  return out;
}

std::string canonical_json_without(const boost::json::object& o, std::initializer_list<std::string_view> skip) {
  std::string out;
  out.reserve(512);
  write_object(o, out, skip);
  return out;
}

bool make_ascii_json(std::string& text) {
  // Eight bytes at a time: a byte at 0x7f or over sets its top bit in w or in w + 1 (a carry
  // out of a byte comes only from 0xff, which is flagged already).
  constexpr std::uint64_t kOnes = 0x0101010101010101ull, kTops = 0x8080808080808080ull;
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, text.data() + i, 8);
    if ((w | (w + kOnes)) & kTops) break;
  }
  while (i < text.size() && static_cast<unsigned char>(text[i]) < 0x7f) ++i;
  if (i == text.size()) return false;
  std::string out;
  out.reserve(text.size() + 64);
  out.append(text, 0, i);
  const std::string_view s(text);
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    if (lead < 0x7f) {
      out += s[i++];
      continue;
    }
    const std::size_t len = std::min(detail::sequence_length(lead), s.size() - i);
    const char32_t c = detail::code_point(s, i, len);
    if (c == 0xffffffff) {  // not UTF-8 (the writers never give it): U+FFFD for the one byte, as a decoder would
      append_u_escape(out, 0xfffd);
      ++i;
      continue;
    }
    i += len;
    if (c > 0xffff) {
      const char32_t v = c - 0x10000;
      append_u_escape(out, 0xd800 + static_cast<unsigned>(v >> 10));
      append_u_escape(out, 0xdc00 + static_cast<unsigned>(v & 0x3ff));
    } else {
      append_u_escape(out, static_cast<unsigned>(c));
    }
  }
  text = std::move(out);
  return true;
}

}  // namespace lpops
