#pragma once
// Where each workload id is in a book's list of workloads, for millions of them. The index
// holds positions only (16 bytes a slot: the id's hash and the position), never the ids: the
// workloads hold them, and a lookup compares the id at a candidate position. A table keyed by
// the id strings took 40 bytes a slot, plus the id again on the heap when it is longer than 15
// characters (a UUID is 36). Split, as ShardedMap is, into kShards tables that grow one at a
// time: one table of 6.9M ids held its thread for 408 ms when it grew, one shard holds it for
// 1/kShards of that.
#include <boost/container_hash/hash.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "domain/sharded_map.hpp"

namespace lpops {

class WorkloadIndex {
 public:
  static constexpr std::size_t kShardBits = 6;
  static constexpr std::size_t kShards = std::size_t{1} << kShardBits;

  // `id_at(pos)` is the id of the workload at position pos (a std::string_view); the index
  // asks it only for positions it holds.
  template <class IdAt>
  std::optional<std::size_t> find(std::string_view id, const IdAt& id_at) const {
    const std::uint64_t h = hash_of(id);
    const auto& table = shards_[shard_of(h)];
    auto it = table.find(Probe<IdAt>{id, h, &id_at});
    if (it == table.end()) return std::nullopt;
    return static_cast<std::size_t>(it->pos);
  }
  template <class IdAt>
  bool contains(std::string_view id, const IdAt& id_at) const {
    return find(id, id_at).has_value();
  }

  // Records that `id` is at `pos` unless the id is there: its position (new or old), and
  // whether it was recorded now.
  template <class IdAt>
  std::pair<std::size_t, bool> try_emplace(std::string_view id, std::size_t pos, const IdAt& id_at) {
    const std::uint64_t h = hash_of(id);
    auto& table = shards_[shard_of(h)];
    if (auto it = table.find(Probe<IdAt>{id, h, &id_at}); it != table.end()) return {static_cast<std::size_t>(it->pos), false};
    table.insert(Slot{h, pos});
    return {pos, true};
  }

  std::size_t size() const { return sharding::total_size(shards_); }
  bool empty() const { return size() == 0; }
  // Ids in shard i (the spread is what bounds a shard's growth).
  std::size_t shard_size(std::size_t i) const { return shards_.at(i).size(); }

 private:
  struct Slot {
    std::uint64_t hash;
    std::uint64_t pos;
  };
  template <class IdAt>
  struct Probe {
    std::string_view id;
    std::uint64_t hash;
    const IdAt* id_at;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(const Slot& s) const noexcept { return static_cast<std::size_t>(s.hash); }
    template <class IdAt>
    std::size_t operator()(const Probe<IdAt>& p) const noexcept {
      return static_cast<std::size_t>(p.hash);
    }
  };
  struct Equal {
    using is_transparent = void;
    // Positions are unique, so two slots are the same only at the same position.
    bool operator()(const Slot& a, const Slot& b) const noexcept { return a.pos == b.pos; }
    template <class IdAt>
    bool operator()(const Probe<IdAt>& p, const Slot& s) const {
      return p.hash == s.hash && std::string_view((*p.id_at)(static_cast<std::size_t>(s.pos))) == p.id;
    }
    template <class IdAt>
    bool operator()(const Slot& s, const Probe<IdAt>& p) const {
      return (*this)(p, s);
    }
  };

  static std::uint64_t hash_of(std::string_view id) { return boost::hash<std::string_view>{}(id); }
  // The table mixes the full hash again for its own slots.
  static std::size_t shard_of(std::uint64_t h) { return sharding::shard_of(h, kShardBits); }

  std::array<boost::unordered_flat_set<Slot, Hash, Equal>, kShards> shards_;
};

}  // namespace lpops
