#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <boost/json.hpp>

#include <fstream>

#include "chain/signature.hpp"
#include "domain/digest.hpp"

namespace lpops::chain {
namespace {

boost::json::value vectors() {
  std::ifstream in(std::string(LPOPS_VECTORS_DIR) + "/chain.json");
  return boost::json::parse(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
}

Hash256 hash_from_hex(std::string_view text) {
  Hash256 h{};
  EXPECT_TRUE(hex_decode(text.substr(2), h.data(), h.size()));
  return h;
}

std::string hex(const Hash256& h) { return "0x" + hex_lower(h.data(), h.size()); }

TEST(Signature, ReproducesTheSharedTicketSignature) {
  const auto doc = vectors();
  const auto& ticket = doc.at("ticket");
  auto key = PrivateKey::from_hex(doc.at("key").at("private_key").as_string()).value();
  const Hash256 ticket_hash = hash_from_hex(ticket.at("ticket_hash").as_string());
  const Hash256 digest = eip191_hash32(ticket_hash);
  EXPECT_EQ(hex(digest), ticket.at("eip191_digest").as_string());
  const Signature sig = sign_digest(key, digest);
  EXPECT_EQ(sig.to_hex(), ticket.at("signature").as_string());  // RFC 6979: deterministic
  auto parsed = Signature::from_hex(ticket.at("signature").as_string());
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  auto who = recover_address(digest, *parsed);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(to_checksummed(*who), doc.at("key").at("address").as_string());
}

TEST(Signature, RejectsMalleableAndMalformedSignatures) {
  auto key = PrivateKey::from_hex(std::string(63, '0') + "7").value();
  const Hash256 digest = keccak256("message");
  auto rsv = sign_digest(key, digest).to_rsv();
  // s' = n - s is the malleable twin; it must be refused.
  const std::uint8_t n[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
                              0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
  auto twin = rsv;
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = n[i] - rsv[32 + i] - borrow;
    borrow = d < 0;
    twin[32 + i] = static_cast<std::uint8_t>(d + (borrow ? 256 : 0));
  }
  EXPECT_FALSE(Signature::from_rsv(twin.data(), twin.size()).ok());
  auto bad_v = rsv;
  bad_v[64] = 29;
  EXPECT_FALSE(Signature::from_rsv(bad_v.data(), bad_v.size()).ok());
  EXPECT_FALSE(Signature::from_rsv(rsv.data(), 64).ok());
  std::array<std::uint8_t, 65> zeros{};
  zeros[64] = 27;
  EXPECT_FALSE(Signature::from_rsv(zeros.data(), zeros.size()).ok());
  EXPECT_FALSE(Signature::from_hex("0x1234").ok());
}

// eth_account's recover_message reads v as 0/1, 27/28, or 35 and above (35 + 2 × chain id +
// the recovery id); from_hex_any_v takes all three, from_hex only the first two.
TEST(Signature, ChainIdFormOfVIsReadAsEthAccountReadsIt) {
  auto key = PrivateKey::from_hex(std::string(63, '0') + "7").value();
  const Hash256 digest = keccak256("message");
  const Signature sig = sign_digest(key, digest);
  auto rsv = sig.to_rsv();
  for (const int chain_id : {0, 1, 42161, 110}) {
    const int v = 35 + 2 * chain_id + sig.recovery_id;
    if (v > 255) continue;
    rsv[64] = static_cast<std::uint8_t>(v);
    const std::string text = "0x" + hex_lower(rsv.data(), rsv.size());
    auto parsed = Signature::from_hex_any_v(text);
    ASSERT_TRUE(parsed.ok()) << v << ": " << parsed.error();
    EXPECT_EQ(recover_address(digest, *parsed).value(), key.address()) << v;
    EXPECT_FALSE(Signature::from_hex(text).ok()) << v;
    // The other recovery id in the same form names another signer.
    rsv[64] = static_cast<std::uint8_t>(v ^ 1);
    auto other = Signature::from_hex_any_v("0x" + hex_lower(rsv.data(), rsv.size()));
    if (other.ok()) {
      const auto signer = recover_address(digest, *other);
      EXPECT_TRUE(!signer.ok() || *signer != key.address()) << v;
    }
  }
  for (const int v : {2, 26, 29, 34}) {
    rsv[64] = static_cast<std::uint8_t>(v);
    EXPECT_FALSE(Signature::from_hex_any_v("0x" + hex_lower(rsv.data(), rsv.size())).ok()) << v;
  }
}

TEST(Signature, SignThenRecoverProperty) {
  EXPECT_TRUE(rc::check("recover(sign(k, d)) == address(k)", [](std::uint64_t seed, std::uint64_t message) {
    std::array<std::uint8_t, 32> bytes{};
    for (int i = 0; i < 8; ++i) bytes[24 + i] = static_cast<std::uint8_t>(seed >> (8 * i));
    bytes[0] = 0x01;  // keeps the key in range and non-zero
    auto key = PrivateKey::from_bytes(bytes).value();
    const Hash256 digest = keccak256(std::to_string(message));
    const Signature sig = sign_digest(key, digest);
    auto back = Signature::from_rsv(sig.to_rsv().data(), 65);
    RC_ASSERT(back.ok());
    RC_ASSERT(recover_address(digest, *back).value() == key.address());
  }));
}

}  // namespace
}  // namespace lpops::chain
