#pragma once
// Keccak-256 as Ethereum uses it (original Keccak padding 0x01, not NIST SHA-3's 0x06).
// OpenSSL 3.0 has no such digest, so this is our own, checked against test vectors.
#include <array>
#include <cstdint>
#include <string_view>

namespace lpops::chain {

using Hash256 = std::array<std::uint8_t, 32>;

// Incremental hashing: update() any number of times, then final() once.
class Keccak256 {
 public:
  Keccak256() = default;
  // The padding's domain byte: 0x01 is Keccak (Ethereum); 0x06 gives NIST SHA3-256 with the
  // same permutation, which the tests use to check it against OpenSSL.
  explicit Keccak256(std::uint8_t domain_byte) : domain_byte_(domain_byte) {}
  void update(const std::uint8_t* data, std::size_t size);
  void update(std::string_view data) { update(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()); }
  Hash256 final();
  // Zeroes the state and the buffered input, for a hash over secret bytes (the hot paths hash
  // public data and leave it).
  void wipe();

 private:
  static constexpr std::size_t kRateBytes = 136;  // 1088-bit rate for a 256-bit output
  std::array<std::uint64_t, 25> state_{};
  std::array<std::uint8_t, kRateBytes> buffer_{};
  std::size_t buffered_ = 0;
  std::uint8_t domain_byte_ = 0x01;
};

Hash256 keccak256(const std::uint8_t* data, std::size_t size);
inline Hash256 keccak256(std::string_view data) {
  return keccak256(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
}

// The Keccak-f[1600] permutation (24 rounds), exposed for tests and benchmarks: the fastest
// this CPU has (AVX-512 on one state where available), and the portable code it is checked
// against.
void keccak_f1600(std::array<std::uint64_t, 25>& state);
void keccak_f1600_portable(std::array<std::uint64_t, 25>& state);
bool keccak_f1600_has_avx512();

}  // namespace lpops::chain
