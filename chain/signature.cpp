#include "chain/signature.hpp"

#include "chain/secp256k1_context.hpp"
#include <secp256k1_recovery.h>

#include <cstring>
#include <stdexcept>

#include "domain/digest.hpp"

namespace lpops::chain {
namespace {

const secp256k1_context* context() { return secp256k1_ctx(); }

// n/2 for secp256k1, big-endian.
constexpr std::array<std::uint8_t, 32> kHalfOrder = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                     0xff, 0xff, 0xff, 0xff, 0xff, 0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4,
                                                     0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};

}  // namespace

std::array<std::uint8_t, 65> Signature::to_rsv() const {
  std::array<std::uint8_t, 65> out{};
  std::memcpy(out.data(), r.data(), 32);
  std::memcpy(out.data() + 32, s.data(), 32);
  out[64] = static_cast<std::uint8_t>(27 + recovery_id);
  return out;
}

std::string Signature::to_hex() const {
  auto rsv = to_rsv();
  return "0x" + hex_lower(rsv.data(), rsv.size());
}

Result<Signature> Signature::from_rsv(const std::uint8_t* data, std::size_t size) {
  if (size != 65) return Error{"a signature is 65 bytes (r, s, v)"};
  Signature sig;
  std::memcpy(sig.r.data(), data, 32);
  std::memcpy(sig.s.data(), data + 32, 32);
  const std::uint8_t v = data[64];
  if (v == 0 || v == 1) sig.recovery_id = v;
  else if (v == 27 || v == 28) sig.recovery_id = static_cast<std::uint8_t>(v - 27);
  else return Error{"signature v must be 27 or 28 (or 0 or 1)"};
  if (std::memcmp(sig.s.data(), kHalfOrder.data(), 32) > 0) return Error{"signature s is above n/2 (malleable form)"};
  secp256k1_ecdsa_recoverable_signature parsed;
  std::uint8_t compact[64];
  std::memcpy(compact, data, 64);
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(context(), &parsed, compact, sig.recovery_id))
    return Error{"signature r or s is out of range"};
  static const std::array<std::uint8_t, 32> zero{};
  if (sig.r == zero || sig.s == zero) return Error{"signature r or s is zero"};
  return sig;
}

Result<Signature> Signature::from_hex(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  std::array<std::uint8_t, 65> bytes{};
  if (!hex_decode(text, bytes.data(), bytes.size())) return Error{"a signature is 65 bytes as 130 hex digits"};
  return from_rsv(bytes.data(), bytes.size());
}

Result<Signature> Signature::from_hex_any_v(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  std::array<std::uint8_t, 65> bytes{};
  if (!hex_decode(text, bytes.data(), bytes.size())) return Error{"a signature is 65 bytes as 130 hex digits"};
  if (bytes[64] >= 35) bytes[64] = static_cast<std::uint8_t>(27 + (bytes[64] - 35) % 2);
  return from_rsv(bytes.data(), bytes.size());
}

Signature sign_digest(const PrivateKey& key, const Hash256& digest) {
  secp256k1_ecdsa_recoverable_signature sig;
  // nullptr nonce function = RFC 6979; libsecp256k1 always produces low-s.
  if (!secp256k1_ecdsa_sign_recoverable(context(), &sig, digest.data(), key.bytes().data(), nullptr, nullptr))
    throw std::logic_error("signing with a validated key failed");
  Signature out;
  std::uint8_t compact[64];
  int recid = 0;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(context(), compact, &recid, &sig);
  std::memcpy(out.r.data(), compact, 32);
  std::memcpy(out.s.data(), compact + 32, 32);
  out.recovery_id = static_cast<std::uint8_t>(recid);
  return out;
}

Result<Address> recover_address(const Hash256& digest, const Signature& signature) {
  secp256k1_ecdsa_recoverable_signature sig;
  std::uint8_t compact[64];
  std::memcpy(compact, signature.r.data(), 32);
  std::memcpy(compact + 32, signature.s.data(), 32);
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(context(), &sig, compact, signature.recovery_id))
    return Error{"signature r or s is out of range"};
  secp256k1_pubkey pub;
  if (!secp256k1_ecdsa_recover(context(), &pub, &sig, digest.data())) return Error{"no public key recovers from this signature"};
  std::uint8_t xy[64];
  serialize_xy(pub, xy);
  return address_of_public_key(xy);
}

Hash256 eip191_hash32(const Hash256& hash) {
  Keccak256 k;
  k.update("\x19" "Ethereum Signed Message:\n32");
  k.update(hash.data(), hash.size());
  return k.final();
}

}  // namespace lpops::chain
