#pragma once
// The audit log's Merkle tree: RFC 6962 with keccak-256. leaf = keccak(0x00 ‖ entry_hash),
// node = keccak(0x01 ‖ left ‖ right), split at the largest power of two below n, the empty
// tree's root is zero32. (This is the right fold RFC 6962 specifies; the reference's
// enclave folded left and got other roots at sizes 7, 11, 13, ...)
//
// Tree keeps the hash of every complete, aligned subtree (about 2 hashes per leaf), so an
// append is O(1) amortised and the root at any earlier size, an inclusion proof and a
// consistency proof are O(log n) lookups, never a rebuild.
#include <cstdint>
#include <deque>
#include <vector>

#include "chain/keccak.hpp"
#include "domain/result.hpp"

namespace lpops::chain::merkle {

Hash256 leaf_node(const Hash256& entry_hash);
Hash256 interior_node(const Hash256& left, const Hash256& right);
// The root by the recursive definition, O(n): the specification the Tree is tested against.
Hash256 root_of(const std::vector<Hash256>& entry_hashes);

class Tree {
 public:
  void append(const Hash256& entry_hash);
  // The same as append() of each in turn, with the leaf and node hashes of the batch
  // computed many at a time (chain/keccak_many).
  void append_many(const Hash256* entry_hashes, std::size_t count);
  // The same with the leaf hashes (leaf_node of each entry hash) already computed.
  void append_leaves(const Hash256* leaves, std::size_t count);
  std::uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  Hash256 root() const { return root_at(size()).value(); }
  Result<Hash256> root_at(std::uint64_t size) const;
  // The audit path of leaf `index` in the tree of the first `size` leaves, bottom-up.
  Result<std::vector<Hash256>> inclusion_proof(std::uint64_t index, std::uint64_t size) const;
  // Proof that the tree of the first `first` leaves is a prefix of the first `second`.
  Result<std::vector<Hash256>> consistency_proof(std::uint64_t first, std::uint64_t second) const;
  std::size_t stored_hashes() const;

 private:
  Hash256 subtree(std::uint64_t begin, std::uint64_t end) const;
  void path(std::uint64_t index, std::uint64_t begin, std::uint64_t end, std::vector<Hash256>& out) const;
  void subproof(std::uint64_t first, std::uint64_t begin, std::uint64_t end, bool whole, std::vector<Hash256>& out) const;

  // levels_[j][i]: leaves [i·2^j, (i+1)·2^j). Deques: growth never copies (no latency spikes).
  std::vector<std::deque<Hash256>> levels_;
};

// RFC 9162 §2.1.3.2 and §2.1.4.2; proofs must be consumed exactly.
bool verify_inclusion(const Hash256& entry_hash, std::uint64_t index, std::uint64_t size, const std::vector<Hash256>& proof,
                      const Hash256& root);
bool verify_consistency(std::uint64_t first, std::uint64_t second, const Hash256& first_root, const Hash256& second_root,
                        const std::vector<Hash256>& proof);

}  // namespace lpops::chain::merkle
