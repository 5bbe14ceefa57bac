// Start-up of the signed checkpoints: checkpoints.jsonl is taken only if every line is a
// checkpoint of this log, signed by the address it names, at a size larger than the line
// before it. A forged, edited, duplicated or moved line stops start-up; a torn last line is
// cut.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>

#include "actors/checkpoints.hpp"
#include "chain/audit_format.hpp"
#include "chain/hex.hpp"
#include "chain/signature.hpp"
#include "domain/canonical_json.hpp"
#include "storage/audit_log.hpp"
#include "tests/support/sample_entries.hpp"

namespace lpops::actors {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

chain::PrivateKey key(char last) { return chain::PrivateKey::from_hex("0x" + std::string(63, '0') + last).value(); }

class CheckpointBookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lpops-checkpoint-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    log_ = storage::AuditLog::open(dir_.string(), false).value();
    auto book = open();
    ASSERT_TRUE(book) << book.error();
    for (std::uint64_t batch = 0; batch < 4; ++batch) {  // checkpoints at 5, 10, 15, 20
      std::vector<std::string> lines;
      for (std::uint64_t i = batch * 5 + 1; i <= batch * 5 + 5; ++i) lines.push_back(log_->append_entry(entry(i), "credit", "workload_time", "", i));
      ASSERT_FALSE(log_->write(lines));
      (*book)->after_flush(*log_, true);
    }
    lines_ = read_lines();
    ASSERT_EQ(lines_.size(), 4u);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static LedgerEntry entry(std::uint64_t i) { return testing::sample_credit_entry(i); }

  Result<std::shared_ptr<CheckpointBook>> open(char key_digit = '7') {
    CheckpointOptions options;
    options.every_entries = 5;
    options.fsync = false;
    return CheckpointBook::open(dir_.string(), key(key_digit), options, *log_);
  }
  std::string path() const { return (dir_ / "checkpoints.jsonl").string(); }
  std::vector<std::string> read_lines() const {
    std::ifstream in(path());
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  void write(const std::vector<std::string>& lines, const std::string& tail = "") const {
    std::ofstream out(path(), std::ios::trunc);
    for (const auto& l : lines) out << l << "\n";
    out << tail;
  }
  // A checkpoint line with the same statement signed by another key (consistent in itself).
  static std::string signed_by(const std::string& line, const chain::PrivateKey& signer) {
    auto o = json::parse(line).as_object();
    auto hash = [&](const char* k) {
      chain::Hash256 h{};
      auto b = chain::from_hex(o.at(k).as_string()).value();
      std::copy(b.begin(), b.end(), h.begin());
      return h;
    };
    const auto head = chain::audit::checkpoint_head(hash("chain_head_hash"), hash("merkle_root"));
    const auto message = chain::audit::checkpoint_message(signer.address(), static_cast<std::uint64_t>(o.at("seq").as_int64()), head,
                                                          static_cast<std::uint64_t>(o.at("chain_id").as_int64()), chain::Address{});
    o["audit_address"] = chain::to_lower_hex(signer.address());
    o["head_hash"] = chain::to_hex(head);
    o["message_hash"] = chain::to_hex(message);
    o["signature"] = chain::sign_digest(signer, chain::eip191_hash32(message)).to_hex();
    return canonical_json(o);
  }

  fs::path dir_;
  std::unique_ptr<storage::AuditLog> log_;
  std::vector<std::string> lines_;
};

TEST_F(CheckpointBookTest, ReopensWhatItWrote) {
  auto book = open();
  ASSERT_TRUE(book) << book.error();
  EXPECT_EQ((*book)->history(10).size(), 4u);
  EXPECT_EQ((*book)->latest(), lines_.back());
}

TEST_F(CheckpointBookTest, OneEachTimeTheSizeCrossesAStep) {
  auto book = open();
  ASSERT_TRUE(book) << book.error();
  auto grow_to = [&](std::uint64_t size) {
    std::vector<std::string> lines;
    for (std::uint64_t i = log_->status().seq + 1; i <= size; ++i) lines.push_back(log_->append_entry(entry(i), "credit", "workload_time", "", i));
    ASSERT_FALSE(log_->write(lines));
  };
  auto latest_seq = [&] { return json::parse((*book)->latest().value()).at("seq").as_int64(); };
  grow_to(21);  // the last checkpoint is at 20
  (*book)->after_flush(*log_, false);
  EXPECT_EQ(latest_seq(), 20);
  grow_to(26);  // crossed 25 (signed late, at 26)
  (*book)->after_flush(*log_, false);
  EXPECT_EQ(latest_seq(), 26);
  grow_to(29);
  (*book)->after_flush(*log_, false);
  EXPECT_EQ(latest_seq(), 26);
  grow_to(30);  // crossed 30: only 4 after the last, still a checkpoint
  (*book)->after_flush(*log_, false);
  EXPECT_EQ(latest_seq(), 30);
  grow_to(31);
  (*book)->after_flush(*log_, true);  // the timer's: anything new
  EXPECT_EQ(latest_seq(), 31);
}

TEST_F(CheckpointBookTest, ATornLastLineIsCut) {
  write(lines_, lines_.back().substr(0, 40));
  auto book = open();
  ASSERT_TRUE(book) << book.error();
  EXPECT_EQ((*book)->history(10).size(), 4u);
  EXPECT_EQ(read_lines(), lines_);
}

TEST_F(CheckpointBookTest, AForgedSignatureStopsStartUp) {
  // Signed by another key but naming the audit address: the signature does not recover to it.
  auto o = json::parse(signed_by(lines_[1], key('9'))).as_object();
  o["audit_address"] = json::parse(lines_[1]).at("audit_address");
  auto forged = lines_;
  forged[1] = canonical_json(o);
  write(forged);
  auto book = open();
  ASSERT_FALSE(book);
  EXPECT_NE(book.error().find("checkpoint at seq 10"), std::string::npos) << book.error();

  // An edited signature.
  auto edited = lines_;
  const auto at = edited[2].find("\"signature\":\"0x") + 20;
  edited[2][at] = edited[2][at] == 'a' ? 'b' : 'a';
  write(edited);
  book = open();
  ASSERT_FALSE(book);
  EXPECT_NE(book.error().find("checkpoint at seq 15"), std::string::npos) << book.error();
}

TEST_F(CheckpointBookTest, ADuplicatedOrMovedLineStopsStartUp) {
  auto duplicated = lines_;
  duplicated.insert(duplicated.begin() + 2, lines_[1]);
  write(duplicated);
  auto book = open();
  ASSERT_FALSE(book);
  EXPECT_NE(book.error().find("duplicated or moved"), std::string::npos) << book.error();

  auto moved = lines_;
  std::swap(moved[0], moved[3]);
  write(moved);
  book = open();
  ASSERT_FALSE(book);
  EXPECT_NE(book.error().find("duplicated or moved"), std::string::npos) << book.error();
}

TEST_F(CheckpointBookTest, AnotherLogsCheckpointStopsStartUp) {
  // Validly signed by the audit key, but for a root this log never had.
  auto o = json::parse(lines_[3]).as_object();
  o["merkle_root"] = chain::to_hex(chain::keccak256("another history"));
  auto other = lines_;
  other[3] = signed_by(canonical_json(o), key('7'));
  write(other);
  auto book = open();
  ASSERT_FALSE(book);
  EXPECT_NE(book.error().find("the history it signed was rewritten"), std::string::npos) << book.error();
  EXPECT_NE(book.error().find(path()), std::string::npos) << book.error();
}

TEST_F(CheckpointBookTest, ALogShorterThanItsCheckpointsStopsStartUpSayingWhatToRestore) {
  // The same history cut back to 12 entries (a journal restored from an older backup, the log
  // rebuilt from it): the checkpoint at 15 signed entries the node no longer has.
  const fs::path shorter = dir_ / "shorter";
  fs::create_directories(shorter);
  fs::copy_file(path(), shorter / "checkpoints.jsonl");
  auto log = storage::AuditLog::open(shorter.string(), false).value();
  std::vector<std::string> lines;
  for (std::uint64_t i = 1; i <= 12; ++i) lines.push_back(log->append_entry(entry(i), "credit", "workload_time", "", i));
  ASSERT_FALSE(log->write(lines));
  CheckpointOptions options;
  options.every_entries = 5;
  options.fsync = false;
  auto book = CheckpointBook::open(shorter.string(), key('7'), options, *log);
  ASSERT_FALSE(book);
  EXPECT_NE(book.error().find("checkpoint at seq 15 (" + (shorter / "checkpoints.jsonl").string() + ") is beyond the audit log (12 entries"),
            std::string::npos)
      << book.error();
  EXPECT_NE(book.error().find("restore journal.jsonl"), std::string::npos) << book.error();
}

TEST_F(CheckpointBookTest, CheckpointsOfAnEarlierKeyStillCount) {
  // A key rotation: old lines signed by the old key stay valid; the new key signs from now on.
  auto book = open('8');
  ASSERT_TRUE(book) << book.error();
  EXPECT_EQ((*book)->history(10).size(), 4u);
  EXPECT_NE((*book)->audit_address(), key('7').address());
}

}  // namespace
}  // namespace lpops::actors
