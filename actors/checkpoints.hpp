#pragma once
// Signed checkpoints of the audit log in the reference's format (checkpoint:v1): the
// audit key signs, per checkpoint and never per entry, the EIP-191 message binding
// (audit address, tree size, keccak(checkpoint-head:v1 ‖ chain head ‖ Merkle root),
// chain id, contract). One is made every `every_entries` entries, and on a timer when
// anything was appended since the last; each is appended to `checkpoints.jsonl` (fsync'd)
// and served verbatim.
#include <boost/json.hpp>

#include <caf/all.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/metrics.hpp"
#include "chain/keys.hpp"
#include "storage/audit_log.hpp"

namespace lpops::actors {

struct CheckpointOptions {
  std::uint64_t every_entries = 1000;
  std::uint64_t chain_id = 42161;
  chain::Address contract{};  // zero: not bound to a registry contract
  bool fsync = true;
};

class CheckpointBook {
 public:
  // Loads and checks `<dir>/checkpoints.jsonl` against the log (signatures, sizes, roots).
  static Result<std::shared_ptr<CheckpointBook>> open(const std::string& dir, chain::PrivateKey audit_key,
                                                      CheckpointOptions options, const storage::AuditLog& log);
  ~CheckpointBook();

  // Signs a checkpoint when the log's size crossed a multiple of `every_entries` since the
  // last one (with force: when anything was added); the log is synced first.
  // Returns the file that failed, if one did ("audit_log": its sync; "checkpoints": the
  // checkpoint's write); both are logged, and tried again at the next step.
  std::optional<std::string_view> after_flush(storage::AuditLog& log, bool force);

  // The log size the newest signed checkpoint covers (0: none yet).
  std::uint64_t signed_size() const;
  std::optional<std::string> latest() const;                // verbatim JSON
  // Newest first, at most `limit`, those signed at a seq below `before`.
  std::vector<std::string> history(std::size_t limit, std::uint64_t before = UINT64_MAX) const;
  // The newest checkpoint and its seq, when it covers entry `seq` (its seq ≥ `seq`): proofs
  // are given against the newest checkpoint only.
  std::optional<std::pair<std::uint64_t, std::string>> covering(std::uint64_t seq) const;
  // A stored checkpoint's statement (size, chain head, root, timestamp) signed for another
  // chain id and contract, as the reference's endpoint signs per request; nothing is stored.
  // The stored line itself when the binding is the configured one.
  std::string rebound(const std::string& stored, std::uint64_t chain_id, const chain::Address& contract) const;
  chain::Address audit_address() const { return address_; }
  const chain::Address& contract() const { return options_.contract; }
  std::uint64_t chain_id() const { return options_.chain_id; }

 private:
  CheckpointBook(chain::PrivateKey key) : key_(std::move(key)) {}
  std::string make(const storage::AuditStatus& s) const;
  std::string make(const storage::AuditStatus& s, std::uint64_t chain_id, const chain::Address& contract,
                   const std::string& timestamp) const;

  chain::PrivateKey key_;
  chain::Address address_{};
  CheckpointOptions options_;
  std::string path_;
  int fd_ = -1;
  mutable std::mutex mutex_;
  std::vector<std::pair<std::uint64_t, std::string>> checkpoints_;  // (seq, line), oldest first
  std::uint64_t last_seq_ = 0;
};

struct AuditorOptions {
  std::chrono::milliseconds sync_interval{200};
  std::chrono::milliseconds checkpoint_interval{60'000};
};

struct AuditorState {
  static inline const char* name = "auditor";
  std::shared_ptr<Metrics> metrics;
  ActorMetrics* actor_metrics = nullptr;
  HandledCount handled;
  std::chrono::steady_clock::time_point synced_at, last_checkpoint;
};

// Asked of the auditor once the journal has written every entry, before the node stops: it
// syncs the log and signs a checkpoint of whatever the last one does not cover, then answers
// the size the newest checkpoint covers.
using final_checkpoint_atom = caf::atom_constant<caf::atom("auditfin")>;

// The auditor (detached): makes the audit log durable and signs checkpoints off the journal
// thread, so neither an fdatasync of the log nor a signature ever delays an acknowledgement.
caf::behavior auditor_actor(caf::stateful_actor<AuditorState>* self, std::shared_ptr<storage::AuditLog> log,
                            std::shared_ptr<CheckpointBook> checkpoints, AuditorOptions options,
                            std::shared_ptr<Metrics> metrics);

}  // namespace lpops::actors
