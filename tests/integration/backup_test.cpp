// A backup taken while the node runs, by copying its files in the order docs/operations.md
// gives (checkpoints, audit log, snapshot, journal, key): each file copied is covered by the
// ones copied after it, so the copy starts as a node of its own, holds every credit that was
// acknowledged before the copy began, and its log verifies.
#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "tests/integration/fixture.hpp"

namespace lpops::testing {
namespace {

class BackupTest : public NodeTest {};

TEST_F(BackupTest, FilesCopiedInTheDocumentedOrderWhileTheNodeRunsStartAsANode) {
  // Small snapshot and checkpoint steps, so that both are written during the copy.
  const std::map<std::string, std::string> env = {{"PAYMENTS_SNAPSHOT_EVERY_RECORDS", "100"},
                                                  {"PAYMENTS_AUDIT_CHECKPOINT_EVERY_ENTRIES", "50"},
                                                  {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "100000"},
                                                  {"PAYMENTS_PUBLIC_RATE_BURST", "100000"}};
  start_node(env);
  register_orchestrator("o1", address_of(1));
  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged{0};
  std::thread writer([&] {
    HttpClient client("127.0.0.1", node_->port());
    for (int i = 0; !stop.load() && i < 100000; ++i) {
      auto r = client.request("POST", "/api/workloads/time",
                              json::serialize(json::object{{"workload_id", "w" + std::to_string(i)}, {"orchestrator_id", "o1"},
                                                           {"artifact_hash", "h"}, {"duration_ms", 1000 + i}}),
                              {{"Content-Type", "application/json"}});
      if (r.status != 200) break;
      acknowledged = i + 1;
    }
  });
  for (int i = 0; i < 2000 && acknowledged.load() < 300; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_GE(acknowledged.load(), 300);
  const int before_copy = acknowledged.load();
  const std::string from = dir_.str() + "/data", to = dir_.str() + "/copy";
  std::filesystem::create_directories(to);
  for (const char* name : {"checkpoints.jsonl", "audit.jsonl", "snapshot.json", "journal.jsonl", "audit.key"}) {
    std::filesystem::copy_file(from + "/" + name, to + "/" + name);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // the node goes on writing between the copies
  }
  stop = true;
  writer.join();
  ASSERT_EQ(node_->terminate(), 0) << node_->log();

  NodeProcess copy(to, env);
  ASSERT_TRUE(copy.start()) << copy.log();
  HttpClient client("127.0.0.1", copy.port());
  const auto listed = parse_json(client.request("GET", "/api/workloads?orchestrator_id=o1").body).at("workloads").as_array();
  std::set<std::string> ids;
  for (const auto& w : listed) ids.insert(std::string(w.at("workload_id").as_string()));
  for (int i = 0; i < before_copy; ++i) EXPECT_TRUE(ids.count("w" + std::to_string(i))) << "w" << i << " is missing from the copy";
  EXPECT_EQ(copy.terminate(), 0) << copy.log();
  auto verified = run_command({lpops_binary(), "verify", "--log", to + "/audit.jsonl"});
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
}

}  // namespace
}  // namespace lpops::testing
