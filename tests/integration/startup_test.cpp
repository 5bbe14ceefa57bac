// Start-up takes time (recovery of a large journal, a large bootstrap file). Meanwhile the
// node listens: it is alive (/healthz 200), not ready (/readyz 503 "starting"), and every
// route that needs the ledger answers 503 with Retry-After, never a refused connection.
#include <signal.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/integration/fixture.hpp"
#include "tests/support/anvil_process.hpp"

namespace lpops::testing {
namespace {

// `lpops serve` on a fixed free port with 50,000 orchestrators to register before serving,
// so that start-up takes a while; returns once it listens.
struct SlowStart {
  TempDir dir;
  std::uint16_t port = free_loopback_port();
  std::string port_file = dir.str() + "/port";
  std::string current_log;  // of the latest start
  pid_t pid = -1;
  std::string grace_seconds = "0";  // PAYMENTS_SHUTDOWN_GRACE_SECONDS

  void start() {
    const std::string data = dir.str() + "/data";
    std::filesystem::create_directories(data);
    const std::string bootstrap = dir.str() + "/orchestrators.json";
    {
      std::ofstream out(bootstrap);
      out << "[";
      for (int i = 0; i < 50000; ++i) {
        char address[43];
        std::snprintf(address, sizeof address, "0x%040x", i + 1);
        out << (i ? "," : "") << "{\"orchestrator_id\":\"boot-" << i << "\",\"address\":\"" << address << "\"}";
      }
      out << "]";
    }
    ASSERT_NO_FATAL_FAILURE(launch(log()));
  }
  std::string log() const { return dir.str() + "/log"; }
  // The same node started again (its bootstrap file as before), logging to `log_name`.
  void restart(const std::string& log_name) { ASSERT_NO_FATAL_FAILURE(launch(dir.str() + "/" + log_name)); }
  // Spawns the node and returns once it says it listens on `port`: its own line, since a
  // connection could reach another test's process, given the same free port meanwhile. A node
  // that could not listen there (taken since it was picked) is started again on another.
  void launch(const std::string& log_path) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      ASSERT_NE(port, 0);
      pid = spawn({lpops_binary(), "serve", "--port", std::to_string(port), "--port-file", port_file},
                  merged_environment({{"PAYMENTS_DATA_DIR", dir.str() + "/data"},
                                      {"PAYMENTS_API_HOST", "127.0.0.1"},
                                      {"PAYMENTS_BOOTSTRAP_ORCHESTRATORS_PATH", dir.str() + "/orchestrators.json"},
                                      {"PAYMENTS_SHUTDOWN_GRACE_SECONDS", grace_seconds}}),
                  log_path);
      current_log = log_path;
      ASSERT_GT(pid, 0);
      const std::string listening = "listening on http://127.0.0.1:" + std::to_string(port) + ";";
      bool exited = false;
      for (int i = 0; i < 3000 && !exited; ++i) {  // 30 s
        if (read_all(log_path).find(listening) != std::string::npos) return;
        exited = wait_pid(pid, std::chrono::milliseconds(0)) != -1000;
        if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      ASSERT_TRUE(exited) << "not listening after 30 s\n" << read_all(log_path);
      pid = -1;
      ASSERT_NE(read_all(log_path).find("Address already in use"), std::string::npos) << read_all(log_path);
      port = free_loopback_port();
    }
    FAIL() << "no free port in 5 attempts";
  }
  void wait_ready() {
    for (int i = 0; i < 12000 && !std::filesystem::exists(port_file); ++i)  // 50,000 entries under ASan: up to a minute
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(std::filesystem::exists(port_file)) << read_all(current_log);
  }
  ~SlowStart() {
    if (pid > 0 && wait_pid(pid, std::chrono::milliseconds(0)) == -1000) {
      ::kill(pid, SIGKILL);
      wait_pid(pid, std::chrono::seconds(30));
    }
  }
};

TEST(Startup, ListensWhileStartingAndAnswers503UntilReady) {
  SlowStart node;
  ASSERT_NO_FATAL_FAILURE(node.start());
  const std::uint16_t port = node.port;
  const std::string& port_file = node.port_file;
  const pid_t pid = node.pid;
  {
    HttpClient client("127.0.0.1", port);
    const auto health = client.request("GET", "/healthz");
    const auto ready = client.request("GET", "/readyz");
    const auto credit = client.request(
        "POST", "/api/workloads/time", R"({"workload_id":"early","orchestrator_id":"boot-1","artifact_hash":"h","duration_ms":1000})",
        {{"Content-Type", "application/json"}});
    const auto listing = client.request("GET", "/api/orchestrators");
    // What describes or measures the node answers as usual.
    const auto metrics = client.request("GET", "/metrics");
    const auto openapi = client.request("GET", "/openapi.json");
    const auto docs = client.request("GET", "/docs");
    // All of these were answered before start-up finished (the port file is written then).
    ASSERT_FALSE(std::filesystem::exists(port_file)) << "start-up finished before the probes; the window was missed";
    EXPECT_EQ(health.status, 200) << health.body;
    EXPECT_EQ(ready.status, 503) << ready.body;
    EXPECT_NE(ready.body.find("\"status\":\"starting\""), std::string::npos) << ready.body;
    EXPECT_NE(ready.body.find("\"transparency_index\":\"starting\""), std::string::npos) << ready.body;
    EXPECT_EQ(credit.status, 503) << credit.body;
    EXPECT_EQ(credit.header("Retry-After"), "1");
    EXPECT_NE(credit.body.find("Starting"), std::string::npos) << credit.body;
    EXPECT_EQ(listing.status, 503) << listing.body;
    EXPECT_EQ(listing.header("Retry-After"), "1");
    EXPECT_EQ(listing.body, R"({"detail":"Starting: the ledger is being recovered; retry shortly"})");
    EXPECT_EQ(metrics.status, 200) << metrics.body;
    EXPECT_NE(metrics.header("Content-Type").find("text/plain"), std::string::npos) << metrics.header("Content-Type");
    EXPECT_NE(metrics.body.find("# TYPE lpops_http_requests_total counter"), std::string::npos) << metrics.body;
    EXPECT_EQ(openapi.status, 200) << openapi.body;
    EXPECT_NE(openapi.body.find("\"/api/workloads/time\""), std::string::npos);
    EXPECT_NO_THROW((void)boost::json::parse(openapi.body));
    EXPECT_EQ(docs.status, 200) << docs.body;
    EXPECT_NE(docs.header("Content-Type").find("text/html"), std::string::npos) << docs.header("Content-Type");
  }
  for (int i = 0; i < 12000 && !std::filesystem::exists(port_file); ++i)  // 50,000 entries under ASan: up to a minute
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(std::filesystem::exists(port_file)) << read_all(node.log());
  {
    HttpClient client("127.0.0.1", port);
    EXPECT_EQ(client.request("GET", "/readyz").status, 200);
    // The early request changed nothing: the workload does not exist, and now it can be made.
    EXPECT_EQ(client.request("GET", "/api/workloads?orchestrator_id=boot-1").body, R"({"workloads":[]})");
    const auto credit = client.request(
        "POST", "/api/workloads/time", R"({"workload_id":"early","orchestrator_id":"boot-1","artifact_hash":"h","duration_ms":1000})",
        {{"Content-Type", "application/json"}});
    EXPECT_EQ(credit.status, 200) << credit.body;
  }
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_pid(pid, std::chrono::seconds(60)), 0) << read_all(node.log());
  node.pid = -1;
}

TEST(Startup, AStopSignalWhileStartingIsNeverReportedReady) {
  SlowStart node;
  node.grace_seconds = "300";  // a grace period is only for a node that said it was ready
  ASSERT_NO_FATAL_FAILURE(node.start());
  // Past recovery (a signal during it stops the process at once: the test below), into the
  // bootstrap: the policy is recorded once the ledger runs.
  for (int i = 0; i < 3000 && read_all(node.log()).find("recorded in the transparency log") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_FALSE(std::filesystem::exists(node.port_file)) << "start-up finished before the signal; the window was missed";
  ::kill(node.pid, SIGTERM);
  EXPECT_EQ(wait_pid(node.pid, std::chrono::seconds(60)), 0) << read_all(node.log());
  node.pid = -1;
  EXPECT_FALSE(std::filesystem::exists(node.port_file)) << "a node told to stop reported itself ready";
  EXPECT_EQ(read_all(node.log()).find("PAYMENTS_SHUTDOWN_GRACE_SECONDS"), std::string::npos) << read_all(node.log());
  const std::string log = read_all(node.log());
  EXPECT_NE(log.find("a stop signal arrived during start-up"), std::string::npos) << log;
  EXPECT_EQ(log.find("lpops serving on"), std::string::npos) << log;
  // The 50,000-entry bootstrap was cut short rather than finished first.
  EXPECT_NE(log.find("bootstrap: a stop signal arrived"), std::string::npos) << log;
}

// A stop signal during recovery ends the process at once (as a kill would, which recovery
// is made to survive), instead of after the whole recovery; the next start recovers it all.
TEST(Startup, AStopSignalDuringRecoveryStopsAtOnce) {
  SlowStart node;
  ASSERT_NO_FATAL_FAILURE(node.start());
  ASSERT_NO_FATAL_FAILURE(node.wait_ready());
  ::kill(node.pid, SIGTERM);
  ASSERT_EQ(wait_pid(node.pid, std::chrono::seconds(60)), 0) << read_all(node.log());
  // Without the snapshot and the log's index, recovery replays 50,000 records and re-reads
  // every audit line: long enough to be signalled in.
  std::filesystem::remove(node.dir.str() + "/data/snapshot.json");
  std::filesystem::remove(node.dir.str() + "/data/audit.index");
  ASSERT_NO_FATAL_FAILURE(node.restart("log2"));
  ::kill(node.pid, SIGTERM);
  EXPECT_EQ(wait_pid(node.pid, std::chrono::seconds(60)), 0);
  node.pid = -1;
  const std::string log = read_all(node.dir.str() + "/log2");
  ASSERT_EQ(log.find("recovered "), std::string::npos) << "recovery finished before the signal; the window was missed\n" << log;
  EXPECT_NE(log.find("received SIGTERM during recovery: stopping now"), std::string::npos) << log;
  EXPECT_FALSE(std::filesystem::exists(node.port_file));
  // The next start recovers everything.
  ASSERT_NO_FATAL_FAILURE(node.restart("log3"));
  ASSERT_NO_FATAL_FAILURE(node.wait_ready());
  // 50,000 orchestrators' views take seconds under the sanitizers on a loaded machine.
  HttpClient client("127.0.0.1", node.port, std::chrono::seconds(120));
  const auto listed = client.request("GET", "/api/orchestrators");
  ASSERT_EQ(listed.status, 200) << listed.body.substr(0, 300);
  EXPECT_EQ(parse_json(listed.body).at("orchestrators").as_array().size(), 50000u);
  ::kill(node.pid, SIGTERM);
  EXPECT_EQ(wait_pid(node.pid, std::chrono::seconds(60)), 0) << read_all(node.dir.str() + "/log3");
  node.pid = -1;
}

// The port file says "ready": a call made the moment it appears is served, never 503
// "Starting" (the file was once written just before the node marked itself ready).
TEST(Startup, ACallMadeAsThePortFileAppearsIsServed) {
  TempDir dir;
  for (int i = 0; i < 10; ++i) {
    NodeProcess node(dir.str() + "/data");
    ASSERT_TRUE(node.start()) << node.log();
    HttpClient client("127.0.0.1", node.port());
    auto r = client.request("GET", "/api/balances", "");
    EXPECT_EQ(r.status, 200) << "start " << i << ": " << r.body;
    ASSERT_EQ(node.terminate(), 0) << node.log();
  }
}

// A start after a kill says the run before did not stop cleanly (its journal ends in the
// zeroed blocks written ahead, which only a clean stop removes); a start after a clean stop
// does not.
TEST(Startup, AStartAfterAKillSaysTheRunBeforeDidNotStopCleanly) {
  TempDir dir;
  const std::map<std::string, std::string> env = {
      {"PAYMENTS_BOOTSTRAP_ORCHESTRATORS", "[{\"orchestrator_id\":\"o1\",\"address\":\"" + address_of(1) + "\"}]"}};
  const std::string unclean = "the previous run did not stop cleanly";
  {
    NodeProcess node(dir.str() + "/data", env);
    ASSERT_TRUE(node.start()) << node.log();
    if (node.log().find("(journal: direct I/O)") == std::string::npos) GTEST_SKIP() << "no direct I/O here: " << node.log();
    node.kill_hard();
  }
  {
    NodeProcess node(dir.str() + "/data", env);
    ASSERT_TRUE(node.start()) << node.log();
    EXPECT_NE(node.log().find(unclean), std::string::npos) << node.log();
    ASSERT_EQ(node.terminate(), 0) << node.log();
  }
  NodeProcess node(dir.str() + "/data", env);
  ASSERT_TRUE(node.start()) << node.log();
  const std::string log = node.log();  // the three runs' logs, one after another
  const std::string third = log.substr(log.rfind("data directory " + dir.str()));
  EXPECT_EQ(third.find(unclean), std::string::npos) << third;
  ASSERT_EQ(node.terminate(), 0) << node.log();
}

// At PAYMENTS_LOG_LEVEL=debug each request is logged (method, path, client, status), never its
// query; at the default level none is.
TEST(Startup, DebugLevelLogsEachRequestWithoutItsQuery) {
  for (const bool debug : {true, false}) {
    TempDir dir;
    std::map<std::string, std::string> env = {{"PAYMENTS_API_ADMIN_TOKEN", "admin-secret"}};
    if (debug) env["PAYMENTS_LOG_LEVEL"] = "debug";
    NodeProcess node(dir.str() + "/data", env);
    ASSERT_TRUE(node.start()) << node.log();
    HttpClient client("127.0.0.1", node.port());
    EXPECT_EQ(client.request("GET", "/api/workloads?orchestrator_id=secret-value").status, 401);
    ASSERT_EQ(node.terminate(), 0) << node.log();
    const std::string log = node.log();
    EXPECT_EQ(log.find("http: GET /api/workloads from 127.0.0.1: 401 in ") != std::string::npos, debug) << log;
    EXPECT_EQ(log.find("secret-value"), std::string::npos) << log;
  }
}

// A core dump would hold the keys: the node turns its core-size limit to 0 (hard limit too)
// unless PAYMENTS_ALLOW_CORE_DUMPS, whatever limit it was started with.
TEST(Startup, CoreDumpsAreOffUnlessAllowed) {
  struct rlimit before {};
  ASSERT_EQ(::getrlimit(RLIMIT_CORE, &before), 0);
  if (before.rlim_max != RLIM_INFINITY && before.rlim_max < (1u << 20)) GTEST_SKIP() << "the hard core-size limit is below 1 MiB here";
  struct rlimit raised = before;
  raised.rlim_cur = 1u << 20;  // the node inherits 1 MiB
  ASSERT_EQ(::setrlimit(RLIMIT_CORE, &raised), 0);
  auto core_limit_of = [](pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
    for (std::string line; std::getline(in, line);)
      if (line.starts_with("Max core file size")) return line;
    return std::string("(none)");
  };
  for (const bool allowed : {false, true}) {
    TempDir dir;
    // (ASan turns core dumps off itself unless told not to.)
    std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
    asan += std::string(asan.empty() ? "" : ":") + "disable_coredump=0";
    std::map<std::string, std::string> env{{"ASAN_OPTIONS", asan}};
    if (allowed) env["PAYMENTS_ALLOW_CORE_DUMPS"] = "true";
    NodeProcess node(dir.str() + "/data", env);
    ASSERT_TRUE(node.start()) << node.log();
    const std::string limit = core_limit_of(node.pid());
    std::istringstream fields(limit.substr(std::string("Max core file size").size()));
    std::string soft, hard;
    fields >> soft >> hard;
    if (allowed) {
      EXPECT_EQ(soft, "1048576") << limit;
    } else {
      EXPECT_EQ(soft, "0") << limit;
      EXPECT_EQ(hard, "0") << limit;
    }
    EXPECT_EQ(node.terminate(), 0) << node.log();
  }
  ::setrlimit(RLIMIT_CORE, &before);
}

// SIGINT (Ctrl-C) and SIGHUP (the terminal closed) stop a node as SIGTERM does: drained, the
// journal flushed, exit 0, and what it acknowledged is there at the next start.
TEST(Startup, InterruptAndHangupStopTheNodeCleanly) {
  for (const int sig : {SIGINT, SIGHUP}) {
    const std::string name = sig == SIGINT ? "SIGINT" : "SIGHUP";
    TempDir dir;
    const std::map<std::string, std::string> env = {
        {"PAYMENTS_BOOTSTRAP_ORCHESTRATORS", "[{\"orchestrator_id\":\"o1\",\"address\":\"" + address_of(1) + "\"}]"}};
    {
      NodeProcess node(dir.str() + "/data", env);
      ASSERT_TRUE(node.start()) << node.log();
      HttpClient client("127.0.0.1", node.port());
      const auto credit = client.request(
          "POST", "/api/workloads/time", R"({"workload_id":"w1","orchestrator_id":"o1","artifact_hash":"h","duration_ms":60000})",
          {{"Content-Type", "application/json"}});
      ASSERT_EQ(credit.status, 200) << credit.body;
      ::kill(node.pid(), sig);
      EXPECT_EQ(node.wait_exit(std::chrono::seconds(60)), 0) << name << "\n" << node.log();
      EXPECT_NE(node.log().find("received " + name + ": draining"), std::string::npos) << node.log();
      // Every entry of the log is under a signed checkpoint by the last line.
      std::smatch m;
      const std::string log = node.log();
      ASSERT_TRUE(std::regex_search(log, m, std::regex(R"(stopped cleanly: journal durable to record (\d+); audit log (\d+) entries, (\d+) of them under a signed checkpoint)")))
          << log;
      EXPECT_EQ(m[2].str(), m[3].str()) << log;
      EXPECT_EQ(m[2].str(), "2") << log;  // the policy and the credit
    }
    NodeProcess again(dir.str() + "/data", env);
    ASSERT_TRUE(again.start()) << again.log();
    HttpClient client("127.0.0.1", again.port());
    const auto w = client.request("GET", "/api/workloads?orchestrator_id=o1");
    EXPECT_NE(w.body.find("\"workload_id\":\"w1\""), std::string::npos) << name << " " << w.body;
    EXPECT_EQ(again.terminate(), 0) << again.log();
  }
}

// With PAYMENTS_SHUTDOWN_GRACE_SECONDS, a stop signal first makes /readyz say draining while
// requests are still taken (a load balancer polling it stops sending), then the node drains
// and stops; a second signal ends the grace period at once.
TEST(Startup, AGracePeriodSaysDrainingWhileStillServing) {
  for (const bool second_signal : {false, true}) {
    TempDir dir;
    NodeProcess node(dir.str() + "/data",
                     {{"PAYMENTS_SHUTDOWN_GRACE_SECONDS", second_signal ? "60" : "4"},
                      {"PAYMENTS_BOOTSTRAP_ORCHESTRATORS", "[{\"orchestrator_id\":\"o1\",\"address\":\"" + address_of(1) + "\"}]"}});
    ASSERT_TRUE(node.start()) << node.log();
    HttpClient client("127.0.0.1", node.port());
    EXPECT_EQ(client.request("GET", "/readyz").status, 200);
    const auto signalled = std::chrono::steady_clock::now();
    ::kill(node.pid(), SIGTERM);
    // Bounded: the node says draining within 5 s.
    HttpResult ready;
    for (int i = 0; i < 100; ++i) {
      ready = client.request("GET", "/readyz");
      if (ready.status == 503) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(ready.status, 503) << ready.body;
    EXPECT_NE(ready.body.find("\"draining\""), std::string::npos) << ready.body;
    const auto credit = client.request(
        "POST", "/api/workloads/time", R"({"workload_id":"w1","orchestrator_id":"o1","artifact_hash":"h","duration_ms":60000})",
        {{"Content-Type", "application/json"}});
    EXPECT_EQ(credit.status, 200) << credit.body;  // still taken
    if (second_signal) ::kill(node.pid(), SIGTERM);
    EXPECT_EQ(node.wait_exit(std::chrono::seconds(30)), 0) << node.log();
    const auto took = std::chrono::steady_clock::now() - signalled;
    if (second_signal) {
      EXPECT_LT(took, std::chrono::seconds(30)) << "the second signal did not end the grace period";
      EXPECT_NE(node.log().find("received SIGTERM again"), std::string::npos) << node.log();
    } else {
      EXPECT_GE(took, std::chrono::seconds(4)) << "stopped before the grace period ended";
      EXPECT_NE(node.log().find("still taking requests for 4 s (PAYMENTS_SHUTDOWN_GRACE_SECONDS)"), std::string::npos) << node.log();
      EXPECT_NE(node.log().find("grace period over: draining"), std::string::npos) << node.log();
    }
  }
}

// A second node pointed at a data directory in use is refused before it takes a port (it never
// answers anything); one pointed at a port in use is told how to choose another.
TEST(Startup, ADirectoryOrPortInUseIsSaidBeforeServing) {
  TempDir dir;
  NodeProcess node(dir.str() + "/data");
  ASSERT_TRUE(node.start()) << node.log();
  auto same_dir = run_command({lpops_binary(), "serve", "--data-dir", dir.str() + "/data", "--host", "127.0.0.1", "--port", "0"}, {},
                              std::chrono::seconds(30));
  EXPECT_EQ(same_dir.exit_code, 1) << same_dir.output;
  EXPECT_NE(same_dir.output.find("is in use by another lpops process"), std::string::npos) << same_dir.output;
  EXPECT_EQ(same_dir.output.find("listening on"), std::string::npos) << same_dir.output;
  // LOCK deleted as if stale: the directory's own lock still keeps a second node out.
  ASSERT_TRUE(std::filesystem::remove(dir.str() + "/data/LOCK"));
  auto lock_deleted = run_command({lpops_binary(), "serve", "--data-dir", dir.str() + "/data", "--host", "127.0.0.1", "--port", "0"},
                                  {}, std::chrono::seconds(30));
  EXPECT_EQ(lock_deleted.exit_code, 1) << lock_deleted.output;
  EXPECT_NE(lock_deleted.output.find("is in use by another lpops process"), std::string::npos) << lock_deleted.output;
  auto same_port = run_command({lpops_binary(), "serve", "--data-dir", dir.str() + "/other", "--host", "127.0.0.1", "--port",
                                std::to_string(node.port())},
                               {}, std::chrono::seconds(30));
  EXPECT_EQ(same_port.exit_code, 1) << same_port.output;
  EXPECT_NE(same_port.output.find("Address already in use"), std::string::npos) << same_port.output;
  EXPECT_NE(same_port.output.find("PAYMENTS_API_PORT / --port"), std::string::npos) << same_port.output;
  // The refused start takes back what it made: its data directory, the audit key it created
  // there (which signed nothing) and LOCK. The next start makes its own.
  EXPECT_NE(same_port.output.find("audit key created in"), std::string::npos) << same_port.output;
  EXPECT_FALSE(std::filesystem::exists(dir.str() + "/other")) << same_port.output;
  // A directory that was there before stays, with only what was in it.
  ASSERT_TRUE(std::filesystem::create_directories(dir.str() + "/kept/data"));
  { std::ofstream(dir.str() + "/kept/data/notes.txt") << "operator's file\n"; }
  auto kept = run_command({lpops_binary(), "serve", "--data-dir", dir.str() + "/kept/data", "--host", "127.0.0.1", "--port",
                           std::to_string(node.port())},
                          {}, std::chrono::seconds(30));
  EXPECT_EQ(kept.exit_code, 1) << kept.output;
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(dir.str() + "/kept/data")) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"notes.txt"}) << kept.output;
  // Missing parents made for it go too; a keystore that cannot be read (status 2, found once
  // the directory is made and locked) takes them back as well.
  auto bad_key = run_command({lpops_binary(), "serve", "--data-dir", dir.str() + "/a/b/data", "--host", "127.0.0.1", "--port", "0"},
                             {{"PAYMENT_KEYSTORE_PATH", dir.str() + "/no-such-keystore.json"}}, std::chrono::seconds(30));
  EXPECT_EQ(bad_key.exit_code, 2) << bad_key.output;
  EXPECT_NE(bad_key.output.find("PAYMENT_KEYSTORE_PATH"), std::string::npos) << bad_key.output;
  EXPECT_FALSE(std::filesystem::exists(dir.str() + "/a")) << bad_key.output;
  auto bad_port_file = run_command({lpops_binary(), "serve", "--data-dir", dir.str() + "/c/data", "--host", "127.0.0.1", "--port", "0",
                                    "--port-file", dir.str()},
                                   {}, std::chrono::seconds(30));
  EXPECT_EQ(bad_port_file.exit_code, 2) << bad_port_file.output;
  EXPECT_FALSE(std::filesystem::exists(dir.str() + "/c")) << bad_port_file.output;
  // A symlink where the data directory goes, to a disk not mounted yet, is the operator's: a
  // refused start leaves it.
  std::filesystem::create_directory_symlink(dir.str() + "/not-mounted/ledger", dir.str() + "/ledger");
  auto dangling = run_command({lpops_binary(), "serve", "--data-dir", dir.str() + "/ledger", "--host", "127.0.0.1", "--port", "0"}, {},
                              std::chrono::seconds(30));
  EXPECT_NE(dangling.exit_code, 0) << dangling.output;
  EXPECT_TRUE(std::filesystem::is_symlink(dir.str() + "/ledger")) << dangling.output;
  EXPECT_NE(dangling.output.find("is a symbolic link to " + dir.str() + "/not-mounted/ledger, which does not exist"), std::string::npos)
      << dangling.output;
  // A file where the data directory goes is named as such, and left.
  { std::ofstream(dir.str() + "/afile") << "x"; }
  auto a_file = run_command({lpops_binary(), "serve", "--data-dir", dir.str() + "/afile", "--host", "127.0.0.1", "--port", "0"}, {},
                            std::chrono::seconds(30));
  EXPECT_EQ(a_file.exit_code, 1) << a_file.output;
  EXPECT_NE(a_file.output.find("data directory " + dir.str() + "/afile exists and is not a directory"), std::string::npos)
      << a_file.output;
  EXPECT_TRUE(std::filesystem::is_regular_file(dir.str() + "/afile"));
  // A start whose ledger cannot be recovered (here the journal is a directory) takes back the
  // key it made: nothing was signed with it yet.
  ASSERT_TRUE(std::filesystem::create_directories(dir.str() + "/unreadable/journal.jsonl"));
  auto unreadable = run_command({lpops_binary(), "serve", "--data-dir", dir.str() + "/unreadable", "--host", "127.0.0.1", "--port", "0"},
                                {}, std::chrono::seconds(30));
  EXPECT_EQ(unreadable.exit_code, 1) << unreadable.output;
  EXPECT_NE(unreadable.output.find("cannot recover"), std::string::npos) << unreadable.output;
  left.clear();
  for (const auto& e : std::filesystem::directory_iterator(dir.str() + "/unreadable")) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"journal.jsonl"}) << unreadable.output;
  // A journal that is a symlink to nothing yet (a disk not mounted) is the operator's: left.
  ASSERT_TRUE(std::filesystem::create_directories(dir.str() + "/linked"));
  std::filesystem::create_symlink(dir.str() + "/not-mounted/journal.jsonl", dir.str() + "/linked/journal.jsonl");
  auto linked = run_command({lpops_binary(), "serve", "--data-dir", dir.str() + "/linked", "--host", "127.0.0.1", "--port", "0"}, {},
                            std::chrono::seconds(30));
  EXPECT_EQ(linked.exit_code, 1) << linked.output;
  EXPECT_TRUE(std::filesystem::is_symlink(dir.str() + "/linked/journal.jsonl")) << linked.output;
  EXPECT_FALSE(std::filesystem::exists(dir.str() + "/linked/audit.key")) << linked.output;
  // Its target's directory there (an empty mount point): nothing is created through the link.
  ASSERT_TRUE(std::filesystem::create_directories(dir.str() + "/mountpoint"));
  std::filesystem::remove(dir.str() + "/linked/journal.jsonl");
  std::filesystem::create_symlink(dir.str() + "/mountpoint/journal.jsonl", dir.str() + "/linked/journal.jsonl");
  auto mount_point = run_command({lpops_binary(), "serve", "--data-dir", dir.str() + "/linked", "--host", "127.0.0.1", "--port", "0"},
                                 {}, std::chrono::seconds(30));
  EXPECT_EQ(mount_point.exit_code, 1) << mount_point.output;
  EXPECT_NE(mount_point.output.find("is a symbolic link to " + dir.str() + "/mountpoint/journal.jsonl, which does not exist"),
            std::string::npos)
      << mount_point.output;
  EXPECT_FALSE(std::filesystem::exists(dir.str() + "/mountpoint/journal.jsonl")) << mount_point.output;
  EXPECT_TRUE(std::filesystem::is_symlink(dir.str() + "/linked/journal.jsonl")) << mount_point.output;
  // A start refused because another node holds the directory takes nothing of it away.
  EXPECT_TRUE(std::filesystem::exists(dir.str() + "/data/audit.key"));
  EXPECT_TRUE(std::filesystem::exists(dir.str() + "/data/journal.jsonl"));
  EXPECT_EQ(node.terminate(), 0) << node.log();
}

}  // namespace
}  // namespace lpops::testing
