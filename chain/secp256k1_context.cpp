#include "chain/secp256k1_context.hpp"

#include <openssl/rand.h>

#include <cstring>
#include <stdexcept>

namespace lpops::chain {

const secp256k1_context* secp256k1_ctx() {
  static secp256k1_context* ctx = [] {
    secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (!c) throw std::runtime_error("cannot create a secp256k1 context");
    // Blinding against side channels, as the library recommends.
    unsigned char seed[32];
    if (RAND_bytes(seed, sizeof seed) == 1 && !secp256k1_context_randomize(c, seed))
      throw std::runtime_error("cannot randomize the secp256k1 context");
    return c;
  }();
  return ctx;
}

void serialize_xy(const secp256k1_pubkey& pub, std::uint8_t (&xy)[64]) {
  std::uint8_t serialized[65];
  std::size_t len = sizeof serialized;
  secp256k1_ec_pubkey_serialize(secp256k1_ctx(), serialized, &len, &pub, SECP256K1_EC_UNCOMPRESSED);
  std::memcpy(xy, serialized + 1, 64);
}

}  // namespace lpops::chain
