#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "tests/support/node_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace lpops::testing {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

TEST(CliKeys, KeygenWritesAPrivateFileAndAddressReadsIt) {
  TempDir dir;
  const std::string key_file = dir.str() + "/payout.key";
  auto gen = run_command({lpops_binary(), "keygen", "--key-file", key_file});
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  const std::string printed = trim(gen.output);
  EXPECT_EQ(printed.size(), 42u);
  struct stat st {};
  ASSERT_EQ(::stat(key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto addr = run_command({lpops_binary(), "address", "--key-file", key_file});
  ASSERT_EQ(addr.exit_code, 0) << addr.output;
  EXPECT_EQ(trim(addr.output), printed);
  // Never overwrites an existing key.
  auto again = run_command({lpops_binary(), "keygen", "--key-file", key_file});
  EXPECT_EQ(again.exit_code, 2);
}

TEST(CliKeys, AddressOfTheSharedVectorKey) {
  TempDir dir;
  const std::string key_file = dir.str() + "/k";
  std::ofstream(key_file) << "0x1111111111111111111111111111111111111111111111111111111111111111\n";
  auto addr = run_command({lpops_binary(), "address", "--key-file", key_file});
  ASSERT_EQ(addr.exit_code, 0) << addr.output;
  EXPECT_EQ(trim(addr.output), "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A");
  std::ofstream(key_file) << "not a key\n";
  EXPECT_EQ(run_command({lpops_binary(), "address", "--key-file", key_file}).exit_code, 2);
  EXPECT_EQ(run_command({lpops_binary(), "address", "--key-file", dir.str() + "/missing"}).exit_code, 2);
}

}  // namespace
}  // namespace lpops::testing
