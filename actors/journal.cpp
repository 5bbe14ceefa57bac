#include "actors/journal.hpp"
#include "actors/fatal.hpp"
#include "domain/canonical_json.hpp"
#include "domain/book.hpp"
#include "domain/json_parse.hpp"
#include "domain/money.hpp"
#include "domain/orchestrator.hpp"
#include "storage/record_format.hpp"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <unordered_set>

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
  auto parsed = chain::parse_address_any_case(address);
  return parsed ? *parsed : chain::Address{};
}

namespace {

// What the audit entry of one journal record is made of; none for a record that changes no
// balance (an orchestrator record only updates `addresses`).
struct AuditInput {
  std::string kind, source;
  chain::Address recipient{};
};

std::optional<AuditInput> audit_input_for(AddressBook& addresses, const Effect& effect) {
  if (effect.type == Effect::Type::orchestrator && effect.orchestrator) {
    const auto* id = effect.orchestrator->if_contains("orchestrator_id");
    const auto* address = effect.orchestrator->if_contains("address");
    if (id && id->is_string() && address && address->is_string())
      addresses[std::string(id->as_string())] = address_book_entry(address->as_string());
    return std::nullopt;
  }
  if (!effect.entry) return std::nullopt;
  auto [kind, source] = storage::audit_kind_and_source(*effect.entry, effect.type);
  // The ledger's own entries (the policy) go to no one, whatever registered that id once.
  auto it = effect.entry->orchestrator_id == kSystemOrchestratorId ? addresses.end()
                                                                    : addresses.find(effect.entry->orchestrator_id);
  return AuditInput{std::move(kind), std::move(source), it == addresses.end() ? chain::Address{} : it->second};
}

}  // namespace

std::optional<std::string> audit_line_for(storage::AuditLog& audit, AddressBook& addresses,
                                          const Effect& effect, std::uint64_t journal_seq) {
  auto in = audit_input_for(addresses, effect);
  if (!in) return std::nullopt;
  return audit.append_entry(*effect.entry, in->kind, in->source, in->recipient, journal_seq);
}

Result<Effect> read_journal_effect(const storage::RecordStore& store, std::uint64_t seq) {
  auto line = store.read(seq);
  if (!line) return Error{"journal record " + std::to_string(seq) + " cannot be read"};
  auto parsed = storage::parse_record(*line);
  if (!parsed) return Error{"journal record " + std::to_string(seq) + ": " + parsed.error()};
  auto effect = Effect::from_json(parsed->effect);
  if (!effect) return Error{"journal record " + std::to_string(seq) + ": " + effect.error()};
  return effect;
}

std::optional<std::string> check_audit_against_journal(const storage::AuditLog& audit, AddressBook addresses,
                                                       const storage::RecordStore& store, std::uint64_t first,
                                                       std::uint64_t last, std::uint64_t journal_last) {
  if (first > last) return std::nullopt;
  const std::string remedy =
      ": the journal is not the one this log was written from (a journal.jsonl copied from another data directory or "
      "restored from another backup: put this node's own back), or the log or the journal was altered after it was "
      "written. If the journal is this node's own and intact, move audit.jsonl, audit.index and audit.orchestrators "
      "aside to rebuild the log from it (the signed checkpoints hold for the rebuilt log)";
  // The journal_seq of a stored line, for where to start.
  auto cited = [&](std::uint64_t seq) -> Result<std::uint64_t> {
    auto line = audit.line(seq);
    boost::system::error_code ec;
    auto doc = line ? parse_json(*line, ec) : boost::json::value();
    const auto* j = doc.is_object() ? doc.as_object().if_contains("journal_seq") : nullptr;
    if (ec || !j || (!j->is_uint64() && !(j->is_int64() && j->as_int64() > 0)))
      return Error{"audit log: entry " + std::to_string(seq) + " names no journal record"};
    return j->to_number<std::uint64_t>();
  };
  std::uint64_t record = 1;
  chain::Hash256 prev{};
  if (first > 1) {
    auto before = cited(first - 1);
    if (!before) return before.error() + remedy;
    record = *before + 1;
    prev = audit.entry_hash(first - 1).value_or(chain::Hash256{});
  }
  const auto started = std::chrono::steady_clock::now();
  auto last_report = started;
  for (std::uint64_t seq = first; seq <= last; ++seq, ++record) {
    // The next journal record with a balance change is the one this entry must describe.
    std::optional<Effect> effect;
    std::optional<AuditInput> in;
    for (;; ++record) {
      if (record > journal_last)
        return "audit log: entry " + std::to_string(seq) + " describes no journal record: the journal's balance changes end before it" +
               remedy;
      auto e = read_journal_effect(store, record);
      if (!e) return "journal check: " + e.error() + " (read to compare audit entry " + std::to_string(seq) +
                     "); restore the journal; the snapshot alone is not the record";
      in = audit_input_for(addresses, *e);
      if (in) {
        effect = std::move(*e);
        break;
      }
    }
    const auto expected = storage::AuditLog::build(*effect->entry, in->kind, in->source, in->recipient, record, seq, prev);
    const auto stored = audit.line(seq);
    if (!stored) return "audit log: entry " + std::to_string(seq) + " cannot be read";
    bool same = *stored == expected.line;
    if (!same) {
      // The same entry spelled otherwise: in raw UTF-8, as versions before the lines were
      // ASCII-escaped wrote it (its spelling is checked where the log is read), or signed
      // (PAYMENTS_AUDIT_SIGN_ENTRIES), compared without signer and signature (the key or the
      // setting may have changed since it was written).
      boost::system::error_code ec;
      auto doc = parse_json(*stored, ec);
      if (!ec && doc.is_object() && doc.as_object().contains("audit_entry") && doc.at("audit_entry").is_object()) {
        auto& entry = doc.at("audit_entry").as_object();
        entry.erase("signer");
        entry.erase("signature");
        std::string text = canonical_json(doc);
        make_ascii_json(text);
        same = text == expected.line;
      }
    }
    if (!same)
      return "audit log: entry " + std::to_string(seq) + " differs from journal record " + std::to_string(record) +
             ", the balance change it must describe" + remedy;
    // The tree the next checkpoint signs is built from audit.index's hashes: each must be its
    // line's, or the checkpoint would commit to a leaf the log does not hold.
    if (audit.entry_hash(seq) != expected.hash)
      return "audit log: audit.index holds another hash for entry " + std::to_string(seq) +
             " than its line in audit.jsonl (the index was altered or damaged); move audit.index and audit.orchestrators "
             "aside: the next start rebuilds them from audit.jsonl";
    prev = expected.hash;
    if (const auto now = std::chrono::steady_clock::now(); now - last_report > std::chrono::seconds(5)) {
      spdlog::info("audit log: compared {} of {} entries with the journal", seq - first + 1, last - first + 1);
      last_report = now;
    }
  }
  return std::nullopt;
}

std::optional<std::string> check_balances_against_audit(const storage::AuditLog& audit, const Book& book) {
  const std::string remedy =
      ": journal.jsonl, snapshot.json or the audit log was altered on disk. `lpops verify --log` checks the log against "
      "its signed checkpoints; restore the altered files from a backup (audit.index and audit.orchestrators may instead "
      "be moved aside: they are rebuilt from audit.jsonl)";
  // The balance the newest entry of `id` states ("0" when it has none); an error when that
  // entry is unreadable or names another orchestrator.
  auto stated = [&](const std::string& id) -> Result<std::pair<std::string, std::uint64_t>> {
    const auto seqs = audit.seqs(id, 0, 1, true);
    if (seqs.empty()) return std::pair<std::string, std::uint64_t>{"0", 0};
    const auto line = audit.line(seqs.front());
    boost::system::error_code ec;
    auto doc = line ? parse_json(*line, ec) : boost::json::value();
    const auto* entry = doc.is_object() ? doc.as_object().if_contains("audit_entry") : nullptr;
    const auto* owner = entry && entry->is_object() ? entry->as_object().if_contains("orchestrator_id") : nullptr;
    const auto* balance = entry && entry->is_object() ? entry->as_object().if_contains("balance_wei") : nullptr;
    if (ec || !owner || !owner->is_string() || !balance || !balance->is_string())
      return Error{"audit log: entry " + std::to_string(seqs.front()) + " cannot be read" + remedy};
    if (owner->as_string() != id)
      return Error{"audit log: entry " + std::to_string(seqs.front()) + " is listed under orchestrator " + id + " but names " +
                   std::string(owner->as_string()) + " (audit.orchestrators or audit.index was altered; move them aside "
                   "to have them rebuilt)"};
    return std::pair{std::string(balance->as_string()), seqs.front()};
  };
  std::optional<std::string> problem;
  std::unordered_set<std::string> seen;
  book.for_each_balance([&](const std::string& id, const SignedWei& balance) {
    if (problem) return;
    seen.insert(id);
    auto s = stated(id);
    if (!s) {
      problem = s.error();
      return;
    }
    if (s->first != format_wei(balance))
      problem = "the balance of " + id + " recovered from the journal is " + format_wei(balance) + " wei, but " +
                (s->second ? "its newest audit entry (" + std::to_string(s->second) + ") states " + s->first + " wei"
                           : std::string("the audit log has no entry for it")) +
                remedy;
  });
  if (problem) return problem;
  for (const auto& id : audit.orchestrator_ids()) {
    if (seen.count(id)) continue;
    auto s = stated(id);
    if (!s) return s.error();
    if (s->first != "0")
      return "the audit log's newest entry for " + id + " (" + std::to_string(s->second) + ") states " + s->first +
             " wei, but the journal has no account for it" + remedy;
  }
  return std::nullopt;
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
  st.snapshot_backlog = std::make_shared<SnapshotBacklog>(std::max<std::size_t>(st.options.snapshot_backlog_records, 1));
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
              s.feed.ticket = SnapshotBacklog::take(s.snapshot_backlog, s.feed.effects.size());
              self->send(s.snapshotter, std::move(s.feed));
              s.feed = SnapshotFeed{};
              // The replica must apply every effect, in order: while it is too far behind,
              // the next commit waits (its clients with it) rather than the backlog growing.
              if (s.snapshot_backlog->outstanding() > s.snapshot_backlog->limit()) {
                spdlog::warn("journal: the snapshotter is {} records behind (a snapshot being written?); commits wait for it",
                             s.snapshot_backlog->outstanding());
                const auto since = std::chrono::steady_clock::now();
                while (s.snapshot_backlog->wait_if_over(std::chrono::milliseconds(1000))) {
                }
                spdlog::info("journal: the snapshotter caught up after {:.1f} s",
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count());
              }
            }
          }
          for (auto& ack : b.acks) ack();
        }
        s.metrics->journal_queued_records().Set(static_cast<double>(queued));  // 0: the queue is drained
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
