#include "chain/address.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "chain/keccak.hpp"
#include "domain/digest.hpp"

namespace lpops::chain {

std::string to_lower_hex(const Address& a) { return "0x" + hex_lower(a.data(), a.size()); }

std::string to_checksummed(const Address& a) {
  std::string lower = hex_lower(a.data(), a.size());
  Hash256 h = keccak256(lower);
  std::string out = "0x";
  for (std::size_t i = 0; i < lower.size(); ++i) {
    const std::uint8_t nibble = i % 2 == 0 ? h[i / 2] >> 4 : h[i / 2] & 0x0f;
    out += nibble >= 8 ? static_cast<char>(std::toupper(static_cast<unsigned char>(lower[i]))) : lower[i];
  }
  return out;
}

Result<Address> parse_address(std::string_view text) {
  if (text.size() != 42 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
    return Error{"an address is 0x followed by 40 hex digits"};
  std::string_view digits = text.substr(2);
  Address a{};
  if (!hex_decode(digits, a.data(), a.size())) return Error{"an address is 0x followed by 40 hex digits"};
  const bool has_lower = std::any_of(digits.begin(), digits.end(), [](char c) { return c >= 'a' && c <= 'f'; });
  const bool has_upper = std::any_of(digits.begin(), digits.end(), [](char c) { return c >= 'A' && c <= 'F'; });
  if (has_lower && has_upper && to_checksummed(a).substr(2) != digits) return Error{"address has an invalid EIP-55 checksum"};
  return a;
}

Result<Address> parse_address_any_case(std::string_view text) {
  if (text.size() != 42 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
    return Error{"an address is 0x followed by 40 hex digits"};
  Address a{};
  if (!hex_decode(text.substr(2), a.data(), a.size())) return Error{"an address is 0x followed by 40 hex digits"};
  return a;
}

Address address_of_public_key(const std::uint8_t (&xy)[64]) {
  Hash256 h = keccak256(xy, sizeof xy);
  Address a;
  std::memcpy(a.data(), h.data() + 12, a.size());
  return a;
}

}  // namespace lpops::chain
