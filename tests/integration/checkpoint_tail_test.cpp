// Entries after the newest signed checkpoint are vouched for by nothing: `lpops verify`
// refuses them unless --allow-unsigned (an entry forged there, its hash and balance made
// consistent, would otherwise pass); the node signs a checkpoint of every entry at a clean
// stop and at start-up, so a stopped node's files verify whole; `verify --url` verifies the
// log as the newest checkpoint signs it.
#include <fstream>

#include "chain/audit_format.hpp"
#include "chain/hex.hpp"
#include "domain/canonical_json.hpp"
#include "tests/integration/fixture.hpp"

namespace lpops::testing {
namespace {

// Checkpoints every 1,000 entries or hour: only the first (signed within a second of the first
// entry) and the stop's.
const std::map<std::string, std::string> kRareCheckpoints = {{"PAYMENTS_AUDIT_CHECKPOINT_EVERY_ENTRIES", "1000"},
                                                             {"PAYMENTS_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "3600"},
                                                             {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "100000"},
                                                             {"PAYMENTS_PUBLIC_RATE_BURST", "100000"}};

class CheckpointTailTest : public NodeTest {
 protected:
  void SetUp() override {
    start_node(kRareCheckpoints);
    register_orchestrator("o1", address_of(1));
    credit(0, 3);
    wait_for_checkpoint(1);
    credit(3, 6);
  }
  void credit(int from, int to) {
    for (int i = from; i < to; ++i) {
      auto r = post("/api/workloads/time", json::object{{"workload_id", "w" + std::to_string(i)}, {"orchestrator_id", "o1"},
                                                        {"artifact_hash", "h"}, {"duration_ms", 1000 + i}});
      ASSERT_EQ(r.status, 200) << r.body;
    }
  }
  json::object status() { return get_json("/api/transparency/tee-core/audit/status").as_object(); }
  CommandResult verify(std::vector<std::string> args) {
    std::vector<std::string> argv{lpops_binary(), "verify", "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }
  std::string log() const { return dir_.str() + "/data/audit.jsonl"; }
  std::string checkpoints() const { return dir_.str() + "/data/checkpoints.jsonl"; }
  static std::int64_t last_checkpoint_seq(const std::string& path) {
    const auto lines = read_lines(path);
    return lines.empty() ? 0 : parse_json(lines.back()).at("seq").as_int64();
  }
};

TEST_F(CheckpointTailTest, ACleanStopSignsEveryEntry) {
  const auto s = status();
  const std::int64_t entries = s.at("audit_seq").as_int64();
  ASSERT_EQ(entries, 7);  // the policy entry and 6 credits
  ASSERT_LT(s.at("audit_checkpoint_seq").as_int64(), entries) << "the test needs a tail no checkpoint covers yet";
  ASSERT_EQ(node_->terminate(), 0) << node_->log();
  EXPECT_EQ(last_checkpoint_seq(checkpoints()), entries);
  auto r = verify({"--log", log()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(parse_json(r.output).at("vouched_through_seq").as_int64(), entries);
  EXPECT_FALSE(parse_json(r.output).as_object().contains("unvouched_entries")) << r.output;
}

TEST_F(CheckpointTailTest, StartUpSignsTheEntriesACrashLeftUnsigned) {
  const std::int64_t entries = status().at("audit_seq").as_int64();
  node_->kill_hard();
  ASSERT_LT(last_checkpoint_seq(checkpoints()), entries);
  start_node(kRareCheckpoints);
  EXPECT_EQ(status().at("audit_checkpoint_seq").as_int64(), entries);
  EXPECT_EQ(last_checkpoint_seq(checkpoints()), entries);
}

// An entry appended after the newest checkpoint, its hash, link and balance all consistent:
// only a signature could tell it from the node's. It fails unless --allow-unsigned, which
// passes it as unvouched.
TEST_F(CheckpointTailTest, AnEntryNoCheckpointCoversFailsUnlessAllowed) {
  ASSERT_EQ(node_->terminate(), 0) << node_->log();
  auto lines = read_lines(log());
  ASSERT_EQ(lines.size(), 7u);
  auto wrapper = parse_json(lines.back()).as_object();
  json::object entry = wrapper.at("audit_entry").as_object();
  const std::string prev(entry.at("entry_hash").as_string());
  const Wei balance{std::string(entry.at("balance_wei").as_string())};
  const Wei forged_credit{"1000000000000000000000000"};
  entry.erase("entry_hash");
  entry["seq"] = 8;
  entry["prev_hash"] = prev;
  entry["event_id"] = "workload_time:forged";
  entry["delta_wei"] = forged_credit.str();
  entry["balance_wei"] = Wei(balance + forged_credit).str();
  entry["entry_hash"] = chain::to_hex(chain::audit::entry_hash(entry));
  wrapper["audit_entry"] = entry;
  wrapper["journal_seq"] = wrapper.at("journal_seq").as_int64() + 1;
  lines.push_back(canonical_json(wrapper));
  const std::string copy = dir_.str() + "/forged.jsonl";
  {
    std::ofstream out(copy);
    for (const auto& l : lines) out << l << "\n";
  }
  auto refused = verify({"--log", copy, "--checkpoints", checkpoints()});
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("entries 8-8 come after the newest signed checkpoint (seq 7)"), std::string::npos)
      << refused.output;
  auto allowed = verify({"--log", copy, "--checkpoints", checkpoints(), "--allow-unsigned"});
  ASSERT_EQ(allowed.exit_code, 0) << allowed.output;
  EXPECT_EQ(parse_json(allowed.output).at("vouched_through_seq").as_int64(), 7);
  EXPECT_EQ(parse_json(allowed.output).at("unvouched_entries").as_int64(), 1);
}

// Over --url the log is read up to the newest checkpoint: the entries added since are not
// claimed (nor refused) while the node is still to sign them.
TEST_F(CheckpointTailTest, VerifyUrlReadsTheLogAsTheNewestCheckpointSignsIt) {
  const auto s = status();
  const std::int64_t signed_size = s.at("audit_checkpoint_seq").as_int64();
  ASSERT_LT(signed_size, s.at("audit_seq").as_int64());
  auto r = verify({"--url", "http://127.0.0.1:" + std::to_string(node_->port())});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(parse_json(r.output).at("entries").as_int64(), signed_size);
  EXPECT_EQ(parse_json(r.output).at("checkpoint_seq").as_int64(), signed_size);
}

// A fresh node reports ready once its first entry (the crediting policy) is signed: the first
// `audit/checkpoint` a client asks for is there.
TEST(CheckpointAtReady, AFreshNodeServesACheckpointAsSoonAsItIsReady) {
  for (int run = 0; run < 3; ++run) {
    TempDir dir;
    NodeProcess node(dir.str() + "/data", {});
    ASSERT_TRUE(node.start()) << node.log();
    HttpClient client("127.0.0.1", node.port());
    auto r = client.request("GET", "/api/transparency/tee-core/audit/checkpoint");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(parse_json(r.body).at("seq").as_int64(), 1) << r.body;
    EXPECT_EQ(node.terminate(), 0) << node.log();
  }
}

}  // namespace
}  // namespace lpops::testing
