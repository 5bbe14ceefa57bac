// WorkloadIndex against std::unordered_map: the same answers after a long random mix of
// inserts (new ids and repeated ones) and lookups, with the ids kept outside the index, as a
// book keeps them in its workloads; the index asks only for positions it holds, and spreads
// ids over every shard.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/workload_index.hpp"

namespace lpops {
namespace {

TEST(WorkloadIndex, AgreesWithAPlainMapOverIdsHeldOutside) {
  WorkloadIndex index;
  std::unordered_map<std::string, std::size_t> plain;
  std::vector<std::string> ids;  // position -> id, as the book's workloads
  std::size_t asked_beyond = 0;
  auto id_at = [&](std::size_t pos) -> std::string_view {
    if (pos >= ids.size()) {
      ++asked_beyond;
      return {};
    }
    return ids[pos];
  };
  std::mt19937_64 rng(11);
  for (std::uint64_t i = 0; i < 200'000; ++i) {
    const std::uint64_t k = rng() % 150'000;
    // Short ids and UUID-length ones, some sharing long prefixes.
    std::string id = k % 3 ? "r" + std::to_string(k % 7) + "-0-" + std::to_string(k)
                           : "0f8fad5b-d9cb-469f-a165-" + std::to_string(100'000'000'000 + k);
    if (rng() % 3 == 0) {
      const auto found = index.find(id, id_at);
      auto it = plain.find(id);
      ASSERT_EQ(found.has_value(), it != plain.end()) << id;
      if (found) {
        ASSERT_EQ(*found, it->second);
      }
      ASSERT_EQ(index.contains(id, id_at), it != plain.end());
      continue;
    }
    auto [pos, inserted] = index.try_emplace(id, ids.size(), id_at);
    auto [it, plain_inserted] = plain.try_emplace(id, ids.size());
    ASSERT_EQ(inserted, plain_inserted) << id;
    ASSERT_EQ(pos, it->second);
    if (inserted) ids.push_back(id);
  }
  EXPECT_EQ(asked_beyond, 0u);
  ASSERT_EQ(index.size(), plain.size());
  for (const auto& [id, pos] : plain) {
    const auto found = index.find(id, id_at);
    ASSERT_TRUE(found) << id;
    EXPECT_EQ(*found, pos);
  }
  // Ids never stored, including prefixes and extensions of stored ones.
  for (std::string missing : {"", "r1-0-", "r1-0-1x", "0f8fad5b-d9cb-469f-a165-", "never"})
    EXPECT_FALSE(index.find(missing, id_at)) << missing;

  // A copy answers alike (a book is copied for the snapshotter's replica).
  const WorkloadIndex copy = index;
  EXPECT_EQ(copy.size(), index.size());
  EXPECT_EQ(copy.find(ids.front(), id_at), std::optional<std::size_t>(0));
}

TEST(WorkloadIndex, IdsSpreadEvenlyOverTheShards) {
  WorkloadIndex index;
  std::vector<std::string> ids;
  auto id_at = [&](std::size_t pos) -> std::string_view { return ids[pos]; };
  constexpr std::size_t kIds = 256'000;
  for (std::uint64_t k = 0; k < kIds; ++k) {
    ids.push_back("bench-" + std::to_string(k % 10) + "-" + std::to_string(k));
    ASSERT_TRUE(index.try_emplace(ids.back(), ids.size() - 1, id_at).second);
  }
  constexpr std::size_t kMean = kIds / WorkloadIndex::kShards;
  for (std::size_t i = 0; i < WorkloadIndex::kShards; ++i) {
    EXPECT_GT(index.shard_size(i), kMean * 8 / 10) << "shard " << i;
    EXPECT_LT(index.shard_size(i), kMean * 12 / 10) << "shard " << i;
  }
  EXPECT_EQ(index.size(), kIds);
}

}  // namespace
}  // namespace lpops
