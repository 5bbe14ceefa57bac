#pragma once
// The rank actor: when TOP_CONTRACT_ADDRESS is set, a registration needs its address in the
// BondingManager's transcoder pool (the top 100). It keeps the pool cached for
// TOP_CACHE_TTL_SECONDS, reads it again when the cache is stale (one read at a time, with
// every registration that arrives meanwhile waiting for it), falls back to a stale cache
// when the read fails, and answers Unavailable (503) only when it has never read the pool.
#include <caf/all.hpp>

#include <set>
#include <string>
#include <vector>

#include "actors/messages.hpp"
#include "actors/metrics.hpp"

namespace lpops::actors {

struct RankOptions {
  std::int64_t cache_ttl_seconds = 300;
  PoolFetcher fetch;
};

struct RankState {
  static inline const char* name = "rank";
  RankOptions options;
  std::set<std::string> top;
  bool have_cache = false;
  UnixMicros fetched_at = 0;
  bool fetching = false;
  std::vector<RankCheck> waiting;
  ActorMetrics* actor_metrics = nullptr;
  std::uint64_t handled = 0;
};

caf::behavior rank_actor(caf::stateful_actor<RankState>* self, std::shared_ptr<Metrics> metrics, RankOptions options);

}  // namespace lpops::actors
