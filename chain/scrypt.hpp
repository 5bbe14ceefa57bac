#pragma once
// scrypt (RFC 7914): PBKDF2-HMAC-SHA256, then ROMix with Salsa20/8 on each of p blocks.
// Web3 Secret Storage keystores use parameters outside the RFC's bound N < 2^(16r) (eth-keyfile
// and eth-account write n = 2^18 with r = 1), which OpenSSL's scrypt refuses; this one takes
// any power of two N. The caller bounds N, r and p (memory: 128·r·N bytes).
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lpops::chain {

// Derives `out_size` bytes into `out`; false only when memory for the work area is refused.
bool scrypt(std::string_view password, const std::uint8_t* salt, std::size_t salt_size, std::uint64_t n, std::uint32_t r,
            std::uint32_t p, std::uint8_t* out, std::size_t out_size);

}  // namespace lpops::chain
