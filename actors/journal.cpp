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
    // The batch's audit entries, in the same flush (their durability follows the journal's:
    // start-up regenerates any the journal has and the log lacks).
    if (st.audit && !st.audit_lines.empty()) {
      if (auto err = st.audit->write(st.audit_lines)) die(*err);
      st.audit_lines.clear();
      // Syncing the audit log and signing checkpoints happen on the auditor's thread.
      if (st.auditor) self->send(st.auditor, audit_written_atom::value);
    }
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

std::optional<std::string> audit_line_for(storage::AuditLog& audit, std::unordered_map<std::string, std::string>& addresses,
                                          const Effect& effect, std::uint64_t journal_seq) {
  if (effect.type == Effect::Type::orchestrator && effect.orchestrator) {
    const auto* id = effect.orchestrator->if_contains("orchestrator_id");
    const auto* address = effect.orchestrator->if_contains("address");
    if (id && id->is_string() && address && address->is_string())
      addresses[std::string(id->as_string())] = std::string(address->as_string());
    return std::nullopt;
  }
  if (!effect.entry) return std::nullopt;
  auto [kind, source] = storage::audit_kind_and_source(*effect.entry, effect.type);
  auto it = addresses.find(effect.entry->orchestrator_id);
  return audit.append_entry(*effect.entry, kind, source, it == addresses.end() ? std::string() : it->second, journal_seq);
}

caf::behavior journal_actor(caf::stateful_actor<JournalState>* self, std::shared_ptr<storage::RecordStore> store,
                            std::shared_ptr<Metrics> metrics, std::uint64_t last_seq, Digest32 last_hash,
                            caf::actor snapshotter, std::shared_ptr<storage::AuditLog> audit,
                            caf::actor auditor, std::unordered_map<std::string, std::string> addresses,
                            JournalOptions options) {
  auto& st = self->state;
  st.store = std::move(store);
  st.metrics = std::move(metrics);
  st.actor_metrics = &st.metrics->actor("journal");
  st.actor_metrics->live->Increment();
  st.options = options;
  st.last_seq = last_seq;
  st.last_hash = last_hash;
  st.snapshotter = std::move(snapshotter);
  st.audit = std::move(audit);
  st.auditor = std::move(auditor);
  st.addresses = std::move(addresses);
  self->attach_functor([a = st.audit] {
    if (a) (void)a->sync();  // stopping: make the log durable
  });
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
        if (s.audit)
          if (auto line = audit_line_for(*s.audit, s.addresses, a.effect, a.seq)) s.audit_lines.push_back(std::move(*line));
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
      },
  };
}

}  // namespace lpops::actors
