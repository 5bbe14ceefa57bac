// The longest single insert into an index of workload ids as it grows to N keys: one
// open-addressing table (which moves every key when it grows) against ShardedMap (which grows
// one shard at a time) and WorkloadIndex (sharded too, holding positions instead of the ids). The ledger inserts into such an index for every new workload, so the
// longest insert is how long a growing index can hold the ledger (and every request in flight).
// Usage: lpops_bench_index_growth [keys (default 8000000)]
#include <boost/unordered/unordered_flat_map.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "domain/sharded_map.hpp"
#include "domain/workload_index.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

std::string workload_id(std::size_t i) { return "r" + std::to_string(i % 7) + "-0-" + std::to_string(i); }

struct Worst {
  double ms = 0;
  std::size_t at = 0;
  double total_s = 0;
};

template <class Insert>
Worst measure(std::size_t n, Insert insert) {
  Worst w;
  const auto begin = clock_type::now();
  for (std::size_t i = 0; i < n; ++i) {
    std::string key = workload_id(i);
    const auto t = clock_type::now();
    insert(key, i);
    const double ms = std::chrono::duration<double, std::milli>(clock_type::now() - t).count();
    if (ms > w.ms) {
      w.ms = ms;
      w.at = i + 1;
    }
  }
  w.total_s = std::chrono::duration<double>(clock_type::now() - begin).count();
  return w;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::stoul(argv[1]) : 8'000'000;
  std::printf("| index | keys | longest insert ms | at key | all inserts s |\n|---|---|---|---|---|\n");
  {
    boost::unordered_flat_map<std::string, std::size_t> one;
    const Worst w = measure(n, [&](const std::string& k, std::size_t v) { one.try_emplace(k, v); });
    std::printf("| one table | %zu | %.1f | %zu | %.2f |\n", n, w.ms, w.at, w.total_s);
  }
  {
    lpops::ShardedMap<std::string, std::size_t> sharded;
    const Worst w = measure(n, [&](const std::string& k, std::size_t v) { sharded.try_emplace(k, v); });
    std::printf("| %zu shards | %zu | %.1f | %zu | %.2f |\n", lpops::ShardedMap<std::string, std::size_t>::kShards, n, w.ms,
                w.at, w.total_s);
  }
  {
    // The book's index: positions only, the ids held by the workloads (here a vector).
    std::vector<std::string> ids;
    ids.reserve(n);
    lpops::WorkloadIndex index;
    auto id_at = [&ids](std::size_t pos) -> std::string_view { return ids[pos]; };
    const Worst w = measure(n, [&](const std::string& k, std::size_t v) {
      if (index.try_emplace(k, v, id_at).second) ids.push_back(k);
    });
    std::printf("| WorkloadIndex, %zu shards | %zu | %.1f | %zu | %.2f |\n", lpops::WorkloadIndex::kShards, n, w.ms, w.at,
                w.total_s);
  }
  return 0;
}
