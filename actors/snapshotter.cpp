#include "actors/snapshotter.hpp"
#include "actors/fatal.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace lpops::actors {
namespace {

using Self = caf::stateful_actor<SnapshotterState>;

std::uint64_t book_size(const Book& book) { return book.workload_count() + book.orchestrator_order().size(); }

void write_snapshot(Self* self) {
  auto& st = self->state;
  const auto start = std::chrono::steady_clock::now();
  const std::uint64_t seq = st.replica->last_seq();
  std::size_t bytes = 0;
  auto book = [&](const std::function<bool(std::string_view)>& put) {
    return st.replica->write_snapshot_text([&](std::string_view piece) {
      bytes += piece.size();
      return put(piece);
    });
  };
  if (auto err = st.store->write_snapshot(seq, book)) {
    st.metrics->snapshots_failed().Increment();
    st.metrics->storage_errors("snapshot").Increment();
    spdlog::error("snapshot at seq {} failed: {} (the journal still holds everything)", seq, *err);
    return;
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  st.metrics->snapshots_written().Increment();
  st.metrics->snapshot_seconds().Set(took);
  st.metrics->snapshot_last_written().Set(
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  spdlog::info("snapshot at seq {} written ({} bytes, {:.0f} ms)", seq, bytes, took * 1000);
}

}  // namespace

std::uint64_t snapshot_interval(std::uint64_t every_records, std::uint64_t book_size) {
  return std::max<std::uint64_t>({every_records, book_size, 1});
}

caf::behavior snapshotter_actor(Self* self, std::shared_ptr<Book> replica, std::shared_ptr<storage::RecordStore> store,
                                std::shared_ptr<Metrics> metrics, std::uint64_t every_records, std::uint64_t replayed) {
  stop_process_on_exception(self, "snapshotter");
  auto& st = self->state;
  st.replica = std::make_unique<Book>(std::move(*replica));
  st.store = std::move(store);
  st.every_records = std::max<std::uint64_t>(every_records, 1);
  // Measured from the book at the snapshot start-up began from, not the book now: with the
  // replayed tail counted in both, a node restarted often would push its next snapshot away
  // each time, and the tail replayed at start-up would grow without bound. Each replayed
  // record added at most one workload or orchestrator.
  const std::uint64_t size_now = book_size(*st.replica);
  st.interval = snapshot_interval(st.every_records, size_now > replayed ? size_now - replayed : 0);
  st.records_since_snapshot = replayed;  // a node restarted often still snapshots
  st.actor_metrics = &metrics->actor("snapshotter");
  st.metrics = metrics;
  st.actor_metrics->live->Increment();
  self->attach_functor([owner = metrics, m = st.actor_metrics] { m->live->Decrement(); });  // runs after the state is gone
  return {
      [=](SnapshotFeed& feed) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto& s = self->state;
        for (std::size_t i = 0; i < feed.effects.size(); ++i) {
          const std::uint64_t seq = feed.first_seq + i;
          std::optional<std::string> err;
          if (seq != s.replica->last_seq() + 1)
            err = "record seq " + std::to_string(seq) + " after seq " + std::to_string(s.replica->last_seq());
          else
            err = s.replica->apply(feed.effects[i], seq);
          // The replica applies the effects the book applied, as start-up's replay applies the
          // journal's records: one it refuses means the book the node serves and what the
          // journal replays to may differ. Going on would acknowledge more on top of that
          // (and a start-up that cannot replay it would then hold all of it); stopping now
          // makes start-up rebuild the book from the journal, or refuse, at once.
          if (err)
            stop_process("snapshotter: the replica of the book refused record seq " + std::to_string(seq) + ": " + *err +
                         "; the book and the journal's replay may differ");
        }
        s.records_since_snapshot += feed.effects.size();
        // The size at the last snapshot, not the current one: a stream of new workloads grows
        // the book as fast as the count, which would then never catch up with it.
        if (s.records_since_snapshot < s.interval) return;
        s.records_since_snapshot = 0;
        s.interval = snapshot_interval(s.every_records, book_size(*s.replica));
        write_snapshot(self);
      },
  };
}

}  // namespace lpops::actors
