#include "actors/journal.hpp"
#include "actors/fatal.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iterator>
#include <optional>

namespace lpops::actors {
namespace {

using Self = caf::stateful_actor<JournalState>;
using SyncSelf = caf::stateful_actor<JournalSyncState>;

// Memory now holds effects the disk may not: continuing could acknowledge lost work.
[[noreturn]] void die(const std::string& why) { stop_process("journal: " + why); }

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

namespace {

// Takes the next group commit from the queue: at most max_records records, and the
// acknowledgements that wait for nothing after them. Nothing to take (no record, no
// acknowledgement): the sync actor goes idle (busy cleared under the same lock, so the next
// append wakes it).
std::optional<SyncBatch> take_batch(JournalQueue& q, std::size_t max_records, std::uint64_t durable_seq,
                                    std::size_t& queued) {
  std::lock_guard lock(q.mutex);
  queued = q.records.size();
  if (q.records.empty() && q.acks.empty()) {
    q.busy = false;
    return std::nullopt;
  }
  SyncBatch b;
  const std::size_t n = std::min(q.records.size(), max_records);
  b.first_seq = q.first_seq;
  b.records = take_front(q.records, n);
  b.effects = take_front(q.effects, n);
  for (auto& line : take_front(q.audit_lines, n))
    if (!line.empty()) b.audit_lines.push_back(std::move(line));
  q.first_seq += n;
  const std::uint64_t last = n > 0 ? b.first_seq + n - 1 : durable_seq;
  std::size_t k = 0;
  while (k < q.acks.size() && q.acks[k].first <= last) ++k;
  b.acks.reserve(k);
  for (std::size_t i = 0; i < k; ++i) b.acks.push_back(std::move(q.acks[i].second));
  q.acks.erase(q.acks.begin(), q.acks.begin() + static_cast<std::ptrdiff_t>(k));
  return b;
}

}  // namespace

caf::behavior journal_sync_actor(SyncSelf* self, std::shared_ptr<JournalQueue> queue,
                                 std::shared_ptr<storage::RecordStore> store, std::shared_ptr<Metrics> metrics,
                                 caf::actor snapshotter, std::shared_ptr<storage::AuditLog> audit, caf::actor auditor,
                                 JournalOptions options) {
  stop_process_on_exception(self, "journal.sync");
  auto& st = self->state;
  st.queue = std::move(queue);
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
  st.durable_seq = st.queue->first_seq - 1;  // the Journal sets it to its last seq + 1 first
  self->attach_functor([owner = st.metrics, m = st.actor_metrics] { m->live->Decrement(); });  // runs after the state is gone
  return {
      // Woken by the Journal: commit batches until the queue is empty.
      [=](sync_atom) {
        auto& s = self->state;
        std::size_t queued = 0;
        while (auto batch = take_batch(*s.queue, s.options.max_batch_records, s.durable_seq, queued)) {
          HandlerTimer timer(*s.actor_metrics, self);
          s.metrics->journal_queued_records().Set(static_cast<double>(queued));
          SyncBatch& b = *batch;
          if (!b.records.empty()) {
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
            s.durable_seq = b.first_seq + b.records.size() - 1;
          }
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
          if (s.snapshotter && !b.effects.empty()) {
            if (s.feed.effects.empty()) {
              s.feed.first_seq = b.first_seq;
              s.feed.effects = std::move(b.effects);
              // Room for the feed's size, so later batches append without moving it again.
              s.feed.effects.reserve(std::max(s.feed.effects.size(), 2 * s.options.snapshot_feed_records));
            } else {
              std::move(b.effects.begin(), b.effects.end(), std::back_inserter(s.feed.effects));
            }
            if (s.feed.effects.size() >= s.options.snapshot_feed_records) {
              self->send(s.snapshotter, std::move(s.feed));
              s.feed = SnapshotFeed{};
            }
          }
          for (auto& ack : b.acks) ack();
        }
      },
  };
}

Journal::Journal(caf::event_based_actor* host, JournalSetup setup)
    : host_(host),
      options_(setup.options),
      last_seq_(setup.last_seq),
      last_hash_(setup.last_hash),
      queue_(std::make_shared<JournalQueue>()),
      audit_(setup.audit),
      addresses_(std::move(setup.addresses)) {
  options_.max_batch_records = std::max<std::size_t>(options_.max_batch_records, 1);
  queue_->first_seq = last_seq_ + 1;
  syncer_ = host->spawn<caf::detached + caf::linked>(journal_sync_actor, queue_, std::move(setup.store),
                                                     std::move(setup.metrics), std::move(setup.snapshotter),
                                                     std::move(setup.audit), std::move(setup.auditor), options_);
  host->attach_functor([a = audit_] {
    if (a) (void)a->sync();  // stopping: make the log durable
  });
}

void Journal::append(std::uint64_t seq, Effect effect, std::function<void()> on_durable) {
  if (seq != last_seq_ + 1) die("record seq " + std::to_string(seq) + " arrived after seq " + std::to_string(last_seq_));
  effect_text_.clear();
  effect.append_json(effect_text_);
  storage::FramedRecord record = storage::frame_record(seq, last_hash_, effect_text_);
  if (record.line.size() > storage::kMaxRecordBytes) die("record larger than the journal's limit");
  last_hash_ = record.hash;
  last_seq_ = seq;
  std::optional<std::string> line;
  if (audit_) line = audit_line_for(*audit_, addresses_, effect, seq);
  // The entry's metadata is in the record and the audit line now; nothing downstream (the
  // snapshot replica) reads it. Freed here, on the thread that built it, which is cheaper
  // than on the replica's.
  if (effect.entry) effect.entry->metadata = {};
  bool wake = false;
  {
    std::lock_guard lock(queue_->mutex);
    queue_->records.push_back(std::move(record));
    queue_->audit_lines.push_back(line ? std::move(*line) : std::string());
    queue_->effects.push_back(std::move(effect));
    if (on_durable) queue_->acks.emplace_back(seq, std::move(on_durable));
    wake = !std::exchange(queue_->busy, true);
  }
  if (wake) host_->send(syncer_, sync_atom::value);
}

void Journal::barrier(std::function<void()> on_durable) {
  {
    std::lock_guard lock(queue_->mutex);
    if (queue_->busy) {
      // Runs after the batch in progress and everything queued (all of it is <= last_seq_).
      queue_->acks.emplace_back(last_seq_, std::move(on_durable));
      return;
    }
  }
  on_durable();  // idle sync actor: everything appended is durable
}

caf::behavior journal_actor(Self* self, std::shared_ptr<storage::RecordStore> store, std::shared_ptr<Metrics> metrics,
                            std::uint64_t last_seq, Digest32 last_hash, caf::actor snapshotter,
                            std::shared_ptr<storage::AuditLog> audit, caf::actor auditor,
                            AddressBook addresses, JournalOptions options) {
  stop_process_on_exception(self, "journal");
  auto& st = self->state;
  st.actor_metrics = &metrics->actor("journal");
  st.actor_metrics->live->Increment();
  self->attach_functor([owner = metrics, m = st.actor_metrics] { m->live->Decrement(); });  // runs after the state is gone
  st.journal = std::make_unique<Journal>(self, JournalSetup{std::move(store), std::move(metrics), last_seq, last_hash,
                                                            std::move(snapshotter), std::move(audit), std::move(auditor),
                                                            std::move(addresses), options});
  caf::message_handler append{[=](JournalAppend& a) {
    HandlerTimer timer(*self->state.actor_metrics, self);
    self->state.journal->append(a.seq, std::move(a.effect), std::move(a.on_durable));
  }};
  return append.or_else(journal_handlers(self));
}

}  // namespace lpops::actors
