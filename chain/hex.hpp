#pragma once
// 0x-prefixed hex for byte strings of any length, as JSON-RPC and ABI tools write them.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "domain/result.hpp"

namespace lpops::chain {

std::string to_hex(const std::uint8_t* data, std::size_t size);  // "0x" + lower-case digits
inline std::string to_hex(const std::vector<std::uint8_t>& b) { return to_hex(b.data(), b.size()); }
template <std::size_t N>
std::string to_hex(const std::array<std::uint8_t, N>& b) {
  return to_hex(b.data(), N);
}

// Accepts an optional 0x/0X prefix and an even number of hex digits of either case.
Result<std::vector<std::uint8_t>> from_hex(std::string_view text);
// Exactly 32 bytes of hex (a hash).
Result<std::array<std::uint8_t, 32>> hash32_from_hex(std::string_view text);
// The 32-byte hex string member `key` of a JSON object.
Result<std::array<std::uint8_t, 32>> hash32_field(const boost::json::object& o, std::string_view key);

}  // namespace lpops::chain
