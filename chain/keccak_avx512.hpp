#pragma once
// Keccak-f[1600] for one state with AVX-512 (chain/keccak_avx512.cpp). Private to chain/;
// keccak_f1600() picks it when the CPU has AVX-512F.
#include <cstdint>

namespace lpops::chain::detail {

void permute_avx512(std::uint64_t* state);  // 25 lanes; only where avx512_available()
bool avx512_available();

}  // namespace lpops::chain::detail
