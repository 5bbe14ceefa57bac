#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "chain/address.hpp"
#include "chain/hex.hpp"
#include "chain/keystore.hpp"
#include "chain/scrypt.hpp"

#include <openssl/evp.h>

#include <random>
#include <vector>

namespace lpops::chain {
namespace {

// The PBKDF2 test vector of the Web3 Secret Storage definition.
constexpr const char* kSpecPbkdf2 = R"({
  "crypto": {"cipher": "aes-128-ctr", "cipherparams": {"iv": "6087dab2f9fdbbfaddc31a909735c1e6"},
             "ciphertext": "5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46",
             "kdf": "pbkdf2",
             "kdfparams": {"c": 262144, "dklen": 32, "prf": "hmac-sha256",
                           "salt": "ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"},
             "mac": "517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"},
  "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6", "version": 3})";

TEST(Keystore, DecryptsTheSpecPbkdf2Vector) {
  auto key = decrypt_keystore(kSpecPbkdf2, "testpassword");
  ASSERT_TRUE(key.ok()) << key.error();
  EXPECT_EQ(to_hex(key->bytes()), "0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d");
  auto wrong = decrypt_keystore(kSpecPbkdf2, "testpasswort");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().find("MAC mismatch"), std::string::npos);
}

// The definition's scrypt vector: n = 2^18 with r = 1, as Python's eth-keyfile writes them,
// outside RFC 7914's bound N < 2^(16r) that OpenSSL's scrypt holds to.
constexpr const char* kSpecScrypt = R"({
  "crypto": {"cipher": "aes-128-ctr", "cipherparams": {"iv": "83dbcc02d8ccb40e466191a123791e0e"},
             "ciphertext": "d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c",
             "kdf": "scrypt",
             "kdfparams": {"dklen": 32, "n": 262144, "p": 8, "r": 1,
                           "salt": "ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19"},
             "mac": "2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097"},
  "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6", "version": 3})";

TEST(Keystore, DecryptsTheSpecScryptVector) {
  auto key = decrypt_keystore(kSpecScrypt, "testpassword");
  ASSERT_TRUE(key.ok()) << key.error();
  EXPECT_EQ(to_hex(key->bytes()), "0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d");
}

// Where OpenSSL's scrypt takes the parameters, ours derives what it does.
TEST(Scrypt, AgreesWithOpenSslWithinItsBound) {
  std::mt19937 rng(7);
  for (int round = 0; round < 60; ++round) {
    const std::uint32_t r = 1 + rng() % 4, p = 1 + rng() % 3;
    const std::uint64_t n = std::uint64_t{2} << (rng() % 10);  // 2 .. 1024, below 2^(16r)
    std::string password(rng() % 20, '\0'), salt(rng() % 40, '\0');
    for (auto& c : password) c = static_cast<char>(rng());
    for (auto& c : salt) c = static_cast<char>(rng());
    const std::size_t size = 1 + rng() % 80;
    std::vector<std::uint8_t> ours(size), theirs(size);
    const auto* salt_bytes = reinterpret_cast<const std::uint8_t*>(salt.data());
    ASSERT_TRUE(scrypt(password, salt_bytes, salt.size(), n, r, p, ours.data(), size));
    ASSERT_EQ(EVP_PBE_scrypt(password.data(), password.size(), salt_bytes, salt.size(), n, r, p, 0, theirs.data(), size), 1)
        << n << " " << r << " " << p;
    EXPECT_EQ(ours, theirs) << "n=" << n << " r=" << r << " p=" << p;
  }
}

TEST(Keystore, RoundTripsBothKdfs) {
  auto key = PrivateKey::from_hex("0x1111111111111111111111111111111111111111111111111111111111111111").value();
  for (auto kind : {KeystoreKdf::Kind::Scrypt, KeystoreKdf::Kind::Pbkdf2}) {
    KeystoreKdf kdf;
    kdf.kind = kind;
    kdf.scrypt_n = 1024;
    kdf.pbkdf2_c = 1000;
    auto json = encrypt_keystore(key, "pässword", kdf);
    ASSERT_TRUE(json.ok()) << json.error();
    auto back = decrypt_keystore(*json, "pässword");
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(back->bytes(), key.bytes());
    EXPECT_FALSE(decrypt_keystore(*json, "password").ok());
    auto doc = boost::json::parse(*json).as_object();
    EXPECT_EQ(doc.at("address").as_string(), to_lower_hex(key.address()).substr(2));
    // The address written with an upper-case 0X and digits is the same address.
    std::string upper = "0X" + std::string(doc.at("address").as_string());
    for (std::size_t i = 2; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
    doc["address"] = upper;
    auto shouting = decrypt_keystore(boost::json::serialize(doc), "pässword");
    ASSERT_TRUE(shouting.ok()) << shouting.error();
    EXPECT_EQ(shouting->bytes(), key.bytes());
  }
}

// Keystores that eth-keyfile reads though no common writer makes them, made with ethers and
// aes-js: PBKDF2 with HMAC-SHA512 and a 64-byte key whose IV leaves out its two leading zero
// bytes; scrypt with a 48-byte key whose IV has a leading zero byte too many.
TEST(Keystore, ReadsTheFormsEthKeyfileReads) {
  const char* const pbkdf2_sha512 =
      R"({"crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"5a5a5a5a5a5a5a5a5a5a5a5a5a5a"},)"
      R"("ciphertext":"053de12a945b8b92c6f8616bb583827f28513ad08ec496b5bae68be68ac664d2","kdf":"pbkdf2",)"
      R"("kdfparams":{"c":1024,"dklen":64,"prf":"hmac-sha512","salt":"abababababababababababababababababababababababababababababababab"},)"
      R"("mac":"735fbd1f12a744fc3800e7e04c310f18e745674f7c0d004c1b19efe639e95afd"},"version":3})";
  const char* const scrypt_48 =
      R"({"crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"0000005a5a5a5a5a5a5a5a5a5a5a5a5a5a"},)"
      R"("ciphertext":"b1a644675d53eae08fc2aa4e4b8c54080d24a7bf790c79db0d4741b04088b03e","kdf":"scrypt",)"
      R"("kdfparams":{"dklen":48,"n":1024,"r":8,"p":1,"salt":"abababababababababababababababababababababababababababababababab"},)"
      R"("mac":"161a56c9fdfc119291ef9790aed5c1ebd0cacad452e14d5e86decbaeb0e7e27c"},"version":3})";
  for (const char* text : {pbkdf2_sha512, scrypt_48}) {
    auto key = decrypt_keystore(text, "pw");
    ASSERT_TRUE(key.ok()) << key.error();
    EXPECT_EQ(to_checksummed(key->address()), "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A");
    EXPECT_FALSE(decrypt_keystore(text, "wrong").ok());
  }
  auto with_prf = [&](const char* prf) {
    auto doc = boost::json::parse(pbkdf2_sha512).as_object();
    doc["crypto"].as_object()["kdfparams"].as_object()["prf"] = prf;
    return decrypt_keystore(boost::json::serialize(doc), "pw");
  };
  auto unknown = with_prf("hmac-md5");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().find("'hmac-md5' is not supported"), std::string::npos) << unknown.error();
  EXPECT_FALSE(with_prf("sha512").ok());
  // Another HMAC's key fails the MAC.
  auto other = with_prf("hmac-sha256");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().find("MAC mismatch"), std::string::npos) << other.error();
  // Written with another HMAC and read back.
  KeystoreKdf kdf;
  kdf.kind = KeystoreKdf::Kind::Pbkdf2;
  kdf.pbkdf2_c = 16;
  kdf.pbkdf2_hash = "sha384";
  auto key = PrivateKey::from_hex("0x1111111111111111111111111111111111111111111111111111111111111111").value();
  auto written = encrypt_keystore(key, "pw", kdf);
  ASSERT_TRUE(written.ok()) << written.error();
  EXPECT_NE(written->find(R"("prf":"hmac-sha384")"), std::string::npos) << *written;
  auto read = decrypt_keystore(*written, "pw");
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_EQ(read->bytes(), key.bytes());
}

TEST(Keystore, RejectsHostileOrBrokenFiles) {
  auto key = PrivateKey::from_hex("0x1111111111111111111111111111111111111111111111111111111111111111").value();
  KeystoreKdf kdf;
  kdf.scrypt_n = 1024;
  const auto good = boost::json::parse(encrypt_keystore(key, "pw", kdf).value()).as_object();
  auto mutated = [&](auto change) {
    auto doc = good;
    change(doc);
    return decrypt_keystore(boost::json::serialize(doc), "pw");
  };
  auto crypto = [](boost::json::object& d) -> boost::json::object& { return d.at("crypto").as_object(); };
  EXPECT_FALSE(mutated([&](auto& d) { crypto(d)["kdfparams"].as_object()["n"] = 1u << 24; }).ok());  // memory bomb
  EXPECT_FALSE(mutated([&](auto& d) { crypto(d)["kdfparams"].as_object()["n"] = 1000; }).ok());      // not a power of 2
  // Within the memory bound, but p = 16 passes of it: 16 GiB of mixing, minutes at start.
  auto slow = mutated([&](auto& d) {
    auto& params = crypto(d)["kdfparams"].as_object();
    params["n"] = 1u << 20;
    params["r"] = 8;
    params["p"] = 16;
  });
  ASSERT_FALSE(slow.ok());
  EXPECT_NE(slow.error().find("too much work"), std::string::npos) << slow.error();
  EXPECT_FALSE(mutated([&](auto& d) { crypto(d)["kdfparams"].as_object()["dklen"] = 16; }).ok());
  EXPECT_FALSE(mutated([&](auto& d) { crypto(d)["cipher"] = "aes-128-cbc"; }).ok());
  EXPECT_FALSE(mutated([&](auto& d) { crypto(d)["kdf"] = "argon2"; }).ok());
  EXPECT_FALSE(mutated([&](auto& d) { crypto(d)["ciphertext"] = "zz"; }).ok());
  EXPECT_FALSE(mutated([&](auto& d) { crypto(d)["cipherparams"].as_object()["iv"] = "01" + std::string(32, '0'); }).ok());  // 2^128
  EXPECT_FALSE(mutated([&](auto& d) { crypto(d)["kdfparams"].as_object()["dklen"] = 1025; }).ok());
  EXPECT_FALSE(mutated([&](auto& d) { d["version"] = 2; }).ok());
  EXPECT_FALSE(mutated([&](auto& d) { d["address"] = "2222222222222222222222222222222222222222"; }).ok());
  auto tampered = mutated([&](auto& d) {
    std::string ct(crypto(d)["ciphertext"].as_string());
    ct[0] = ct[0] == '0' ? '1' : '0';
    crypto(d)["ciphertext"] = ct;
  });
  ASSERT_FALSE(tampered.ok());
  EXPECT_NE(tampered.error().find("MAC"), std::string::npos);
  EXPECT_TRUE(mutated([](auto&) {}).ok());
  EXPECT_FALSE(decrypt_keystore("not json", "pw").ok());
  EXPECT_FALSE(decrypt_keystore("[]", "pw").ok());
}

}  // namespace
}  // namespace lpops::chain
