// A full disk while the journal zeroes blocks ahead of its records (direct I/O): the zeros
// written before the failure are given back, and appends go on extending the file themselves.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "storage/file_store.hpp"
#include "tests/fault/read_faults.hpp"
#include "tests/support/temp_dir.hpp"

namespace lpops::storage {
namespace {

namespace json = boost::json;

std::uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

Result<RecoveryReport> recover(FileStore& store, std::uint64_t* records = nullptr) {
  return store.recover([](const json::object&, std::uint64_t) { return std::optional<std::string>{}; },
                       [records](const ParsedRecord&) {
                         if (records) ++*records;
                         return std::optional<std::string>{};
                       });
}

std::vector<FramedRecord> records_after(const RecoveryReport& r, int n) {
  std::vector<FramedRecord> out;
  Digest32 prev = r.last_hash;
  for (int i = 1; i <= n; ++i) {
    out.push_back(frame_record(r.last_seq + static_cast<std::uint64_t>(i), prev, json::object{{"type", "test"}, {"i", i}}));
    prev = out.back().hash;
  }
  return out;
}

// Appends n records after what recovery found, as one group commit; the error, if any.
std::optional<std::string> append_after(FileStore& store, const RecoveryReport& r, int n) {
  const auto framed = records_after(r, n);
  std::vector<const FramedRecord*> batch;
  for (const auto& f : framed) batch.push_back(&f);
  return store.append(batch);
}

TEST(JournalFullDisk, AFailedPreallocationGivesItsZerosBack) {
  testing::TempDir dir;
  const std::string journal = dir.str() + "/journal.jsonl";
  FileStoreOptions options{dir.str(), true};
  options.preallocate_bytes = 8u << 20;
  // Room for three of the preallocator's 1 MiB pieces, not for the fourth.
  const int failed_before = testing::failed_pwrites();
  struct Disarm {
    ~Disarm() { testing::disarm_pwrite_faults(); }
  } disarm;  // whatever happens below
  testing::fail_pwrites_past(static_cast<off_t>(3u << 20) + 65536);
  {
    FileStore store(options);
    auto report = recover(store);
    ASSERT_TRUE(report.ok()) << report.error();
    for (const auto& w : report->warnings)
      if (w.find("direct I/O") != std::string::npos) GTEST_SKIP() << "no direct I/O on this filesystem: " << w;
    for (int i = 0; i < 500 && testing::failed_pwrites() == failed_before; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_GT(testing::failed_pwrites(), failed_before);
    // The zeros it had written (3 MiB) are gone again: the file holds its records only.
    for (int i = 0; i < 200 && file_size(journal) > 65536; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_LE(file_size(journal), 65536u);
    testing::disarm_pwrite_faults();
    // Appends extend the file themselves, and are durable.
    ASSERT_FALSE(append_after(store, *report, 50).has_value());
  }
  testing::disarm_pwrite_faults();
  FileStore again(options);
  std::uint64_t records = 0;
  auto report = recover(again, &records);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_EQ(report->last_seq, 50u);
  EXPECT_EQ(records, 50u);
}

// A book of 1 MiB, in three pieces.
bool big_book(const std::function<bool(std::string_view)>& put) {
  static const std::string big(1u << 20, 'x');
  return put("{\"pad\":\"") && put(big) && put("\"}");
}

// Twenty records and a snapshot of big_book at record 10; `first` is its size.
void twenty_records_and_a_snapshot(FileStore& store, std::uint64_t& first) {
  auto report = recover(store);
  ASSERT_TRUE(report.ok()) << report.error();
  ASSERT_FALSE(append_after(store, *report, 20).has_value());
  ASSERT_FALSE(store.write_snapshot(10, big_book).has_value());
  first = file_size(store.snapshot_path());
}

// A snapshot that fails on a full disk leaves no temporary file behind: its bytes are the
// space the journal and the audit log need next. The snapshot before it stays.
TEST(JournalFullDisk, AFailedSnapshotRemovesItsTemporaryFile) {
  testing::TempDir dir;
  FileStoreOptions options{dir.str(), true};
  options.direct_io = false;  // the snapshot goes through write(2), where the fault is armed
  struct Disarm {
    ~Disarm() { testing::disarm_write_faults(); }
  } disarm;
  FileStore store(options);
  std::uint64_t first = 0;
  ASSERT_NO_FATAL_FAILURE(twenty_records_and_a_snapshot(store, first));
  ASSERT_GT(first, 1u << 20);
  testing::fail_next_write();
  const auto failed = store.write_snapshot(20, big_book);
  ASSERT_TRUE(failed.has_value());
  EXPECT_NE(failed->find("No space left on device"), std::string::npos) << *failed;
  EXPECT_FALSE(std::filesystem::exists(store.snapshot_path() + ".tmp"));
  EXPECT_EQ(file_size(store.snapshot_path()), first);
}

// A buffered snapshot's paced write-back that fails (EIO: pages lost on the way to the disk)
// fails the snapshot: waiting for that write-back reported the error to the snapshot's
// descriptor, so its fsync at the end would succeed over the lost pages. The snapshot before
// stays. A filesystem that refuses the pacing (EINVAL) only gets the snapshot unpaced.
TEST(JournalFullDisk, ASnapshotWhoseWriteBackFailsIsNotInstalled) {
  testing::TempDir dir;
  FileStoreOptions options{dir.str(), true};
  options.direct_io = false;  // a buffered snapshot, paced by sync_file_range
  options.snapshot_writeback_bytes = 4096;
  FileStore store(options);
  std::uint64_t first = 0;
  ASSERT_NO_FATAL_FAILURE(twenty_records_and_a_snapshot(store, first));
  const int failed_before = testing::failed_sync_file_ranges();
  testing::fail_next_sync_file_range(EIO);
  const auto failed = store.write_snapshot(20, big_book);
  EXPECT_EQ(testing::failed_sync_file_ranges(), failed_before + 1);
  ASSERT_TRUE(failed.has_value());
  EXPECT_NE(failed->find("Input/output error"), std::string::npos) << *failed;
  EXPECT_FALSE(std::filesystem::exists(store.snapshot_path() + ".tmp"));
  EXPECT_EQ(file_size(store.snapshot_path()), first);
  testing::fail_next_sync_file_range(EINVAL);
  EXPECT_FALSE(store.write_snapshot(20, big_book).has_value());
  EXPECT_EQ(testing::failed_sync_file_ranges(), failed_before + 2);
  EXPECT_GT(file_size(store.snapshot_path()), 0u);
}

// A snapshot is not begun without room for it and the reserve kept for the journal and the
// audit log (here a reserve larger than any disk).
TEST(JournalFullDisk, ASnapshotWithoutRoomIsSkipped) {
  testing::TempDir dir;
  FileStoreOptions options{dir.str(), true};
  options.snapshot_free_space_reserve = std::uint64_t{1} << 60;
  FileStore store(options);
  auto report = recover(store);
  ASSERT_TRUE(report.ok()) << report.error();
  ASSERT_FALSE(append_after(store, *report, 5).has_value());
  const auto skipped = store.write_snapshot(5, [](const std::function<bool(std::string_view)>& put) { return put("{}"); });
  ASSERT_TRUE(skipped.has_value());
  EXPECT_NE(skipped->find("not enough free space for a snapshot"), std::string::npos) << *skipped;
  EXPECT_FALSE(std::filesystem::exists(store.snapshot_path()));
  EXPECT_FALSE(std::filesystem::exists(store.snapshot_path() + ".tmp"));
}

// However large the book has grown since the last snapshot, a snapshot stops once the free
// space falls to the reserve (checked as it is written, every 4 MiB), and its file is
// removed: here fstatvfs reports 1 MiB free against a reserve of 2 MiB once writing began.
TEST(JournalFullDisk, ASnapshotStopsWhenTheFreeSpaceFallsToTheReserve) {
  testing::TempDir dir;
  FileStoreOptions options{dir.str(), true};
  options.snapshot_free_space_reserve = 2u << 20;
  FileStore store(options);
  auto report = recover(store);
  ASSERT_TRUE(report.ok()) << report.error();
  ASSERT_FALSE(append_after(store, *report, 5).has_value());
  const std::string piece(1u << 20, 'x');
  std::uint64_t put_bytes = 0;
  struct StopReporting {
    ~StopReporting() { testing::stop_reporting_free_bytes(); }
  } stop_reporting;
  const auto stopped = store.write_snapshot(5, [&](const std::function<bool(std::string_view)>& put) {
    if (!put("{\"pad\":\"")) return false;
    testing::report_free_bytes(1u << 20);  // the disk fills as the snapshot is written
    for (int i = 0; i < 64; ++i) {
      if (!put(piece)) return false;
      put_bytes += piece.size();
    }
    return put("\"}");
  });
  ASSERT_TRUE(stopped.has_value());
  EXPECT_NE(stopped->find("free space fell below the 2 MiB kept"), std::string::npos) << *stopped;
  EXPECT_LE(put_bytes, std::uint64_t{5} << 20);
  EXPECT_FALSE(std::filesystem::exists(store.snapshot_path()));
  EXPECT_FALSE(std::filesystem::exists(store.snapshot_path() + ".tmp"));
  // With room again, the same snapshot is written.
  testing::stop_reporting_free_bytes();
  EXPECT_FALSE(store.write_snapshot(5, [](const std::function<bool(std::string_view)>& put) { return put("{}"); }).has_value());
  EXPECT_TRUE(std::filesystem::exists(store.snapshot_path()));
}

}  // namespace
}  // namespace lpops::storage
