#include "actors/fatal.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <exception>

namespace lpops::actors {

void stop_process(const std::string& why) {
  spdlog::critical("{}; stopping the process so that start-up recovers from disk", why);
  spdlog::default_logger()->flush();
  std::_Exit(70);
}

void stop_process_on_exception(caf::scheduled_actor* self, std::string actor_name) {
  self->set_exception_handler([name = std::move(actor_name)](caf::scheduled_actor*, std::exception_ptr& e) -> caf::error {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      what = x.what();
    } catch (...) {
    }
    stop_process("actor " + name + " failed with an unexpected exception (" + what + ")");
  });
}

}  // namespace lpops::actors
