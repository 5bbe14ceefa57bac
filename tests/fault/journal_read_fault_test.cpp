// Start-up when the disk fails a read of the journal: it must stop with the error, never
// take the failed read for the end of the file (which would cut every record after it).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "storage/file_store.hpp"
#include "tests/fault/read_faults.hpp"
#include "tests/support/temp_dir.hpp"

namespace lpops::storage {
namespace {

namespace json = boost::json;

std::string read_file(const std::string& path) { return lpops::testing::read_file_bytes(path); }

struct Recovered {
  Result<RecoveryReport> report = Error{"not recovered"};
  std::uint64_t records = 0;
};

Recovered recover(FileStore& store) {
  Recovered out;
  out.report = store.recover([](const json::object&, std::uint64_t) { return std::optional<std::string>{}; },
                             [&](const ParsedRecord&) {
                               ++out.records;
                               return std::optional<std::string>{};
                             });
  return out;
}

// `n` acknowledged records of about `pad` bytes each (written and fdatasync'd in batches of
// 100); the store then stops cleanly.
void write_records(const std::string& dir, int n, std::size_t pad) {
  FileStore store(FileStoreOptions{dir, true});
  auto r = recover(store);
  ASSERT_TRUE(r.report.ok()) << r.report.error();
  Digest32 prev = r.report->last_hash;
  std::vector<FramedRecord> framed;
  for (int i = 1; i <= n; ++i) {
    framed.push_back(frame_record(r.report->last_seq + i, prev, json::object{{"type", "test"}, {"pad", std::string(pad, 'x')}}));
    prev = framed.back().hash;
  }
  for (std::size_t i = 0; i < framed.size(); i += 100) {
    std::vector<const FramedRecord*> batch;
    for (std::size_t j = i; j < std::min(framed.size(), i + 100); ++j) batch.push_back(&framed[j]);
    ASSERT_FALSE(store.append(batch).has_value());
  }
}

void expect_read_error_stops_start_up(const std::string& dir, off_t fault_at, std::uint64_t records) {
  const std::string journal = dir + "/journal.jsonl";
  const std::string before = read_file(journal);
  ASSERT_GT(before.size(), static_cast<std::size_t>(fault_at));
  {
    FileStore store(FileStoreOptions{dir, true});
    const int failed = testing::failed_preads();
    testing::fail_next_pread_at(fault_at);
    auto r = recover(store);
    testing::disarm_pread_faults();
    ASSERT_EQ(testing::failed_preads(), failed + 1) << "the fault was not taken: start-up read the journal otherwise";
    ASSERT_FALSE(r.report.ok()) << "start-up went on after a failed read, with " << r.report->last_seq << " records and "
                                << r.report->cut_bytes << " bytes cut";
    EXPECT_NE(r.report.error().find("cannot read"), std::string::npos) << r.report.error();
  }
  EXPECT_TRUE(read_file(journal) == before) << "the journal changed";
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename().string().find("journal.jsonl.cut"), std::string::npos) << entry.path();
  // The disk reads again: every record is there.
  FileStore store(FileStoreOptions{dir, true});
  auto r = recover(store);
  ASSERT_TRUE(r.report.ok()) << r.report.error();
  EXPECT_EQ(r.report->last_seq, records);
  EXPECT_EQ(r.records, records);
  EXPECT_EQ(r.report->cut_bytes, 0u);
}

TEST(JournalReadFault, AFailedFirstReadStopsStartUpAndCutsNothing) {
  lpops::testing::TempDir dir;
  write_records(dir.str(), 500, 100);
  expect_read_error_stops_start_up(dir.str(), 0, 500);
}

// The journal is read in 8 MiB pieces: a failure on the second piece, after records have
// been replayed, must stop start-up too.
TEST(JournalReadFault, AFailedLaterReadStopsStartUpAndCutsNothing) {
  lpops::testing::TempDir dir;
  write_records(dir.str(), 3000, 5000);  // ~15 MB
  expect_read_error_stops_start_up(dir.str(), 8 << 20, 3000);
}

}  // namespace
}  // namespace lpops::storage
