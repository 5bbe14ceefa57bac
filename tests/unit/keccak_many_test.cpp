#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "chain/keccak_many.hpp"
#include "chain/merkle.hpp"

namespace lpops::chain {
namespace {

// Lengths around the 136-byte rate and its multiples, where padding changes shape.
const std::vector<std::size_t> kEdgeSizes = {0, 1, 7, 8, 31, 32, 33, 65, 134, 135, 136, 137, 271, 272, 273, 600, 1000};

TEST(KeccakMany, EqualsOneAtATimeForEveryWidthAndMix) {
  std::mt19937_64 rng(7);
  for (int width : {1, 4, 8}) {
    for (std::size_t count : {0, 1, 3, 4, 5, 8, 9, 17, 64, 100}) {
      std::vector<std::string> messages;
      for (std::size_t i = 0; i < count; ++i) {
        const std::size_t size = (i % 3 == 0) ? kEdgeSizes[rng() % kEdgeSizes.size()] : rng() % 700;
        std::string m(size, '\0');
        for (auto& c : m) c = static_cast<char>(rng());
        messages.push_back(std::move(m));
      }
      std::vector<std::string_view> views(messages.begin(), messages.end());
      std::vector<Hash256> out(count);
      keccak256_many_at_width(width, views.data(), out.data(), count);
      for (std::size_t i = 0; i < count; ++i) ASSERT_EQ(out[i], keccak256(views[i])) << "width " << width << " message " << i;
    }
  }
}

TEST(KeccakMany, KnownVector) {
  const std::string_view empty;
  Hash256 out;
  keccak256_many(&empty, &out, 1);
  // keccak256("") as Ethereum knows it.
  EXPECT_EQ(out, keccak256(""));
  EXPECT_EQ(out[0], 0xc5);
  EXPECT_EQ(out[31], 0x70);
}

TEST(KeccakMany, MerkleHelpersMatchTheNodeFunctions) {
  std::vector<Hash256> entries;
  for (int i = 0; i < 37; ++i) entries.push_back(keccak256("e" + std::to_string(i)));
  std::vector<Hash256> leaves(entries.size());
  merkle_leaves(entries.data(), leaves.data(), entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) EXPECT_EQ(leaves[i], merkle::leaf_node(entries[i]));
  std::vector<Hash256> parents(18);
  merkle_parents(leaves.data(), parents.data(), parents.size());
  for (std::size_t i = 0; i < parents.size(); ++i) EXPECT_EQ(parents[i], merkle::interior_node(leaves[2 * i], leaves[2 * i + 1]));
}

TEST(KeccakMany, TreeAppendManyEqualsAppend) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 20; ++round) {
    const std::size_t n = rng() % 2000;
    std::vector<Hash256> hashes;
    for (std::size_t i = 0; i < n; ++i) hashes.push_back(keccak256("x" + std::to_string(i)));
    merkle::Tree one, many;
    for (const auto& h : hashes) one.append(h);
    for (std::size_t at = 0; at < n;) {  // random batch sizes, including 1 and large
      const std::size_t take = std::min<std::size_t>(n - at, 1 + rng() % (rng() % 2 ? 3 : 700));
      many.append_many(hashes.data() + at, take);
      at += take;
    }
    ASSERT_EQ(many.size(), one.size());
    ASSERT_EQ(many.stored_hashes(), one.stored_hashes());
    for (std::uint64_t size = 0; size <= n; size += 1 + rng() % 50) ASSERT_EQ(many.root_at(size).value(), one.root_at(size).value()) << size;
    if (n) {
      const std::uint64_t i = rng() % n;
      EXPECT_EQ(many.inclusion_proof(i, n).value(), one.inclusion_proof(i, n).value());
    }
  }
}

}  // namespace
}  // namespace lpops::chain
