#pragma once
#include <secp256k1.h>

#include <cstdint>

namespace lpops::chain {

// The process-wide libsecp256k1 context (thread-safe for signing and verification).
const secp256k1_context* secp256k1_ctx();

// The uncompressed public key without its 0x04 prefix (x ‖ y).
void serialize_xy(const secp256k1_pubkey& pub, std::uint8_t (&xy)[64]);

}  // namespace lpops::chain
