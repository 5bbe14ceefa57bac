#pragma once
// The audit actor: the single writer of the journal. It runs detached (its own thread),
// so a blocking fdatasync never stalls the scheduler, and commits in groups: everything
// that queued up while the previous batch was being synced goes out in one write and one
// fdatasync. Acknowledgements run only after that (invariant 2).
#include <caf/all.hpp>

#include <chrono>
#include <memory>
#include <unordered_map>
#include <vector>

#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "storage/audit_log.hpp"
#include "storage/record_store.hpp"

namespace lpops::actors {

using flush_atom = caf::atom_constant<caf::atom("flush")>;
using audit_written_atom = caf::atom_constant<caf::atom("auditwrt")>;

struct JournalOptions {
  std::size_t max_batch_records = 4096;
};

struct JournalState {
  static inline const char* name = "journal";
  std::shared_ptr<storage::RecordStore> store;
  std::shared_ptr<Metrics> metrics;
  ActorMetrics* actor_metrics = nullptr;
  JournalOptions options;
  std::uint64_t last_seq = 0;  // framed so far
  Digest32 last_hash{};
  std::vector<storage::FramedRecord> batch;
  std::vector<Effect> batch_effects;  // fed to the snapshotter once durable
  caf::actor snapshotter;
  std::shared_ptr<storage::AuditLog> audit;
  caf::actor auditor;  // told after each flush that wrote audit entries
  std::unordered_map<std::string, std::string> addresses;  // orchestrator id -> address
  std::vector<std::string> audit_lines;                    // entries of the batch
  std::vector<std::function<void()>> waiting;  // acknowledgements of the batch
  bool flush_scheduled = false;
  std::uint64_t handled = 0;
};

caf::behavior journal_actor(caf::stateful_actor<JournalState>* self, std::shared_ptr<storage::RecordStore> store,
                            std::shared_ptr<Metrics> metrics, std::uint64_t last_seq, Digest32 last_hash,
                            caf::actor snapshotter, std::shared_ptr<storage::AuditLog> audit,
                            caf::actor auditor, std::unordered_map<std::string, std::string> addresses,
                            JournalOptions options);

// The audit line (if any) for one journal record, keeping `addresses` current.
std::optional<std::string> audit_line_for(storage::AuditLog& audit, std::unordered_map<std::string, std::string>& addresses,
                                          const Effect& effect, std::uint64_t journal_seq);

}  // namespace lpops::actors
