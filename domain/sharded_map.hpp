#pragma once
// A hash table for millions of keys, split by the key's hash into kShards open-addressing
// tables that grow one at a time. Growing a table moves every key in it while its thread
// waits: one table of 6.9M workload ids held its thread for 408 ms when it grew (every
// request in flight with it); one shard of the same keys holds it for 1/kShards of that.
// Lookups cost one more multiplication than a single table.
#include <boost/container_hash/hash.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace lpops {

// What the sharded tables here share: the shard of 2^bits a hash goes to (its top bits, mixed
// first: boost::hash of an integer is the integer itself), and how many keys all shards hold.
namespace sharding {
inline std::size_t shard_of(std::uint64_t hash, std::size_t bits) {
  return static_cast<std::size_t>((hash * 0x9e3779b97f4a7c15ULL) >> (64 - bits));
}
template <class Tables>
std::size_t total_size(const Tables& tables) {
  std::size_t n = 0;
  for (const auto& table : tables) n += table.size();
  return n;
}
}  // namespace sharding

template <class Key, class Value, class Hash = boost::hash<Key>>
class ShardedMap {
 public:
  static constexpr std::size_t kShardBits = 6;
  static constexpr std::size_t kShards = std::size_t{1} << kShardBits;

  // The value stored for `key`, or null.
  Value* find(const Key& key) {
    auto& table = shard(key);
    auto it = table.find(key);
    return it == table.end() ? nullptr : &it->second;
  }
  const Value* find(const Key& key) const {
    const auto& table = shards_[shard_of(key)];
    auto it = table.find(key);
    return it == table.end() ? nullptr : &it->second;
  }
  bool contains(const Key& key) const { return shards_[shard_of(key)].contains(key); }

  // Stores key -> Value(args...) unless the key is there: the key's value (new or old), and
  // whether it was stored now.
  template <class... Args>
  std::pair<Value*, bool> try_emplace(const Key& key, Args&&... args) {
    auto [it, inserted] = shard(key).try_emplace(key, std::forward<Args>(args)...);
    return {&it->second, inserted};
  }

  std::size_t size() const { return sharding::total_size(shards_); }
  bool empty() const { return size() == 0; }
  // Keys in shard i (the spread is what bounds a shard's growth).
  std::size_t shard_size(std::size_t i) const { return shards_.at(i).size(); }

 private:
  static std::size_t shard_of(const Key& key) { return sharding::shard_of(Hash{}(key), kShardBits); }
  boost::unordered_flat_map<Key, Value, Hash>& shard(const Key& key) { return shards_[shard_of(key)]; }

  std::array<boost::unordered_flat_map<Key, Value, Hash>, kShards> shards_;
};

}  // namespace lpops
