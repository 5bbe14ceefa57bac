#pragma once
#include <caf/all.hpp>

#include <optional>
#include <vector>

#include "config/settings.hpp"
#include "domain/orchestrator.hpp"

namespace lpops::app {

struct BootstrapEntry {
  Registration registration;
  bool single = false;  // the single-orchestrator mode's own registration
};

// Reads and validates the orchestrators to register at start: the single-orchestrator mode's
// own (PAYMENTS_SINGLE_ORCHESTRATOR_MODE), PAYMENTS_BOOTSTRAP_ORCHESTRATORS and the file at
// PAYMENTS_BOOTSTRAP_ORCHESTRATORS_PATH (default orchestrators.json in the data directory; a
// list, one object, or an id -> object map), validated like HTTP registrations. Entries that
// do not validate, are no object, or repeat an earlier id or address are skipped with a
// warning. Throws std::runtime_error (start-up stops, before the port is bound) for text that
// is no JSON list or object, a path that is a directory, or a single-mode registration that
// does not validate.
std::vector<BootstrapEntry> prepare_bootstrap(const config::Settings& settings);

// Registers them in order. Sent together and awaited together (their journal writes share
// group commits); a stop signal ends it early (the rest register on the next start).
void run_bootstrap(std::vector<BootstrapEntry> entries, const caf::actor& registry);

}  // namespace lpops::app
