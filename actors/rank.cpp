#include "actors/rank.hpp"
#include "actors/fatal.hpp"

#include <spdlog/spdlog.h>

namespace lpops::actors {
namespace {

using Self = caf::stateful_actor<RankState>;

void answer(Self* self, RankCheck& check) {
  auto& st = self->state;
  RankChecked::Answer a = !st.have_cache                 ? RankChecked::Answer::Unavailable
                          : st.top.count(check.address) ? RankChecked::Answer::Top
                                                        : RankChecked::Answer::NotTop;
  self->send(check.reply_to, RankChecked{a, std::move(check.request)});
}

bool fresh(const RankState& st) {
  return st.have_cache && monotonic_micros() - st.fetched_at < st.options.cache_ttl_seconds * 1'000'000;
}

}  // namespace

caf::behavior rank_actor(Self* self, std::shared_ptr<Metrics> metrics, RankOptions options) {
  stop_process_on_exception(self, "rank");
  auto& st = self->state;
  st.options = std::move(options);
  st.actor_metrics = &metrics->actor("rank");
  st.actor_metrics->live->Increment();
  self->attach_functor([owner = metrics, m = st.actor_metrics] { m->live->Decrement(); });  // runs after the state is gone
  return {
      [=](RankCheck& check) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto& s = self->state;
        // Fresh, or stale while the source failed moments ago: answered now.
        const bool backing_off =
            s.have_cache && s.failed_at != 0 && monotonic_micros() - s.failed_at < kRankRetryAfterFailureSeconds * 1'000'000;
        if (fresh(s) || backing_off) {
          answer(self, check);
          return;
        }
        s.waiting.push_back(std::move(check));
        if (s.fetching) return;
        s.fetching = true;
        s.options.fetch([me = caf::actor_cast<caf::actor>(self)](PoolFetched result) { caf::anon_send(me, std::move(result)); });
      },
      [=](PoolFetched& result) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto& s = self->state;
        s.fetching = false;
        if (result.ok && !result.addresses.empty()) {
          s.top = std::set<std::string>(result.addresses.begin(), result.addresses.end());
          s.have_cache = true;
          s.fetched_at = monotonic_micros();
          s.failed_at = 0;
          spdlog::info("rank check: transcoder pool read, {} addresses", s.top.size());
        } else {
          const std::string why = result.ok ? "the transcoder pool is empty" : result.error;
          s.failed_at = monotonic_micros();
          if (s.have_cache)
            spdlog::warn("rank check: cannot read the transcoder pool ({}); using the cache from {} s ago (read again "
                         "in {} s at the earliest)",
                         why, (monotonic_micros() - s.fetched_at) / 1'000'000, kRankRetryAfterFailureSeconds);
          else
            spdlog::error("rank check: cannot read the transcoder pool ({}); registrations get 503 until it can", why);
        }
        auto waiting = std::move(s.waiting);
        s.waiting.clear();
        for (auto& check : waiting) answer(self, check);
      },
  };
}

}  // namespace lpops::actors
