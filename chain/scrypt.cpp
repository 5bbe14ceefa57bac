#include "chain/scrypt.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <new>
#include <vector>

namespace lpops::chain {
namespace {

std::uint32_t rotl(std::uint32_t v, int c) { return (v << c) | (v >> (32 - c)); }

// Salsa20/8's core on 16 words, added to its input (RFC 7914 §3).
void salsa20_8(std::uint32_t b[16]) {
  std::uint32_t x[16];
  std::memcpy(x, b, sizeof x);
  for (int i = 0; i < 8; i += 2) {
    x[4] ^= rotl(x[0] + x[12], 7), x[8] ^= rotl(x[4] + x[0], 9), x[12] ^= rotl(x[8] + x[4], 13), x[0] ^= rotl(x[12] + x[8], 18);
    x[9] ^= rotl(x[5] + x[1], 7), x[13] ^= rotl(x[9] + x[5], 9), x[1] ^= rotl(x[13] + x[9], 13), x[5] ^= rotl(x[1] + x[13], 18);
    x[14] ^= rotl(x[10] + x[6], 7), x[2] ^= rotl(x[14] + x[10], 9), x[6] ^= rotl(x[2] + x[14], 13), x[10] ^= rotl(x[6] + x[2], 18);
    x[3] ^= rotl(x[15] + x[11], 7), x[7] ^= rotl(x[3] + x[15], 9), x[11] ^= rotl(x[7] + x[3], 13), x[15] ^= rotl(x[11] + x[7], 18);
    x[1] ^= rotl(x[0] + x[3], 7), x[2] ^= rotl(x[1] + x[0], 9), x[3] ^= rotl(x[2] + x[1], 13), x[0] ^= rotl(x[3] + x[2], 18);
    x[6] ^= rotl(x[5] + x[4], 7), x[7] ^= rotl(x[6] + x[5], 9), x[4] ^= rotl(x[7] + x[6], 13), x[5] ^= rotl(x[4] + x[7], 18);
    x[11] ^= rotl(x[10] + x[9], 7), x[8] ^= rotl(x[11] + x[10], 9), x[9] ^= rotl(x[8] + x[11], 13), x[10] ^= rotl(x[9] + x[8], 18);
    x[12] ^= rotl(x[15] + x[14], 7), x[13] ^= rotl(x[12] + x[15], 9), x[14] ^= rotl(x[13] + x[12], 13), x[15] ^= rotl(x[14] + x[13], 18);
  }
  for (int i = 0; i < 16; ++i) b[i] += x[i];
  OPENSSL_cleanse(x, sizeof x);
}

// BlockMix (RFC 7914 §4) of the 2r 64-byte blocks in `in` (as words) into `out`.
void block_mix(const std::uint32_t* in, std::uint32_t* out, std::uint32_t r) {
  std::uint32_t x[16];
  std::memcpy(x, in + (2 * r - 1) * 16, sizeof x);
  for (std::uint32_t i = 0; i < 2 * r; ++i) {
    for (int k = 0; k < 16; ++k) x[k] ^= in[i * 16 + k];
    salsa20_8(x);
    // Even blocks to the first half, odd ones to the second.
    std::memcpy(out + ((i % 2) * r + i / 2) * 16, x, sizeof x);
  }
  OPENSSL_cleanse(x, sizeof x);
}

std::uint32_t load_le(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[3]} << 24);
}
void store_le(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v), p[1] = static_cast<std::uint8_t>(v >> 8), p[2] = static_cast<std::uint8_t>(v >> 16),
  p[3] = static_cast<std::uint8_t>(v >> 24);
}

// ROMix (RFC 7914 §5) of one 128r-byte block, in place; `v` holds N blocks, `x` and `y` one each.
void ro_mix(std::uint8_t* block, std::uint64_t n, std::uint32_t r, std::uint32_t* v, std::uint32_t* x, std::uint32_t* y) {
  const std::size_t words = 32 * static_cast<std::size_t>(r);
  for (std::size_t k = 0; k < words; ++k) x[k] = load_le(block + 4 * k);
  for (std::uint64_t i = 0; i < n; ++i) {
    std::memcpy(v + i * words, x, words * 4);
    block_mix(x, y, r);
    std::memcpy(x, y, words * 4);
  }
  for (std::uint64_t i = 0; i < n; ++i) {
    // Integerify: the last 64-byte block's first word pair, little-endian; n is a power of two.
    const std::uint64_t j = ((std::uint64_t{x[words - 15]} << 32) | x[words - 16]) & (n - 1);
    const std::uint32_t* vj = v + j * words;
    for (std::size_t k = 0; k < words; ++k) x[k] ^= vj[k];
    block_mix(x, y, r);
    std::memcpy(x, y, words * 4);
  }
  for (std::size_t k = 0; k < words; ++k) store_le(block + 4 * k, x[k]);
}

}  // namespace

bool scrypt(std::string_view password, const std::uint8_t* salt, std::size_t salt_size, std::uint64_t n, std::uint32_t r,
            std::uint32_t p, std::uint8_t* out, std::size_t out_size) {
  const std::size_t block_bytes = 128 * static_cast<std::size_t>(r);
  std::vector<std::uint8_t> b;
  std::vector<std::uint32_t> v, xy;
  try {
    b.resize(block_bytes * p);
    v.resize(32 * static_cast<std::size_t>(r) * n);
    xy.resize(64 * static_cast<std::size_t>(r));
  } catch (const std::bad_alloc&) {
    return false;
  }
  bool ok = PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt, static_cast<int>(salt_size), 1,
                              EVP_sha256(), static_cast<int>(b.size()), b.data()) == 1;
  for (std::uint32_t i = 0; ok && i < p; ++i) ro_mix(b.data() + i * block_bytes, n, r, v.data(), xy.data(), xy.data() + 32 * r);
  ok = ok && PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), b.data(), static_cast<int>(b.size()), 1,
                               EVP_sha256(), static_cast<int>(out_size), out) == 1;
  // The work area holds what the key is derived from.
  OPENSSL_cleanse(b.data(), b.size());
  OPENSSL_cleanse(v.data(), v.size() * 4);
  OPENSSL_cleanse(xy.data(), xy.size() * 4);
  return ok;
}

}  // namespace lpops::chain
