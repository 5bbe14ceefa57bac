// An exception escaping an actor's handler stops the process (exit status 70) instead of
// ending the actor quietly and leaving its callers waiting forever.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "actors/fatal.hpp"

namespace lpops::actors {
namespace {

// (One argument: CAF 0.17 binds a null tuple for functions that take none, which UBSan flags.)
caf::behavior throwing_actor(caf::event_based_actor* self, std::string name) {
  stop_process_on_exception(self, std::move(name));
  return {[](int) { throw std::runtime_error("boom"); }};
}

TEST(FatalDeathTest, AnExceptionInAnActorStopsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        caf::actor_system_config cfg;
        caf::actor_system sys{cfg};
        caf::anon_send(sys.spawn(throwing_actor, std::string("test")), 1);
        std::this_thread::sleep_for(std::chrono::seconds(10));  // never reached: the exit comes first
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(70), "");
}

}  // namespace
}  // namespace lpops::actors
