// kill -9 at random moments loses nothing acknowledged (invariant 2), credits and keyed
// adjustments stay exactly-once across restarts (invariant 3), and replaying the journal from
// empty gives the live balances (invariant 5).
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "domain/money.hpp"
#include "domain/rate.hpp"
#include "tests/integration/fixture.hpp"

namespace lpops::testing {
namespace {

constexpr int kRounds = 32;
constexpr int kWriters = 4;
constexpr int kOrchestrators = 3;

// One workload as sent: its body is the same every time it is sent again.
struct Sent {
  std::string orchestrator;
  std::uint64_t duration_ms = 0;
};

// One adjustment as sent under its Idempotency-Key: a credit of `micro_eth` millionths of an
// ETH, the same body every time.
struct SentAdjustment {
  std::string orchestrator;
  int micro_eth = 0;
  std::string body() const {
    return json::serialize(json::object{{"orchestrator_id", orchestrator},
                                        {"amount_eth", "0.00000" + std::to_string(micro_eth)},
                                        {"reason", "crash test"}});
  }
};

TEST(Crash, KillNineNeverLosesAcknowledgedCredits) {
  TempDir dir;
  const std::string data = dir.str() + "/data";
  // The seed is printed, and LPOPS_CRASH_SEED replays a run's choices (the kills' moments
  // still fall where the scheduler puts them).
  unsigned seed = std::random_device{}();
  if (const char* given = std::getenv("LPOPS_CRASH_SEED")) seed = static_cast<unsigned>(std::stoul(given));
  std::printf("crash test: seed %u (LPOPS_CRASH_SEED=%u repeats it)\n", seed, seed);
  std::mt19937 rng(seed);
  std::set<std::string> acknowledged;
  std::map<std::string, Sent> sent;  // every id ever sent, with its body's fields
  std::vector<std::string> unanswered;  // ids sent whose answer was lost to a kill
  // Adjustments, by Idempotency-Key: every one sent, those acknowledged, those unanswered.
  std::map<std::string, SentAdjustment> adjustments_sent;
  std::set<std::string> adjustments_acknowledged;
  std::vector<std::string> adjustments_unanswered;
  std::mutex mutex;
  std::atomic<int> next_id{0};
  int startup_kills = 0, load_kills = 0;
  std::size_t resent = 0, resent_conflicts = 0;

  // Frequent snapshots, so restarts exercise snapshot + tail as well as full replay.
  const std::map<std::string, std::string> env{{"PAYMENTS_SNAPSHOT_EVERY_RECORDS", "500"}};
  {
    NodeProcess node(data, env);
    ASSERT_TRUE(node.start()) << node.log();
    HttpClient c("127.0.0.1", node.port());
    for (int o = 0; o < kOrchestrators; ++o)
      ASSERT_EQ(c.request("POST", "/api/orchestrators/register",
                          json::serialize(json::object{{"orchestrator_id", "orch-" + std::to_string(o)}, {"address", address_of(o)}}))
                    .status,
                200);
  }
  const auto body_of = [](const std::string& id, const Sent& s) {
    return json::serialize(json::object{{"workload_id", id}, {"orchestrator_id", s.orchestrator}, {"artifact_hash", "h"},
                                        {"duration_ms", s.duration_ms}});
  };
  for (int round = 0; round < kRounds; ++round) {
    NodeProcess node(data, env);
    // Every fourth round the node dies during its start-up: recovering, replaying the tail,
    // binding its port or just serving.
    if (round % 4 == 3) {
      const auto delay = std::chrono::microseconds(rng() % 150'000);
      ASSERT_TRUE(node.start_and_kill_after(delay)) << "round " << round << ": the node ended on its own\n" << node.log();
      ++startup_kills;
      continue;
    }
    ASSERT_TRUE(node.start()) << node.log();
    // First, ids sent before whose answers were lost, and some that were acknowledged, sent
    // again with the same bodies: each is taken (200: it had not become durable) or already
    // there (409), never credited twice.
    {
      HttpClient c("127.0.0.1", node.port(), std::chrono::seconds(10));
      std::vector<std::string> again = std::exchange(unanswered, {});
      std::vector<std::string> acked(acknowledged.begin(), acknowledged.end());
      std::shuffle(acked.begin(), acked.end(), rng);
      if (acked.size() > 5) acked.resize(5);
      for (const auto& id : acked) {
        const auto r = c.request("POST", "/api/workloads/time", body_of(id, sent.at(id)));
        ASSERT_EQ(r.status, 409) << id << " was acknowledged, and taken again: " << r.body;
        ++resent_conflicts;
      }
      for (const auto& id : again) {
        const auto r = c.request("POST", "/api/workloads/time", body_of(id, sent.at(id)));
        ASSERT_TRUE(r.status == 200 || r.status == 409) << id << ": " << r.status << " " << r.body;
        if (r.status == 200) acknowledged.insert(id);
        ++resent;
      }
      // Adjustments whose answers were lost, and some acknowledged: under their keys, each
      // is applied now or answered as before (200 either way), never applied twice.
      std::vector<std::string> keys = std::exchange(adjustments_unanswered, {});
      std::vector<std::string> acked_keys(adjustments_acknowledged.begin(), adjustments_acknowledged.end());
      std::shuffle(acked_keys.begin(), acked_keys.end(), rng);
      if (acked_keys.size() > 3) acked_keys.resize(3);
      keys.insert(keys.end(), acked_keys.begin(), acked_keys.end());
      for (const auto& key : keys) {
        const auto r = c.request("POST", "/api/ledger/adjustments", adjustments_sent.at(key).body(), {{"Idempotency-Key", key}});
        ASSERT_EQ(r.status, 200) << key << ": " << r.body;
        EXPECT_EQ(parse_json(r.body).at("event_id").as_string(), "adjustment:" + key) << r.body;
        adjustments_acknowledged.insert(key);
      }
    }
    std::atomic<bool> stop{false};
    std::atomic<int> acknowledged_this_round{0};
    std::vector<std::thread> writers;
    // And one writer of adjustments under Idempotency-Keys.
    writers.emplace_back([&, port = node.port()] {
      HttpClient c("127.0.0.1", port, std::chrono::seconds(5));
      std::mt19937 local(seed + static_cast<unsigned>(round * 100 + 99));
      for (int i = 0; i < 100000 && !stop.load(); ++i) {
        const std::string key = "crash-adj-" + std::to_string(next_id.fetch_add(1));
        const SentAdjustment a{"orch-" + std::to_string(local() % kOrchestrators), 1 + static_cast<int>(local() % 9)};
        {
          std::lock_guard lock(mutex);
          adjustments_sent[key] = a;
        }
        const HttpResult r = c.request("POST", "/api/ledger/adjustments", a.body(), {{"Idempotency-Key", key}});
        std::lock_guard lock(mutex);
        if (r.status == 200) {
          adjustments_acknowledged.insert(key);
        } else if (r.status == 0) {
          adjustments_unanswered.push_back(key);
          return;
        } else {
          ADD_FAILURE() << "unexpected status " << r.status << ": " << r.body;
          return;
        }
      }
    });
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w, port = node.port()] {
        HttpClient c("127.0.0.1", port, std::chrono::seconds(5));
        std::mt19937 local(seed + static_cast<unsigned>(round * 100 + w));
        for (int i = 0; i < 100000 && !stop.load(); ++i) {
          const int n = next_id.fetch_add(1);
          const std::string id = "crash-" + std::to_string(n);
          const Sent s{"orch-" + std::to_string(local() % kOrchestrators), 1 + local() % 3'600'000};
          {
            std::lock_guard lock(mutex);
            sent[id] = s;
          }
          const HttpResult r = c.request("POST", "/api/workloads/time", body_of(id, s));
          std::lock_guard lock(mutex);
          if (r.status == 200) {
            acknowledged.insert(id);
            ++acknowledged_this_round;
          } else if (r.status == 0) {
            unanswered.push_back(id);  // the node died under it: not acknowledged, maybe durable
            return;
          } else {
            ADD_FAILURE() << "unexpected status " << r.status << ": " << r.body;
            return;
          }
        }
      });
    }
    // The kill lands at a random moment once credits flow (a slow machine takes longer to
    // acknowledge the first).
    for (int i = 0; i < 1000 && acknowledged_this_round.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 240));
    const bool killed = node.kill_hard_if_alive();
    stop = true;
    for (auto& t : writers) t.join();
    ASSERT_TRUE(killed) << "round " << round << ": the node ended before the kill\n" << node.log();
    EXPECT_GT(acknowledged_this_round.load(), 0) << "round " << round << ": nothing was acknowledged before the kill";
    ++load_kills;
  }
  ASSERT_GT(acknowledged.size(), 100u) << "the writers made too little progress to prove anything";

  NodeProcess node(data, env);
  ASSERT_TRUE(node.start()) << node.log();
  HttpClient c("127.0.0.1", node.port());
  // The last round's unanswered adjustments, sent again: then every key sent is acknowledged.
  for (const auto& key : std::exchange(adjustments_unanswered, {})) {
    const auto r = c.request("POST", "/api/ledger/adjustments", adjustments_sent.at(key).body(), {{"Idempotency-Key", key}});
    ASSERT_EQ(r.status, 200) << key << ": " << r.body;
    adjustments_acknowledged.insert(key);
  }
  ASSERT_EQ(adjustments_acknowledged.size(), adjustments_sent.size());
  ASSERT_GT(adjustments_acknowledged.size(), 20u) << "the adjustment writer made too little progress to prove anything";
  auto listing = c.request("GET", "/api/workloads");
  ASSERT_EQ(listing.status, 200) << listing.body.substr(0, 200);
  const json::value listing_doc = parse_json(listing.body);
  const auto& workloads = listing_doc.at("workloads").as_array();
  std::map<std::string, int> present;
  const Rate rate = Rate::parse_eth_per_minute("0.000005353596").value();
  std::map<std::string, Wei> expected;
  for (int o = 0; o < kOrchestrators; ++o) expected["orch-" + std::to_string(o)] = Wei(0);
  for (const auto& w : workloads) {
    std::string id(w.at("workload_id").as_string());
    ++present[id];
    ASSERT_TRUE(sent.count(id)) << id;
    const Sent& s = sent.at(id);
    ASSERT_TRUE(w.at("credited").as_bool());
    EXPECT_EQ(w.at("orchestrator_id").as_string(), s.orchestrator) << id;  // credited to the orchestrator it was sent for
    EXPECT_EQ(parse_wei(w.at("payout_amount_wei").as_string()).value(), rate.credit_for(s.duration_ms));
    expected[s.orchestrator] += rate.credit_for(s.duration_ms);
  }
  // Each adjustment exactly once: a second application, or a lost one, moves a balance.
  for (const auto& [key, a] : adjustments_sent) expected[a.orchestrator] += Wei(a.micro_eth) * Wei(1'000'000'000'000ull);
  std::printf("crash test: %d kills during start-up, %d under load, %zu acknowledged, %zu durable workloads, %zu sent again "
              "after a lost answer, %zu acknowledged ones sent again, %zu adjustments\n",
              startup_kills, load_kills, acknowledged.size(), present.size(), resent, resent_conflicts, adjustments_sent.size());
  for (const auto& id : acknowledged) EXPECT_EQ(present[id], 1) << id << " was acknowledged but is missing";
  for (const auto& [id, count] : present) EXPECT_EQ(count, 1) << id;

  // Every orchestrator's balance is the sum of its durable credits: the same orchestrators,
  // the same amounts.
  std::map<std::string, std::string> live, wanted;
  for (const auto& [orch, wei] : expected) wanted[orch] = format_wei(wei);
  auto balances = c.request("GET", "/api/balances");
  ASSERT_EQ(balances.status, 200) << balances.body.substr(0, 200);
  const json::value balance_doc = parse_json(balances.body);
  for (const auto& b : balance_doc.at("balances").as_array())
    live[std::string(b.at("orchestrator_id").as_string())] = std::string(b.at("balance_wei").as_string());
  EXPECT_EQ(live, wanted);
  auto served = c.request("GET", "/api/transparency/tee-core/audit/status");
  ASSERT_EQ(served.status, 200) << served.body.substr(0, 200);
  const json::value audit_status = parse_json(served.body);
  ASSERT_EQ(node.terminate(), 0);

  // The audit log the kills left verifies offline, and is the one the node served: no entry
  // lost or written twice by a recovery (each credit has its entry, after the policy's).
  auto verified = run_command({lpops_binary(), "verify", "--json", "--log", data + "/audit.jsonl"});
  ASSERT_EQ(verified.exit_code, 0) << verified.output;
  const json::value offline = parse_json(verified.output);
  EXPECT_EQ(offline.at("entries").as_int64(), audit_status.at("audit_seq").as_int64());
  EXPECT_EQ(offline.at("head_hash"), audit_status.at("audit_head_hash"));
  EXPECT_EQ(offline.at("merkle_root"), audit_status.at("audit_merkle_root"));
  EXPECT_GT(offline.at("entries").as_int64(), static_cast<std::int64_t>(present.size()));

  // Replaying the journal alone, ignoring snapshots, reproduces the same balances.
  auto replay = run_command({lpops_binary(), "replay", "--data-dir", data, "--json"});
  ASSERT_EQ(replay.exit_code, 0) << replay.output;
  auto replayed = parse_json(replay.output.substr(replay.output.find('{')));
  std::map<std::string, std::string> from_journal;
  for (const auto& [orch, b] : replayed.at("balances").as_object()) from_journal[std::string(orch)] = std::string(b.at("balance_wei").as_string());
  EXPECT_EQ(from_journal, live);
}

// After a clean stop nothing can tear the journal's last write, so damage before the end
// clean-stop.json records is refused (nothing cut), where after a crash a damaged last record is
// cut as a torn write. The mark goes before the journal next changes.
TEST(Crash, ACleanStopMakesDamageBeforeItsEndARefusalNotACut) {
  TempDir dir;
  const std::string data = dir.str() + "/data";
  const std::string journal = data + "/journal.jsonl";
  auto register_one = [](NodeProcess& node, const std::string& id, int n) {
    HttpClient client("127.0.0.1", node.port());
    auto r = client.request("POST", "/api/orchestrators/register",
                            R"({"orchestrator_id":")" + id + R"(","address":")" + address_of(n) + R"("})", {});
    ASSERT_EQ(r.status, 200) << r.body;
  };
  auto flip_in_last_line = [&] {
    std::string text = read_all(journal);
    // After a crash the file may go on in zeroed blocks written ahead of the records.
    const auto data_end = text.find_last_not_of('\0') + 1;
    const auto last = text.rfind('\n', data_end - 2) + 1;
    const auto at = text.find("\"address\":\"0x", last) + 14;
    EXPECT_LT(at, data_end - 1);
    text[at] = text[at] == 'a' ? 'b' : 'a';  // still valid JSON, a newline at its end: no torn write
    std::ofstream(journal, std::ios::binary | std::ios::trunc) << text;
    return text;
  };
  auto known = [&](NodeProcess& node, const std::string& id) {
    HttpClient client("127.0.0.1", node.port());
    return client.request("GET", "/api/orchestrators/" + id, "", {}).status == 200;
  };
  const std::string original = [&] {
    NodeProcess node(data, {});
    EXPECT_TRUE(node.start()) << node.log();
    register_one(node, "o1", 1);
    EXPECT_EQ(node.terminate(), 0) << node.log();
    return read_all(journal);
  }();
  const auto mark = parse_json(read_all(data + "/clean-stop.json"));
  EXPECT_EQ(static_cast<std::size_t>(mark.at("journal_bytes").as_int64()), original.size());
  {
    // Zeros over the first record, with the clean stop's mark: named as zeros among records.
    const std::string zeroed = dir.str() + "/zeroed";
    std::filesystem::copy(data, zeroed, std::filesystem::copy_options::recursive);
    std::string text = original;
    std::fill(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(text.find('\n')), '\0');
    std::ofstream(zeroed + "/journal.jsonl", std::ios::binary | std::ios::trunc) << text;
    NodeProcess refused(zeroed, {});
    EXPECT_FALSE(refused.start());
    EXPECT_NE(refused.log().find("has zeros from byte 0 (after seq 0) with intact records after them"), std::string::npos)
        << refused.log();
    // No crash came since the clean stop: the records after the zeros were durable, no cut offered.
    EXPECT_NE(refused.log().find("and the node stopped cleanly with record 2 (clean-stop.json)"), std::string::npos) << refused.log();
    EXPECT_EQ(refused.log().find("cut the journal at byte"), std::string::npos) << refused.log();
  }
  const std::string damaged = flip_in_last_line();
  {
    NodeProcess refused(data, {});
    EXPECT_FALSE(refused.start());
    EXPECT_NE(refused.log().find("but the node stopped cleanly with record " + std::to_string(mark.at("journal_records").as_int64())),
              std::string::npos)
        << refused.log();
    EXPECT_NE(refused.log().find("so nothing is cut"), std::string::npos) << refused.log();
  }
  EXPECT_EQ(read_all(journal), damaged);  // nothing cut, nothing saved aside
  for (const auto& e : std::filesystem::directory_iterator(data))
    EXPECT_FALSE(e.path().filename().string().starts_with("journal.jsonl.cut-")) << e.path();
  auto replay = run_command({lpops_binary(), "replay", "--data-dir", data});
  EXPECT_EQ(replay.exit_code, 1) << replay.output;
  EXPECT_NE(replay.output.find("but the node stopped cleanly with record"), std::string::npos) << replay.output;

  // The journal restored: the node starts, and its first write removes the mark.
  std::ofstream(journal, std::ios::binary | std::ios::trunc) << original;
  {
    NodeProcess node(data, {});
    ASSERT_TRUE(node.start()) << node.log();
    EXPECT_TRUE(known(node, "o1"));
    register_one(node, "o2", 2);
    EXPECT_FALSE(std::filesystem::exists(data + "/clean-stop.json"));
    node.kill_hard();
  }
  // After a crash the same damage in the last record reads as a torn write: cut, and saved aside.
  flip_in_last_line();
  NodeProcess after_crash(data, {});
  ASSERT_TRUE(after_crash.start()) << after_crash.log();
  EXPECT_NE(after_crash.log().find("cut "), std::string::npos) << after_crash.log();
  EXPECT_TRUE(known(after_crash, "o1"));
  EXPECT_FALSE(known(after_crash, "o2"));
  EXPECT_EQ(after_crash.terminate(), 0) << after_crash.log();
}

}  // namespace
}  // namespace lpops::testing
