#pragma once
// Ethereum addresses: parsing, EIP-55 checksums, and derivation from a public key.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/result.hpp"

namespace lpops::chain {

using Address = std::array<std::uint8_t, 20>;

// "0x" + 40 hex digits. A mixed-case input must carry a valid EIP-55 checksum; all-lower
// or all-upper inputs are accepted as they are (they carry no checksum).
Result<Address> parse_address(std::string_view text);
// An address as registrations store it: 0x and 40 hex digits in any case, no checksum (the
// reference matches registration addresses by pattern and compares them without case, so a
// mixed-case spelling that is not EIP-55 still names its 20 bytes).
Result<Address> parse_address_any_case(std::string_view text);
std::string to_lower_hex(const Address& a);   // "0x…" lower-case
std::string to_checksummed(const Address& a);  // EIP-55

// keccak256(uncompressed public key without its 0x04 prefix), last 20 bytes.
Address address_of_public_key(const std::uint8_t (&xy)[64]);

}  // namespace lpops::chain
