#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace lpops {

using Digest32 = std::array<std::uint8_t, 32>;

Digest32 sha256(std::string_view data);
// HMAC-SHA256 (RFC 2104) of `data` under `key`.
Digest32 hmac_sha256(std::string_view key, std::string_view data);
std::string hex_lower(const std::uint8_t* data, std::size_t size);
inline std::string hex_lower(const Digest32& d) { return hex_lower(d.data(), d.size()); }
// Decodes exactly 2*N hex digits (no prefix) into out; false on any other input.
bool hex_decode(std::string_view hex, std::uint8_t* out, std::size_t size);

}  // namespace lpops
