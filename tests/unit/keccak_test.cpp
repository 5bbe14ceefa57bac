#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <rapidcheck.h>

#include <boost/json.hpp>

#include <fstream>

#include "chain/keccak.hpp"
#include "domain/digest.hpp"

namespace lpops::chain {
namespace {

std::string hex(const Hash256& h) { return "0x" + hex_lower(h.data(), h.size()); }

boost::json::value vectors() {
  std::ifstream in(std::string(LPOPS_VECTORS_DIR) + "/chain.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return boost::json::parse(text);
}

Hash256 openssl_sha3_256(const std::vector<std::uint8_t>& data) {
  Hash256 out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha3_256(), nullptr);
  return out;
}

TEST(Keccak256, ReproducesTheSharedVectors) {
  auto v = vectors();
  const auto& k = v.at("keccak");
  EXPECT_EQ(hex(keccak256("")), k.at("empty").as_string());
  EXPECT_EQ(hex(keccak256("abc")), k.at("abc").as_string());
  EXPECT_EQ(hex(keccak256("transfer(address,uint256)")).substr(0, 10), k.at("transfer_selector").as_string());
  const auto& selectors = v.at("ticket").at("selectors").as_object();
  EXPECT_EQ(hex(keccak256("fundDeposit()")).substr(0, 10), selectors.at("fundDeposit").as_string());
  EXPECT_EQ(hex(keccak256("getSenderInfo(address)")).substr(0, 10), selectors.at("getSenderInfo").as_string());
}

TEST(Keccak256, PermutationMatchesOpenSslSha3AtEveryLengthAroundTheRate) {
  for (std::size_t n : {0, 1, 134, 135, 136, 137, 271, 272, 273, 1000, 4096}) {
    std::vector<std::uint8_t> data(n);
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::uint8_t>(i * 31 + 7);
    Keccak256 sha3(0x06);
    sha3.update(data.data(), data.size());
    EXPECT_EQ(sha3.final(), openssl_sha3_256(data)) << n;
  }
}

TEST(Keccak256, IncrementalEqualsOneShotProperty) {
  EXPECT_TRUE(rc::check("any split of the input gives the same digest", [](const std::vector<std::uint8_t>& data) {
    const auto cut1 = *rc::gen::inRange<std::size_t>(0, data.size() + 1);
    const auto cut2 = *rc::gen::inRange<std::size_t>(cut1, data.size() + 1);
    Keccak256 k;
    k.update(data.data(), cut1);
    k.update(data.data() + cut1, cut2 - cut1);
    k.update(data.data() + cut2, data.size() - cut2);
    RC_ASSERT(k.final() == keccak256(data.data(), data.size()));
    Keccak256 sha3(0x06);
    sha3.update(data.data(), data.size());
    RC_ASSERT(sha3.final() == openssl_sha3_256(data));
  }));
}

// wipe() leaves a hasher as a new one, whatever it had absorbed: a part block, or whole
// blocks and a part.
TEST(Keccak256, WipeForgetsWhatWasAbsorbed) {
  for (std::size_t n : {5, 136, 300}) {
    const std::string secret(n, 's');
    Keccak256 k;
    k.update(secret);
    k.wipe();
    k.update("abc");
    EXPECT_EQ(k.final(), keccak256("abc")) << n;
  }
  Keccak256 after_final;  // final() zeroes the state; wipe() also clears the last block's bytes
  after_final.update(std::string(100, 'k'));
  (void)after_final.final();
  after_final.wipe();
  EXPECT_EQ(after_final.final(), keccak256(""));
}

// The permutation keccak256() uses on this CPU (AVX-512 where it exists) against the portable
// code, on any state (not only those a message would produce), three permutations deep.
TEST(KeccakF1600, TheCpusPermutationEqualsThePortableOne) {
  if (!keccak_f1600_has_avx512()) GTEST_SKIP() << "no AVX-512 here: keccak256 runs the portable permutation";
  EXPECT_TRUE(rc::check("same output state for any input state", [](const std::array<std::uint64_t, 25>& start) {
    auto fast = start, portable = start;
    for (int i = 0; i < 3; ++i) {  // also states that are outputs of the permutation
      keccak_f1600(fast);
      keccak_f1600_portable(portable);
      RC_ASSERT(fast == portable);
    }
  }));
  // Single bits, one lane at a time: a lane moved or rotated to the wrong place shows here.
  for (int lane = 0; lane < 25; ++lane)
    for (int bit : {0, 1, 31, 63}) {
      std::array<std::uint64_t, 25> fast{}, portable{};
      fast[lane] = portable[lane] = std::uint64_t{1} << bit;
      keccak_f1600(fast);
      keccak_f1600_portable(portable);
      EXPECT_EQ(fast, portable) << "lane " << lane << " bit " << bit;
    }
}

}  // namespace
}  // namespace lpops::chain
