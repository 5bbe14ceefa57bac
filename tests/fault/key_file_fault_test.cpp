// A key file written when the disk is full: no key file is left (never an empty one, which
// would stop every later start), and the next attempt makes one.
#include <gtest/gtest.h>

#include <filesystem>

#include "storage/key_file.hpp"
#include "tests/fault/read_faults.hpp"
#include "tests/support/temp_dir.hpp"

namespace lpops::storage {
namespace {

TEST(KeyFileFault, AFailedWriteLeavesNoKeyFile) {
  testing::TempDir dir;
  const std::string path = dir.str() + "/audit.key";
  bool created = true;
  testing::fail_next_write();
  auto failed = load_or_create_key(path, &created);
  testing::disarm_write_faults();
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().find("No space left"), std::string::npos) << failed.error();
  EXPECT_FALSE(created);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()), 0)
      << "a temporary file was left behind";
  // The next start makes the key, and the one after reads the same key.
  auto made = load_or_create_key(path, &created);
  ASSERT_TRUE(made.ok()) << made.error();
  EXPECT_TRUE(created);
  auto read = load_or_create_key(path, &created);
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_FALSE(created);
  EXPECT_EQ(read->address(), made->address());
}

}  // namespace
}  // namespace lpops::storage
