#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <boost/json.hpp>

#include <fstream>

#include "chain/hex.hpp"
#include "chain/merkle.hpp"

namespace lpops::chain::merkle {
namespace {

Hash256 entry(std::uint64_t i) { return keccak256("entry-" + std::to_string(i)); }

TEST(Merkle, ReproducesTheSharedRoots) {
  std::ifstream in(std::string(LPOPS_VECTORS_DIR) + "/chain.json");
  const auto doc = boost::json::parse(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  const auto& roots = doc.at("merkle").at("roots").as_object();
  ASSERT_EQ(roots.size(), 8u);
  // entry_hash_i = keccak("entry-" + i); find whether i starts at 0 or 1 from size 1.
  const std::uint64_t first = to_hex(root_of({entry(0)})) == roots.at("1").as_string() ? 0 : 1;
  Tree tree;
  std::vector<Hash256> leaves;
  for (std::uint64_t n = 1; n <= 8; ++n) {
    leaves.push_back(entry(first + n - 1));
    tree.append(leaves.back());
    const std::string expected(roots.at(std::to_string(n)).as_string());
    EXPECT_EQ(to_hex(root_of(leaves)), expected) << n;
    EXPECT_EQ(to_hex(tree.root()), expected) << n;
  }
  EXPECT_EQ(Tree().root(), Hash256{});
}

TEST(Merkle, SizeSevenIsTheRightFold) {
  // RFC 6962: node(P(0..3), node(P(4,5), L6)), not the left fold node(node(P03, P45), L6).
  std::vector<Hash256> leaves;
  for (int i = 0; i < 7; ++i) leaves.push_back(entry(static_cast<std::uint64_t>(i)));
  auto L = [&](int i) { return leaf_node(leaves[static_cast<std::size_t>(i)]); };
  const Hash256 p03 = interior_node(interior_node(L(0), L(1)), interior_node(L(2), L(3)));
  const Hash256 p45 = interior_node(L(4), L(5));
  EXPECT_EQ(root_of(leaves), interior_node(p03, interior_node(p45, L(6))));
  EXPECT_NE(root_of(leaves), interior_node(interior_node(p03, p45), L(6)));
}

TEST(Merkle, ProofsForEverySizeUpTo64) {
  Tree tree;
  std::vector<Hash256> leaves;
  for (std::uint64_t i = 0; i < 64; ++i) {
    leaves.push_back(entry(i));
    tree.append(leaves.back());
  }
  for (std::uint64_t n = 1; n <= 64; ++n) {
    const Hash256 root = tree.root_at(n).value();
    EXPECT_EQ(root, root_of(std::vector<Hash256>(leaves.begin(), leaves.begin() + static_cast<std::ptrdiff_t>(n))));
    for (std::uint64_t i = 0; i < n; ++i) {
      auto proof = tree.inclusion_proof(i, n).value();
      EXPECT_TRUE(verify_inclusion(leaves[i], i, n, proof, root)) << i << "/" << n;
      if (n > 1) {
        EXPECT_FALSE(verify_inclusion(leaves[(i + 1) % n], i, n, proof, root));
      }
    }
    for (std::uint64_t m = 0; m <= n; ++m) {
      auto proof = tree.consistency_proof(m, n).value();
      EXPECT_TRUE(verify_consistency(m, n, tree.root_at(m).value(), root, proof)) << m << "/" << n;
    }
  }
  EXPECT_FALSE(tree.inclusion_proof(64, 64).ok());
  EXPECT_FALSE(tree.inclusion_proof(0, 65).ok());
  EXPECT_FALSE(tree.consistency_proof(5, 4).ok());
  EXPECT_LE(tree.stored_hashes(), 2 * tree.size());
}

// For random n ≤ 2000 and every m ≤ n: proofs verify, and fail when any byte changes.
TEST(Merkle, PropertyProofsVerifyAndTamperingFails) {
  Tree tree;
  std::vector<Hash256> leaves;
  for (std::uint64_t i = 0; i < 2000; ++i) {
    leaves.push_back(entry(i));
    tree.append(leaves.back());
  }
  EXPECT_TRUE(rc::check([&] {
    const auto n = *rc::gen::inRange<std::uint64_t>(1, 2001);
    const Hash256 root = tree.root_at(n).value();
    for (std::uint64_t m = 0; m <= n; ++m) {
      const Hash256 first_root = tree.root_at(m).value();
      auto proof = tree.consistency_proof(m, n).value();
      RC_ASSERT(verify_consistency(m, n, first_root, root, proof));
      if (!proof.empty()) {
        auto bad = proof;
        const auto which = *rc::gen::inRange<std::size_t>(0, bad.size());
        bad[which][*rc::gen::inRange<std::size_t>(0, 32)] ^= static_cast<std::uint8_t>(*rc::gen::inRange(1, 256));
        RC_ASSERT(!verify_consistency(m, n, first_root, root, bad));
        bad = proof;
        bad.pop_back();
        RC_ASSERT(!verify_consistency(m, n, first_root, root, bad));
        bad = proof;
        bad.push_back(root);
        RC_ASSERT(!verify_consistency(m, n, first_root, root, bad));
      }
      if (m > 0 && m < n) {
        Hash256 wrong = first_root;
        wrong[0] ^= 1;
        RC_ASSERT(!verify_consistency(m, n, wrong, root, proof));
      }
      if (m < n) {
        auto inclusion = tree.inclusion_proof(m, n).value();
        RC_ASSERT(verify_inclusion(leaves[m], m, n, inclusion, root));
        Hash256 forged = leaves[m];
        forged[*rc::gen::inRange<std::size_t>(0, 32)] ^= 0x80;
        RC_ASSERT(!verify_inclusion(forged, m, n, inclusion, root));
        if (!inclusion.empty()) {
          auto bad = inclusion;
          bad[*rc::gen::inRange<std::size_t>(0, bad.size())][*rc::gen::inRange<std::size_t>(0, 32)] ^= 0x01;
          RC_ASSERT(!verify_inclusion(leaves[m], m, n, bad, root));
        }
      }
    }
  }));
}

}  // namespace
}  // namespace lpops::chain::merkle
