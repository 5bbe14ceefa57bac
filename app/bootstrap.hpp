#pragma once
#include <caf/all.hpp>

#include <set>
#include <string>

#include "config/settings.hpp"

namespace lpops::app {

// Registers the orchestrators of PAYMENTS_BOOTSTRAP_ORCHESTRATORS and the file at
// PAYMENTS_BOOTSTRAP_ORCHESTRATORS_PATH (default orchestrators.json in the data directory; a
// list, one object, or an id -> object map), validated like HTTP registrations; duplicate ids
// or addresses are dropped. Orchestrators not in `known` are registered one after another, so
// they are listed in the order given; the known ones are refreshed together. Text that is no
// JSON list or object throws (start-up stops).
void run_bootstrap(const config::Settings& settings, const caf::actor& registry, const std::set<std::string>& known);

}  // namespace lpops::app
