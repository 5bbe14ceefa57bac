#pragma once
// Where framed records and snapshots live. The journal (its sync actor) is the only writer; the
// JSON-file store implements it today and a PostgreSQL store can implement it without
// any change to the actors.
#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/digest.hpp"
#include "domain/result.hpp"
#include "storage/record_format.hpp"

namespace lpops::storage {

struct RecoveryReport {
  std::uint64_t snapshot_seq = 0;       // 0 = started without a snapshot
  std::uint64_t replayed_records = 0;   // records after the snapshot
  std::uint64_t last_seq = 0;
  Digest32 last_hash{};
  std::uint64_t cut_bytes = 0;          // torn/corrupt tail removed
  std::string cut_reason;               // why, when cut_bytes > 0
  std::string cut_saved_to;             // the file the cut bytes were copied to
  // A flush of the journal failed in the run before (kJournalSyncFailedMark): the bytes after
  // its last good flush were written again and flushed before they were read.
  std::uint64_t rewritten_bytes = 0;
  std::vector<std::string> warnings;    // e.g. an unreadable snapshot that was ignored
  // Read-only inspection of a journal a running node is writing: the records read end
  // where the node's writing was at that moment; the tail was not checked.
  bool writer_running = false;
  // The journal ended in the zeroed blocks a running node writes ahead of its records (direct
  // I/O), which a clean stop removes: the run before did not stop cleanly (killed, crashed,
  // power lost). Unknown (false) for a journal written without direct I/O.
  bool unclean_stop = false;
};

// A usable snapshot's book state. A large book is never one parsed document: its workloads
// (most of it) may come apart, each as the text of its JSON object as stored, to be read one
// at a time; the object's "workloads" array is then empty. Converts to the object, for a
// visitor that needs nothing else.
struct SnapshotBook {
  const boost::json::object& book;
  const std::vector<std::string_view>& workloads;
  operator const boost::json::object&() const { return book; }
};
// Called with the book state of a usable snapshot; an error makes recovery ignore the
// snapshot and replay the whole journal instead.
using SnapshotVisitor = std::function<std::optional<std::string>(const SnapshotBook& book, std::uint64_t seq)>;
// Called for each record after the snapshot, in seq order; an error aborts recovery.
using RecordVisitor = std::function<std::optional<std::string>(const ParsedRecord&)>;

class RecordStore {
 public:
  virtual ~RecordStore() = default;

  // Loads the newest usable snapshot, then visits every later record, checking the
  // seq/prev links. A torn or corrupt tail is cut and reported; corruption followed by
  // valid records is an error (the operator must look), never silently skipped.
  virtual Result<RecoveryReport> recover(const SnapshotVisitor& on_snapshot, const RecordVisitor& visit) = 0;

  // Appends framed records (consecutive seqs) and returns once they are durable.
  virtual std::optional<std::string> append(const std::vector<const FramedRecord*>& records) = 0;

  // Produces a book's JSON by calling `put` with consecutive pieces; false if a put failed.
  using BookText = std::function<bool(const std::function<bool(std::string_view)>& put)>;

  // Durably replaces the snapshot with the book state as of `seq` (already appended), written
  // as `book` produces it, so a book of millions of workloads is never one string in memory.
  // Any thread may call it; it does not block appends.
  virtual std::optional<std::string> write_snapshot(std::uint64_t seq, const BookText& book) = 0;
  // The same for a book already in one string.
  std::optional<std::string> write_snapshot_text(std::uint64_t seq, const std::string& book_json) {
    return write_snapshot(seq, [&book_json](const std::function<bool(std::string_view)>& put) { return put(book_json); });
  }

  // The stored line of a durable record (without '\n'); any thread may call it.
  virtual std::optional<std::string> read(std::uint64_t seq) const = 0;
  virtual std::uint64_t durable_seq() const = 0;
  virtual std::string describe() const = 0;
  // The same for an unauthenticated reader (/readyz): without where on the machine it is.
  virtual std::string describe_public() const { return describe(); }
};

}  // namespace lpops::storage
