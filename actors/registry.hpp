#pragma once
// The registry actor: the directory of orchestrator actors and the rules that span them
// (rate limits, the denylist, one address per orchestrator). It spawns one orchestrator
// actor per registered id.
#include <caf/all.hpp>

#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "domain/sliding_window.hpp"

namespace lpops::actors {

struct RegistryOptions {
  std::set<std::string> address_denylist;  // lower-cased
  std::size_t registrations_per_minute = 5;
  std::size_t registration_burst = 5;      // per 10 s
  std::int64_t health_ttl_seconds = 120;   // PAYMENTS_FORWARDER_HEALTH_TTL_SECONDS: eligibility in replies
  // PAYMENTS_BOOTSTRAP_SKIP_RANK_VALIDATION: bootstrap entries skip the rank check (when one is
  // configured); false puts them through it as registrations are.
  bool bootstrap_skips_rank_check = true;
};

struct RegistryState {
  static inline const char* name = "registry";
  struct Entry {
    caf::actor actor;
    std::string address;  // lower-cased
    bool denylisted = false;  // as the record says (the flag is never cleared)
  };
  std::unordered_map<std::string, Entry> orchestrators;
  std::unordered_map<std::string, std::string> by_address;  // lower-cased address -> id
  caf::actor ledger;
  caf::actor rank;  // unset: no rank check
  std::shared_ptr<Metrics> metrics;
  ActorMetrics* actor_metrics = nullptr;
  RegistryOptions options;
  std::unique_ptr<SlidingWindow> per_minute, burst;
  HandledCount handled;
};

// Start-up, before the registry and anything served: records whose address joined the
// denylist since they were written are flagged (the flag sticks), in the ledger's copy too
// (views, payouts and credentials read that one), and the flag is durable when this returns.
// An error names the record whose flag was not stored.
std::optional<std::string> flag_denylisted_at_start(std::vector<boost::json::object>& records,
                                                    const std::set<std::string>& denylist, const caf::actor& ledger);

// `rank`: the rank actor when TOP_CONTRACT_ADDRESS is set, else unset.
// `records` are the durable orchestrator records to start from (start-up recovery).
caf::behavior registry_actor(caf::stateful_actor<RegistryState>* self, std::vector<boost::json::object> records,
                             caf::actor ledger, std::shared_ptr<Metrics> metrics, RegistryOptions options,
                             caf::actor rank = {});

}  // namespace lpops::actors
