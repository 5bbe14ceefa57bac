#pragma once
// The rank actor: when TOP_CONTRACT_ADDRESS is set, a registration needs its address in the
// BondingManager's transcoder pool (the top 100). It keeps the pool cached for
// TOP_CACHE_TTL_SECONDS, reads it again when the cache is stale (one read at a time, with
// every registration that arrives meanwhile waiting for it), falls back to a stale cache
// when the read fails, and answers Unavailable (503) only when it has never read the pool.
// After a failed read, registrations are answered from the stale cache at once for
// kRankRetryAfterFailure, instead of each waiting for another read that is likely to fail.
#include <caf/all.hpp>

#include <set>
#include <string>
#include <vector>

#include "actors/messages.hpp"
#include "actors/metrics.hpp"

namespace lpops::actors {

inline constexpr std::int64_t kRankRetryAfterFailureSeconds = 30;

struct RankOptions {
  std::int64_t cache_ttl_seconds = 300;
  PoolFetcher fetch;
};

struct RankState {
  static inline const char* name = "rank";
  RankOptions options;
  std::set<std::string> top;
  bool have_cache = false;
  // On the monotonic clock (monotonic_micros), so that a wall-clock step neither keeps a top set
  // fresh past its TTL nor ages it early.
  std::int64_t fetched_at = 0;
  std::int64_t failed_at = 0;  // the last read's failure, while no read has succeeded since (0: none)
  bool fetching = false;
  std::vector<RankCheck> waiting;
  ActorMetrics* actor_metrics = nullptr;
  HandledCount handled;
};

caf::behavior rank_actor(caf::stateful_actor<RankState>* self, std::shared_ptr<Metrics> metrics, RankOptions options);

}  // namespace lpops::actors
