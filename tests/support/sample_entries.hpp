#pragma once
// Ledger entries for tests of the audit log and its checkpoints: entry i credits orch-1
// 1000 + i wei, leaving a balance of 1000 × i.
#include <cstdint>
#include <string>

#include "domain/ledger_entry.hpp"

namespace lpops::testing {

inline LedgerEntry sample_credit_entry(std::uint64_t i) {
  LedgerEntry e;
  e.event_id = "workload_time:job-" + std::to_string(i);
  e.orchestrator_id = "orch-1";
  e.reason = "workload_time";
  e.delta = SignedWei{false, Wei(1000 + i)};
  e.balance_after = SignedWei{false, Wei(1000 * i)};
  e.at = 1'767'225'600'000'000 + static_cast<std::int64_t>(i);
  return e;
}

}  // namespace lpops::testing
