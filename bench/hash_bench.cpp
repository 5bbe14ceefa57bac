// keccak-256 throughput beside OpenSSL's SHA3-256 (same Keccak-f[1600] sponge and rate), so
// the ratio shows how close our permutation is to an optimised one. Prints a table.
#include <openssl/evp.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "chain/keccak.hpp"
#include "chain/keccak_many.hpp"

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
  std::printf("| message bytes | keccak-256 (lpops) MB/s | SHA3-256 (OpenSSL) MB/s | ratio | keccak256_many, %d per pass, MB/s |\n"
              "|---|---|---|---|---|\n",
              lpops::chain::keccak_many_width());
  for (std::size_t size : {32, 136, 600, 1024, 65536}) {
    std::vector<std::uint8_t> data(size, 0xab);
    volatile std::uint8_t sink = 0;
    double ours = mb_per_second(size, [&] { sink = sink ^ lpops::chain::keccak256(data.data(), data.size())[0]; });
    // 64 independent messages per call (as the verifier and start-up hash entries and nodes).
    std::vector<std::string> many(64, std::string(reinterpret_cast<const char*>(data.data()), size));
    std::vector<std::string_view> views(many.begin(), many.end());
    std::vector<lpops::chain::Hash256> out(many.size());
    double batched = 64 * mb_per_second(size, [&] {
      lpops::chain::keccak256_many(views.data(), out.data(), views.size());
      sink = sink ^ out[0][0];
    });
    double theirs = mb_per_second(size, [&] {
      unsigned char out[32];
      unsigned int len = 0;
      EVP_Digest(data.data(), data.size(), out, &len, EVP_sha3_256(), nullptr);
      sink = sink ^ out[0];
    });
    std::printf("| %zu | %.0f | %.0f | %.2f | %.0f |\n", size, ours, theirs, ours / theirs, batched);
  }
  return 0;
}
