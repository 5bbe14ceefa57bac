#include <gtest/gtest.h>

#include <filesystem>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fstream>
#include <memory>

#include "domain/book.hpp"
#include "storage/file_store.hpp"
#include "storage/offset_index.hpp"
#include "tests/support/temp_dir.hpp"

namespace lpops::storage {
namespace {

namespace json = boost::json;

json::object effect(int i) { return json::object{{"type", "test"}, {"i", i}}; }

// Appends n records in batches of 3 and returns the last hash.
Digest32 write_records(const std::string& dir, int n) {
  FileStore store({dir, true});
  auto r = store.recover([](const json::object&, std::uint64_t) { return std::nullopt; },
                         [](const ParsedRecord&) { return std::optional<std::string>{}; });
  EXPECT_TRUE(r.ok());
  Digest32 prev = r->last_hash;
  std::vector<FramedRecord> framed;
  for (int i = 1; i <= n; ++i) {
    framed.push_back(frame_record(r->last_seq + i, prev, effect(i)));
    prev = framed.back().hash;
  }
  for (std::size_t i = 0; i < framed.size(); i += 3) {
    std::vector<const FramedRecord*> batch;
    for (std::size_t j = i; j < std::min(framed.size(), i + 3); ++j) batch.push_back(&framed[j]);
    EXPECT_FALSE(store.append(batch).has_value());
  }
  return prev;
}

struct Replayed {
  std::vector<std::uint64_t> seqs;
  RecoveryReport report;
  std::string error;
};

Replayed replay(const std::string& dir) {
  Replayed out;
  FileStore store({dir, true});
  auto r = store.recover([](const json::object&, std::uint64_t) { return std::nullopt; },
                         [&](const ParsedRecord& rec) {
                           out.seqs.push_back(rec.seq);
                           return std::optional<std::string>{};
                         });
  if (r) out.report = *r;
  else out.error = r.error();
  return out;
}

std::string read_file(const std::string& path) { return lpops::testing::read_file_bytes(path); }
void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

TEST(RecordFormat, FramesAndVerifies) {
  Digest32 zero{};
  auto r = frame_record(1, zero, effect(7));
  ASSERT_EQ(r.line.back(), '\n');
  auto parsed = parse_record(std::string_view(r.line).substr(0, r.line.size() - 1));
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->seq, 1u);
  EXPECT_EQ(parsed->hash, r.hash);
  EXPECT_EQ(parsed->effect.at("i").as_int64(), 7);
}

TEST(RecordFormat, AnyChangedByteFailsTheHash) {
  auto r = frame_record(1, Digest32{}, effect(7));
  std::string line = r.line.substr(0, r.line.size() - 1);
  for (std::size_t i = 0; i < line.size(); ++i) {
    std::string tampered = line;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    EXPECT_FALSE(parse_record(tampered).ok()) << "byte " << i;
  }
}

// The offset index holds far more records than a node can keep in memory: a billion and more
// (2^30 was its bound once, which a long-lived node could reach and then not start past).
TEST(OffsetIndex, HoldsPastTwoToTheThirtyRecords) {
  OffsetIndex index;
  const std::uint64_t seq = (std::uint64_t{1} << 30) + 5;
  index.put(seq, {123456789012ull, 777});
  index.publish(seq);
  const auto span = index.get(seq);
  ASSERT_TRUE(span);
  EXPECT_EQ(span->offset, 123456789012ull);
  EXPECT_EQ(span->length, 777u);
  EXPECT_FALSE(index.get(seq + 1));
  EXPECT_THROW(index.put(std::uint64_t{1} << 34, {0, 1}), std::length_error);
}

TEST(FileStore, ReplaysEveryRecordInOrder) {
  testing::TempDir dir;
  write_records(dir.str(), 10);
  auto r = replay(dir.str());
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.seqs.size(), 10u);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(r.seqs[i], i + 1);
  EXPECT_EQ(r.report.cut_bytes, 0u);
  write_records(dir.str(), 5);  // continues the chain after a restart
  EXPECT_EQ(replay(dir.str()).seqs.size(), 15u);
}

TEST(FileStore, TornTailIsCutAndReported) {
  testing::TempDir dir;
  write_records(dir.str(), 5);
  const std::string path = dir.str() + "/journal.jsonl";
  std::string text = read_file(path);
  write_file(path, text + text.substr(0, 40));  // half a record, no newline
  auto r = replay(dir.str());
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.seqs.size(), 5u);
  EXPECT_EQ(r.report.cut_bytes, 40u);
  EXPECT_NE(r.report.cut_reason.find("torn"), std::string::npos);
  EXPECT_EQ(read_file(path), text);  // cut back to the last good record
  EXPECT_EQ(read_file(r.report.cut_saved_to), text.substr(0, 40));  // and the cut bytes kept beside it
  write_records(dir.str(), 1);
  EXPECT_EQ(replay(dir.str()).seqs.size(), 6u);
  // A whole record shortened (the file cut by something else): the report names the record
  // the cut bytes begin, for whoever must judge whether it was acknowledged.
  const std::string six = read_file(path);
  write_file(path, six.substr(0, six.size() - 30));
  auto shortened = replay(dir.str());
  ASSERT_TRUE(shortened.error.empty()) << shortened.error;
  EXPECT_EQ(shortened.seqs.size(), 5u);
  EXPECT_NE(shortened.report.cut_reason.find("torn last line after seq 5, which begins record seq 6 (\"test\")"),
            std::string::npos)
      << shortened.report.cut_reason;
}

TEST(FileStore, CorruptLastRecordIsCut) {
  testing::TempDir dir;
  write_records(dir.str(), 4);
  const std::string path = dir.str() + "/journal.jsonl";
  std::string text = read_file(path);
  std::size_t last = text.rfind('\n', text.size() - 2) + 1;
  text[last + 20] = text[last + 20] == 'a' ? 'b' : 'a';
  write_file(path, text);
  auto r = replay(dir.str());
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.seqs.size(), 3u);
  EXPECT_GT(r.report.cut_bytes, 0u);
}

// The same damage with the audit log describing the damaged record (it was acknowledged):
// nothing is cut, and start-up refuses, the journal left as it is for its restore.
TEST(FileStore, ABadTailTheAuditLogDescribesIsNotCut) {
  for (const bool torn : {false, true}) {
    testing::TempDir dir;
    write_records(dir.str(), 4);
    const std::string path = dir.str() + "/journal.jsonl";
    std::string text = read_file(path);
    const std::size_t last = text.rfind('\n', text.size() - 2) + 1;
    if (torn) text.resize(text.size() - 10);  // record 4 shortened
    else text[last + 20] = text[last + 20] == 'a' ? 'b' : 'a';
    write_file(path, text);
    FileStoreOptions options{dir.str(), true};
    options.acknowledged_through = 4;
    FileStore store(options);
    auto r = store.recover([](const json::object&, std::uint64_t) { return std::nullopt; },
                           [](const ParsedRecord&) { return std::optional<std::string>{}; });
    ASSERT_FALSE(r.ok()) << torn;
    EXPECT_NE(r.error().find("the audit log describes records up to 4"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("nothing is cut"), std::string::npos) << r.error();
    EXPECT_EQ(read_file(path), text) << "the journal was changed";
    for (const auto& entry : std::filesystem::directory_iterator(dir.str()))
      EXPECT_EQ(entry.path().filename().string().find("journal.jsonl.cut"), std::string::npos) << entry.path();
  }
}

TEST(FileStore, CorruptionFollowedByIntactRecordsRefusesToStart) {
  testing::TempDir dir;
  write_records(dir.str(), 6);
  const std::string path = dir.str() + "/journal.jsonl";
  std::string text = read_file(path);
  std::size_t second = text.find('\n') + 1;
  text[second + 30] = text[second + 30] == 'a' ? 'b' : 'a';
  write_file(path, text);
  auto r = replay(dir.str());
  EXPECT_NE(r.error.find("corrupt"), std::string::npos) << r.error;
  EXPECT_EQ(read_file(path), text);  // nothing was cut
}

TEST(FileStore, DroppedOrDuplicatedLinesBreakTheChain) {
  testing::TempDir dir;
  write_records(dir.str(), 6);
  const std::string path = dir.str() + "/journal.jsonl";
  const std::string text = read_file(path);
  std::vector<std::string> lines;
  for (std::size_t p = 0; p < text.size();) {
    std::size_t nl = text.find('\n', p);
    lines.push_back(text.substr(p, nl - p + 1));
    p = nl + 1;
  }
  std::string dropped, duplicated;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i != 2) dropped += lines[i];
    duplicated += lines[i];
    if (i == 2) duplicated += lines[i];
  }
  write_file(path, dropped);
  EXPECT_FALSE(replay(dir.str()).error.empty());
  write_file(path, duplicated);
  EXPECT_FALSE(replay(dir.str()).error.empty());
  // The last record whole but not following (the one before it lost, or it repeated): proof
  // of lost records, not a torn write, so nothing is cut.
  std::string last_unlinked, last_repeated;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i != lines.size() - 2) last_unlinked += lines[i];
    last_repeated += lines[i];
  }
  last_repeated += lines.back();
  for (const std::string* text : {&last_unlinked, &last_repeated}) {
    write_file(path, *text);
    const auto r = replay(dir.str());
    EXPECT_NE(r.error.find("does not follow"), std::string::npos) << r.error;
    EXPECT_EQ(read_file(path), *text);  // nothing was cut
  }
}

TEST(FileStore, SecondProcessOnTheSameDirectoryIsRefused) {
  testing::TempDir dir;
  FileStore first({dir.str(), true});
  auto noop_snapshot = [](const json::object&, std::uint64_t) { return std::optional<std::string>{}; };
  auto noop = [](const ParsedRecord&) { return std::optional<std::string>{}; };
  ASSERT_TRUE(first.recover(noop_snapshot, noop).ok());
  FileStore second({dir.str(), true});
  auto r = second.recover(noop_snapshot, noop);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("in use"), std::string::npos);
}

// A read-only inspection (lpops replay) holds the directory while it reads: a node started
// meanwhile is refused, so it cannot cut a tail under the reader; once the reader is done the
// node starts.
TEST(FileStore, AReadOnlyInspectionKeepsAWriterOutWhileItReads) {
  testing::TempDir dir;
  auto noop_snapshot = [](const json::object&, std::uint64_t) { return std::optional<std::string>{}; };
  auto noop = [](const ParsedRecord&) { return std::optional<std::string>{}; };
  { FileStore made({dir.str(), true}); ASSERT_TRUE(made.recover(noop_snapshot, noop).ok()); }
  FileStoreOptions ro{dir.str(), true};
  ro.read_only = true;
  auto reader = std::make_unique<FileStore>(ro);
  auto read = reader->recover(noop_snapshot, noop);
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_FALSE(read->writer_running);
  {
    FileStore writer({dir.str(), true});
    auto r = writer.recover(noop_snapshot, noop);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("is in use by another lpops process (a node serving it, or lpops replay reading it)"), std::string::npos)
        << r.error();
  }
  reader.reset();
  FileStore writer({dir.str(), true});
  auto r = writer.recover(noop_snapshot, noop);
  EXPECT_TRUE(r.ok()) << r.error();
}

// A node that holds the directory but not LOCK yet (it takes the two one after the other): an
// inspection that starts then sees a writer and takes no share of LOCK, which would make the
// node refuse to start.
TEST(FileStore, AnInspectionBetweenAWritersTwoLocksLeavesLockToIt) {
  testing::TempDir dir;
  auto noop_snapshot = [](const json::object&, std::uint64_t) { return std::optional<std::string>{}; };
  auto noop = [](const ParsedRecord&) { return std::optional<std::string>{}; };
  { FileStore made({dir.str(), true}); ASSERT_TRUE(made.recover(noop_snapshot, noop).ok()); }
  const int dir_fd = ::open(dir.str().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir_fd, 0);
  ASSERT_EQ(::flock(dir_fd, LOCK_EX | LOCK_NB), 0);  // the writer's first lock
  FileStoreOptions ro{dir.str(), true};
  ro.read_only = true;
  FileStore reader(ro);
  auto read = reader.recover(noop_snapshot, noop);
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_TRUE(read->writer_running);
  const int lock_fd = ::open((dir.str() + "/LOCK").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(lock_fd, 0);
  EXPECT_EQ(::flock(lock_fd, LOCK_EX | LOCK_NB), 0) << "the inspection holds a share of LOCK";  // the writer's second
  ::close(lock_fd);
  ::close(dir_fd);
}

TEST(FileStore, SnapshotPlusTailEqualsFullReplay) {
  testing::TempDir dir;
  Digest32 last;
  {
    FileStore store({dir.str(), true});
    auto r = store.recover([](const json::object&, std::uint64_t) { return std::nullopt; },
                           [](const ParsedRecord&) { return std::optional<std::string>{}; });
    ASSERT_TRUE(r.ok());
    Digest32 prev{};
    std::vector<FramedRecord> framed;
    for (int i = 1; i <= 8; ++i) {
      framed.push_back(frame_record(i, prev, effect(i)));
      prev = framed.back().hash;
    }
    std::vector<const FramedRecord*> first5, last3;
    for (int i = 0; i < 5; ++i) first5.push_back(&framed[i]);
    for (int i = 5; i < 8; ++i) last3.push_back(&framed[i]);
    ASSERT_FALSE(store.append(first5));
    ASSERT_FALSE(store.write_snapshot_text(5, "{\"marker\":5}"));
    ASSERT_FALSE(store.append(last3));
    last = prev;
  }
  FileStore store({dir.str(), true});
  std::uint64_t snapshot_seq = 0;
  std::vector<std::uint64_t> tail;
  auto r = store.recover(
      [&](const json::object& book, std::uint64_t seq) {
        EXPECT_EQ(book.at("marker").as_int64(), 5);
        snapshot_seq = seq;
        return std::optional<std::string>{};
      },
      [&](const ParsedRecord& rec) {
        tail.push_back(rec.seq);
        return std::optional<std::string>{};
      });
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(snapshot_seq, 5u);
  EXPECT_EQ(tail, (std::vector<std::uint64_t>{6, 7, 8}));
  EXPECT_EQ(r->last_hash, last);
  // Every record is still readable by seq, including those behind the snapshot.
  for (std::uint64_t s = 1; s <= 8; ++s) {
    auto line = store.read(s);
    ASSERT_TRUE(line.has_value()) << s;
    EXPECT_EQ(parse_record(*line)->seq, s);
  }
}

// A snapshot far larger than the writeback pace goes out in many paced pieces (each written
// back and waited for) and loads byte for byte.
TEST(FileStore, SnapshotWrittenBackInPacedPiecesLoadsIntact) {
  testing::TempDir dir;
  const Digest32 last = write_records(dir.str(), 4);
  json::array items;
  for (int i = 0; i < 3000; ++i) items.push_back(json::string(std::string(100, static_cast<char>('a' + i % 26))));
  const json::object book{{"marker", 4}, {"items", items}};
  {
    FileStoreOptions options{dir.str(), true};
    options.snapshot_writeback_bytes = 8192;  // ~300 KB of book: dozens of paced pieces
    FileStore store(options);
    auto r = store.recover([](const json::object&, std::uint64_t) { return std::nullopt; },
                           [](const ParsedRecord&) { return std::optional<std::string>{}; });
    ASSERT_TRUE(r.ok()) << r.error();
    // In pieces of 4 KiB, as a large book is handed over.
    const std::string text = json::serialize(book);
    auto pieces = [&text](const std::function<bool(std::string_view)>& put) {
      for (std::size_t at = 0; at < text.size(); at += 4096)
        if (!put(std::string_view(text).substr(at, 4096))) return false;
      return true;
    };
    ASSERT_FALSE(store.write_snapshot(4, pieces));
  }
  FileStore store({dir.str(), true});
  std::optional<json::object> loaded;
  auto r = store.recover(
      [&](const json::object& b, std::uint64_t seq) {
        EXPECT_EQ(seq, 4u);
        loaded = b;
        return std::optional<std::string>{};
      },
      [](const ParsedRecord&) { return std::optional<std::string>{}; });
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(*loaded, book);
  EXPECT_EQ(r->last_hash, last);
}

// `records` records, then a snapshot (book {"marker": at}) taken at record `at`.
void write_records_and_snapshot(const std::string& dir, int records, std::uint64_t at) {
  write_records(dir, records);
  FileStore store({dir, true});
  ASSERT_TRUE(store.recover([](const json::object&, std::uint64_t) { return std::nullopt; },
                            [](const ParsedRecord&) { return std::optional<std::string>{}; })
                  .ok());
  ASSERT_FALSE(store.write_snapshot_text(at, "{\"marker\":" + std::to_string(at) + "}"));
}

// A snapshot that passes its checksum proves its records were durable: a journal that lacks
// them, or holds another history, must not start (acknowledged work would be lost).
TEST(FileStore, AJournalShorterThanTheSnapshotOrOfAnotherHistoryRefusesToStart) {
  testing::TempDir dir;
  ASSERT_NO_FATAL_FAILURE(write_records_and_snapshot(dir.str(), 8, 6));
  const std::string path = dir.str() + "/journal.jsonl";
  const std::string full = read_file(path);
  std::size_t at = 0;
  for (int i = 0; i < 4; ++i) at = full.find('\n', at) + 1;
  write_file(path, full.substr(0, at));  // 4 records left
  auto shorter = replay(dir.str());
  EXPECT_NE(shorter.error.find("ends at record 4"), std::string::npos) << shorter.error;
  EXPECT_NE(shorter.error.find("snapshot.json was taken at record 6"), std::string::npos) << shorter.error;

  // Another history of the same length: records with other contents.
  testing::TempDir other;
  write_file(other.str() + "/journal.jsonl", "");
  {
    FileStore store({other.str(), true});
    ASSERT_TRUE(store.recover([](const json::object&, std::uint64_t) { return std::nullopt; },
                              [](const ParsedRecord&) { return std::optional<std::string>{}; })
                    .ok());
    Digest32 prev{};
    std::vector<FramedRecord> framed;
    for (int i = 1; i <= 8; ++i) {
      framed.push_back(frame_record(i, prev, json::object{{"type", "test"}, {"i", i}, {"other", true}}));
      prev = framed.back().hash;
    }
    std::vector<const FramedRecord*> all;
    for (auto& f : framed) all.push_back(&f);
    ASSERT_FALSE(store.append(all));
  }
  std::string other_text = read_file(other.str() + "/journal.jsonl");
  // Same byte length up to record 6 is unlikely; either way it is not the snapshot's history.
  write_file(path, other_text);
  auto rewritten = replay(dir.str());
  EXPECT_FALSE(rewritten.error.empty());
  EXPECT_TRUE(rewritten.error.find("is not the one snapshot.json was taken at") != std::string::npos ||
              rewritten.error.find("snapshot.json was taken at record 6") != std::string::npos)
      << rewritten.error;
}

TEST(FileStore, UnusableSnapshotFallsBackToFullReplay) {
  testing::TempDir dir;
  write_records(dir.str(), 4);
  write_file(dir.str() + "/snapshot.json", "{not json");
  auto r = replay(dir.str());
  ASSERT_TRUE(r.error.empty());
  EXPECT_EQ(r.seqs.size(), 4u);
  EXPECT_FALSE(r.report.warnings.empty());
}

// The checksum covers the snapshot's header too: a damaged seq, journal offset or last hash
// is a damaged snapshot (full replay, with a warning), not a claim that records are missing.
TEST(FileStore, ADamagedSnapshotHeaderFailsItsChecksum) {
  testing::TempDir dir;
  ASSERT_NO_FATAL_FAILURE(write_records_and_snapshot(dir.str(), 6, 4));
  const std::string path = dir.str() + "/snapshot.json";
  const std::string good = read_file(path);
  ASSERT_NE(good.find("\"format\":\"lpops-snapshot:v3\""), std::string::npos) << good;
  for (const std::string& field : {std::string("\"seq\":4"), std::string("\"journal_offset\":"), std::string("\"last_hash\":\"")}) {
    std::string damaged = good;
    const auto at = damaged.find(field);
    ASSERT_NE(at, std::string::npos) << field;
    char& c = damaged[at + field.size() - (field.back() == '4' ? 1 : 0)];
    c = c == '9' ? '8' : '9';
    write_file(path, damaged);
    auto r = replay(dir.str());
    ASSERT_TRUE(r.error.empty()) << field << ": " << r.error;
    EXPECT_EQ(r.seqs.size(), 6u) << field;  // the whole journal replayed
    ASSERT_FALSE(r.report.warnings.empty()) << field;
    EXPECT_NE(r.report.warnings[0].find("checksum"), std::string::npos) << r.report.warnings[0];
  }
  write_file(path, good);
  auto r = replay(dir.str());
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.seqs.size(), 2u);  // from the snapshot at 4
  // A snapshot of the previous format (checksum over the book only) is still used.
  const std::string book_key = ",\"book\":", v3_hash_key = ",\"sha256\":\"";
  const auto book_at = good.find(book_key) + book_key.size();
  const auto hash_at = good.rfind(v3_hash_key);
  std::string v2 = good.substr(0, hash_at) + ",\"book_sha256\":\"" + hex_lower(sha256(good.substr(book_at, hash_at - book_at))) + "\"}\n";
  v2.replace(v2.find("lpops-snapshot:v3"), 17, "lpops-snapshot:v2");
  write_file(path, v2);
  r = replay(dir.str());
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.seqs.size(), 2u);
  EXPECT_TRUE(r.report.warnings.empty());
}

}  // namespace
}  // namespace lpops::storage
