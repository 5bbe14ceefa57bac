// ShardedMap against std::unordered_map: the same answers after a long random mix of inserts
// (new keys and repeated ones) and lookups, for string and integer keys, with the keys spread
// over every shard.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "domain/sharded_map.hpp"

namespace lpops {
namespace {

template <class Key, class MakeKey>
void agrees_with_a_plain_map(MakeKey make_key, std::size_t key_space) {
  ShardedMap<Key, std::uint64_t> sharded;
  std::unordered_map<Key, std::uint64_t> plain;
  std::mt19937_64 rng(7);
  for (std::uint64_t i = 0; i < 200'000; ++i) {
    const Key key = make_key(rng() % key_space);
    if (rng() % 3 == 0) {
      const std::uint64_t* found = sharded.find(key);
      auto it = plain.find(key);
      ASSERT_EQ(found != nullptr, it != plain.end());
      if (found) {
        ASSERT_EQ(*found, it->second);
      }
      ASSERT_EQ(sharded.contains(key), it != plain.end());
      continue;
    }
    auto [value, inserted] = sharded.try_emplace(key, i);
    auto [it, plain_inserted] = plain.try_emplace(key, i);
    ASSERT_EQ(inserted, plain_inserted);
    ASSERT_EQ(*value, it->second);
    if (!inserted) *value = it->second = i;  // values change through the pointer
  }
  ASSERT_EQ(sharded.size(), plain.size());
  for (const auto& [key, value] : plain) {
    const std::uint64_t* found = sharded.find(key);
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(*found, value);
  }
}

TEST(ShardedMap, StringKeysAgreeWithAPlainMap) {
  agrees_with_a_plain_map<std::string>([](std::uint64_t k) { return "r" + std::to_string(k % 7) + "-0-" + std::to_string(k); },
                                       150'000);
}

TEST(ShardedMap, IntegerKeysAgreeWithAPlainMap) {
  // Sequential integers (boost::hash of an integer is the integer) still fill every shard.
  agrees_with_a_plain_map<std::uint64_t>([](std::uint64_t k) { return k; }, 150'000);
}

// Each shard holds about 1/kShards of the keys, for sequential integers (boost::hash of an
// integer is the integer) and for workload-like ids: no shard grows much larger than the rest.
TEST(ShardedMap, KeysSpreadEvenlyOverTheShards) {
  ShardedMap<std::uint64_t, int> numbers;
  ShardedMap<std::string, int> ids;
  constexpr std::size_t kKeys = 256'000;
  for (std::uint64_t k = 0; k < kKeys; ++k) {
    numbers.try_emplace(k, 1);
    ids.try_emplace("bench-" + std::to_string(k % 10) + "-" + std::to_string(k), 1);
  }
  constexpr std::size_t kMean = kKeys / ShardedMap<std::uint64_t, int>::kShards;
  for (std::size_t i = 0; i < ShardedMap<std::uint64_t, int>::kShards; ++i) {
    EXPECT_GT(numbers.shard_size(i), kMean * 8 / 10) << "shard " << i;
    EXPECT_LT(numbers.shard_size(i), kMean * 12 / 10) << "shard " << i;
    EXPECT_GT(ids.shard_size(i), kMean * 8 / 10) << "shard " << i;
    EXPECT_LT(ids.shard_size(i), kMean * 12 / 10) << "shard " << i;
  }
  EXPECT_EQ(numbers.size(), kKeys);
  EXPECT_EQ(ids.size(), kKeys);
}

}  // namespace
}  // namespace lpops
