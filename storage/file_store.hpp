#pragma once
// The embedded default store: JSON files in a data directory.
//   journal.jsonl  append-only framed records, one per line (group commit: one write and
//                  one fdatasync per batch). With direct I/O (the default when fsyncing) the
//                  records are written with O_DIRECT into blocks zeroed and synced ahead of
//                  them by a background thread, so a commit's fdatasync has no metadata to
//                  write: the data and one cache flush. A clean stop cuts the zeroed blocks
//                  off; after a crash they follow the last record and start-up removes them
//                  (the journal's content ends at its first NUL byte).
//   snapshot.json  the book as of some seq (write temp, fsync, rename, fsync dir)
//   LOCK           flock'ed for the life of the process, as is the directory itself: one
//                  node per directory (the directory's lock holds even if LOCK is deleted)
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "storage/offset_index.hpp"
#include "storage/record_store.hpp"

namespace lpops::storage {

// Left by a journal write or flush that failed (its content: the end of the last good flush).
// The node stops at once; the next start writes the bytes past that point again and flushes
// them before it reads them, as the kernel may keep the pages of a failed write-back in memory,
// taken for clean, where a read finds them and a later flush does not write them.
inline constexpr const char* kJournalSyncFailedMark = "journal-sync.failed";

struct FileStoreOptions {
  std::string data_dir = "./data";
  bool fsync = true;
  // Inspection mode (lpops replay): no lock, the whole journal read (snapshot.json only
  // checked against it), a bad tail reported but not cut, nothing written.
  bool read_only = false;
  // Start from snapshot.json when it is usable (false: replay the whole journal).
  bool use_snapshot = true;
  // The newest journal record the audit log describes, read before recovery: records up to
  // it were acknowledged, so damage that hides them is never offered as a cut.
  std::optional<std::uint64_t> acknowledged_through = std::nullopt;
  // Write the journal with O_DIRECT into preallocated blocks (only when fsyncing; falls
  // back to buffered writes where the filesystem refuses O_DIRECT).
  bool direct_io = true;
  // How far ahead of the records blocks are zeroed (rounded up to 4 KiB; zeroed again once
  // less than half is left).
  std::uint64_t preallocate_bytes = 64u << 20;
  // A snapshot (hundreds of MB for a large book) is written back to the disk in pieces of
  // this size while it is written, waiting for each (when fsyncing): the journal's commits
  // then queue behind at most this much of it at the disk, not behind the whole file at
  // its fsync. 0 = no pacing (written back at the end only).
  std::uint64_t snapshot_writeback_bytes = 4u << 20;
  // A snapshot is not begun unless the disk has room for it (the last one's size and a
  // quarter, as books grow) and this much besides, for the journal and the audit log: a
  // snapshot filling the disk would stop the node at its next audit write.
  std::uint64_t snapshot_free_space_reserve = 64u << 20;
};

class FileStore final : public RecordStore {
 public:
  explicit FileStore(FileStoreOptions options);
  ~FileStore() override;

  Result<RecoveryReport> recover(const SnapshotVisitor& on_snapshot, const RecordVisitor& visit) override;
  std::optional<std::string> append(const std::vector<const FramedRecord*>& records) override;
  std::optional<std::string> write_snapshot(std::uint64_t seq, const BookText& book) override;
  std::optional<std::string> read(std::uint64_t seq) const override;
  std::uint64_t durable_seq() const override { return index_.durable(); }
  std::string describe() const override;
  std::string describe_public() const override;

  std::string journal_path() const;
  std::string snapshot_path() const;
  std::string clean_stop_path() const;
  std::string sync_failed_path() const;  // kJournalSyncFailedMark in the data directory
  // A write or flush of the journal failed this run (kJournalSyncFailedMark was left).
  bool flush_failed() const { return flush_failed_.load(); }
  // A clean stop's last step, once every record is durable: clean-stop.json says where the
  // journal ends (record, byte, hash). Until the journal changes again (the first append of
  // the next run removes the file first), a journal that does not reach that point lost or
  // damaged records that were durable, with no crash between to tear a write: recover()
  // refuses it rather than cut it. Nothing can be appended afterwards.
  std::optional<std::string> mark_clean_stop();
  std::uint64_t journal_bytes() const { return end_offset_; }
  // Whether appends go through O_DIRECT (decided by recover()).
  bool direct_io() const { return direct_fd_ >= 0; }
  // Direct mode: the file's bytes that are zeroed and durable or the writer's (0 otherwise).
  std::uint64_t preallocated_bytes();
  // The last recover() started from the snapshot (so a record that failed to apply may be
  // the snapshot's fault: replaying the whole journal tells).
  bool snapshot_used() const { return snapshot_used_; }
  // The last recover() failed because a record did not apply (the visitor's error), not
  // because the files are damaged or disagree.
  bool record_failed_to_apply() const { return record_failed_to_apply_; }
  // Re-reads and checks records 1..up_to (hash, seq, prev link), the part of the journal a
  // start from the snapshot did not replay; the first damage found, or nullopt. For a
  // background thread: `stop` ends it early (nullopt).
  std::optional<std::string> check_prefix(std::uint64_t up_to, const std::atomic<bool>& stop) const;
  // After a recover() that failed on top of the snapshot: the next one replays the whole
  // journal, on the same store (the directory stays locked).
  void replay_whole_journal_next();
  // Takes the data directory's lock (LOCK, held until this store goes), making the directory
  // if needed; recover() takes it too. An error says the directory is another node's.
  std::optional<std::string> lock_directory();

 private:
  std::string modes() const;  // " (fsync OFF: ...)", " (journal: direct I/O)"
  // snapshot.json as read: the workloads' texts point into the file's.
  struct LoadedSnapshot {
    std::string text;
    boost::json::object book;
    std::vector<std::string_view> workloads;
  };
  bool load_snapshot(RecoveryReport& report, std::uint64_t& offset, std::uint64_t& seq, Digest32& hash, LoadedSnapshot& out);
  std::optional<std::string> index_prefix(std::uint64_t end_offset, std::uint64_t expected_records,
                                          const Digest32& expected_hash);

  void open_direct(RecoveryReport& report);
  std::optional<std::string> append_direct(const std::vector<const FramedRecord*>& records);
  std::optional<std::string> append_buffered(const std::vector<const FramedRecord*>& records);
  // `why` (a failed write or flush), after kJournalSyncFailedMark is left for the next start
  // with `synced`, where the journal ended at its last good flush.
  std::string failed_write(std::string why, std::uint64_t synced);
  std::optional<std::string> write_direct(const FramedRecord* const* records, std::size_t count);
  void preallocate_loop();
  void stop_preallocating();

  FileStoreOptions options_;
  int lock_fd_ = -1;
  int dir_lock_fd_ = -1;  // the data directory, flock'ed as LOCK is
  int journal_fd_ = -1;
  // Direct mode (see the top of this file).
  int direct_fd_ = -1;
  struct AlignedFree {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, AlignedFree> stage_;  // the aligned buffer of a direct write
  std::size_t stage_capacity_ = 0;
  // The preallocation: blocks below allocated_ are zeroed and durable, or are the writer's.
  std::mutex prealloc_mutex_;
  std::condition_variable prealloc_cv_;
  std::uint64_t allocated_ = 0;
  std::uint64_t prealloc_wanted_ = 0;  // extend up to here
  bool prealloc_busy_ = false;         // zeros being written past allocated_
  bool prealloc_stop_ = false;
  std::string prealloc_error_;         // the last failure (appends then extend the file themselves)
  std::thread preallocator_;
  std::uint64_t end_offset_ = 0;
  // Where the journal ended at its last good flush (what kJournalSyncFailedMark records):
  // end_offset_ after a flushed append, behind it while PAYMENTS_JOURNAL_FSYNC=false.
  std::atomic<std::uint64_t> synced_end_{0};
  std::uint64_t rewritten_bytes_ = 0;
  std::atomic<bool> flush_failed_{false};  // written again at this start (kJournalSyncFailedMark)
  std::uint64_t last_seq_ = 0;
  bool snapshot_used_ = false;
  bool record_failed_to_apply_ = false;
  bool clean_stop_on_disk_ = false;  // clean-stop.json is there: removed before the next append
  bool stopped_ = false;             // mark_clean_stop() ran: no more appends
  OffsetIndex index_;
  std::mutex snapshot_mutex_;  // one snapshot file write at a time
};

}  // namespace lpops::storage
