// The chain thread's tasks: one that throws still tells whoever waits for its outcome.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <stdexcept>

#include "app/chain_runtime.hpp"

namespace lpops::app {
namespace {

TEST(ChainRuntime, ATaskThatThrowsSaysWhyAndIsAnsweredOnce) {
  ChainRuntime chain;
  ASSERT_TRUE(chain.http("http://127.0.0.1:9").ok());  // starts its thread, as the node's set-up does
  std::promise<std::string> told;
  auto outcome = told.get_future();
  std::atomic<int> answers{0};
  auto done = once(std::function<void(std::string)>([&](std::string s) {
    ++answers;
    told.set_value(std::move(s));
  }));
  chain.spawn(
      [done]() -> boost::asio::awaitable<void> {
        throw std::runtime_error("the node sent nonsense");
        done("never");
        co_return;
      },
      [done](std::string why) { done("failed: " + why); });
  ASSERT_EQ(outcome.wait_for(std::chrono::seconds(10)), std::future_status::ready) << "nobody was told";
  EXPECT_EQ(outcome.get(), "failed: the node sent nonsense");
  done("again");  // a late second answer is dropped
  EXPECT_EQ(answers.load(), 1);
}

}  // namespace
}  // namespace lpops::app
