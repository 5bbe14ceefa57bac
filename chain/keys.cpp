#include "chain/keys.hpp"

#include <openssl/crypto.h>
#include "chain/secp256k1_context.hpp"

#include <cstring>
#include <stdexcept>

#include "domain/digest.hpp"

namespace lpops::chain {
namespace {

const secp256k1_context* context() { return secp256k1_ctx(); }

}  // namespace

Result<PrivateKey> PrivateKey::from_bytes(const std::array<std::uint8_t, 32>& bytes) {
  if (!secp256k1_ec_seckey_verify(context(), bytes.data())) return Error{"private key is out of range for secp256k1"};
  PrivateKey k;
  k.bytes_ = bytes;
  return k;
}

Result<PrivateKey> PrivateKey::from_hex(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  std::array<std::uint8_t, 32> bytes{};
  if (!hex_decode(text, bytes.data(), bytes.size())) return Error{"a private key is 64 hex digits"};
  auto key = from_bytes(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return key;
}

PrivateKey::~PrivateKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

Address PrivateKey::address() const {
  secp256k1_pubkey pub;
  if (!secp256k1_ec_pubkey_create(context(), &pub, bytes_.data())) throw std::logic_error("validated key rejected");
  std::uint8_t xy[64];
  serialize_xy(pub, xy);
  return address_of_public_key(xy);
}

}  // namespace lpops::chain
