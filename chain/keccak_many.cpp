#include "chain/keccak_many.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <thread>

#include "chain/keccak_avx512.hpp"
#include "chain/keccak_permutation.hpp"

namespace lpops::chain {
namespace {

constexpr std::size_t kRate = 136;
constexpr std::size_t kRateWords = kRate / 8;

using V8 = std::uint64_t __attribute__((vector_size(64)));
using V4 = std::uint64_t __attribute__((vector_size(32)));
using detail::permute;

#define LPOPS_INLINE __attribute__((always_inline)) inline

// Where each message's t-th padded block comes from: the message itself while a whole block
// remains, else a padded copy of its tail (built once per message).
struct Lane {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  std::size_t blocks = 0;  // padded blocks, always >= 1
  alignas(8) std::uint8_t last[kRate];
  void start(std::string_view m) {
    data = reinterpret_cast<const std::uint8_t*>(m.data());
    size = m.size();
    blocks = size / kRate + 1;
    const std::size_t tail = size % kRate;
    std::memset(last, 0, kRate);
    if (tail) std::memcpy(last, data + (blocks - 1) * kRate, tail);
    last[tail] ^= 0x01;
    last[kRate - 1] ^= 0x80;
  }
  const std::uint8_t* block(std::size_t t) const { return t + 1 < blocks ? data + t * kRate : last; }
};

LPOPS_INLINE std::uint64_t load64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Hashes up to W messages (count <= W) in one set of vector states.
template <class V, int W>
LPOPS_INLINE void hash_group(const std::string_view* messages, Hash256* out, int count) {
  Lane lanes[W];
  std::size_t rounds = 0;
  for (int l = 0; l < count; ++l) {
    lanes[l].start(messages[l]);
    rounds = std::max(rounds, lanes[l].blocks);
  }
  V a[25];
  for (auto& x : a) x = V{} ^ 0;
  for (std::size_t t = 0; t < rounds; ++t) {
    for (int l = 0; l < count; ++l) {
      if (t >= lanes[l].blocks) continue;
      const std::uint8_t* b = lanes[l].block(t);
#pragma GCC unroll 17
      for (std::size_t w = 0; w < kRateWords; ++w) a[w][l] ^= load64(b + 8 * w);
    }
    permute(a);
    for (int l = 0; l < count; ++l) {
      if (t + 1 != lanes[l].blocks) continue;
      for (int w = 0; w < 4; ++w) {
        const std::uint64_t v = a[w][l];
        std::memcpy(out[l].data() + 8 * w, &v, 8);
      }
    }
  }
}

__attribute__((target("avx512f"))) void hash_avx512(const std::string_view* messages, Hash256* out, std::size_t count) {
  for (std::size_t i = 0; i < count; i += 8) hash_group<V8, 8>(messages + i, out + i, static_cast<int>(std::min<std::size_t>(8, count - i)));
}

__attribute__((target("avx2"))) void hash_avx2(const std::string_view* messages, Hash256* out, std::size_t count) {
  for (std::size_t i = 0; i < count; i += 4) hash_group<V4, 4>(messages + i, out + i, static_cast<int>(std::min<std::size_t>(4, count - i)));
}

template <std::size_t N, class Fill>
void hash_fixed_range(std::size_t begin, std::size_t end, Hash256* out, Fill& fill) {
  constexpr std::size_t kGroup = 64;
  std::uint8_t buffer[kGroup][N];
  std::string_view views[kGroup];
  for (std::size_t i = begin; i < end; i += kGroup) {
    const std::size_t n = std::min(kGroup, end - i);
    for (std::size_t j = 0; j < n; ++j) {
      fill(i + j, buffer[j]);
      views[j] = std::string_view(reinterpret_cast<const char*>(buffer[j]), N);
    }
    keccak256_many(views, out + i, n);
  }
}

int width() {
  static const int w = detail::avx512_available() ? 8 : __builtin_cpu_supports("avx2") ? 4 : 1;
  return w;
}

// Fixed-size inputs (Merkle nodes) go through the same path in groups, from a scratch buffer;
// large arrays are split over two threads.
template <std::size_t N, class Fill>
void hash_fixed(std::size_t count, Hash256* out, Fill fill) {
  if (count >= (1 << 14) && std::thread::hardware_concurrency() > 1) {
    const std::size_t half = count / 2;
    std::thread other([&] { hash_fixed_range<N>(half, count, out, fill); });
    hash_fixed_range<N>(0, half, out, fill);
    other.join();
    return;
  }
  hash_fixed_range<N>(0, count, out, fill);
}

}  // namespace

int keccak_many_width() { return width(); }

void keccak256_many(const std::string_view* messages, Hash256* out, std::size_t count) {
  keccak256_many_at_width(width(), messages, out, count);
}

void keccak256_many_at_width(int lanes, const std::string_view* messages, Hash256* out, std::size_t count) {
  switch (std::min(lanes, width())) {
    case 8:
      hash_avx512(messages, out, count);
      return;
    case 4:
      hash_avx2(messages, out, count);
      return;
    default:
      for (std::size_t i = 0; i < count; ++i) out[i] = keccak256(messages[i]);
  }
}

void merkle_leaves(const Hash256* entry_hashes, Hash256* out, std::size_t count) {
  hash_fixed<33>(count, out, [&](std::size_t i, std::uint8_t* b) {
    b[0] = 0x00;
    std::memcpy(b + 1, entry_hashes[i].data(), 32);
  });
}

void merkle_parents(const Hash256* children, Hash256* out, std::size_t count) {
  hash_fixed<65>(count, out, [&](std::size_t i, std::uint8_t* b) {
    b[0] = 0x01;
    std::memcpy(b + 1, children[2 * i].data(), 32);
    std::memcpy(b + 33, children[2 * i + 1].data(), 32);
  });
}

}  // namespace lpops::chain
