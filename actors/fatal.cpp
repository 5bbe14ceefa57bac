#include "actors/fatal.hpp"

#include <pthread.h>

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
  // A detached actor has its thread to itself: named after it ("lpops-journal"), so that
  // top -H, perf and /proc/PID/task tell the threads apart (15 characters at most).
  if (self->getf(caf::abstract_actor::is_detached_flag)) {
    const std::string thread_name = ("lpops-" + actor_name).substr(0, 15);
    pthread_setname_np(pthread_self(), thread_name.c_str());
  }
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
