#include "chain/hex.hpp"

#include <algorithm>

namespace lpops::chain {
namespace {

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string to_hex(const std::uint8_t* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 + 2 * size);
  out += "0x";
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0xf];
  }
  return out;
}

Result<std::vector<std::uint8_t>> from_hex(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  if (text.size() % 2 != 0) return Error{"hex has an odd number of digits"};
  std::vector<std::uint8_t> out(text.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = digit_value(text[2 * i]), lo = digit_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return Error{"not a hex digit at position " + std::to_string(2 * i + (hi < 0 ? 0 : 1))};
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

Result<std::array<std::uint8_t, 32>> hash32_from_hex(std::string_view text) {
  auto b = from_hex(text);
  if (!b) return Error{b.error()};
  if (b->size() != 32) return Error{"expected 32 bytes, got " + std::to_string(b->size())};
  std::array<std::uint8_t, 32> out{};
  std::copy(b->begin(), b->end(), out.begin());
  return out;
}

Result<std::array<std::uint8_t, 32>> hash32_field(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return Error{std::string(key) + " is missing"};
  auto h = hash32_from_hex(v->as_string());
  if (!h) return Error{std::string(key) + " is not a 32-byte hex string"};
  return h;
}

}  // namespace lpops::chain
