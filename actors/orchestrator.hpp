#pragma once
// One actor per orchestrator: its registry record, health and eligibility. Every change
// goes to the ledger actor as a record upsert, which journals it before the reply.
#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "actors/metrics.hpp"

namespace lpops::actors {

struct OrchestratorState {
  static inline const char* name = "orchestrator";
  boost::json::object record;
  caf::actor ledger;
  std::int64_t health_ttl_seconds = 120;
  ActorMetrics* actor_metrics = nullptr;
  HandledCount handled;
};

caf::behavior orchestrator_actor(caf::stateful_actor<OrchestratorState>* self, boost::json::object record,
                                 caf::actor ledger, std::shared_ptr<Metrics> metrics, std::int64_t health_ttl_seconds);

}  // namespace lpops::actors
