// The journal in direct mode: O_DIRECT writes into blocks zeroed ahead of the records. A
// "crash image" is a copy of journal.jsonl taken while the store is open (what a SIGKILL or
// a power cut leaves: the records, then zeroed blocks); a clean stop cuts the zeros off.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <filesystem>
#include <fstream>

#include "storage/file_store.hpp"
#include "tests/support/temp_dir.hpp"

namespace lpops::storage {
namespace {

namespace json = boost::json;

std::string read_file(const std::string& path) { return lpops::testing::read_file_bytes(path); }
void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

const auto kNoSnapshot = [](const json::object&, std::uint64_t) { return std::optional<std::string>{}; };

// An open store with the records it replayed.
struct Opened {
  std::unique_ptr<FileStore> store;
  Result<RecoveryReport> report = Error{"not recovered"};
  std::vector<std::uint64_t> seqs;
  std::uint64_t last_seq = 0;
  Digest32 last_hash{};
};

Opened open_store(const FileStoreOptions& options) {
  Opened o;
  o.store = std::make_unique<FileStore>(options);
  o.report = o.store->recover(kNoSnapshot, [&](const ParsedRecord& r) {
    o.seqs.push_back(r.seq);
    return std::optional<std::string>{};
  });
  if (o.report) {
    o.last_seq = o.report->last_seq;
    o.last_hash = o.report->last_hash;
  }
  return o;
}
Opened open_store(const std::string& dir) { return open_store(FileStoreOptions{dir, true}); }

// Appends `n` records (the i-th padded with i*37 bytes, so that records straddle blocks
// unevenly) in batches of `batch`.
void append(Opened& o, int n, std::size_t batch, std::size_t pad_step = 37) {
  ASSERT_TRUE(o.report.ok()) << o.report.error();
  std::uint64_t seq = o.last_seq;
  Digest32 prev = o.last_hash;
  std::vector<FramedRecord> framed;
  for (int i = 1; i <= n; ++i) {
    framed.push_back(frame_record(++seq, prev, json::object{{"type", "test"}, {"pad", std::string(i * pad_step % 5000, 'x')}}));
    prev = framed.back().hash;
  }
  for (std::size_t i = 0; i < framed.size(); i += batch) {
    std::vector<const FramedRecord*> b;
    for (std::size_t j = i; j < std::min(framed.size(), i + batch); ++j) b.push_back(&framed[j]);
    ASSERT_FALSE(o.store->append(b).has_value());
  }
  o.last_seq = seq;
  o.last_hash = prev;
}

// Waits (bounded) until the background thread has zeroed at least `ahead` bytes past the
// records, so that a crash image taken next has them.
void wait_for_zeroed_blocks(FileStore& store, std::uint64_t ahead = 32u << 20) {
  for (int i = 0; i < 3000 && store.preallocated_bytes() < store.journal_bytes() + ahead; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_GE(store.preallocated_bytes(), store.journal_bytes() + ahead) << "the preallocation did not happen in 30 s";
}

bool on_tmpfs(const std::string& dir) {
  struct statfs s {};
  return ::statfs(dir.c_str(), &s) == 0 && s.f_type == 0x01021994;  // TMPFS_MAGIC
}

class DirectJournal : public ::testing::Test {
 protected:
  void SetUp() override {
    if (on_tmpfs(dir_.str())) GTEST_SKIP() << "the temp directory is on tmpfs, which has no O_DIRECT";
  }
  std::string journal() const { return dir_.str() + "/journal.jsonl"; }
  // `n` records appended (batches of `batch`), then a copy of the journal with the zeroed
  // blocks after them, as a crash would leave it; the store then stops cleanly.
  struct Image {
    std::uint64_t bytes = 0;  // the records' bytes
    std::string text;
  };
  Image crash_image(int n, std::size_t batch) {
    auto o = open_store(dir_.str());
    append(o, n, batch);
    wait_for_zeroed_blocks(*o.store);
    Image image{o.store->journal_bytes(), read_file(journal())};
    return image;
  }
  // The open store "crashes" (its journal copied as it is, then it stops) and a store
  // starts from the copy.
  Opened start_from_crash_image(Opened& o) {
    const std::string image = read_file(journal());
    o.store.reset();
    write_file(image_.str() + "/journal.jsonl", image);
    return open_store(image_.str());
  }
  testing::TempDir dir_;
  testing::TempDir image_;  // the crash image's data directory
};

TEST_F(DirectJournal, ZeroedBlocksFollowTheRecordsUntilACleanStopCutsThem) {
  auto o = open_store(dir_.str());
  ASSERT_TRUE(o.store->direct_io()) << "direct I/O should be on (fsync on, not tmpfs)";
  append(o, 50, 7);
  wait_for_zeroed_blocks(*o.store);
  const std::uint64_t bytes = o.store->journal_bytes();
  // The crash image: the records, then zeros.
  const std::string image = read_file(journal());
  ASSERT_GT(image.size(), bytes);
  EXPECT_EQ(image.find('\0'), bytes);
  EXPECT_EQ(image.find_first_not_of('\0', bytes), std::string::npos);
  write_file(image_.str() + "/journal.jsonl", image);
  o.store.reset();  // a clean stop
  const std::string clean = read_file(journal());
  EXPECT_EQ(clean.size(), bytes);
  EXPECT_TRUE(clean == image.substr(0, bytes));

  // Start-up from the crash image: every record, nothing reported cut, the zeros gone.
  auto r = open_store(image_.str());
  ASSERT_TRUE(r.report.ok()) << r.report.error();
  EXPECT_EQ(r.seqs.size(), 50u);
  EXPECT_EQ(r.report->cut_bytes, 0u);
  EXPECT_EQ(r.store->journal_bytes(), bytes);
  append(r, 5, 2);  // the chain goes on
  r.store.reset();
  auto again = open_store(image_.str());
  ASSERT_TRUE(again.report.ok()) << again.report.error();
  EXPECT_EQ(again.seqs.size(), 55u);
}

TEST_F(DirectJournal, PartialBlocksSurviveManyRestarts) {
  std::size_t total = 0;
  for (int round = 0; round < 6; ++round) {
    auto o = open_store(dir_.str());
    ASSERT_TRUE(o.report.ok()) << o.report.error();
    ASSERT_TRUE(o.store->direct_io()) << "direct I/O should be on (fsync on, not tmpfs)";
    ASSERT_EQ(o.seqs.size(), total);
    append(o, 3 + round, 1 + round % 3, 53 + round);
    total += 3 + round;
    if (round % 2 == 1) {
      // Every other round ends in a "crash": the image becomes the journal.
      const std::string image = read_file(journal());
      o.store.reset();
      write_file(journal(), image);
    }
  }
  auto o = open_store(dir_.str());
  ASSERT_TRUE(o.report.ok()) << o.report.error();
  EXPECT_EQ(o.seqs.size(), total);
  for (std::size_t i = 0; i < o.seqs.size(); ++i) EXPECT_EQ(o.seqs[i], i + 1);
}

TEST_F(DirectJournal, ATornWriteIsCutAndKept) {
  auto [bytes, image] = crash_image(20, 4);
  // A write torn by the crash: a later block of it reached the disk, an earlier one did not.
  const std::string torn = "{\"seq\":21,\"prev\":\"00";
  const std::size_t at = bytes + 5000;
  ASSERT_LT(at + torn.size(), image.size());
  image.replace(at, torn.size(), torn);
  write_file(image_.str() + "/journal.jsonl", image);
  auto r = open_store(image_.str());
  ASSERT_TRUE(r.report.ok()) << r.report.error();
  EXPECT_EQ(r.seqs.size(), 20u);
  EXPECT_EQ(r.report->cut_bytes, at + torn.size() - bytes);
  EXPECT_NE(r.report->cut_reason.find("torn"), std::string::npos) << r.report->cut_reason;
  EXPECT_TRUE(read_file(r.report->cut_saved_to) == image.substr(bytes, at + torn.size() - bytes));
  r.store.reset();  // a clean stop (while open, zeroed blocks are being written again)
  const std::string after = read_file(image_.str() + "/journal.jsonl");
  EXPECT_TRUE(after == image.substr(0, bytes)) << "journal is " << after.size() << " bytes, expected " << bytes;
}

TEST_F(DirectJournal, DataFarPastTheEndIsDamageNotATornWrite) {
  auto [bytes, image] = crash_image(10, 3);
  const std::size_t at = bytes + (24u << 20);  // beyond what one direct write spans
  ASSERT_LT(at + 1, image.size());
  image[at] = 'x';
  write_file(image_.str() + "/journal.jsonl", image);
  auto r = open_store(image_.str());
  ASSERT_FALSE(r.report.ok());
  EXPECT_NE(r.report.error().find("past its end"), std::string::npos) << r.report.error();
  EXPECT_TRUE(read_file(image_.str() + "/journal.jsonl") == image);  // nothing was cut
}

// Zeros with an intact record far past them (more than one write spans): no crash leaves that,
// and the message says not to cut at the zeros (the records after them would go).
TEST_F(DirectJournal, ZerosWithRecordsFarAfterThemSayNotToCut) {
  auto [bytes, image] = crash_image(10, 3);
  Digest32 unknown{};
  unknown[0] = 1;
  const FramedRecord later = frame_record(1000, unknown, json::object{{"type", "test"}});
  const std::size_t at = ((bytes + (24u << 20)) / 4096) * 4096;
  ASSERT_LT(at + later.line.size() + 1, image.size());
  image.replace(at, later.line.size() + 1, later.line + "\n");
  write_file(image_.str() + "/journal.jsonl", image);
  auto r = open_store(image_.str());
  ASSERT_FALSE(r.report.ok());
  EXPECT_NE(r.report.error().find("intact records after them, the first at byte " + std::to_string(at)), std::string::npos)
      << r.report.error();
  EXPECT_NE(r.report.error().find("do not cut it at the zeros"), std::string::npos) << r.report.error();
  EXPECT_EQ(r.report.error().find("cut the journal at byte"), std::string::npos) << r.report.error();
  EXPECT_TRUE(read_file(image_.str() + "/journal.jsonl") == image);  // nothing was cut
}

// A block of acknowledged records that reads back as zeros (a media error) looks like the
// end of the records, with more records after it. Cutting there would drop acknowledged
// records; start-up refuses instead, and changes nothing.
TEST_F(DirectJournal, ZerosAmongTheRecordsAreDamageNotATornWrite) {
  auto [bytes, image] = crash_image(200, 10);
  ASSERT_GT(bytes, 3u * 4096);
  image.replace(8192, 4096, std::string(4096, '\0'));
  write_file(image_.str() + "/journal.jsonl", image);
  auto r = open_store(image_.str());
  ASSERT_FALSE(r.report.ok()) << "start-up cut " << (r.report ? r.report->cut_bytes : 0) << " bytes of acknowledged records";
  EXPECT_NE(r.report.error().find("intact record"), std::string::npos) << r.report.error();
  EXPECT_TRUE(read_file(image_.str() + "/journal.jsonl") == image);  // nothing was cut
  for (const auto& entry : std::filesystem::directory_iterator(image_.str()))
    EXPECT_EQ(entry.path().filename().string().find("journal.jsonl.cut"), std::string::npos) << entry.path();
}

// The same shape at the end of the records: a crash that tore the last write out of order
// (a later block reached the disk with a whole record in it, an earlier one did not). Its
// records were never acknowledged, but nothing in the file tells it from damage: start-up
// refuses and names the byte to cut at.
TEST_F(DirectJournal, AnIntactRecordAfterTheZerosStopsStartUp) {
  auto o = open_store(dir_.str());
  append(o, 20, 4);
  wait_for_zeroed_blocks(*o.store);
  const std::uint64_t bytes = o.store->journal_bytes();
  std::string image = read_file(journal());
  Digest32 unknown{};
  unknown[0] = 1;
  const FramedRecord later = frame_record(o.last_seq + 3, unknown, json::object{{"type", "test"}});
  const std::size_t at = (bytes / 4096 + 2) * 4096;  // a block that starts past the end of the records
  ASSERT_LT(at + later.line.size() + 1, image.size());
  image.replace(at, later.line.size() + 1, later.line + "\n");
  o.store.reset();
  write_file(image_.str() + "/journal.jsonl", image);
  auto r = open_store(image_.str());
  ASSERT_FALSE(r.report.ok());
  EXPECT_NE(r.report.error().find("intact records after them, the first at byte " + std::to_string(at)), std::string::npos)
      << r.report.error();
  EXPECT_NE(r.report.error().find("cut the journal at byte " + std::to_string(bytes)), std::string::npos) << r.report.error();
  EXPECT_TRUE(read_file(image_.str() + "/journal.jsonl") == image);
  // When the audit log describes a record past the zeros, they were acknowledged: no cut offered.
  r.store.reset();
  FileStoreOptions told{image_.str(), true};
  told.acknowledged_through = o.last_seq + 3;
  auto described = open_store(told);
  ASSERT_FALSE(described.report.ok());
  EXPECT_NE(described.report.error().find("the audit log describes records up to " + std::to_string(o.last_seq + 3) +
                                          ": records after the zeros were acknowledged"),
            std::string::npos)
      << described.report.error();
  EXPECT_EQ(described.report.error().find("cut the journal at byte"), std::string::npos) << described.report.error();
  EXPECT_TRUE(read_file(image_.str() + "/journal.jsonl") == image);
}

TEST_F(DirectJournal, ABatchLargerThanOneWriteGoesInSeveral) {
  auto o = open_store(dir_.str());
  ASSERT_TRUE(o.report.ok()) << o.report.error();
  ASSERT_TRUE(o.store->direct_io()) << "direct I/O should be on (fsync on, not tmpfs)";
  // 12 records of ~1 MiB in one batch: more than one direct write holds.
  Digest32 prev{};
  std::vector<FramedRecord> framed;
  for (int i = 1; i <= 12; ++i) {
    framed.push_back(frame_record(i, prev, json::object{{"type", "test"}, {"pad", std::string((1u << 20) + i * 1001, 'y')}}));
    prev = framed.back().hash;
  }
  std::vector<const FramedRecord*> batch;
  for (const auto& f : framed) batch.push_back(&f);
  ASSERT_FALSE(o.store->append(batch).has_value());
  for (int i = 1; i <= 12; ++i) ASSERT_TRUE(o.store->read(i).has_value()) << i;
  auto r = start_from_crash_image(o);
  ASSERT_TRUE(r.report.ok()) << r.report.error();
  EXPECT_EQ(r.seqs.size(), 12u);
  EXPECT_EQ(r.report->cut_bytes, 0u);
}

// Zeroing only 8 KiB ahead: nearly every commit outruns the background thread, so commits
// wait for a zeroing in progress or grow the file themselves, interleaved with it.
TEST_F(DirectJournal, CommitsThatOutrunTheZeroingLoseNothing) {
  FileStoreOptions options{dir_.str(), true};
  options.preallocate_bytes = 8192;
  auto o = open_store(options);
  ASSERT_TRUE(o.report.ok()) << o.report.error();
  ASSERT_TRUE(o.store->direct_io());
  append(o, 300, 3, 211);
  for (std::uint64_t seq = 1; seq <= 300; ++seq) ASSERT_TRUE(o.store->read(seq).has_value()) << seq;
  auto r = start_from_crash_image(o);
  ASSERT_TRUE(r.report.ok()) << r.report.error();
  EXPECT_EQ(r.seqs.size(), 300u);
  EXPECT_EQ(r.report->cut_bytes, 0u);
  r.store.reset();
  EXPECT_TRUE(read_file(image_.str() + "/journal.jsonl") == read_file(journal()));  // both cut to the records
}

TEST_F(DirectJournal, ReadOnlyInspectionStopsAtTheZeros) {
  auto o = open_store(dir_.str());
  ASSERT_TRUE(o.store->direct_io()) << "direct I/O should be on (fsync on, not tmpfs)";
  append(o, 8, 3);
  FileStoreOptions ro{dir_.str(), true};
  ro.read_only = true;
  FileStore inspector(ro);
  std::size_t n = 0;
  auto r = inspector.recover(kNoSnapshot, [&](const ParsedRecord&) {
    ++n;
    return std::optional<std::string>{};
  });
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(n, 8u);
  EXPECT_EQ(r->cut_bytes, 0u);
  // The writer is open (it holds the LOCK): the inspection says it read a file being written.
  EXPECT_TRUE(r->writer_running);
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("a running node holds"), std::string::npos) << r->warnings[0];
  EXPECT_FALSE(inspector.direct_io());
  // A damaged record among whole ones is damage beside a running writer too, never taken
  // for its write in progress.
  {
    std::string text = read_file(journal());
    std::size_t at = 0;
    for (int line = 0; line < 3; ++line) at = text.find('\n', at) + 1;  // the fourth record
    const std::size_t pad = text.find("xxx", at);
    ASSERT_NE(pad, std::string::npos);
    const int fd = ::open(journal().c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "y", 1, static_cast<off_t>(pad)), 1);
    FileStore damaged_view(ro);
    auto damaged = damaged_view.recover(kNoSnapshot, [](const ParsedRecord&) { return std::optional<std::string>{}; });
    EXPECT_FALSE(damaged.ok());
    ASSERT_EQ(::pwrite(fd, "x", 1, static_cast<off_t>(pad)), 1);
    ::close(fd);
  }
  // Closed, the same inspection checks the whole file and has nothing to say.
  o.store.reset();
  FileStore after(ro);
  n = 0;
  auto closed = after.recover(kNoSnapshot, [&](const ParsedRecord&) {
    ++n;
    return std::optional<std::string>{};
  });
  ASSERT_TRUE(closed.ok()) << closed.error();
  EXPECT_EQ(n, 8u);
  EXPECT_FALSE(closed->writer_running);
  EXPECT_TRUE(closed->warnings.empty());
}

TEST_F(DirectJournal, OffMeansBufferedAppendsWithNoZeroedBlocks) {
  FileStoreOptions options{dir_.str(), true};
  options.direct_io = false;
  auto o = open_store(options);
  ASSERT_TRUE(o.report.ok()) << o.report.error();
  EXPECT_FALSE(o.store->direct_io());
  append(o, 9, 4);
  EXPECT_EQ(read_file(journal()).size(), o.store->journal_bytes());  // no zeros while open
}

// Snapshots go out with O_DIRECT too, a block-aligned piece at a time; the last piece is
// padded and the file cut back, so what is read back is exactly what was written: sizes
// below one block, at the 1 MiB piece boundary and just past it, and several pieces.
TEST_F(DirectJournal, SnapshotsWrittenDirectlyReadBackExactly) {
  const std::string snapshot = dir_.str() + "/snapshot.json";
  auto book_of = [](std::size_t pad) { return "{\"pad\":\"" + std::string(pad, 'z') + "\"}"; };
  constexpr std::uint64_t kPiece = 1u << 20;
  for (std::uint64_t total : {std::uint64_t{0}, kPiece, kPiece + 1, 2 * kPiece + kPiece / 2 + 7}) {
    std::uint64_t seq = 0, overhead = 0;  // overhead: the file's bytes around the book at this seq
    std::string book;
    {
      auto o = open_store(dir_.str());
      ASSERT_TRUE(o.report.ok()) << o.report.error();
      ASSERT_TRUE(o.store->direct_io());
      append(o, 3, 2);
      seq = o.last_seq;
      const std::string tiny = book_of(1);
      ASSERT_FALSE(o.store->write_snapshot_text(seq, tiny).has_value());
      overhead = read_file(snapshot).size() - tiny.size();
      if (total == 0) total = overhead + 11;  // less than one block
      book = book_of(total - overhead - 10);
      ASSERT_FALSE(o.store->write_snapshot_text(seq, book).has_value()) << total;
    }
    const std::string text = read_file(snapshot);
    ASSERT_EQ(text.size(), total);
    EXPECT_EQ(text.find('\0'), std::string::npos) << total;
    EXPECT_EQ(text.back(), '\n');
    FileStore store(FileStoreOptions{dir_.str(), true});
    std::uint64_t loaded_seq = 0;
    std::size_t pad = 0;
    auto r = store.recover(
        [&](const json::object& b, std::uint64_t s) {
          loaded_seq = s;
          pad = b.at("pad").as_string().size();
          return std::optional<std::string>{};
        },
        [](const ParsedRecord&) { return std::optional<std::string>{}; });
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->snapshot_seq, seq) << total;
    EXPECT_EQ(loaded_seq, seq);
    EXPECT_EQ(pad, total - overhead - 10);
  }
}

}  // namespace
}  // namespace lpops::storage
