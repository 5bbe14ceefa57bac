#pragma once
// Orchestrator credentials (the OrchestratorCredential contract, "LPOC") and the ledger
// tree an orchestrator proves its balance with.
//
// Auth flow: the node hands out a single-use nonce; the orchestrator's delegate signs
//   keccak256(packed("payments-orchestrator-credential:auth:v1", string id, address owner,
//                    address delegate, bytes32 nonce, uint256 expires_at))
// with EIP-191; the node recovers the delegate and asks the contract that
// balanceOf(owner) ≥ 1 and delegateOf(owner) == delegate.
//
// Ledger tree: one leaf per orchestrator with a registered address,
//   keccak256(abi.encode(string "payments-tee-core:ledger:v1", bytes32 keccak256(id),
//                        address recipient, int256 balance_wei)),
// sorted by keccak256(id) and placed in the RFC 6962 tree of chain/merkle.hpp (leaf node
// keccak(0x00 ‖ leaf)). int256 encodes a balance ≥ 0 exactly as the reference's uint256
// does; a (forced) negative balance is its two's complement, where the reference fails.
#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/address.hpp"
#include "chain/eth_rpc.hpp"
#include "chain/keccak.hpp"
#include "chain/merkle.hpp"
#include "domain/money.hpp"

namespace lpops::chain::credential {

inline constexpr std::string_view kAuthDomain = "payments-orchestrator-credential:auth:v1";
inline constexpr std::string_view kLedgerLeafDomain = "payments-tee-core:ledger:v1";

Hash256 auth_hash(std::string_view orchestrator_id, const Address& owner, const Address& delegate, const Hash256& nonce,
                  std::uint64_t expires_at);

// What the contract says about (owner, delegate).
enum class OnChain { valid, not_valid, unavailable };
struct Check {
  OnChain outcome = OnChain::unavailable;
  std::string detail;  // why not valid, or the RPC error
};
// Two eth_calls at "latest": balanceOf(owner) and delegateOf(owner). A revert (no
// credential, a zero owner) is not_valid; a node that cannot answer is unavailable.
boost::asio::awaitable<Check> check_on_chain(EthRpc& rpc, Address contract, Address owner, Address delegate);

// --- the ledger tree ---
struct LedgerLeaf {
  std::string orchestrator_id;
  Address recipient{};
  SignedWei balance;
  Hash256 orch_hash{};  // keccak256(id)
  Hash256 leaf_hash{};
};

Hash256 ledger_leaf_hash(const Hash256& orch_hash, const Address& recipient, const SignedWei& balance);

// The tree keeps every level (leaf nodes at level 0; a level's odd last node is carried up
// unchanged, which gives RFC 6962's root for every size), so one changed balance costs one
// leaf hash and O(log n) node hashes, not a rebuild.
class LedgerTree {
 public:
  // Hashes the leaves (orch_hash and leaf_hash are filled in here), sorts them by orch_hash
  // and builds the tree.
  static LedgerTree build(std::vector<LedgerLeaf> leaves);
  std::size_t size() const { return leaves_.size(); }
  Hash256 root() const { return levels_.empty() ? Hash256{} : levels_.back()[0]; }
  // The leaf index of an orchestrator, if it is in the tree.
  std::optional<std::size_t> index_of(std::string_view orchestrator_id) const;
  const LedgerLeaf& leaf(std::size_t index) const { return leaves_[index]; }
  // The audit path of a leaf, bottom-up (RFC 9162 §2.1.3).
  std::vector<Hash256> proof(std::size_t index) const;
  // Sets one leaf's recipient and balance and rehashes its path.
  void update(std::size_t index, const Address& recipient, const SignedWei& balance);

 private:
  std::vector<LedgerLeaf> leaves_;
  std::vector<std::vector<Hash256>> levels_;
};

}  // namespace lpops::chain::credential
