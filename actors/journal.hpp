#pragma once
// The audit actor: the single writer of the journal, as two stages on two threads, so a
// blocking fdatasync never stalls the scheduler and never stalls the framing of the records
// that arrive meanwhile:
//   - the Journal, inside the sequencing actor (the ledger, detached), frames each effect
//     (seq, hash link) and builds its audit entry, and queues it;
//   - its sync actor takes everything queued, writes it, fdatasyncs it, writes the batch's
//     audit entries and only then runs the batch's acknowledgements (invariant 2); then it
//     takes what was queued meanwhile, until the queue is empty.
// One write and one fdatasync for whatever queued up (group commit), with the CPU work of
// the next batch overlapping the disk wait of this one. The sync actor takes the next batch
// itself the moment a commit ends: no round trip through the ledger's mailbox (and its
// thread's wake-up) between two commits. The Journal wakes it only when it had gone idle.
#include <caf/all.hpp>

#include <boost/unordered/unordered_flat_map.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "storage/audit_log.hpp"
#include "storage/record_store.hpp"

namespace lpops::actors {

using sync_atom = caf::atom_constant<caf::atom("sync")>;
using audit_written_atom = caf::atom_constant<caf::atom("auditwrt")>;

// Orchestrator id -> address (parsed once; the zero address when unparseable), for the audit
// entries' recipient.
using AddressBook = boost::unordered_flat_map<std::string, chain::Address>;
// The book's entry for a registry record's "address".
chain::Address address_book_entry(std::string_view address);

struct JournalOptions {
  std::size_t max_batch_records = 4096;
  // The auditor is told after this many new audit entries (its checkpoint cadence); its own
  // timer covers the rest (syncing the log, time-based checkpoints).
  std::uint64_t audit_notify_entries = 1000;
  // Effects go to the snapshotter in feeds of at least this many (one wake-up per feed).
  std::size_t snapshot_feed_records = 256;
  // At most this many effects handed to the snapshotter and not yet applied: beyond, group
  // commits wait for it (invariant 6; a snapshot written on a slow disk holds it up).
  std::size_t snapshot_backlog_records = 1u << 20;
};

// Framed records on their way from the Journal to its sync actor (shared by the two; all
// under `mutex`).
struct JournalQueue {
  std::mutex mutex;
  std::uint64_t first_seq = 0;                 // seq of records.front()
  std::vector<storage::FramedRecord> records;
  std::vector<std::string> audit_lines;        // one per record (empty: the record has none)
  std::vector<Effect> effects;                 // fed to the snapshotter once durable
  // Acknowledgements, each with the seq that must be durable before it runs (in order).
  std::vector<std::pair<std::uint64_t, std::function<void()>>> acks;
  // The sync actor is at work: it takes from the queue until it finds it empty, and clears
  // this then. The Journal wakes it (sync_atom) when it sets this.
  bool busy = false;
};

// One group commit, taken from the queue by the sync actor.
struct SyncBatch {
  std::uint64_t first_seq = 0;
  std::vector<storage::FramedRecord> records;
  std::vector<std::string> audit_lines;        // the records' audit entries (non-empty ones)
  std::vector<Effect> effects;
  std::vector<std::function<void()>> acks;     // run once the batch is durable
};

// Everything the journal's writer starts from: the store, where the chain ends, and whom
// it feeds once records are durable.
struct JournalSetup {
  std::shared_ptr<storage::RecordStore> store;
  std::shared_ptr<Metrics> metrics;
  std::uint64_t last_seq = 0;
  Digest32 last_hash{};
  caf::actor snapshotter;
  std::shared_ptr<storage::AuditLog> audit;
  caf::actor auditor;
  AddressBook addresses;  // orchestrator id -> address
  JournalOptions options;
};

// The journal's first stage, run inside the actor that sequences the records (the ledger
// actor in the node; journal_actor below for a stand-alone journal): it frames each effect
// (seq, hash link) and builds its audit entry on that actor's thread, and queues them for
// its sync actor (spawned detached and linked to the host). Framing where the effects are
// made spares every command one hand-over to another thread and its wake-up.
class Journal {
 public:
  Journal(caf::event_based_actor* host, JournalSetup setup);
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Frames record `seq` (the next one); `on_durable` runs once it is durable.
  void append(std::uint64_t seq, Effect effect, std::function<void()> on_durable);
  // `on_durable` runs once every record appended before is durable.
  void barrier(std::function<void()> on_durable);

 private:
  caf::event_based_actor* host_;
  JournalOptions options_;
  std::uint64_t last_seq_ = 0;  // framed so far
  Digest32 last_hash_{};
  std::shared_ptr<JournalQueue> queue_;
  std::string effect_text_;  // reused buffer
  std::shared_ptr<storage::AuditLog> audit_;
  AddressBook addresses_;
  caf::actor syncer_;
};

// The handler a Journal's host adds to its own: JournalBarrier, timed like the host's other
// handlers. `Self` is a stateful actor whose state has `journal` (a std::unique_ptr<Journal>),
// `actor_metrics` and `handled`.
template <class Self>
caf::message_handler journal_handlers(Self* self) {
  return {
      [=](JournalBarrier& b) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        self->state.journal->barrier(std::move(b.on_durable));
      },
  };
}

struct JournalState {
  static inline const char* name = "journal";
  ActorMetrics* actor_metrics = nullptr;
  std::unique_ptr<Journal> journal;
  HandledCount handled;
};

struct JournalSyncState {
  static inline const char* name = "journal.sync";
  std::shared_ptr<JournalQueue> queue;
  std::shared_ptr<storage::RecordStore> store;
  std::shared_ptr<Metrics> metrics;
  ActorMetrics* actor_metrics = nullptr;
  std::shared_ptr<storage::AuditLog> audit;
  caf::actor snapshotter;
  caf::actor auditor;
  JournalOptions options;
  std::uint64_t audit_written = 0;   // the audit log's size (entries written)
  std::uint64_t notified_step = 0;   // audit_written / audit_notify_entries when the auditor was last told
  std::uint64_t durable_seq = 0;     // the last record written and synced
  SnapshotFeed feed;                       // effects not yet handed to the snapshotter
  std::shared_ptr<SnapshotBacklog> snapshot_backlog;
  HandledCount handled;
};

// A journal on its own (JournalAppend, JournalBarrier): the Journal above hosted by an actor
// that does nothing else.
caf::behavior journal_actor(caf::stateful_actor<JournalState>* self, std::shared_ptr<storage::RecordStore> store,
                            std::shared_ptr<Metrics> metrics, std::uint64_t last_seq, Digest32 last_hash,
                            caf::actor snapshotter, std::shared_ptr<storage::AuditLog> audit,
                            caf::actor auditor, AddressBook addresses,
                            JournalOptions options);

caf::behavior journal_sync_actor(caf::stateful_actor<JournalSyncState>* self, std::shared_ptr<JournalQueue> queue,
                                 std::shared_ptr<storage::RecordStore> store, std::shared_ptr<Metrics> metrics,
                                 caf::actor snapshotter, std::shared_ptr<storage::AuditLog> audit, caf::actor auditor,
                                 JournalOptions options);

// The audit line (if any) for one journal record, keeping `addresses` current.
std::optional<std::string> audit_line_for(storage::AuditLog& audit, AddressBook& addresses,
                                          const Effect& effect, std::uint64_t journal_seq);

// One journal record's effect, read back from the store.
Result<Effect> read_journal_effect(const storage::RecordStore& store, std::uint64_t seq);

// Start-up: rebuilds the stored audit entries first..last from the journal records they
// describe (the records with balance changes, in order, up to `journal_last`) and compares
// them byte for byte (a per-entry signature aside). The entries after the last signed
// checkpoint are covered by no signature, so an entry edited and chained anew would
// otherwise be signed by the next checkpoint. `addresses`: every orchestrator's address.
std::optional<std::string> check_audit_against_journal(const storage::AuditLog& audit, AddressBook addresses,
                                                       const storage::RecordStore& store, std::uint64_t first,
                                                       std::uint64_t last, std::uint64_t journal_last);

// Start-up, once the log describes the whole journal: every balance the book was recovered
// with (snapshot and journal) must be the one its orchestrator's newest audit entry states,
// and an orchestrator the log has entries for but the book does not must stand at zero. The
// log is vouched for by signed checkpoints; the journal and the snapshot are not, so this is
// what tells a journal or snapshot altered on disk (whose hash links were recomputed) from
// the real one. One entry read per orchestrator.
std::optional<std::string> check_balances_against_audit(const storage::AuditLog& audit, const Book& book);

}  // namespace lpops::actors

