#pragma once
// The snapshotter keeps a replica of the book, fed with the effects of every durable
// journal batch, and writes it as a snapshot every so many records. The ledger never
// copies or serialises its book for a snapshot, so a large book costs the snapshot
// thread time, never the ledger's latency.
#include <caf/all.hpp>

#include <memory>
#include <vector>

#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "domain/book.hpp"
#include "storage/record_store.hpp"

namespace lpops::actors {

struct SnapshotterState {
  static inline const char* name = "snapshotter";
  std::unique_ptr<Book> replica;
  std::shared_ptr<storage::RecordStore> store;
  ActorMetrics* actor_metrics = nullptr;
  std::shared_ptr<Metrics> metrics;
  std::uint64_t every_records = 100'000;
  std::uint64_t interval = 100'000;  // records from one snapshot to the next
  std::uint64_t records_since_snapshot = 0;
  HandledCount handled;
};

// Records between snapshots, given the book's size (workloads + orchestrators) when the last
// one was written (or at start): the configured interval, and never less than that size, so
// that writing snapshots costs amortised O(1) per record (each costs O(book size)) while the
// journal tail replayed at start-up stays within the book's size.
std::uint64_t snapshot_interval(std::uint64_t every_records, std::uint64_t book_size);

// `replica` is a copy of the book as recovered at start-up (its last_seq is the journal's);
// `replayed` the records since the snapshot it started from, which count towards the next.
caf::behavior snapshotter_actor(caf::stateful_actor<SnapshotterState>* self, std::shared_ptr<Book> replica,
                                std::shared_ptr<storage::RecordStore> store, std::shared_ptr<Metrics> metrics,
                                std::uint64_t every_records, std::uint64_t replayed);

}  // namespace lpops::actors
