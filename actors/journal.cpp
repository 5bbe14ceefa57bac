#include "actors/journal.hpp"
#include "actors/fatal.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace lpops::actors {
namespace {

using Self = caf::stateful_actor<JournalState>;
using SyncSelf = caf::stateful_actor<JournalSyncState>;

// Memory now holds effects the disk may not: continuing could acknowledge lost work.
[[noreturn]] void die(const std::string& why) { stop_process("journal: " + why); }

// Moves the acknowledgements whose records are all in `durable_seq` or before into `out`.
void take_ready(JournalState& st, std::uint64_t durable_seq, std::vector<std::function<void()>>& out) {
  std::size_t n = 0;
  while (n < st.waiting.size() && st.waiting[n].first <= durable_seq) ++n;
  if (n == 0) return;
  out.reserve(out.size() + n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(std::move(st.waiting[i].second));
  st.waiting.erase(st.waiting.begin(), st.waiting.begin() + static_cast<std::ptrdiff_t>(n));
}

// Moves the first n elements of v out (all of them without copying the vector).
template <class T>
std::vector<T> take_front(std::vector<T>& v, std::size_t n) {
  std::vector<T> out;
  if (n == v.size()) {
    out.swap(v);
    return out;
  }
  const auto end = v.begin() + static_cast<std::ptrdiff_t>(n);
  out.assign(std::make_move_iterator(v.begin()), std::make_move_iterator(end));
  v.erase(v.begin(), end);
  return out;
}

// Hands the framed records (at most max_batch_records) to the sync actor, unless it is
// still busy with the previous batch; then they go when it reports back.
void hand_over(Self* self) {
  auto& st = self->state;
  if (st.syncing) return;
  // Everything handed over before is durable: acknowledgements that wait only for that
  // (barriers) run now.
  std::vector<std::function<void()>> ready;
  take_ready(st, st.handed_seq, ready);
  for (auto& ack : ready) ack();
  if (st.records.empty()) return;
  const std::size_t n = std::min(st.records.size(), st.options.max_batch_records);
  SyncBatch b;
  b.first_seq = st.handed_seq + 1;
  b.records = take_front(st.records, n);
  b.effects = take_front(st.effects, n);
  st.handed_seq += n;
  // The audit lines of those records (records without one have an empty line).
  for (auto& line : take_front(st.audit_lines, n))
    if (!line.empty()) b.audit_lines.push_back(std::move(line));
  take_ready(st, st.handed_seq, b.acks);
  st.syncing = true;
  self->send(st.syncer, std::move(b));
}

void request_flush(Self* self) {
  auto& st = self->state;
  if (st.syncing) return;  // the sync actor's report hands everything over
  if (st.records.size() >= st.options.max_batch_records) {
    hand_over(self);
    return;
  }
  if (!st.flush_scheduled) {
    st.flush_scheduled = true;
    // Queues behind everything already in the mailbox: that is the group.
    self->send(self, flush_atom::value);
  }
}

}  // namespace

chain::Address address_book_entry(std::string_view address) {
  auto parsed = chain::parse_address(address);
  return parsed ? *parsed : chain::Address{};
}

std::optional<std::string> audit_line_for(storage::AuditLog& audit, AddressBook& addresses,
                                          const Effect& effect, std::uint64_t journal_seq) {
  if (effect.type == Effect::Type::orchestrator && effect.orchestrator) {
    const auto* id = effect.orchestrator->if_contains("orchestrator_id");
    const auto* address = effect.orchestrator->if_contains("address");
    if (id && id->is_string() && address && address->is_string())
      addresses[std::string(id->as_string())] = address_book_entry(address->as_string());
    return std::nullopt;
  }
  if (!effect.entry) return std::nullopt;
  auto [kind, source] = storage::audit_kind_and_source(*effect.entry, effect.type);
  auto it = addresses.find(effect.entry->orchestrator_id);
  return audit.append_entry(*effect.entry, kind, source, it == addresses.end() ? chain::Address{} : it->second, journal_seq);
}

caf::behavior journal_sync_actor(SyncSelf* self, std::shared_ptr<storage::RecordStore> store, std::shared_ptr<Metrics> metrics,
                                 caf::actor snapshotter, std::shared_ptr<storage::AuditLog> audit, caf::actor auditor,
                                 JournalOptions options) {
  stop_process_on_exception(self, "journal.sync");
  auto& st = self->state;
  st.store = std::move(store);
  st.metrics = std::move(metrics);
  st.actor_metrics = &st.metrics->actor("journal.sync");
  st.actor_metrics->live->Increment();
  st.snapshotter = std::move(snapshotter);
  st.audit = std::move(audit);
  st.auditor = std::move(auditor);
  st.options = options;
  st.options.audit_notify_entries = std::max<std::uint64_t>(st.options.audit_notify_entries, 1);
  st.audit_written = st.audit ? st.audit->status().seq : 0;
  st.notified_step = st.audit_written / st.options.audit_notify_entries;
  self->attach_functor([owner = st.metrics, m = st.actor_metrics] { m->live->Decrement(); });  // runs after the state is gone
  return {
      [=](SyncBatch& b) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto& s = self->state;
        std::vector<const storage::FramedRecord*> records;
        records.reserve(b.records.size());
        std::size_t bytes = 0;
        for (const auto& r : b.records) {
          records.push_back(&r);
          bytes += r.line.size();
        }
        const auto start = std::chrono::steady_clock::now();
        if (auto err = s.store->append(records)) die(*err);
        s.metrics->journal_fsync_seconds().Observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        s.metrics->journal_batch_records().Observe(static_cast<double>(records.size()));
        s.metrics->journal_records().Increment(static_cast<double>(records.size()));
        s.metrics->journal_bytes().Increment(static_cast<double>(bytes));
        // The batch's audit entries, after the records they describe are durable (their own
        // durability follows the journal's: start-up regenerates any the journal has and the
        // log lacks). Syncing the log and signing checkpoints happen on the auditor's thread.
        if (s.audit && !b.audit_lines.empty()) {
          if (auto err = s.audit->write(b.audit_lines)) die(*err);
          // Told each time the log's size crosses a multiple of the checkpoint step, the
          // rule its checkpoints follow (so a notice never comes too early for a checkpoint).
          s.audit_written += b.audit_lines.size();
          const std::uint64_t step = s.audit_written / s.options.audit_notify_entries;
          if (s.auditor && step != s.notified_step) {
            self->send(s.auditor, audit_written_atom::value);
            s.notified_step = step;
          }
        }
        if (s.snapshotter) {
          if (s.feed.effects.empty()) {
            s.feed.first_seq = b.first_seq;
            s.feed.effects = std::move(b.effects);
          } else {
            for (auto& e : b.effects) s.feed.effects.push_back(std::move(e));
          }
          if (s.feed.effects.size() >= s.options.snapshot_feed_records) {
            self->send(s.snapshotter, std::move(s.feed));
            s.feed = SnapshotFeed{};
          }
        }
        for (auto& ack : b.acks) ack();
        // Urgent, so that the next batch goes out before the journal actor works through its
        // mailbox (which it frames while this batch syncs).
        self->send<caf::message_priority::high>(caf::actor_cast<caf::actor>(self->current_sender()), synced_atom::value);
      },
  };
}

caf::behavior journal_actor(Self* self, std::shared_ptr<storage::RecordStore> store, std::shared_ptr<Metrics> metrics,
                            std::uint64_t last_seq, Digest32 last_hash, caf::actor snapshotter,
                            std::shared_ptr<storage::AuditLog> audit, caf::actor auditor,
                            AddressBook addresses, JournalOptions options) {
  stop_process_on_exception(self, "journal");
  auto& st = self->state;
  st.metrics = metrics;
  st.actor_metrics = &st.metrics->actor("journal");
  st.actor_metrics->live->Increment();
  st.options = options;
  st.options.max_batch_records = std::max<std::size_t>(st.options.max_batch_records, 1);
  st.last_seq = st.handed_seq = last_seq;
  st.last_hash = last_hash;
  st.audit = audit;
  st.addresses = std::move(addresses);
  st.syncer = self->spawn<caf::detached + caf::linked>(journal_sync_actor, std::move(store), std::move(metrics),
                                                       std::move(snapshotter), std::move(audit), std::move(auditor),
                                                       st.options);
  self->attach_functor([a = st.audit] {
    if (a) (void)a->sync();  // stopping: make the log durable
  });
  self->attach_functor([owner = st.metrics, m = st.actor_metrics] { m->live->Decrement(); });  // runs after the state is gone
  return {
      [=](JournalAppend& a) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto& s = self->state;
        if (a.seq != s.last_seq + 1)
          die("record seq " + std::to_string(a.seq) + " arrived after seq " + std::to_string(s.last_seq));
        s.effect_text.clear();
        a.effect.append_json(s.effect_text);
        s.records.push_back(storage::frame_record(a.seq, s.last_hash, s.effect_text));
        if (s.records.back().line.size() > storage::kMaxRecordBytes) die("record larger than the journal's limit");
        s.last_hash = s.records.back().hash;
        s.last_seq = a.seq;
        std::optional<std::string> line;
        if (s.audit) line = audit_line_for(*s.audit, s.addresses, a.effect, a.seq);
        s.audit_lines.push_back(line ? std::move(*line) : std::string());
        s.effects.push_back(std::move(a.effect));
        if (a.on_durable) s.waiting.emplace_back(a.seq, std::move(a.on_durable));
        request_flush(self);
      },
      [=](JournalBarrier& b) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto& s = self->state;
        s.waiting.emplace_back(s.last_seq, std::move(b.on_durable));
        request_flush(self);
      },
      [=](flush_atom) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        self->state.flush_scheduled = false;
        hand_over(self);
      },
      [=](synced_atom) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        self->state.syncing = false;
        hand_over(self);
      },
  };
}

}  // namespace lpops::actors
