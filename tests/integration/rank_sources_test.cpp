// The rank check's off-chain sources through a running node, as the reference has them when
// TOP_CONTRACT_ADDRESS is unset: the subgraph (a GraphQL POST), then, while it names fewer
// than 100, an explorer API; a stale cache when both fail later; 503 when none ever answered.
// Both services are played on loopback.
#include <atomic>
#include <fstream>
#include <cstdlib>
#include <mutex>

#include "tests/integration/fixture.hpp"
#include "tests/support/fake_http_server.hpp"

namespace lpops::testing {
namespace {

std::pair<int, std::string> answer(bool up, const std::string& json) { return up ? std::pair{200, json} : std::pair{500, std::string("{}")}; }

class RankSourcesTest : public NodeTest {
 protected:
  std::pair<int, json::value> register_as(const std::string& id, int n) {
    auto r = post("/api/orchestrators/register", json::object{{"orchestrator_id", id}, {"address", address_of(n)}});
    return {r.status, parse_json(r.body)};
  }
  std::map<std::string, std::string> env(const FakeHttpServer& subgraph, const FakeHttpServer& explorer) {
    return {{"PAYMENTS_RANK_SUBGRAPH_URL", subgraph.url("/subgraphs/name/livepeer/livepeer")},
            {"PAYMENTS_RANK_EXPLORER_URLS", explorer.url("/api/orchestrators")},
            {"TOP_CACHE_TTL_SECONDS", "1"},
            {"PAYMENTS_REGISTRATION_PER_MINUTE", "100"},
            {"PAYMENTS_REGISTRATION_BURST", "100"}};
  }
  std::atomic<bool> subgraph_up_{true}, explorer_up_{true}, first_dropped_{false};
  std::mutex mutex_;
  std::string subgraph_body_;
  FakeHttpServer subgraph_{[this](const FakeHttpServer::Request& r) {
    {
      std::lock_guard lock(mutex_);
      subgraph_body_ = r.method + " " + r.body;
    }
    if (first_dropped_) return answer(subgraph_up_, R"({"data":{"transcoders":[{"id":")" + address_of(2) + R"("}]}})");
    return answer(subgraph_up_, R"({"data":{"transcoders":[{"id":")" + address_of(1) + R"("},{"id":")" + address_of(2) + R"("}]}})");
  }};
  FakeHttpServer explorer_{[this](const FakeHttpServer::Request& r) {
    return answer(explorer_up_ && r.method == "GET", R"([{"address":")" + address_of(3) + R"("}])");
  }};
};

TEST_F(RankSourcesTest, TheSubgraphThenAnExplorerNameTheTopOrchestrators) {
  start_node(env(subgraph_, explorer_));
  EXPECT_EQ(std::string(get_json("/readyz").at("rank_check").as_string()).rfind("enabled", 0), 0u);
  auto [s1, o1] = register_as("o1", 1);
  ASSERT_EQ(s1, 200) << o1;
  EXPECT_TRUE(o1.at("is_top_100").as_bool());
  {
    std::lock_guard lock(mutex_);
    EXPECT_EQ(subgraph_body_.rfind("POST ", 0), 0u) << subgraph_body_;
    const auto query = parse_json(subgraph_body_.substr(5));
    EXPECT_EQ(query.at("variables").at("limit").as_int64(), 100) << subgraph_body_;
    EXPECT_NE(std::string(query.at("query").as_string()).find("active: true"), std::string::npos) << subgraph_body_;
  }
  EXPECT_EQ(register_as("o3", 3).first, 200);  // the explorer's, added while the subgraph named fewer than 100
  auto [s9, o9] = register_as("o9", 9);
  EXPECT_EQ(s9, 403) << o9;
  EXPECT_EQ(o9.at("detail").as_string(), "Address is not part of the current top orchestrators");

  // The subgraph fails: the explorer alone is the top set once the cache is stale.
  subgraph_up_ = false;
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_EQ(register_as("o2", 2).first, 403);
  EXPECT_EQ(register_as("o3", 3).first, 200);
  // Both fail: the stale cache answers, and the log says why.
  explorer_up_ = false;
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_EQ(register_as("o3", 3).first, 200);
  EXPECT_EQ(register_as("o2", 2).first, 403);
  EXPECT_NE(node_->log().find("using the cache"), std::string::npos) << node_->log();
  EXPECT_NE(node_->log().find("subgraph http://127.0.0.1:"), std::string::npos) << node_->log();
}

// The top set's age runs on the monotonic clock: a wall clock stepped an hour back does not keep
// it fresh past TOP_CACHE_TTL_SECONDS, so an orchestrator that left the top is refused then.
TEST_F(RankSourcesTest, AWallClockStepBackDoesNotKeepTheTopSetFresh) {
  const std::string shift = dir_.str() + "/clock-shift";
  auto e = env(subgraph_, explorer_);
  std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
  e["ASAN_OPTIONS"] = asan + (asan.empty() ? "" : ":") + "verify_asan_link_order=0";
  e["LD_PRELOAD"] = LPOPS_SYNC_FAULTS;
  e["LPOPS_FAULT_CLOCK_SHIFT_FILE"] = shift;
  start_node(e);
  ASSERT_EQ(register_as("o1", 1).first, 200);
  first_dropped_ = true;
  std::ofstream(shift) << "-3600";
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  auto [status, body] = register_as("o1", 1);
  EXPECT_EQ(status, 403) << body;
}

// An explorer that moved answers with a redirect, followed as Python's requests follows it:
// relative, then to another host.
TEST_F(RankSourcesTest, AnExplorerThatRedirectsIsFollowed) {
  subgraph_up_ = false;
  FakeHttpServer moved([this](const FakeHttpServer::Request& r) -> FakeHttpServer::Response {
    if (r.target == "/old") return {302, "", "/older"};
    return {301, "", explorer_.url("/api/orchestrators")};
  });
  auto e = env(subgraph_, explorer_);
  e["PAYMENTS_RANK_EXPLORER_URLS"] = moved.url("/old");
  start_node(e);
  EXPECT_EQ(register_as("o3", 3).first, 200);
  EXPECT_EQ(register_as("o9", 9).first, 403);
  EXPECT_EQ(moved.requests(), 2u);
}

// Redirects in a loop end after 5, as a failure.
TEST_F(RankSourcesTest, ARedirectLoopIsAFailure) {
  subgraph_up_ = false;
  FakeHttpServer loop([](const FakeHttpServer::Request&) -> FakeHttpServer::Response { return {302, "", "/again"}; });
  auto e = env(subgraph_, explorer_);
  e["PAYMENTS_RANK_EXPLORER_URLS"] = loop.url("/start");
  start_node(e);
  EXPECT_EQ(register_as("o3", 3).first, 503);
  EXPECT_EQ(loop.requests(), 6u);
  EXPECT_NE(node_->log().find("more than 5 redirects"), std::string::npos) << node_->log();
}

TEST_F(RankSourcesTest, NoSourceEverAnsweredIs503) {
  subgraph_up_ = false;
  explorer_up_ = false;
  start_node(env(subgraph_, explorer_));
  auto [status, body] = register_as("o1", 1);
  EXPECT_EQ(status, 503) << body;
  EXPECT_EQ(body.at("detail").as_string(), "Unable to validate orchestrator rank at this time");
  EXPECT_EQ(get("/api/orchestrators/o1").status, 404);
}

// PAYMENTS_RANK_CHECK=false: no source is asked, any address registers.
TEST_F(RankSourcesTest, TheCheckCanBeTurnedOff) {
  auto e = env(subgraph_, explorer_);
  e["PAYMENTS_RANK_CHECK"] = "false";
  start_node(e);
  EXPECT_EQ(std::string(get_json("/readyz").at("rank_check").as_string()),
            "disabled: PAYMENTS_RANK_CHECK is false, any address may register");
  EXPECT_EQ(register_as("o9", 9).first, 200);
  EXPECT_EQ(subgraph_.requests() + explorer_.requests(), 0u);
}

}  // namespace
}  // namespace lpops::testing
