#pragma once
// The transparency log: one audit entry per balance change, hash-chained (prev_hash),
// keccak-256 over canonical JSON, the leaves of an RFC 6962 Merkle tree, in
// `audit.jsonl` next to the journal. Each line is the reference's host wrapper,
//   {"audit_entry":{…,"entry_hash":"0x…"},"journal_seq":N,"received_at":"…Z",
//    "schema":"payments-host:tee-core-transparency-log:v1","source":"workload_time"}
// stored once and served verbatim.
//
// The log is derived from the journal: an entry is a pure function of its journal record,
// the orchestrator's address and the previous entry. The journal thread appends entries in
// the same flush as the records they describe; after a crash, start-up regenerates any
// entries the journal has and the log lacks (byte-identical), so the log never misses an
// acknowledged change. A torn last line is cut; damage before it stops start-up.
//
// One writer (the journal thread); readers (HTTP) take a shared lock.
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "chain/merkle.hpp"
#include "domain/effect.hpp"
#include "domain/ledger_entry.hpp"
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
  std::uint64_t cut_bytes = 0;
  std::string cut_reason;
};

class AuditLog {
 public:
  // Opens (creating if needed) `<dir>/audit.jsonl` and verifies every line.
  static Result<std::unique_ptr<AuditLog>> open(const std::string& dir, bool fsync, AuditRecovery* report = nullptr);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Writer: the line for a balance change (advances seq, head and tree; nothing is written
  // until write()). `recipient` is the orchestrator's address ("" = zero address).
  std::string append_entry(const LedgerEntry& entry, const std::string& kind, const std::string& source,
                           const std::string& recipient, std::uint64_t journal_seq);
  // Writer: appends staged lines (one write); sync() makes them durable.
  std::optional<std::string> write(const std::vector<std::string>& lines);
  std::optional<std::string> sync();

  // Readers.
  AuditStatus status() const;
  std::optional<std::string> line(std::uint64_t seq) const;  // verbatim, without the newline
  std::optional<std::uint64_t> seq_of(const std::string& event_id) const;  // the first entry with it
  std::optional<chain::Hash256> entry_hash(std::uint64_t seq) const;
  // Seqs for a listing: all entries or one orchestrator's, with seq > since, ascending or
  // descending (the newest `limit`).
  std::vector<std::uint64_t> seqs(const std::optional<std::string>& orchestrator_id, std::uint64_t since, std::size_t limit,
                                  bool descending) const;
  Result<chain::Hash256> root_at(std::uint64_t size) const;
  Result<std::vector<chain::Hash256>> inclusion_proof(std::uint64_t seq, std::uint64_t tree_size) const;
  Result<std::vector<chain::Hash256>> consistency_proof(std::uint64_t first, std::uint64_t second) const;
  std::string path() const { return path_; }

 private:
  AuditLog() = default;
  std::optional<std::string> read_span(std::uint64_t offset, std::uint32_t length) const;

  mutable std::shared_mutex mutex_;
  std::string path_;
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
  std::unordered_map<std::string, std::uint64_t> by_event_;
  std::unordered_map<std::string, std::vector<std::uint64_t>> by_orchestrator_;
  chain::merkle::Tree tree_;
  std::uint64_t last_journal_seq_ = 0;
};

// The "audit_entry" object of a stored wrapper line, byte for byte.
std::string_view audit_entry_text(std::string_view line);

// Audit kind and wrapper source for a ledger entry, as the reference names them.
std::pair<std::string, std::string> audit_kind_and_source(const LedgerEntry& entry, Effect::Type type);

}  // namespace lpops::storage
