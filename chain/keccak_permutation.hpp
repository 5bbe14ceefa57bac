#pragma once
// The Keccak-f[1600] permutation, written once for any lane type: std::uint64_t (one state)
// or a GCC vector of them (several states side by side, chain/keccak_many.cpp). Private to
// chain/.
#include <cstdint>

namespace lpops::chain::detail {

constexpr std::uint64_t kRoundConstants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};
// Rotation offsets and lane order of the combined rho and pi steps.
constexpr int kRho[24] = {1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44};
constexpr int kPi[24] = {10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1};

// A macro, not a function: vector values never cross a call boundary (no -Wpsabi ABI notes).
#define LPOPS_ROTL(x, n) (((x) << (n)) | ((x) >> (64 - (n))))

// Keccak-f[1600], 24 rounds, fully unrolled so that all 25 lanes stay in registers; a[i]
// holds lane i of every state.
template <class V>
__attribute__((always_inline)) inline void permute(V* a) {
  for (std::uint64_t rc : kRoundConstants) {
    const V c0 = a[0] ^ a[5] ^ a[10] ^ a[15] ^ a[20];
    const V c1 = a[1] ^ a[6] ^ a[11] ^ a[16] ^ a[21];
    const V c2 = a[2] ^ a[7] ^ a[12] ^ a[17] ^ a[22];
    const V c3 = a[3] ^ a[8] ^ a[13] ^ a[18] ^ a[23];
    const V c4 = a[4] ^ a[9] ^ a[14] ^ a[19] ^ a[24];
    const V d[5] = {c4 ^ LPOPS_ROTL(c1, 1), c0 ^ LPOPS_ROTL(c2, 1), c1 ^ LPOPS_ROTL(c3, 1), c2 ^ LPOPS_ROTL(c4, 1), c3 ^ LPOPS_ROTL(c0, 1)};
#pragma GCC unroll 25
    for (int i = 0; i < 25; ++i) a[i] ^= d[i % 5];
    V current = a[1];
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) {
      const V next = a[kPi[i]];
      a[kPi[i]] = LPOPS_ROTL(current, kRho[i]);
      current = next;
    }
#pragma GCC unroll 5
    for (int y = 0; y < 25; y += 5) {
      const V r0 = a[y], r1 = a[y + 1], r2 = a[y + 2], r3 = a[y + 3], r4 = a[y + 4];
      a[y] = r0 ^ (~r1 & r2);
      a[y + 1] = r1 ^ (~r2 & r3);
      a[y + 2] = r2 ^ (~r3 & r4);
      a[y + 3] = r3 ^ (~r4 & r0);
      a[y + 4] = r4 ^ (~r0 & r1);
    }
    a[0] ^= rc;
  }
}

}  // namespace lpops::chain::detail
