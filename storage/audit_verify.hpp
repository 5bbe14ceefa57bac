#pragma once
// Offline verification of the transparency log, for `lpops verify` and for tests: every
// entry's hash recomputed from its own fields, seq = position, the prev_hash chain, the
// Merkle tree rebuilt incrementally, and signed checkpoints checked against it.
#include <boost/json.hpp>

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "chain/address.hpp"
#include "chain/merkle.hpp"
#include "domain/result.hpp"

namespace lpops::storage {

struct Checkpoint {
  chain::Address audit_address{};
  std::uint64_t chain_id = 0;
  chain::Address contract{};
  std::uint64_t seq = 0;
  chain::Hash256 head_hash{}, chain_head_hash{}, merkle_root{}, message_hash{};
  std::string signature;
};

Result<Checkpoint> parse_checkpoint(const boost::json::value& v);
// Recomputes the commitment and the message and recovers the signer; the signer must be
// the checkpoint's audit address.
std::optional<std::string> check_checkpoint_signature(const Checkpoint& c);

class LogVerifier {
 public:
  // Adds the next stored line (a host wrapper, or a bare entry); false at the first bad one.
  bool add(std::string_view line);
  const std::string& failure() const { return failure_; }
  std::uint64_t size() const { return tree_.size(); }
  chain::Hash256 head() const { return hashes_.empty() ? chain::Hash256{} : hashes_.back(); }
  chain::Hash256 root() const { return tree_.root(); }
  Result<chain::Hash256> root_at(std::uint64_t n) const { return tree_.root_at(n); }
  std::optional<chain::Hash256> entry_hash(std::uint64_t seq) const;
  std::optional<std::uint64_t> seq_of(const std::string& event_id) const;
  Result<std::vector<chain::Hash256>> inclusion_proof(std::uint64_t seq, std::uint64_t size) const {
    return tree_.inclusion_proof(seq - 1, size);
  }
  // The checkpoint describes a prefix of this log: size, chain head and root agree.
  std::optional<std::string> check_checkpoint(const Checkpoint& c) const;

 private:
  std::vector<chain::Hash256> hashes_;
  std::unordered_map<std::string, std::uint64_t> by_event_;
  chain::merkle::Tree tree_;
  std::string failure_;
};

// The entry object of a wrapper or bare entry, with its entry hash checked. Shared by the
// verifier and proof checks.
Result<std::pair<boost::json::object, chain::Hash256>> checked_entry(const boost::json::value& wrapper_or_entry);
// The same without copying: the entry stays inside `wrapper_or_entry`.
Result<std::pair<const boost::json::object*, chain::Hash256>> checked_entry_ref(const boost::json::value& wrapper_or_entry);

}  // namespace lpops::storage
