#pragma once
#include <caf/all.hpp>

#include "config/settings.hpp"

namespace lpops::app {

// Registers the orchestrators of PAYMENTS_BOOTSTRAP_ORCHESTRATORS and the file at
// PAYMENTS_BOOTSTRAP_ORCHESTRATORS_PATH (default orchestrators.json in the data directory; a
// list, one object, or an id -> object map), validated like HTTP registrations; duplicate ids
// or addresses are dropped. Sent together and awaited together (their journal writes share
// group commits). Text that is no JSON list or object throws (start-up stops).
void run_bootstrap(const config::Settings& settings, const caf::actor& registry);

}  // namespace lpops::app
