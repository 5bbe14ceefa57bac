#include "actors/journal.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>

namespace lpops::actors {
namespace {

[[noreturn]] void die(const std::string& why) {
  // Memory now holds effects the disk may not: continuing could acknowledge lost work.
  spdlog::critical("journal: {}; stopping the process so that start-up recovers from disk", why);
  spdlog::default_logger()->flush();
  std::_Exit(70);
}

void flush(caf::stateful_actor<JournalState>* self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (!st.batch.empty()) {
    std::vector<const storage::FramedRecord*> records;
    records.reserve(st.batch.size());
    std::size_t bytes = 0;
    for (const auto& r : st.batch) {
      records.push_back(&r);
      bytes += r.line.size();
    }
    auto start = std::chrono::steady_clock::now();
    if (auto err = st.store->append(records)) die(*err);
    st.metrics->journal_fsync_seconds().Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    st.metrics->journal_batch_records().Observe(static_cast<double>(records.size()));
    st.metrics->journal_records().Increment(static_cast<double>(records.size()));
    st.metrics->journal_bytes().Increment(static_cast<double>(bytes));
    const std::uint64_t first_seq = st.last_seq + 1 - st.batch.size();
    st.batch.clear();
    if (st.snapshotter) self->send(st.snapshotter, SnapshotFeed{first_seq, std::move(st.batch_effects)});
    st.batch_effects.clear();
  }
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  for (auto& ack : waiting) ack();
}

void schedule_flush(caf::stateful_actor<JournalState>* self) {
  auto& st = self->state;
  if (st.batch.size() >= st.options.max_batch_records) {
    flush(self);
    return;
  }
  if (!st.flush_scheduled) {
    st.flush_scheduled = true;
    // Queues behind everything already in the mailbox: that is the group.
    self->send(self, flush_atom::value);
  }
}

}  // namespace

caf::behavior journal_actor(caf::stateful_actor<JournalState>* self, std::shared_ptr<storage::RecordStore> store,
                            std::shared_ptr<Metrics> metrics, std::uint64_t last_seq, Digest32 last_hash,
                            caf::actor snapshotter, JournalOptions options) {
  auto& st = self->state;
  st.store = std::move(store);
  st.metrics = std::move(metrics);
  st.actor_metrics = &st.metrics->actor("journal");
  st.actor_metrics->live->Increment();
  st.options = options;
  st.last_seq = last_seq;
  st.last_hash = last_hash;
  st.snapshotter = std::move(snapshotter);
  self->attach_functor([m = st.actor_metrics] { m->live->Decrement(); });
  return {
      [=](JournalAppend& a) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto& s = self->state;
        if (a.seq != s.last_seq + 1)
          die("record seq " + std::to_string(a.seq) + " arrived after seq " + std::to_string(s.last_seq));
        s.batch.push_back(storage::frame_record(a.seq, s.last_hash, a.effect.to_json()));
        if (s.batch.back().line.size() > storage::kMaxRecordBytes) die("record larger than the journal's limit");
        s.last_hash = s.batch.back().hash;
        s.last_seq = a.seq;
        s.batch_effects.push_back(std::move(a.effect));
        if (a.on_durable) s.waiting.push_back(std::move(a.on_durable));
        schedule_flush(self);
      },
      [=](JournalBarrier& b) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        self->state.waiting.push_back(std::move(b.on_durable));
        schedule_flush(self);
      },
      [=](flush_atom) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        flush(self);
      },  };
}

}  // namespace lpops::actors
