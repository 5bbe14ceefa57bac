#include "chain/merkle.hpp"

#include <bit>

#include "chain/keccak_many.hpp"

namespace lpops::chain::merkle {
namespace {

std::uint64_t split_point(std::uint64_t n) {  // the largest power of two below n (n ≥ 2)
  return std::bit_floor(n - 1);
}

Hash256 root_range(const std::vector<Hash256>& leaves, std::size_t begin, std::size_t end) {
  const std::size_t n = end - begin;
  if (n == 1) return leaf_node(leaves[begin]);
  const std::size_t k = split_point(n);
  return interior_node(root_range(leaves, begin, begin + k), root_range(leaves, begin + k, end));
}

}  // namespace

Hash256 leaf_node(const Hash256& entry_hash) {
  Keccak256 h;
  const std::uint8_t prefix = 0x00;
  h.update(&prefix, 1);
  h.update(entry_hash.data(), entry_hash.size());
  return h.final();
}

Hash256 interior_node(const Hash256& left, const Hash256& right) {
  Keccak256 h;
  const std::uint8_t prefix = 0x01;
  h.update(&prefix, 1);
  h.update(left.data(), left.size());
  h.update(right.data(), right.size());
  return h.final();
}

Hash256 root_of(const std::vector<Hash256>& entry_hashes) {
  if (entry_hashes.empty()) return Hash256{};
  return root_range(entry_hashes, 0, entry_hashes.size());
}

void Tree::append_many(const Hash256* entry_hashes, std::size_t count) {
  std::vector<Hash256> leaves(count);
  merkle_leaves(entry_hashes, leaves.data(), count);
  append_leaves(leaves.data(), count);
}

void Tree::append_leaves(const Hash256* leaves, std::size_t count) {
  if (count == 0) return;
  if (levels_.empty()) levels_.emplace_back();
  std::vector<Hash256> children, parents;
  levels_[0].insert(levels_[0].end(), leaves, leaves + count);
  // Level by level: every pair completed by this batch makes one node above it.
  for (std::size_t j = 0;; ++j) {
    const auto& level = levels_[j];
    const std::uint64_t have_above = j + 1 < levels_.size() ? levels_[j + 1].size() : 0;
    const std::uint64_t pairs = level.size() / 2;
    if (pairs == have_above) break;
    children.assign(level.begin() + static_cast<std::ptrdiff_t>(2 * have_above), level.begin() + static_cast<std::ptrdiff_t>(2 * pairs));
    parents.resize(pairs - have_above);
    merkle_parents(children.data(), parents.data(), parents.size());
    if (j + 1 == levels_.size()) levels_.emplace_back();
    levels_[j + 1].insert(levels_[j + 1].end(), parents.begin(), parents.end());
  }
}

void Tree::append(const Hash256& entry_hash) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf_node(entry_hash));
  // Every completed pair makes a node one level up.
  for (std::size_t j = 0; levels_[j].size() % 2 == 0; ++j) {
    if (j + 1 == levels_.size()) levels_.emplace_back();
    const auto& level = levels_[j];
    levels_[j + 1].push_back(interior_node(level[level.size() - 2], level[level.size() - 1]));
  }
}

std::size_t Tree::stored_hashes() const {
  std::size_t n = 0;
  for (const auto& l : levels_) n += l.size();
  return n;
}

// MTH(D[begin:end]). Inside the RFC 6962 recursion `begin` is always aligned to the
// largest power of two not above end − begin, so a perfect range is one stored hash and a
// ragged one recurses only down its right edge.
Hash256 Tree::subtree(std::uint64_t begin, std::uint64_t end) const {
  const std::uint64_t n = end - begin;
  if (std::has_single_bit(n) && begin % n == 0) {
    const int level = std::countr_zero(n);
    return levels_[static_cast<std::size_t>(level)][begin >> level];
  }
  const std::uint64_t k = split_point(n);
  return interior_node(subtree(begin, begin + k), subtree(begin + k, end));
}

Result<Hash256> Tree::root_at(std::uint64_t n) const {
  if (n > size()) return Error{"the tree has only " + std::to_string(size()) + " leaves"};
  if (n == 0) return Hash256{};
  return subtree(0, n);
}

void Tree::path(std::uint64_t index, std::uint64_t begin, std::uint64_t end, std::vector<Hash256>& out) const {
  const std::uint64_t n = end - begin;
  if (n == 1) return;
  const std::uint64_t k = split_point(n);
  if (index < begin + k) {
    path(index, begin, begin + k, out);
    out.push_back(subtree(begin + k, end));
  } else {
    path(index, begin + k, end, out);
    out.push_back(subtree(begin, begin + k));
  }
}

Result<std::vector<Hash256>> Tree::inclusion_proof(std::uint64_t index, std::uint64_t n) const {
  if (n > size()) return Error{"the tree has only " + std::to_string(size()) + " leaves"};
  if (index >= n) return Error{"leaf index " + std::to_string(index) + " is not below tree size " + std::to_string(n)};
  std::vector<Hash256> out;
  path(index, 0, n, out);
  return out;
}

// RFC 6962 §2.1.2 SUBPROOF(m, D[begin:end], whole), with m counted from `begin`.
void Tree::subproof(std::uint64_t m, std::uint64_t begin, std::uint64_t end, bool whole, std::vector<Hash256>& out) const {
  const std::uint64_t n = end - begin;
  if (m == n) {
    if (!whole) out.push_back(subtree(begin, end));
    return;
  }
  const std::uint64_t k = split_point(n);
  if (m <= k) {
    subproof(m, begin, begin + k, whole, out);
    out.push_back(subtree(begin + k, end));
  } else {
    subproof(m - k, begin + k, end, false, out);
    out.push_back(subtree(begin, begin + k));
  }
}

Result<std::vector<Hash256>> Tree::consistency_proof(std::uint64_t first, std::uint64_t second) const {
  if (second > size()) return Error{"the tree has only " + std::to_string(size()) + " leaves"};
  if (first > second) return Error{"the first size must not exceed the second"};
  std::vector<Hash256> out;
  if (first == 0 || first == second) return out;
  subproof(first, 0, second, true, out);
  return out;
}

bool verify_inclusion(const Hash256& entry_hash, std::uint64_t index, std::uint64_t size, const std::vector<Hash256>& proof,
                      const Hash256& root) {
  if (index >= size) return false;
  std::uint64_t fn = index, sn = size - 1;
  Hash256 r = leaf_node(entry_hash);
  for (const auto& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      r = interior_node(p, r);
      if (!(fn & 1))
        while (fn != 0 && !(fn & 1)) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      r = interior_node(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool verify_consistency(std::uint64_t first, std::uint64_t second, const Hash256& first_root, const Hash256& second_root,
                        const std::vector<Hash256>& proof) {
  if (first > second) return false;
  if (first == second) return proof.empty() && first_root == second_root;
  if (first == 0) return proof.empty() && first_root == Hash256{};  // the empty tree is a prefix of every tree
  if (proof.empty()) return false;
  std::vector<Hash256> c;
  if (std::has_single_bit(first)) c.push_back(first_root);
  c.insert(c.end(), proof.begin(), proof.end());
  std::uint64_t fn = first - 1, sn = second - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash256 fr = c[0], sr = c[0];
  for (std::size_t i = 1; i < c.size(); ++i) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      fr = interior_node(c[i], fr);
      sr = interior_node(c[i], sr);
      if (!(fn & 1))
        while (fn != 0 && !(fn & 1)) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      sr = interior_node(sr, c[i]);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == first_root && sr == second_root && sn == 0;
}

}  // namespace lpops::chain::merkle
