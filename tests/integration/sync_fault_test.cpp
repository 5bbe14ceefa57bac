// A disk flush that fails (fdatasync returns EIO, as a disk that lost a write reports it):
// the node acknowledges nothing of what that flush held, stops with status 70 instead of
// retrying the flush (whose failure may have dropped the pages it was to write), and a
// restart on the same directory holds every credit acknowledged before.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "domain/clock.hpp"
#include "tests/integration/fixture.hpp"

namespace lpops::testing {
namespace {

class SyncFault : public ::testing::Test {
 protected:
  // The node with the fault library preloaded, and `extra` (what arms its faults) beside.
  static std::map<std::string, std::string> preloaded(std::map<std::string, std::string> extra) {
    std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
    asan += std::string(asan.empty() ? "" : ":") + "verify_asan_link_order=0";
    extra["LD_PRELOAD"] = LPOPS_SYNC_FAULTS;
    extra["ASAN_OPTIONS"] = asan;
    return extra;
  }
  // The node with the failing-flush library preloaded, armed by `trigger_` existing, for
  // files whose name ends in `suffix`.
  std::map<std::string, std::string> faulty_environment(const std::string& suffix) const {
    std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
    asan += std::string(asan.empty() ? "" : ":") + "verify_asan_link_order=0";
    return {{"LD_PRELOAD", LPOPS_SYNC_FAULTS},
            {"LPOPS_FAULT_FDATASYNC_TRIGGER", trigger_},
            {"LPOPS_FAULT_FDATASYNC_SUFFIX", suffix},
            {"ASAN_OPTIONS", asan}};
  }
  static HttpResult credit(HttpClient& client, const std::string& id) {
    return client.request("POST", "/api/workloads/time",
                          json::serialize(json::object{{"workload_id", id}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"},
                                                       {"duration_ms", 60000}}),
                          {{"Content-Type", "application/json"}});
  }
  // Registers o1 and credits `count` workloads, each acknowledged.
  static void credit_acknowledged(std::uint16_t port, int count) {
    HttpClient client("127.0.0.1", port);
    ASSERT_EQ(client.request("POST", "/api/orchestrators/register",
                             json::serialize(json::object{{"orchestrator_id", "o1"}, {"address", address_of(1)}}))
                  .status,
              200);
    for (int i = 0; i < count; ++i) {
      const auto r = credit(client, "ok-" + std::to_string(i));
      ASSERT_EQ(r.status, 200) << r.body;
    }
  }
  // After a restart without the fault: the acknowledged credits are there, each once, and the
  // balance is theirs (plus the unacknowledged one's, when its record reached the disk anyway).
  void expect_acknowledged_kept(int count, const std::string& start_says = "") {
    NodeProcess again(data_);
    ASSERT_TRUE(again.start()) << again.log();
    if (!start_says.empty()) {
      EXPECT_NE(again.log().find(start_says), std::string::npos) << again.log();
    }
    HttpClient client("127.0.0.1", again.port());
    const auto listing = client.request("GET", "/api/workloads?orchestrator_id=o1&limit=500");
    ASSERT_EQ(listing.status, 200) << listing.body;
    const auto doc = parse_json(listing.body);
    std::set<std::string> ids;
    for (const auto& w : doc.at("workloads").as_array()) ids.insert(std::string(w.at("workload_id").as_string()));
    for (int i = 0; i < count; ++i) EXPECT_TRUE(ids.count("ok-" + std::to_string(i))) << "acknowledged ok-" << i << " lost";
    const std::size_t expected = static_cast<std::size_t>(count) + ids.count("unacknowledged");
    EXPECT_EQ(ids.size(), expected) << listing.body;
    const auto view = parse_json(client.request("GET", "/api/orchestrators/o1").body);
    // 0.000005353596 ETH a minute, one minute each.
    EXPECT_EQ(view.at("balance_wei"), json::value(std::to_string(5353596000000ull * expected))) << json::serialize(view);
    // The audit log holds an entry for each (regenerated from the journal where it lacked one).
    ASSERT_EQ(again.terminate(), 0) << again.log();
    auto verified = run_command({lpops_binary(), "verify", "--json", "--log", data_ + "/audit.jsonl", "--allow-unsigned"});
    ASSERT_EQ(verified.exit_code, 0) << verified.output;
    EXPECT_EQ(parse_json(verified.output.substr(verified.output.find('{'))).at("entries"), json::value(expected + 1))
        << verified.output;  // and the policy's
  }

  TempDir dir_;
  std::string data_ = dir_.str() + "/data";
  std::string trigger_ = dir_.str() + "/fail-flushes";
};

// The failed flush also leaves journal-sync.failed with the end of the last good flush: the
// kernel may keep the pages of a failed write-back as clean, where the next start would read
// them as records on the disk, so that start writes the bytes past that point again and
// flushes them before it reads them. With direct I/O (the default) and without.
TEST_F(SyncFault, AFailedJournalFlushAcknowledgesNothingAndStopsTheNode) {
  for (const std::string direct : {"true", "false"}) {
    SCOPED_TRACE("PAYMENTS_JOURNAL_DIRECT_IO=" + direct);
    std::filesystem::remove_all(data_);
    auto env = faulty_environment("/journal.jsonl");
    env["PAYMENTS_JOURNAL_DIRECT_IO"] = direct;
    NodeProcess node(data_, env);
    ASSERT_TRUE(node.start()) << node.log();
    ASSERT_NO_FATAL_FAILURE(credit_acknowledged(node.port(), 5));
    std::ofstream(trigger_).close();
    HttpClient client("127.0.0.1", node.port());
    const auto answer = credit(client, "unacknowledged");
    EXPECT_EQ(answer.status, 0) << "answered " << answer.status << ": " << answer.body;
    EXPECT_EQ(node.wait_exit(std::chrono::seconds(30)), 70) << node.log();
    const std::string log = node.log();
    EXPECT_NE(log.find("cannot fdatasync " + data_ + "/journal.jsonl: Input/output error"), std::string::npos) << log;
    EXPECT_NE(log.find("the next start writes those bytes again"), std::string::npos) << log;
    EXPECT_NE(log.find("stopping the process so that start-up recovers from disk"), std::string::npos) << log;
    std::filesystem::remove(trigger_);
    // The mark: the journal's bytes up to it hold the acknowledged records, the rest the batch
    // whose flush failed.
    const std::string mark = data_ + "/journal-sync.failed";
    ASSERT_TRUE(std::filesystem::exists(mark));
    const std::uint64_t synced_end = std::stoull(read_file_bytes(mark));
    const std::string journal = read_file_bytes(data_ + "/journal.jsonl");
    ASSERT_LE(synced_end, journal.size());
    EXPECT_EQ(journal[synced_end - 1], '\n');
    EXPECT_NE(journal.substr(0, synced_end).find("\"ok-4\""), std::string::npos);
    EXPECT_EQ(journal.substr(0, synced_end).find("unacknowledged"), std::string::npos);
    // A reading command says so and leaves the mark for the node.
    auto replay = run_command({lpops_binary(), "replay", "--data-dir", data_});
    EXPECT_NE(replay.output.find("a write or flush of the journal failed in the last run"), std::string::npos) << replay.output;
    EXPECT_TRUE(std::filesystem::exists(mark));
    // The next start writes them again, says so, and removes the mark.
    expect_acknowledged_kept(5, "recovery: a write or flush of the journal failed in the run before (journal-sync.failed)");
    EXPECT_FALSE(std::filesystem::exists(mark));
  }
}

// A flush that fails at start-up (the journal read back is flushed before it counts as
// durable) refuses the start and leaves the mark too: a start right after, in the same boot,
// would otherwise read the failed write-back's pages as records on the disk. The next start
// writes the bytes past the snapshot's end (here all of them) again before it reads them.
TEST_F(SyncFault, AFailedFlushAtStartUpLeavesTheMarkForTheNextStart) {
  {
    NodeProcess node(data_);
    ASSERT_TRUE(node.start()) << node.log();
    ASSERT_NO_FATAL_FAILURE(credit_acknowledged(node.port(), 3));
    ASSERT_EQ(node.terminate(), 0) << node.log();
  }
  std::ofstream(trigger_).close();
  {
    NodeProcess node(data_, faulty_environment("/journal.jsonl"));
    EXPECT_FALSE(node.start(std::chrono::seconds(20)));
    EXPECT_NE(node.log().find("cannot sync " + data_ + "/journal.jsonl: Input/output error"), std::string::npos) << node.log();
  }
  std::filesystem::remove(trigger_);
  ASSERT_TRUE(std::filesystem::exists(data_ + "/journal-sync.failed"));
  EXPECT_EQ(std::stoull(read_file_bytes(data_ + "/journal-sync.failed")), 0u);
  expect_acknowledged_kept(3, "recovery: a write or flush of the journal failed in the run before (journal-sync.failed)");
  EXPECT_FALSE(std::filesystem::exists(data_ + "/journal-sync.failed"));
}

// With PAYMENTS_JOURNAL_FSYNC=false the stop's flush is the journal's only one: when it fails,
// records answered 200 may not be on the disk, so the stop is not a clean one (status 70, no
// clean-stop.json), and the next start writes the run's bytes again.
TEST_F(SyncFault, AFailedFlushAtAStopWithoutFsyncIsNotACleanStop) {
  auto env = faulty_environment("/journal.jsonl");
  env["PAYMENTS_JOURNAL_FSYNC"] = "false";
  NodeProcess node(data_, env);
  ASSERT_TRUE(node.start()) << node.log();
  ASSERT_NO_FATAL_FAILURE(credit_acknowledged(node.port(), 3));
  std::ofstream(trigger_).close();
  EXPECT_EQ(node.terminate(), 70) << node.log();
  const std::string log = node.log();
  EXPECT_NE(log.find("the node did not stop cleanly"), std::string::npos) << log;
  EXPECT_EQ(log.find("stopped cleanly"), std::string::npos) << log;
  EXPECT_FALSE(std::filesystem::exists(data_ + "/clean-stop.json"));
  EXPECT_TRUE(std::filesystem::exists(data_ + "/journal-sync.failed"));
  std::filesystem::remove(trigger_);
  expect_acknowledged_kept(3, "recovery: a write or flush of the journal failed in the run before (journal-sync.failed)");
}

// The audit log is derived from the journal (its entries follow records already durable, and
// start-up writes any it lacks): a failed flush of it is counted and retried, the node goes on
// crediting, no checkpoint signs what could not be flushed, and once flushes succeed again the
// checkpoints cover everything.
// A failed flush of the audit log: credits go on (the journal is the record), the failure is
// counted and said once, and no checkpoint is signed for the rest of the run, even once
// flushes succeed again (the kernel reports a failed write-back once, then takes its pages
// for clean: a later flush vouches for nothing). The next start writes the bytes past the
// last good flush again, checks them against the journal and signs them.
TEST_F(SyncFault, AFailedAuditLogFlushStopsCheckpointsUntilARestartWritesItAgain) {
  auto env = faulty_environment("/audit.jsonl");
  env["PAYMENTS_AUDIT_CHECKPOINT_EVERY_ENTRIES"] = "2";
  env["PAYMENTS_AUDIT_CHECKPOINT_INTERVAL_SECONDS"] = "1";
  env["PAYMENTS_PUBLIC_RATE_BURST"] = "100000";  // the checkpoint is asked for often
  env["PAYMENTS_PUBLIC_RATE_PER_MINUTE"] = "100000";
  NodeProcess node(data_, env);
  ASSERT_TRUE(node.start()) << node.log();
  ASSERT_NO_FATAL_FAILURE(credit_acknowledged(node.port(), 5));
  HttpClient client("127.0.0.1", node.port());
  auto audit_errors = [&client] {
    const auto metrics = client.request("GET", "/metrics").body;
    const std::string series = "lpops_storage_errors_total{file=\"audit_log\"} ";
    const auto at = metrics.find(series);
    return at == std::string::npos ? -1.0 : std::stod(metrics.substr(at + series.size()));
  };
  auto checkpoint_seq = [&client] {
    const auto r = client.request("GET", "/api/transparency/tee-core/audit/checkpoint");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? parse_json(r.body).at("seq").as_int64() : std::int64_t{-1};
  };
  EXPECT_EQ(audit_errors(), 0.0);
  for (int i = 0; i < 250 && checkpoint_seq() < 6; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(checkpoint_seq(), 6);  // the policy and five credits, signed before the failure
  std::ofstream(trigger_).close();
  for (int i = 5; i < 10; ++i) {
    const auto r = credit(client, "ok-" + std::to_string(i));
    ASSERT_EQ(r.status, 200) << r.body;  // the journal's flushes succeed
  }
  for (int i = 0; i < 500 && audit_errors() < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(audit_errors(), 1.0);
  EXPECT_TRUE(std::filesystem::exists(data_ + "/audit-sync.failed"));
  std::filesystem::remove(trigger_);
  // Flushes succeed again, credits go on, and still nothing past the failure is signed.
  for (int i = 10; i < 12; ++i) ASSERT_EQ(credit(client, "ok-" + std::to_string(i)).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // two checkpoint intervals
  EXPECT_EQ(checkpoint_seq(), 6) << "a checkpoint signed entries written after a failed flush";
  EXPECT_EQ(audit_errors(), 1.0);  // said once, not at every flush since
  EXPECT_TRUE(node.running());
  ASSERT_EQ(node.terminate(), 0) << node.log();
  EXPECT_NE(node.log().find("audit.jsonl fdatasync failed: Input/output error"), std::string::npos) << node.log();

  // The restart writes the unflushed bytes again, checks them, signs them, and removes the mark.
  NodeProcess again(data_, env);
  ASSERT_TRUE(again.start()) << again.log();
  const std::string started = again.log();  // this start's lines alone
  EXPECT_NE(started.find("audit log: a flush failed in the run before (audit-sync.failed)"), std::string::npos) << started;
  EXPECT_FALSE(std::filesystem::exists(data_ + "/audit-sync.failed"));
  HttpClient after("127.0.0.1", again.port());
  const std::int64_t entries = 13;  // the policy and twelve credits
  std::int64_t seq = -1;
  for (int i = 0; i < 250 && seq < entries; ++i) {
    const auto r = after.request("GET", "/api/transparency/tee-core/audit/checkpoint");
    seq = r.status == 200 ? parse_json(r.body).at("seq").as_int64() : -1;
    if (seq < entries) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(seq, entries);
  ASSERT_EQ(again.terminate(), 0) << again.log();
  expect_acknowledged_kept(12);
  auto verified = run_command({lpops_binary(), "verify", "--json", "--log", data_ + "/audit.jsonl"});
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
}

// A checkpoints.jsonl the disk cannot read: start-up stops, naming it, and leaves it whole;
// a read that failed was taken for the end of the file before, and the file was cut there,
// losing every signed checkpoint.
TEST_F(SyncFault, ACheckpointFileTheDiskCannotReadStopsStartUpAndIsKept) {
  {
    NodeProcess node(data_, {{"PAYMENTS_AUDIT_CHECKPOINT_EVERY_ENTRIES", "2"}});
    ASSERT_TRUE(node.start()) << node.log();
    ASSERT_NO_FATAL_FAILURE(credit_acknowledged(node.port(), 5));
    ASSERT_EQ(node.terminate(), 0) << node.log();
  }
  const std::string checkpoints = data_ + "/checkpoints.jsonl";
  const auto size = std::filesystem::file_size(checkpoints);
  ASSERT_GT(size, 0u);
  std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
  asan += std::string(asan.empty() ? "" : ":") + "verify_asan_link_order=0";
  std::ofstream(trigger_).close();
  NodeProcess unreadable(data_, {{"LD_PRELOAD", LPOPS_SYNC_FAULTS},
                                 {"LPOPS_FAULT_READ_TRIGGER", trigger_},
                                 {"LPOPS_FAULT_READ_SUFFIX", "/checkpoints.jsonl"},
                                 {"ASAN_OPTIONS", asan}});
  EXPECT_FALSE(unreadable.start());
  EXPECT_NE(unreadable.wait_exit(std::chrono::seconds(30)), 0);
  EXPECT_NE(unreadable.log().find("cannot read " + checkpoints + ": Input/output error"), std::string::npos)
      << unreadable.log();
  EXPECT_EQ(std::filesystem::file_size(checkpoints), size);
  std::filesystem::remove(trigger_);
  NodeProcess again(data_);
  ASSERT_TRUE(again.start()) << again.log();
  EXPECT_EQ(again.log().find("checkpoints missing"), std::string::npos) << again.log();
  EXPECT_EQ(std::filesystem::file_size(checkpoints), size);
  ASSERT_EQ(again.terminate(), 0) << again.log();
}

// A data directory the node makes, with parents, is made durably: each new name is synced in
// its parent (the journal's name is synced in the data directory, but the data directory's
// own name would otherwise live in a parent never synced).
TEST_F(SyncFault, ANewDataDirectorysNamesAreSyncedInTheirParents) {
  const std::string base = std::filesystem::path(data_).parent_path().string();
  const std::string fresh = base + "/made/deeper/data", synced = base + "/synced.txt";
  std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
  asan += std::string(asan.empty() ? "" : ":") + "verify_asan_link_order=0";
  // Run directly (a NodeProcess makes its data directory first), until it serves, then stopped.
  auto served = run_command({lpops_binary(), "serve", "--data-dir", fresh, "--host", "127.0.0.1", "--port", "0"},
                            {{"LD_PRELOAD", LPOPS_SYNC_FAULTS}, {"LPOPS_FAULT_SYNC_LOG", synced}, {"ASAN_OPTIONS", asan}},
                            std::chrono::seconds(4));
  ASSERT_NE(served.output.find("lpops serving on"), std::string::npos) << served.output;
  std::ifstream in(synced);
  std::set<std::string> paths;
  for (std::string line; std::getline(in, line);) paths.insert(line);
  const std::string real_base = std::filesystem::canonical(base).string();
  for (const std::string& dir : {real_base, real_base + "/made", real_base + "/made/deeper", real_base + "/made/deeper/data"})
    EXPECT_TRUE(paths.count(dir)) << dir << " was not synced";
}

// What start-up reads back of the journal counts as durable (a repeated id is answered as
// done, the audit log caught up to it and signed): a journal whose last records a crash left
// written but not flushed is flushed before the node serves, in either write mode.
TEST_F(SyncFault, StartUpFlushesTheJournalItReadBack) {
  {
    NodeProcess first(data_, {{"PAYMENTS_JOURNAL_DIRECT_IO", "false"}});
    ASSERT_TRUE(first.start()) << first.log();
    first.kill_hard();
  }
  const std::string synced = std::filesystem::path(data_).parent_path().string() + "/synced-at-start.txt";
  std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
  asan += std::string(asan.empty() ? "" : ":") + "verify_asan_link_order=0";
  auto served = run_command({lpops_binary(), "serve", "--data-dir", data_, "--host", "127.0.0.1", "--port", "0"},
                            {{"LD_PRELOAD", LPOPS_SYNC_FAULTS}, {"LPOPS_FAULT_SYNC_LOG", synced}, {"ASAN_OPTIONS", asan},
                             {"PAYMENTS_JOURNAL_DIRECT_IO", "false"}},
                            std::chrono::seconds(4));
  ASSERT_NE(served.output.find("lpops serving on"), std::string::npos) << served.output;
  std::ifstream in(synced);
  std::set<std::string> paths;
  for (std::string line; std::getline(in, line);) paths.insert(line);
  const std::string journal = std::filesystem::canonical(data_).string() + "/journal.jsonl";
  EXPECT_TRUE(paths.count(journal)) << "the journal read back was not flushed";
}

// A direct write the device takes short, ending off the block grid, is written again from its
// last whole block (a direct write must start on one): the node goes on, and every credit it
// acknowledged is there after a restart.
TEST_F(SyncFault, AShortDirectWriteIsWrittenAgainFromItsLastWholeBlock) {
  const std::string shortened = dir_.str() + "/short-writes.txt";
  {
    NodeProcess node(data_, preloaded({{"LPOPS_FAULT_SHORT_DIRECT_WRITES", shortened}}));
    ASSERT_TRUE(node.start()) << node.log();
    if (node.log().find("journal: direct I/O") == std::string::npos) GTEST_SKIP() << "no direct I/O on this filesystem";
    ASSERT_NO_FATAL_FAILURE(credit_acknowledged(node.port(), 60));
    EXPECT_EQ(node.terminate(), 0) << node.log();
  }
  std::ifstream in(shortened);
  int count = 0;
  for (std::string line; std::getline(in, line);) ++count;
  EXPECT_GT(count, 0) << "no write was taken short";
  expect_acknowledged_kept(60);
}

// The same for the preallocation's zeros: it goes on from the last whole block, and the journal
// is zeroed ahead as usual (a retry off the grid failed, and the appends grew the file themselves).
TEST_F(SyncFault, AShortPreallocationWriteGoesOnFromItsLastWholeBlock) {
  const std::string shortened = dir_.str() + "/short-writes.txt";
  NodeProcess node(data_, preloaded({{"LPOPS_FAULT_SHORT_DIRECT_WRITES", shortened}, {"LPOPS_FAULT_SHORT_ZERO_WRITES", "1"}}));
  ASSERT_TRUE(node.start()) << node.log();
  if (node.log().find("journal: direct I/O") == std::string::npos) GTEST_SKIP() << "no direct I/O on this filesystem";
  ASSERT_NO_FATAL_FAILURE(credit_acknowledged(node.port(), 5));
  const std::string journal = data_ + "/journal.jsonl";
  for (int i = 0; i < 300 && std::filesystem::file_size(journal) < (32u << 20); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GE(std::filesystem::file_size(journal), 32u << 20) << "the journal was not zeroed ahead";
  EXPECT_TRUE(std::filesystem::exists(shortened)) << "no write was taken short";
  EXPECT_EQ(node.terminate(), 0) << node.log();
}

// The rate limits run on the monotonic clock: a wall clock stepped an hour ahead frees no caller
// the limits hold (nor would a step back block them for its length).
TEST_F(SyncFault, AWallClockStepNeitherFreesNorBlocksRateLimitedCallers) {
  const std::string shift = dir_.str() + "/clock-shift";
  NodeProcess node(data_, preloaded({{"LPOPS_FAULT_CLOCK_SHIFT_FILE", shift},
                                     {"PAYMENTS_PUBLIC_RATE_BURST", "2"},
                                     {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "2"},
                                     {"PAYMENTS_REGISTRATION_PER_MINUTE", "1"},
                                     {"PAYMENTS_REGISTRATION_BURST", "1"}}));
  ASSERT_TRUE(node.start()) << node.log();
  HttpClient client("127.0.0.1", node.port());
  const std::string status_route = "/api/transparency/tee-core/audit/status";
  EXPECT_EQ(client.request("GET", status_route).status, 200);
  EXPECT_EQ(client.request("GET", status_route).status, 200);
  EXPECT_EQ(client.request("GET", status_route).status, 429);
  auto registration = [&](const std::string& id, int n) {
    return client.request("POST", "/api/orchestrators/register",
                          json::serialize(json::object{{"orchestrator_id", id}, {"address", address_of(n)}}));
  };
  ASSERT_EQ(registration("o1", 1).status, 200);
  EXPECT_EQ(registration("o2", 2).status, 429);
  const auto before = credit(client, "before-step");
  ASSERT_EQ(before.status, 200) << before.body;
  std::ofstream(shift) << "3600";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // The step took: a workload is dated an hour later.
  const auto after = credit(client, "after-step");
  ASSERT_EQ(after.status, 200) << after.body;
  const auto seconds = [](const HttpResult& r) {
    return parse_iso(std::string(parse_json(r.body).at("submitted_at").as_string())).value_or(0) / 1'000'000;
  };
  EXPECT_GE(seconds(after) - seconds(before), 3590) << before.body << "\n" << after.body;
  EXPECT_EQ(client.request("GET", status_route).status, 429);
  EXPECT_EQ(registration("o3", 3).status, 429);
  EXPECT_EQ(node.terminate(), 0) << node.log();
}

// With fsync off nothing flushes the journal, but a snapshot proves at start-up that the
// records it was taken at were durable: the journal is flushed before each snapshot, so a
// power loss cannot leave the snapshot on disk ahead of them (start-up would then refuse).
TEST_F(SyncFault, WithFsyncOffASnapshotFlushesTheJournalFirst) {
  const std::string synced = dir_.str() + "/synced-by-snapshot.txt";
  NodeProcess node(data_, preloaded({{"LPOPS_FAULT_SYNC_LOG", synced},
                                     {"PAYMENTS_JOURNAL_FSYNC", "false"},
                                     {"PAYMENTS_SNAPSHOT_EVERY_RECORDS", "100"}}));
  ASSERT_TRUE(node.start()) << node.log();
  std::filesystem::remove(synced);  // what start-up flushed does not count
  ASSERT_NO_FATAL_FAILURE(credit_acknowledged(node.port(), 130));
  const std::string snapshot = data_ + "/snapshot.json";
  for (int i = 0; i < 200 && !std::filesystem::exists(snapshot); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(std::filesystem::exists(snapshot)) << node.log();
  std::ifstream in(synced);
  std::set<std::string> paths;
  for (std::string line; std::getline(in, line);) paths.insert(line);
  const std::string journal = std::filesystem::canonical(data_).string() + "/journal.jsonl";
  EXPECT_TRUE(paths.count(journal)) << "a snapshot was written with the journal never flushed";
  EXPECT_EQ(node.terminate(), 0) << node.log();
}

}  // namespace
}  // namespace lpops::testing
