#pragma once
// The transparency log: one audit entry per balance change, hash-chained (prev_hash),
// keccak-256 over canonical JSON, the leaves of an RFC 6962 Merkle tree, in
// `audit.jsonl` next to the journal. Each line is the reference's host wrapper,
//   {"audit_entry":{…,"entry_hash":"0x…"},"journal_seq":N,"received_at":"…Z",
//    "schema":"payments-host:tee-core-transparency-log:v1","source":"workload_time"}
// stored once and served verbatim, ASCII-escaped as the reference writes these lines (the
// entry hash is over the raw UTF-8 canonical form, rebuilt from the values).
//
// The log is derived from the journal: an entry is a pure function of its journal record,
// the orchestrator's address and the previous entry. The ledger thread (framing journal records) appends entries in
// the same flush as the records they describe; after a crash, start-up regenerates any
// entries the journal has and the log lacks (byte-identical), so the log never misses an
// acknowledged change. A torn last line is cut; damage before it stops start-up.
//
// Start-up does not re-read the whole log: `audit.index` holds a fixed-size record per
// entry (entry hash, line offset and length, orchestrator number, event-id fingerprint,
// checksum) and `audit.orchestrators` the orchestrator ids by number, both appended with
// the log's own writes. open() takes the longest valid prefix of the index (checksums,
// contiguous offsets, first and last records matched against their lines), rebuilds the
// Merkle tree from its hashes, and reads and checks only the lines after it. An index that
// is missing, stale or damaged costs time, never correctness: the lines it does not cover
// are read and checked, and it is rewritten. check_stored() re-checks every covered line
// (hash, chain, agreement with the index) and runs in the background after start.
//
// One thread stages entries (append_entry, the ledger thread) and one writes them (write,
// the journal's sync thread), in order; readers (HTTP) take a shared lock.
#include <boost/unordered/unordered_flat_map.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "chain/keys.hpp"
#include "chain/merkle.hpp"
#include "domain/effect.hpp"
#include "domain/ledger_entry.hpp"
#include "domain/sharded_map.hpp"
#include "domain/result.hpp"

namespace lpops::storage {

inline constexpr const char* kAuditWrapperSchema = "payments-host:tee-core-transparency-log:v1";

struct AuditStatus {
  std::uint64_t seq = 0;
  chain::Hash256 head{};  // the latest entry_hash (zero32 when empty)
  chain::Hash256 root{};  // Merkle root over all entries
  std::uint64_t last_journal_seq = 0;
};

struct AuditRecovery {
  std::uint64_t entries = 0;
  std::uint64_t from_index = 0;  // entries taken from audit.index without re-reading their lines
  std::string index_note;        // why the index was not (fully) used, if it was not
  std::uint64_t cut_bytes = 0;
  std::string cut_reason;
  // Bytes past the last good flush of a run whose flush failed (audit-sync.failed), written
  // again and flushed before anything was read.
  std::uint64_t rewritten_bytes = 0;
};

// The mark a failed flush of audit.jsonl leaves in the data directory: the file's size at its
// last good flush. The next open() writes the bytes past it again.
inline constexpr const char* kAuditSyncFailedMark = "audit-sync.failed";

class AuditLog {
 public:
  // Opens (creating if needed) `<dir>/audit.jsonl` and verifies every line.
  static Result<std::unique_ptr<AuditLog>> open(const std::string& dir, bool fsync, AuditRecovery* report = nullptr);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // From now on, every entry also carries the reference's per-entry signature (signer,
  // signature: EIP-191 over entry_hash). Call before the first append_entry().
  void sign_entries_with(const chain::PrivateKey& key);

  // Writer: the line for a balance change (advances seq, head and tree; nothing is written
  // until write()). `recipient` is the orchestrator's address ("" = zero address).
  std::string append_entry(const LedgerEntry& entry, const std::string& kind, const std::string& source,
                           const std::string& recipient, std::uint64_t journal_seq);
  std::string append_entry(const LedgerEntry& entry, const std::string& kind, const std::string& source,
                           const chain::Address& recipient, std::uint64_t journal_seq);
  // The line for a balance change as entry `seq` after `prev_hash`, signed with `key` when
  // one is given: a pure function of its inputs (append_entry stages it; start-up rebuilds
  // stored entries with it to compare them with the journal).
  struct Built {
    std::string line;
    chain::Hash256 hash{};
  };
  static Built build(const LedgerEntry& entry, const std::string& kind, const std::string& source,
                     const chain::Address& recipient, std::uint64_t journal_seq, std::uint64_t seq,
                     const chain::Hash256& prev_hash, const chain::PrivateKey* key = nullptr,
                     const chain::Address& signer = {});
  // Writer: appends staged lines (one write); sync() makes them durable.
  std::optional<std::string> write(const std::vector<std::string>& lines);
  // Once a flush has failed, every later one fails too, for the rest of the run: the kernel
  // reports a failed write-back once and then treats its pages as clean, so a later
  // fdatasync that succeeds says nothing of the bytes that were lost. No checkpoint can then
  // be signed; the failure leaves kAuditSyncFailedMark, and the next start writes the bytes
  // past the last good flush again.
  std::optional<std::string> sync();
  bool sync_failed() const;

  // Re-reads the first `entries` lines (those open() took from the index) and checks each
  // entry hash, seq, prev_hash link and agreement with the index; stops early when `stop`
  // is set. An error means the log or the index was altered on disk.
  std::optional<std::string> check_stored(std::uint64_t entries, const std::atomic<bool>& stop) const;

  // Readers.
  AuditStatus status() const;
  std::optional<std::string> line(std::uint64_t seq) const;  // verbatim, without the newline
  // The first entry with the id. Waits, just after open(), until the entries taken from the
  // index are sorted by event (a thread of its own; events_indexed() says when).
  std::optional<std::uint64_t> seq_of(const std::string& event_id) const;
  bool events_indexed() const;
  std::optional<chain::Hash256> entry_hash(std::uint64_t seq) const;
  // Seqs for a listing: all entries or one orchestrator's, with seq > since, ascending or
  // descending (the newest `limit`).
  std::vector<std::uint64_t> seqs(const std::optional<std::string>& orchestrator_id, std::uint64_t since, std::size_t limit,
                                  bool descending) const;
  Result<chain::Hash256> root_at(std::uint64_t size) const;
  Result<std::vector<chain::Hash256>> inclusion_proof(std::uint64_t seq, std::uint64_t tree_size) const;
  Result<std::vector<chain::Hash256>> consistency_proof(std::uint64_t first, std::uint64_t second) const;
  std::string path() const { return path_; }
  // The orchestrator ids the log has entries for (as its audit.orchestrators lists them).
  std::vector<std::string> orchestrator_ids() const;

 private:
  AuditLog() = default;
  struct IndexRecord;
  std::optional<std::string> read_span(std::uint64_t offset, std::uint32_t length) const;
  // Adds one entry to the in-memory structures (the caller holds the lock or is open()).
  void remember(const chain::Hash256& hash, std::uint64_t offset, std::uint32_t length, std::uint32_t orchestrator,
                std::uint64_t event_fp, std::uint64_t seq, bool from_index = false);
  std::uint32_t orchestrator_number(const std::string& id, std::uint64_t seq);  // assigns new ones (staged by entry seq)
  bool line_has_event(std::uint64_t seq, const std::string& event_id) const;
  std::optional<std::string> write_all(int fd, const std::string& data, std::uint64_t offset, const char* what);

  mutable std::shared_mutex mutex_;
  std::string path_, dir_;
  mutable std::mutex sync_mutex_;
  std::uint64_t synced_end_ = 0;              // audit.jsonl's size at the last good flush (sync_mutex_)
  std::optional<std::string> sync_failure_;  // a flush failed this run (sync_mutex_)
  bool fsync_ = true;
  int fd_ = -1;
  std::uint64_t end_offset_ = 0;    // bytes written
  std::uint64_t staged_offset_ = 0;  // bytes written + staged
  struct Span {
    std::uint64_t offset;
    std::uint32_t length;
  };
  std::deque<Span> spans_;  // by seq - 1 (staged entries included); a deque never copies on growth

  std::deque<chain::Hash256> hashes_;
  std::uint64_t visible_ = 0;  // entries written (readers see only these)
  // Event id -> seq by a 64-bit fingerprint (lines confirm the id): the first entry with
  // each fingerprint, and any later entries that share one.
  ShardedMap<std::uint64_t, std::uint64_t> event_first_;  // sharded: growing it never stalls a writer long
  std::unordered_map<std::uint64_t, std::vector<std::uint64_t>> event_more_;
  // The entries open() took from audit.index: (fingerprint, seq), sorted by a thread that
  // open() starts (hashing 10M fingerprints into a table would hold start-up for seconds);
  // lookups wait until it is done. Entries after them go to event_first_/event_more_.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> indexed_events_;
  mutable std::mutex indexed_mutex_;
  mutable std::condition_variable indexed_cv_;
  bool indexed_ready_ = true;
  std::thread indexer_;
  // Orchestrators by number (audit.orchestrators), and each one's entries.
  std::vector<std::string> orchestrator_ids_;
  boost::unordered_flat_map<std::string, std::uint32_t> orchestrator_numbers_;
  std::vector<std::vector<std::uint64_t>> by_orchestrator_;  // by number
  // audit.index and audit.orchestrators: what is staged goes out with the next write().
  int index_fd_ = -1, orchestrators_fd_ = -1;
  std::uint64_t index_records_ = 0;          // records in audit.index
  std::uint64_t orchestrators_offset_ = 0;   // bytes in audit.orchestrators
  std::string staged_index_, staged_orchestrators_;  // one index record per staged line
  // Where each staged orchestrator id ends in staged_orchestrators_, with the seq of the
  // entry that introduced it: write() takes only those of the entries it writes (entries
  // may be staged by one thread while another writes the earlier ones).
  std::deque<std::pair<std::uint64_t, std::size_t>> staged_orchestrator_ends_;
  std::vector<chain::Hash256> staged_hashes_;         // staged entries, not yet in tree_
  chain::merkle::Tree tree_;
  std::optional<chain::PrivateKey> entry_key_;
  chain::Address entry_signer_{};
  std::uint64_t last_journal_seq_ = 0;
};

// The "audit_entry" object of a stored wrapper line, byte for byte.
std::string_view audit_entry_text(std::string_view line);

// Audit kind and wrapper source for a ledger entry, as the reference names them.
std::pair<std::string, std::string> audit_kind_and_source(const LedgerEntry& entry, Effect::Type type);

}  // namespace lpops::storage
