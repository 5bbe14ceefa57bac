#include "domain/digest.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <memory>

namespace lpops {
namespace {

// OpenSSL's own clean-up at exit deletes its per-thread key while threads that hashed may
// still be on their way out (an actor thread that has reported itself done): their error
// state (904 bytes each) is then lost, not freed. The process is ending, so the memory goes
// with it either way; without that clean-up, a thread still running keeps its state
// reachable and one that has ended has freed it. Asked for before any other use of OpenSSL
// (the first initialisation decides; Asio's SSL support initialises OpenSSL from a static
// object), hence a constructor that runs before the C++ static objects.
__attribute__((constructor(101))) void openssl_without_atexit_cleanup() { OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr); }

}  // namespace

Digest32 sha256(std::string_view data) {
  Digest32 out{};
  // The digest fetched once and a context per thread: SHA256() looks the algorithm up in
  // the provider tables on every call, a third of the time of hashing a journal record.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned int length = 0;
  if (md && ctx && EVP_DigestInit_ex2(ctx.get(), md, nullptr) == 1 && EVP_DigestUpdate(ctx.get(), data.data(), data.size()) == 1 &&
      EVP_DigestFinal_ex(ctx.get(), out.data(), &length) == 1 && length == out.size())
    return out;
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  return out;
}

Digest32 hmac_sha256(std::string_view key, std::string_view data) {
  Digest32 out{};
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), out.data(), &length) ||
      length != out.size())
    std::abort();  // only on an OpenSSL that cannot compute SHA-256 at all
  return out;
}

std::string hex_lower(const std::uint8_t* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

bool hex_decode(std::string_view hex, std::uint8_t* out, std::size_t size) {
  if (hex.size() != size * 2) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < size; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace lpops
