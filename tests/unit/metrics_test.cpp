#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "actors/metrics.hpp"

namespace lpops::actors {
namespace {

// Just what HandlerTimer reads of an actor: its count of handled messages and its mailbox.
struct FakeActor {
  struct {
    HandledCount handled;
  } state;
  struct Mailbox {
    std::size_t depth = 0;
    std::size_t size() const { return depth; }
    bool empty() const { return depth == 0; }
  } box;
  Mailbox& mailbox() { return box; }
};

TEST(Metrics, MailboxDepthIsSampledAndFallsBackToZeroWhenIdle) {
  Metrics metrics;
  ActorMetrics& m = metrics.actor("fake");
  FakeActor actor;
  actor.box.depth = 40;
  { HandlerTimer t(m, &actor); }  // the first message is sampled
  EXPECT_EQ(m.mailbox_depth->Value(), 40);
  actor.box.depth = 12;
  { HandlerTimer t(m, &actor); }  // not sampled (one in 64), the mailbox not empty: unchanged
  EXPECT_EQ(m.mailbox_depth->Value(), 40);
  actor.box.depth = 0;
  { HandlerTimer t(m, &actor); }  // found empty: no backlog shown on an idle actor
  EXPECT_EQ(m.mailbox_depth->Value(), 0);
  EXPECT_EQ(m.messages->Value(), 3);
}

// Actors of one kind share a series: it shows the sum of their samples, each actor's share
// replaced by its next sample and given back when it goes idle or stops.
TEST(Metrics, MailboxDepthOfAKindIsTheSumOfItsActors) {
  Metrics metrics;
  ActorMetrics& m = metrics.actor("fake");
  FakeActor busy;
  busy.box.depth = 30;
  { HandlerTimer t(m, &busy); }
  {
    FakeActor other;
    other.box.depth = 5;
    { HandlerTimer t(m, &other); }
    EXPECT_EQ(m.mailbox_depth->Value(), 35);
    other.box.depth = 0;
    { HandlerTimer t(m, &other); }  // idle: the other's share taken back, the busy one's kept
    EXPECT_EQ(m.mailbox_depth->Value(), 30);
    other.box.depth = 7;
    for (int i = 0; i < 63; ++i) {
      HandlerTimer t(m, &other);
    }
    EXPECT_EQ(m.mailbox_depth->Value(), 37);  // its 65th message sampled again
  }
  EXPECT_EQ(m.mailbox_depth->Value(), 30);  // a stopped actor's share goes with it
  busy.box.depth = 2;
  for (int i = 0; i < 64; ++i) {
    HandlerTimer t(m, &busy);
  }
  EXPECT_EQ(m.mailbox_depth->Value(), 2);  // replaced, not added
}

TEST(Metrics, RefusedRequestsAreCountedWithoutLatency) {
  Metrics metrics;
  metrics.count_http("unrouted", 413);
  metrics.count_http("unrouted", 413);
  metrics.observe_http("/api/balances", 200, 0.001);
  const std::string text = metrics.render();
  EXPECT_NE(text.find(R"(lpops_http_requests_total{route="unrouted",status="413"} 2)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(lpops_http_request_seconds_count{route="/api/balances",status="200"} 1)"), std::string::npos) << text;
  EXPECT_EQ(text.find(R"(lpops_http_request_seconds_count{route="unrouted")"), std::string::npos) << text;
}

// Latency by route and status; the histograms come first, so that a scrape taken while
// requests are answered never shows more timed requests than counted ones.
TEST(Metrics, LatencyIsByRouteAndStatusAndNeverAheadOfTheCount) {
  Metrics metrics;
  metrics.observe_http("/api/balances", 200, 0.001);
  metrics.observe_http("/api/balances", 401, 0.0001);
  metrics.observe_http("/api/balances", 401, 0.0001);
  const std::string text = metrics.render();
  EXPECT_NE(text.find(R"(lpops_http_request_seconds_count{route="/api/balances",status="401"} 2)"), std::string::npos) << text;
  EXPECT_LT(text.find("lpops_http_request_seconds_count"), text.find("lpops_http_requests_total"));
  std::atomic<bool> stop{false};
  std::thread load([&] {
    while (!stop) metrics.observe_http("/api/balances", 200, 0.001);
  });
  auto value_after = [](const std::string& t, const std::string& series) {
    const auto at = t.find(series);
    return at == std::string::npos ? -1.0 : std::stod(t.substr(at + series.size()));
  };
  for (int i = 0; i < 200; ++i) {
    const std::string t = metrics.render();
    EXPECT_LE(value_after(t, R"(lpops_http_request_seconds_count{route="/api/balances",status="200"} )"),
              value_after(t, R"(lpops_http_requests_total{route="/api/balances",status="200"} )"));
  }
  stop = true;
  load.join();
}

}  // namespace
}  // namespace lpops::actors
