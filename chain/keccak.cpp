#include "chain/keccak.hpp"

#include <cstring>

namespace lpops::chain {
namespace {

constexpr std::array<std::uint64_t, 24> kRoundConstants = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

// Rotation offsets and lane order of the combined rho and pi steps.
constexpr std::array<int, 24> kRho = {1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14,
                                      27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44};
constexpr std::array<int, 24> kPi = {10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4,
                                     15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1};

inline std::uint64_t rotl(std::uint64_t x, int n) { return (x << n) | (x >> (64 - n)); }

inline std::uint64_t load_le(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);  // x86-64 and every target we build for are little-endian
  return v;
}

void absorb_block(std::array<std::uint64_t, 25>& state, const std::uint8_t* block) {
  for (std::size_t i = 0; i < 136 / 8; ++i) state[i] ^= load_le(block + 8 * i);
  keccak_f1600(state);
}

}  // namespace

void keccak_f1600(std::array<std::uint64_t, 25>& a) {
  // Written out with full unrolling so that all 25 lanes live in registers.
  for (std::uint64_t rc : kRoundConstants) {
    // theta
    const std::uint64_t c0 = a[0] ^ a[5] ^ a[10] ^ a[15] ^ a[20];
    const std::uint64_t c1 = a[1] ^ a[6] ^ a[11] ^ a[16] ^ a[21];
    const std::uint64_t c2 = a[2] ^ a[7] ^ a[12] ^ a[17] ^ a[22];
    const std::uint64_t c3 = a[3] ^ a[8] ^ a[13] ^ a[18] ^ a[23];
    const std::uint64_t c4 = a[4] ^ a[9] ^ a[14] ^ a[19] ^ a[24];
    const std::uint64_t d[5] = {c4 ^ rotl(c1, 1), c0 ^ rotl(c2, 1), c1 ^ rotl(c3, 1), c2 ^ rotl(c4, 1),
                                c3 ^ rotl(c0, 1)};
#pragma GCC unroll 25
    for (int i = 0; i < 25; ++i) a[i] ^= d[i % 5];
    // rho and pi
    std::uint64_t current = a[1];
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) {
      const std::uint64_t next = a[kPi[i]];
      a[kPi[i]] = rotl(current, kRho[i]);
      current = next;
    }
    // chi
#pragma GCC unroll 5
    for (int y = 0; y < 25; y += 5) {
      const std::uint64_t r0 = a[y], r1 = a[y + 1], r2 = a[y + 2], r3 = a[y + 3], r4 = a[y + 4];
      a[y] = r0 ^ (~r1 & r2);
      a[y + 1] = r1 ^ (~r2 & r3);
      a[y + 2] = r2 ^ (~r3 & r4);
      a[y + 3] = r3 ^ (~r4 & r0);
      a[y + 4] = r4 ^ (~r0 & r1);
    }
    // iota
    a[0] ^= rc;
  }
}

void Keccak256::update(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return;  // data may be null then
  if (buffered_ > 0) {
    std::size_t take = std::min(size, kRateBytes - buffered_);
    std::memcpy(buffer_.data() + buffered_, data, take);
    buffered_ += take;
    data += take;
    size -= take;
    if (buffered_ < kRateBytes) return;
    absorb_block(state_, buffer_.data());
    buffered_ = 0;
  }
  while (size >= kRateBytes) {
    absorb_block(state_, data);
    data += kRateBytes;
    size -= kRateBytes;
  }
  std::memcpy(buffer_.data(), data, size);
  buffered_ = size;
}

Hash256 Keccak256::final() {
  std::memset(buffer_.data() + buffered_, 0, kRateBytes - buffered_);
  buffer_[buffered_] ^= domain_byte_;  // pad10*1 after the domain bits
  buffer_[kRateBytes - 1] ^= 0x80;
  absorb_block(state_, buffer_.data());
  Hash256 out;
  std::memcpy(out.data(), state_.data(), out.size());
  state_.fill(0);
  buffered_ = 0;
  return out;
}

Hash256 keccak256(const std::uint8_t* data, std::size_t size) {
  Keccak256 k;
  k.update(data, size);
  return k.final();
}

}  // namespace lpops::chain
