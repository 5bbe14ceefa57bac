#pragma once
// Ethereum keystore V3 (Web3 Secret Storage): scrypt or PBKDF2-HMAC derives a key (of at
// least 32 bytes, whose first 32 alone are used); its first half is the AES-128-CTR key for the private key, and
// keccak256(second half ‖ ciphertext) is the MAC, checked before anything is decrypted.
// Derived keys and plaintext are wiped after use. KDF parameters are bounded so that a
// hostile file cannot make us allocate gigabytes or spin for hours.
#include <cstdint>
#include <string>
#include <string_view>

#include "chain/keys.hpp"
#include "domain/result.hpp"

namespace lpops::chain {

struct KeystoreKdf {
  enum class Kind { Scrypt, Pbkdf2 };
  Kind kind = Kind::Scrypt;
  std::uint64_t scrypt_n = 262144;  // geth's "standard" parameters
  std::uint32_t scrypt_r = 8;
  std::uint32_t scrypt_p = 1;
  std::uint32_t pbkdf2_c = 262144;
  // The HMAC's hash, as a keystore's "prf" names it after "hmac-": sha256, and in files from
  // elsewhere sha1, sha224, sha384 or sha512 (eth-keyfile reads any hashlib name there; the
  // others are refused).
  std::string pbkdf2_hash = "sha256";
};

inline constexpr std::uint64_t kMaxScryptN = 1u << 20;
inline constexpr std::uint64_t kMaxScryptMemoryBytes = 1ull << 30;
// p runs ROMix p times over: 128·n·r·p bytes of mixing in all bound the time a keystore can
// cost (16 times the usual n = 2^18, r = 8, p = 1).
inline constexpr std::uint64_t kMaxScryptWorkBytes = 4ull << 30;
inline constexpr std::uint32_t kMaxPbkdf2Iterations = 10'000'000;

// Encrypts with fresh random salt, IV and id (OpenSSL's CSPRNG); returns the JSON text.
Result<std::string> encrypt_keystore(const PrivateKey& key, std::string_view password, const KeystoreKdf& kdf = {});

// Decrypts a V3 keystore; a wrong password is reported as a MAC mismatch. When the file
// names an address, it must match the decrypted key's. As eth-keyfile reads it, the IV is a
// big-endian number below 2^128 in any number of hex digits ("5a…" of 14 bytes is
// "00005a…"), and `dklen` may exceed 32 (the first 32 bytes are the same).
Result<PrivateKey> decrypt_keystore(std::string_view json, std::string_view password);
// A keystore file's text: a regular file of at most 1 MiB (a device, a FIFO or a larger file is
// refused before anything of it is read into memory); the error says why it cannot be read
// ("No such file or directory", "not a regular file", ...).
Result<std::string> read_keystore_file(const std::string& path);

}  // namespace lpops::chain
