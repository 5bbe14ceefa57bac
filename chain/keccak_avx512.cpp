// Keccak-f[1600] on one state in five AVX-512 registers, one plane (row y: lanes x = 0..4) per
// register, lanes 5..7 held at zero. Theta, chi and the round constant act on whole planes;
// rho is one variable rotate per plane; pi gathers each new plane from a diagonal of the old
// ones (four single-lane blends), and its turn of the plane is folded into chi's permutes.
// The portable permutation
// (chain/keccak_permutation.hpp) is the reference: the tests run both on random states.
#include "chain/keccak_avx512.hpp"

#include <immintrin.h>

#include <array>

#include "chain/keccak_permutation.hpp"

namespace lpops::chain::detail {
namespace {

// Rotation of each lane by rho, derived from the portable code's combined rho-pi walk so the
// two cannot disagree: the walk starts at lane 1 and moves lane src to kPi[i], rotated by kRho[i].
struct Tables {
  std::array<std::int64_t, 25> rho{};  // by lane index x + 5y
  std::array<int, 25> source{};        // after pi, lane d holds the (rotated) old lane source[d]
};

constexpr Tables make_tables() {
  Tables t{};
  int src = 1;
  t.source[0] = 0;
  for (int i = 0; i < 24; ++i) {
    t.rho[src] = kRho[i];
    t.source[kPi[i]] = src;
    src = kPi[i];
  }
  return t;
}

constexpr Tables kTables = make_tables();

// pi moves lane (x, y) to (y, 2x + 3y): new plane Y, lane X comes from old plane X, lane
// (X + 3Y) mod 5. Checked against the walk's tables at compile time.
constexpr bool pi_is_the_diagonal_rule() {
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 5; ++x)
      if (kTables.source[x + 5 * y] != (x + 3 * y) % 5 + 5 * x) return false;
  return true;
}
static_assert(pi_is_the_diagonal_rule(), "rho/pi tables do not match the diagonal form of pi");

#define LPOPS_AVX512 __attribute__((target("avx512f"), always_inline)) inline

// A new plane before its turn: lane j from plane i where bit j of m_i is set (plane 0 for
// the lanes no mask names, lanes 5..7 among them).
LPOPS_AVX512 __m512i gather(__m512i p0, __m512i p1, __m512i p2, __m512i p3, __m512i p4, __mmask8 m1, __mmask8 m2,
                            __mmask8 m3, __mmask8 m4) {
  const __m512i lo = _mm512_mask_blend_epi64(m1, p0, p1);
  const __m512i hi = _mm512_mask_blend_epi64(m3, p2, p3);
  return _mm512_mask_blend_epi64(m4, _mm512_mask_blend_epi64(static_cast<__mmask8>(m2 | m3), lo, hi), p4);
}

// The zero-masked forms (lanes 5..7 cleared) rather than the plain ones, whose GCC 12 header
// trips -Wuninitialized on its undefined pass-through operand.
constexpr __mmask8 kPlane = 0x1f;
LPOPS_AVX512 __m512i permute(__m512i index, __m512i v) { return _mm512_maskz_permutexvar_epi64(kPlane, index, v); }
LPOPS_AVX512 __m512i rotate(__m512i v, __m512i by) { return _mm512_maskz_rolv_epi64(kPlane, v, by); }
LPOPS_AVX512 __m512i rotate1(__m512i v) { return _mm512_maskz_rol_epi64(kPlane, v, 1); }

LPOPS_AVX512 __m512i lanes(std::int64_t a, std::int64_t b, std::int64_t c, std::int64_t d, std::int64_t e) {
  return _mm512_set_epi64(0, 0, 0, e, d, c, b, a);
}

}  // namespace

__attribute__((target("avx512f"))) void permute_avx512(std::uint64_t* a) {
  __m512i r0 = _mm512_maskz_loadu_epi64(kPlane, a);
  __m512i r1 = _mm512_maskz_loadu_epi64(kPlane, a + 5);
  __m512i r2 = _mm512_maskz_loadu_epi64(kPlane, a + 10);
  __m512i r3 = _mm512_maskz_loadu_epi64(kPlane, a + 15);
  __m512i r4 = _mm512_maskz_loadu_epi64(kPlane, a + 20);

  // turnN: lane x takes lane (x + N) mod 5 of the same plane (lanes 5..7 are cleared).
  const __m512i turn1 = _mm512_set_epi64(7, 6, 5, 0, 4, 3, 2, 1);
  const __m512i turn2 = _mm512_set_epi64(7, 6, 5, 1, 0, 4, 3, 2);
  const __m512i turn3 = _mm512_set_epi64(7, 6, 5, 2, 1, 0, 4, 3);
  const __m512i turn4 = _mm512_set_epi64(7, 6, 5, 3, 2, 1, 0, 4);
  const auto& rho = kTables.rho;
  const __m512i rho0 = lanes(rho[0], rho[1], rho[2], rho[3], rho[4]);
  const __m512i rho1 = lanes(rho[5], rho[6], rho[7], rho[8], rho[9]);
  const __m512i rho2 = lanes(rho[10], rho[11], rho[12], rho[13], rho[14]);
  const __m512i rho3 = lanes(rho[15], rho[16], rho[17], rho[18], rho[19]);
  const __m512i rho4 = lanes(rho[20], rho[21], rho[22], rho[23], rho[24]);

  for (std::uint64_t rc : kRoundConstants) {
    // theta: D[x] = C[x - 1] ^ rot(C[x + 1], 1), C the column parities; then rho.
    const __m512i c = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(r0, r1, r2, 0x96), r3, r4, 0x96);
    const __m512i cb = permute(turn4, c);
    const __m512i cn = rotate1(permute(turn1, c));
    r0 = rotate(_mm512_ternarylogic_epi64(r0, cb, cn, 0x96), rho0);
    r1 = rotate(_mm512_ternarylogic_epi64(r1, cb, cn, 0x96), rho1);
    r2 = rotate(_mm512_ternarylogic_epi64(r2, cb, cn, 0x96), rho2);
    r3 = rotate(_mm512_ternarylogic_epi64(r3, cb, cn, 0x96), rho3);
    r4 = rotate(_mm512_ternarylogic_epi64(r4, cb, cn, 0x96), rho4);
    // pi: new plane Y, lane X = old plane X, lane (X + k) mod 5 with k = 3Y mod 5. Gathered
    // first (lane j from old plane (j - k) mod 5: plane i gives lane (i + k) mod 5, mask bit
    // (i + k) mod 5), the plane is then turned by k. chi needs the new plane turned by 0, 1
    // and 2 (a ^ (~b & c) with b, c the next two lanes), so each gathered plane is turned by
    // k, k + 1 and k + 2 directly: three independent permutes rather than two in a row.
    const __m512i g0 = gather(r0, r1, r2, r3, r4, 0x02, 0x04, 0x08, 0x10);  // k = 0
    const __m512i g1 = gather(r0, r1, r2, r3, r4, 0x10, 0x01, 0x02, 0x04);  // k = 3
    const __m512i g2 = gather(r0, r1, r2, r3, r4, 0x04, 0x08, 0x10, 0x01);  // k = 1
    const __m512i g3 = gather(r0, r1, r2, r3, r4, 0x01, 0x02, 0x04, 0x08);  // k = 4
    const __m512i g4 = gather(r0, r1, r2, r3, r4, 0x08, 0x10, 0x01, 0x02);  // k = 2
    // chi, with iota (the round constant into lane 0) folded into plane 0's first operand.
    const __m512i iota = _mm512_set_epi64(0, 0, 0, 0, 0, 0, 0, static_cast<std::int64_t>(rc));
    r0 = _mm512_ternarylogic_epi64(_mm512_xor_si512(g0, iota), permute(turn1, g0), permute(turn2, g0), 0xD2);
    r1 = _mm512_ternarylogic_epi64(permute(turn3, g1), permute(turn4, g1), g1, 0xD2);
    r2 = _mm512_ternarylogic_epi64(permute(turn1, g2), permute(turn2, g2), permute(turn3, g2), 0xD2);
    r3 = _mm512_ternarylogic_epi64(permute(turn4, g3), g3, permute(turn1, g3), 0xD2);
    r4 = _mm512_ternarylogic_epi64(permute(turn2, g4), permute(turn3, g4), permute(turn4, g4), 0xD2);
  }
  _mm512_mask_storeu_epi64(a, kPlane, r0);
  _mm512_mask_storeu_epi64(a + 5, kPlane, r1);
  _mm512_mask_storeu_epi64(a + 10, kPlane, r2);
  _mm512_mask_storeu_epi64(a + 15, kPlane, r3);
  _mm512_mask_storeu_epi64(a + 20, kPlane, r4);
}

bool avx512_available() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}

}  // namespace lpops::chain::detail
