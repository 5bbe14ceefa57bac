#include "chain/keystore.hpp"
#include "chain/scrypt.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <boost/json.hpp>

#include <array>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <cstring>
#include <vector>

#include "chain/address.hpp"
#include "chain/hex.hpp"
#include "chain/keccak.hpp"

namespace lpops::chain {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Wipes its bytes however the scope ends.
struct Secret {
  std::array<std::uint8_t, 32> bytes{};
  ~Secret() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

Result<bool> check_scrypt(std::uint64_t n, std::uint64_t r, std::uint64_t p) {
  if (n < 2 || (n & (n - 1)) != 0) return Error{"keystore scrypt n must be a power of two"};
  if (n > kMaxScryptN) return Error{"keystore scrypt n is above the limit of " + std::to_string(kMaxScryptN)};
  if (r < 1 || r > 32) return Error{"keystore scrypt r must be from 1 to 32"};
  if (p < 1 || p > 16) return Error{"keystore scrypt p must be from 1 to 16"};
  if (128 * r * n > kMaxScryptMemoryBytes) return Error{"keystore scrypt parameters need too much memory"};
  if (128 * r * n * p > kMaxScryptWorkBytes)
    return Error{"keystore scrypt parameters need too much work (128 * n * r * p above " + std::to_string(kMaxScryptWorkBytes >> 30) +
                 " GiB)"};
  return true;
}

// PBKDF2's first blocks do not depend on the length asked for, so 32 bytes of a longer key
// are those bytes.
const EVP_MD* pbkdf2_digest(std::string_view name) {
  if (name == "sha256") return EVP_sha256();
  if (name == "sha512") return EVP_sha512();
  if (name == "sha384") return EVP_sha384();
  if (name == "sha224") return EVP_sha224();
  if (name == "sha1") return EVP_sha1();
  return nullptr;
}

// The IV as eth-keyfile reads it: a big-endian number, so leading zero bytes may be left out
// or added; it must be below 2^128.
Result<Bytes> iv_of(Bytes digits) {
  std::size_t zeros = 0;
  while (zeros < digits.size() && digits[zeros] == 0) ++zeros;
  if (digits.size() - zeros > 16) return Error{"keystore field 'iv' must be a number below 2^128 (at most 16 bytes)"};
  Bytes iv(16 - (digits.size() - zeros), 0);
  iv.insert(iv.end(), digits.begin() + static_cast<std::ptrdiff_t>(zeros), digits.end());
  return iv;
}

Result<bool> derive(const KeystoreKdf& kdf, std::string_view password, const Bytes& salt, Secret& out) {
  if (kdf.kind == KeystoreKdf::Kind::Scrypt) {
    auto ok = check_scrypt(kdf.scrypt_n, kdf.scrypt_r, kdf.scrypt_p);
    if (!ok) return ok;
    // Not OpenSSL's: it holds N below 2^(16r) (RFC 7914), which the keystores Python's
    // eth-keyfile writes (n = 2^18, r = 1) are not.
    if (!scrypt(password, salt.data(), salt.size(), kdf.scrypt_n, static_cast<std::uint32_t>(kdf.scrypt_r),
                static_cast<std::uint32_t>(kdf.scrypt_p), out.bytes.data(), out.bytes.size()))
      return Error{"scrypt failed: not enough memory for its " + std::to_string(128 * kdf.scrypt_r * kdf.scrypt_n >> 20) + " MiB"};
    return true;
  }
  if (kdf.pbkdf2_c < 1 || kdf.pbkdf2_c > kMaxPbkdf2Iterations)
    return Error{"keystore pbkdf2 c must be from 1 to " + std::to_string(kMaxPbkdf2Iterations)};
  const EVP_MD* hash = pbkdf2_digest(kdf.pbkdf2_hash);
  if (!hash) return Error{"keystore pbkdf2 prf 'hmac-" + kdf.pbkdf2_hash + "' is not supported (hmac-sha256, hmac-sha512, hmac-sha384, hmac-sha224 or hmac-sha1)"};
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(), static_cast<int>(salt.size()),
                        static_cast<int>(kdf.pbkdf2_c), hash, static_cast<int>(out.bytes.size()), out.bytes.data()) != 1)
    return Error{"pbkdf2 failed"};
  return true;
}

// AES-128-CTR is its own inverse.
Result<bool> aes128_ctr(const std::uint8_t* key, const Bytes& iv, const std::uint8_t* in, std::size_t size, std::uint8_t* out) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (!ctx) return Error{"cannot allocate a cipher context"};
  int len = 0, tail = 0;
  const bool ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, key, iv.data()) == 1 &&
                  EVP_EncryptUpdate(ctx, out, &len, in, static_cast<int>(size)) == 1 &&
                  EVP_EncryptFinal_ex(ctx, out + len, &tail) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return Error{"AES-128-CTR failed"};
  return true;
}

Hash256 mac_of(const Secret& derived, const Bytes& ciphertext) {
  Keccak256 h;
  h.update(derived.bytes.data() + 16, 16);
  h.update(ciphertext.data(), ciphertext.size());
  const Hash256 mac = h.final();
  h.wipe();  // the first bytes absorbed were half of the derived key
  return mac;
}

std::string hex_plain(const std::uint8_t* data, std::size_t size) { return to_hex(data, size).substr(2); }

Result<Bytes> hex_field(const boost::json::object& o, const char* key, std::size_t expected_size = 0) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return Error{std::string("keystore field '") + key + "' is missing or not a string"};
  auto b = from_hex(v->as_string());
  if (!b) return Error{std::string("keystore field '") + key + "': " + b.error()};
  if (expected_size && b->size() != expected_size)
    return Error{std::string("keystore field '") + key + "' must be " + std::to_string(expected_size) + " bytes"};
  return b;
}

Result<std::uint64_t> int_field(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (!v) return Error{std::string("keystore kdfparams.") + key + " is missing"};
  if (v->is_int64() && v->as_int64() >= 0) return static_cast<std::uint64_t>(v->as_int64());
  if (v->is_uint64()) return v->as_uint64();
  return Error{std::string("keystore kdfparams.") + key + " must be a non-negative integer"};
}

Result<const boost::json::object*> object_field(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_object()) return Error{std::string("keystore field '") + key + "' is missing or not an object"};
  return &v->as_object();
}

Result<std::string_view> string_field(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return Error{std::string("keystore field '") + key + "' is missing or not a string"};
  return std::string_view(v->as_string());
}

std::string uuid4() {
  std::array<std::uint8_t, 16> b{};
  RAND_bytes(b.data(), static_cast<int>(b.size()));
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  const std::string h = hex_plain(b.data(), b.size());
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

}  // namespace

Result<std::string> encrypt_keystore(const PrivateKey& key, std::string_view password, const KeystoreKdf& kdf) {
  Bytes salt(32), iv(16);
  if (RAND_bytes(salt.data(), 32) != 1 || RAND_bytes(iv.data(), 16) != 1) return Error{"no randomness available"};
  Secret derived;
  auto ok = derive(kdf, password, salt, derived);
  if (!ok) return Error{ok.error()};
  Bytes ciphertext(32);
  auto enc = aes128_ctr(derived.bytes.data(), iv, key.bytes().data(), 32, ciphertext.data());
  if (!enc) return Error{enc.error()};
  const Hash256 mac = mac_of(derived, ciphertext);

  boost::json::object params;
  if (kdf.kind == KeystoreKdf::Kind::Scrypt) {
    params = {{"dklen", 32}, {"n", kdf.scrypt_n}, {"r", kdf.scrypt_r}, {"p", kdf.scrypt_p}, {"salt", hex_plain(salt.data(), 32)}};
  } else {
    params = {{"dklen", 32}, {"c", kdf.pbkdf2_c}, {"prf", "hmac-" + kdf.pbkdf2_hash}, {"salt", hex_plain(salt.data(), 32)}};
  }
  const Address address = key.address();
  boost::json::object crypto{{"cipher", "aes-128-ctr"},
                             {"cipherparams", {{"iv", hex_plain(iv.data(), 16)}}},
                             {"ciphertext", hex_plain(ciphertext.data(), 32)},
                             {"kdf", kdf.kind == KeystoreKdf::Kind::Scrypt ? "scrypt" : "pbkdf2"},
                             {"kdfparams", std::move(params)},
                             {"mac", hex_plain(mac.data(), mac.size())}};
  boost::json::object doc{{"address", hex_plain(address.data(), address.size())},
                          {"crypto", std::move(crypto)},
                          {"id", uuid4()},
                          {"version", 3}};
  return boost::json::serialize(doc);
}

Result<std::string> read_keystore_file(const std::string& path) {
  constexpr std::uintmax_t kMaxBytes = 1u << 20;
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec) return Error{ec.message()};
  if (!std::filesystem::is_regular_file(status)) return Error{"not a regular file"};
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{std::strerror(errno)};
  std::string text(kMaxBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return Error{"a read failed"};
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxBytes) return Error{"keystore file is larger than 1 MiB"};
  return text;
}

Result<PrivateKey> decrypt_keystore(std::string_view json, std::string_view password) {
  if (json.size() > (1u << 20)) return Error{"keystore file is larger than 1 MiB"};
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(json, ec);
  if (ec || !doc.is_object()) return Error{"keystore is not a JSON object"};
  const auto& root = doc.as_object();
  const auto* version = root.if_contains("version");
  if (!version || !version->is_number() || version->to_number<double>() != 3) return Error{"keystore version must be 3"};
  // Some writers use "Crypto".
  auto crypto = object_field(root, root.contains("crypto") ? "crypto" : "Crypto");
  if (!crypto) return Error{crypto.error()};
  const auto& c = **crypto;
  auto cipher = string_field(c, "cipher");
  if (!cipher) return Error{cipher.error()};
  if (*cipher != "aes-128-ctr") return Error{"keystore cipher '" + std::string(*cipher) + "' is not supported (aes-128-ctr only)"};
  auto cipherparams = object_field(c, "cipherparams");
  if (!cipherparams) return Error{cipherparams.error()};
  auto iv_digits = hex_field(**cipherparams, "iv");
  if (!iv_digits) return Error{iv_digits.error()};
  if (iv_digits->size() > 1024) return Error{"keystore field 'iv' is too long"};
  auto iv = iv_of(std::move(*iv_digits));
  if (!iv) return Error{iv.error()};
  auto ciphertext = hex_field(c, "ciphertext", 32);
  if (!ciphertext) return Error{ciphertext.error()};
  auto mac = hex_field(c, "mac", 32);
  if (!mac) return Error{mac.error()};
  auto kdf_name = string_field(c, "kdf");
  if (!kdf_name) return Error{kdf_name.error()};
  auto params = object_field(c, "kdfparams");
  if (!params) return Error{params.error()};
  const auto& p = **params;
  auto dklen = int_field(p, "dklen");
  if (!dklen) return Error{dklen.error()};
  // The MAC takes bytes 16 to 32 of the derived key: a shorter one is no keystore's.
  if (*dklen < 32 || *dklen > 1024) return Error{"keystore kdfparams.dklen must be from 32 to 1024"};
  auto salt = hex_field(p, "salt");
  if (!salt) return Error{salt.error()};
  if (salt->size() > 1024) return Error{"keystore salt is too long"};

  KeystoreKdf kdf;
  if (*kdf_name == "scrypt") {
    auto n = int_field(p, "n"), r = int_field(p, "r"), pp = int_field(p, "p");
    if (!n) return Error{n.error()};
    if (!r) return Error{r.error()};
    if (!pp) return Error{pp.error()};
    auto ok = check_scrypt(*n, *r, *pp);
    if (!ok) return Error{ok.error()};
    kdf.scrypt_n = *n;
    kdf.scrypt_r = static_cast<std::uint32_t>(*r);
    kdf.scrypt_p = static_cast<std::uint32_t>(*pp);
  } else if (*kdf_name == "pbkdf2") {
    kdf.kind = KeystoreKdf::Kind::Pbkdf2;
    auto prf = string_field(p, "prf");
    if (!prf) return Error{prf.error()};
    if (!prf->starts_with("hmac-")) return Error{"keystore pbkdf2 prf must be hmac-<hash>, such as hmac-sha256"};
    kdf.pbkdf2_hash = std::string(prf->substr(5));
    if (!pbkdf2_digest(kdf.pbkdf2_hash))
      return Error{"keystore pbkdf2 prf '" + std::string(*prf) + "' is not supported (hmac-sha256, hmac-sha512, hmac-sha384, hmac-sha224 or hmac-sha1)"};
    auto iterations = int_field(p, "c");
    if (!iterations) return Error{iterations.error()};
    if (*iterations < 1 || *iterations > kMaxPbkdf2Iterations)
      return Error{"keystore pbkdf2 c must be from 1 to " + std::to_string(kMaxPbkdf2Iterations)};
    kdf.pbkdf2_c = static_cast<std::uint32_t>(*iterations);
  } else {
    return Error{"keystore kdf '" + std::string(*kdf_name) + "' is not supported (scrypt or pbkdf2)"};
  }

  Secret derived;
  auto ok = derive(kdf, password, *salt, derived);
  if (!ok) return Error{ok.error()};
  const Hash256 expected = mac_of(derived, *ciphertext);
  if (CRYPTO_memcmp(expected.data(), mac->data(), 32) != 0) return Error{"keystore MAC mismatch: wrong password or corrupt file"};
  Secret plain;
  auto dec = aes128_ctr(derived.bytes.data(), *iv, ciphertext->data(), 32, plain.bytes.data());
  if (!dec) return Error{dec.error()};
  auto key = PrivateKey::from_bytes(plain.bytes);
  if (!key) return Error{"keystore holds an invalid private key: " + key.error()};
  if (const auto* addr = root.if_contains("address"); addr && addr->is_string() && !addr->as_string().empty()) {
    std::string text(addr->as_string());
    for (auto& ch : text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (text.rfind("0x", 0) != 0) text = "0x" + text;  // "0X…" too, lower-cased first
    auto named = parse_address(text);
    if (!named) return Error{"keystore address field is invalid: " + named.error()};
    if (*named != key->address()) return Error{"keystore address does not match its key"};
  }
  return key;
}

}  // namespace lpops::chain
