#pragma once
// The reader actor loads journal records for listings. It runs detached because it does
// blocking file reads, which must stay off both the I/O threads and the scheduler.
#include <caf/all.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "storage/record_store.hpp"

namespace lpops::actors {

struct ReadLedgerEvents {
  std::vector<std::uint64_t> seqs;  // newest first
  Reply reply;
};

// A large answer written off the ledger's thread (a listing of every workload): `render` reads
// only what it holds (shared, immutable records the ledger collected), so the ledger goes on
// with credits meanwhile.
struct RenderAnswer {
  std::function<std::pair<int, std::string>()> render;
  Reply reply;
};

struct ReaderState {
  static inline const char* name = "reader";
  std::shared_ptr<storage::RecordStore> store;
  std::shared_ptr<Metrics> metrics;
  ActorMetrics* actor_metrics = nullptr;
  HandledCount handled;
};

caf::behavior reader_actor(caf::stateful_actor<ReaderState>* self, std::shared_ptr<storage::RecordStore> store,
                           std::shared_ptr<Metrics> metrics);

}  // namespace lpops::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::ReadLedgerEvents)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::RenderAnswer)
