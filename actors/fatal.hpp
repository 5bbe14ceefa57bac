#pragma once
// What the node does when it cannot go on safely: log why and exit with status 70, so that a
// supervisor restarts it and start-up rebuilds every actor's state from the journal.
#include <caf/all.hpp>

#include <string>

namespace lpops::actors {

[[noreturn]] void stop_process(const std::string& why);

// An exception escaping one of the actor's handlers is a bug: the actor's state may be half
// changed, and everyone waiting on a reply from it would wait forever. Rather than let CAF
// quietly end the actor, stop the process.
void stop_process_on_exception(caf::scheduled_actor* self, std::string actor_name);

}  // namespace lpops::actors
