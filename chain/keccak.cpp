#include "chain/keccak.hpp"

#include <openssl/crypto.h>

#include <cstring>

#include "chain/keccak_avx512.hpp"
#include "chain/keccak_permutation.hpp"

namespace lpops::chain {
namespace {

inline std::uint64_t load_le(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);  // x86-64 and every target we build for are little-endian
  return v;
}

// AVX-512 where the CPU has it (~1.3-1.5x the portable code's speed on one state, see
// docs/benchmarks.md), else the portable permutation.
inline void permute(std::array<std::uint64_t, 25>& a) {
  if (detail::avx512_available()) {
    detail::permute_avx512(a.data());
  } else {
    detail::permute(a.data());
  }
}

void absorb_block(std::array<std::uint64_t, 25>& state, const std::uint8_t* block) {
  for (std::size_t i = 0; i < 136 / 8; ++i) state[i] ^= load_le(block + 8 * i);
  permute(state);
}

}  // namespace

void keccak_f1600(std::array<std::uint64_t, 25>& a) { permute(a); }

void keccak_f1600_portable(std::array<std::uint64_t, 25>& a) { detail::permute(a.data()); }

bool keccak_f1600_has_avx512() { return detail::avx512_available(); }

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

void Keccak256::wipe() {
  OPENSSL_cleanse(state_.data(), sizeof state_);
  OPENSSL_cleanse(buffer_.data(), buffer_.size());
  buffered_ = 0;
}

Hash256 keccak256(const std::uint8_t* data, std::size_t size) {
  Keccak256 k;
  k.update(data, size);
  return k.final();
}

}  // namespace lpops::chain
