// A checkpoint whose write fails (a full disk): after_flush names the file, leaves
// checkpoints.jsonl as it was (no partial line for start-up to trip over), and signs the same
// size at the next step once the disk has room again.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "actors/checkpoints.hpp"
#include "storage/audit_log.hpp"
#include "tests/fault/read_faults.hpp"
#include "tests/support/sample_entries.hpp"
#include "tests/support/temp_dir.hpp"

namespace lpops::actors {
namespace {

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(CheckpointFault, AFailedWriteIsReportedAndLeavesTheFileWhole) {
  testing::TempDir dir;
  struct Disarm {
    ~Disarm() { testing::disarm_write_faults(); }
  } disarm;
  auto log = storage::AuditLog::open(dir.str(), false).value();
  CheckpointOptions options;
  options.every_entries = 5;
  options.fsync = false;
  auto book = CheckpointBook::open(dir.str(), chain::PrivateKey::from_hex("0x" + std::string(63, '0') + "7").value(),
                                   options, *log);
  ASSERT_TRUE(book) << book.error();
  auto add = [&](std::uint64_t from) {
    std::vector<std::string> lines;
    for (std::uint64_t i = from; i < from + 5; ++i) lines.push_back(log->append_entry(testing::sample_credit_entry(i), "credit", "workload_time", "", i));
    ASSERT_FALSE(log->write(lines));
  };
  add(1);
  EXPECT_FALSE((*book)->after_flush(*log, true).has_value());
  const std::string path = dir.str() + "/checkpoints.jsonl";
  const auto before = lines_of(path);
  ASSERT_EQ(before.size(), 1u);

  add(6);
  testing::fail_next_write();
  const auto failed = (*book)->after_flush(*log, false);
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(*failed, "checkpoints");
  EXPECT_EQ(lines_of(path), before);
  EXPECT_EQ((*book)->signed_size(), 5u);

  // Room again: the same size is signed at the next step.
  EXPECT_FALSE((*book)->after_flush(*log, false).has_value());
  EXPECT_EQ((*book)->signed_size(), 10u);
  const auto after = lines_of(path);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0], before[0]);
}

}  // namespace
}  // namespace lpops::actors
