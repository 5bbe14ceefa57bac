#pragma once
// The ledger actor owns the book: balances, workloads and idempotency keys. It is the only
// place where money changes and the sequencer of every journal record: it applies a
// command's effect, then frames it into the journal it hosts (actors/journal.hpp), whose
// sync actor acknowledges once durable. Spawned detached: its thread does the book's work
// and the framing, and sleeps only when there is nothing to do.
#include <caf/all.hpp>

#include <memory>
#include <optional>
#include <unordered_map>

#include "actors/journal.hpp"
#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "chain/credential.hpp"
#include "domain/book.hpp"
#include "domain/rate.hpp"

namespace lpops::actors {

struct LedgerOptions {
  Rate workload_time_rate;
};

// The ledger tree of GET …/ledger-entry|ledger-proof. Brought up to date when asked for
// after the book changed: while no id was added, only the leaves of the ids the book
// reports changed (Book::take_changes) are rehashed, with their paths; otherwise rebuilt.
struct LedgerTreeCache {
  std::uint64_t seq = 0;
  std::size_t id_count = 0;
  std::optional<chain::credential::LedgerTree> tree;
  std::unordered_map<std::string, std::size_t> index;  // leaf index by orchestrator id
};

// The tree over every registered orchestrator with a valid address, as of `book` now.
const chain::credential::LedgerTree& refresh_ledger_tree(Book& book, LedgerTreeCache& cache);

struct LedgerState {
  static inline const char* name = "ledger";
  std::unique_ptr<Book> book;
  std::unique_ptr<Journal> journal;
  LedgerOptions options;
  ActorMetrics* actor_metrics = nullptr;
  HandledCount handled;
  LedgerTreeCache ledger_tree;
  // Revocations of each orchestrator's tokens in this run (a token request in flight during one
  // is refused; after a restart no request is in flight).
  std::unordered_map<std::string, std::uint64_t> revocations;
};

// Also answers JournalBarrier (runs once everything before it is durable).
caf::behavior ledger_actor(caf::stateful_actor<LedgerState>* self, std::shared_ptr<Book> book, JournalSetup journal,
                           std::shared_ptr<Metrics> metrics, LedgerOptions options);

// 32 hex digits of 128 bits from the system's CSPRNG, as Python's uuid4().hex draws them.
std::string random_hex_id();

}  // namespace lpops::actors
