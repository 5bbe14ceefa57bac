// keccak-256 throughput beside OpenSSL's SHA3-256 (same Keccak-f[1600] sponge and rate), so
// the ratio shows how close our permutation is to an optimised one. Prints a table.
#include <openssl/evp.h>

#include <chrono>
#include <cstdio>
#include <vector>

#include "chain/keccak.hpp"

namespace {

template <class Fn>
double mb_per_second(std::size_t message_bytes, Fn&& fn) {
  using clock = std::chrono::steady_clock;
  std::size_t total = 0;
  const auto start = clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - start).count(); };
  while (elapsed() < 1.0) {
    for (int i = 0; i < 64; ++i) fn();
    total += 64 * message_bytes;
  }
  return static_cast<double>(total) / 1e6 / elapsed();
}

}  // namespace

int main() {
  std::printf("| message bytes | keccak-256 (lpops) MB/s | SHA3-256 (OpenSSL) MB/s | ratio |\n|---|---|---|---|\n");
  for (std::size_t size : {32, 136, 1024, 65536}) {
    std::vector<std::uint8_t> data(size, 0xab);
    volatile std::uint8_t sink = 0;
    double ours = mb_per_second(size, [&] { sink = sink ^ lpops::chain::keccak256(data.data(), data.size())[0]; });
    double theirs = mb_per_second(size, [&] {
      unsigned char out[32];
      unsigned int len = 0;
      EVP_Digest(data.data(), data.size(), out, &len, EVP_sha3_256(), nullptr);
      sink = sink ^ out[0];
    });
    std::printf("| %zu | %.0f | %.0f | %.2f |\n", size, ours, theirs, ours / theirs);
  }
  return 0;
}
