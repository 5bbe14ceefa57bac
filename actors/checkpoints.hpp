#pragma once
// Signed checkpoints of the audit log in the reference's format (checkpoint:v1): the
// audit key signs, per checkpoint and never per entry, the EIP-191 message binding
// (audit address, tree size, keccak(checkpoint-head:v1 ‖ chain head ‖ Merkle root),
// chain id, contract). One is made every `every_entries` entries, and on a timer when
// anything was appended since the last; each is appended to `checkpoints.jsonl` (fsync'd)
// and served verbatim.
#include <boost/json.hpp>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/journal.hpp"
#include "chain/keys.hpp"

namespace lpops::actors {

struct CheckpointOptions {
  std::uint64_t every_entries = 1000;
  std::uint64_t chain_id = 42161;
  chain::Address contract{};  // zero: not bound to a registry contract
  bool fsync = true;
};

class CheckpointBook : public Checkpointer {
 public:
  // Loads and checks `<dir>/checkpoints.jsonl` against the log (signatures, sizes, roots).
  static Result<std::shared_ptr<CheckpointBook>> open(const std::string& dir, chain::PrivateKey audit_key,
                                                      CheckpointOptions options, const storage::AuditLog& log);
  ~CheckpointBook() override;

  void after_flush(storage::AuditLog& log, bool force) override;

  std::optional<std::string> latest() const;                // verbatim JSON
  std::vector<std::string> history(std::size_t limit) const;  // newest first
  // The newest checkpoint with seq ≤ `at_most`, and its seq.
  std::optional<std::pair<std::uint64_t, std::string>> covering(std::uint64_t seq) const;
  chain::Address audit_address() const { return address_; }
  std::uint64_t chain_id() const { return options_.chain_id; }

 private:
  CheckpointBook(chain::PrivateKey key) : key_(std::move(key)) {}
  std::string make(const storage::AuditStatus& s) const;

  chain::PrivateKey key_;
  chain::Address address_{};
  CheckpointOptions options_;
  std::string path_;
  int fd_ = -1;
  mutable std::mutex mutex_;
  std::vector<std::pair<std::uint64_t, std::string>> checkpoints_;  // (seq, line), oldest first
  std::uint64_t last_seq_ = 0;
};

}  // namespace lpops::actors
