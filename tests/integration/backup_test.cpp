// A backup taken while the node runs, by copying its files in the order docs/operations.md
// gives (checkpoints, audit log, snapshot, journal, key): each file copied is covered by the
// ones copied after it, so the copy starts as a node of its own, holds every credit that was
// acknowledged before the copy began, and its log verifies.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "tests/integration/fixture.hpp"

namespace lpops::testing {
namespace {

class BackupTest : public NodeTest {
 protected:
  // Credits w0, w1, … to o1 one after another until stopped; `acknowledged` counts the 200s.
  class Writer {
   public:
    explicit Writer(std::uint16_t port)
        : thread_([this, port] {
            HttpClient client("127.0.0.1", port);
            for (int i = 0; !stop_.load() && i < 100000; ++i) {
              auto r = client.request("POST", "/api/workloads/time",
                                      json::serialize(json::object{{"workload_id", "w" + std::to_string(i)}, {"orchestrator_id", "o1"},
                                                                   {"artifact_hash", "h"}, {"duration_ms", 1000 + i}}),
                                      {{"Content-Type", "application/json"}});
              if (r.status != 200) break;
              acknowledged_ = i + 1;
            }
          }) {}
    ~Writer() { stop(); }
    int acknowledged() const { return acknowledged_.load(); }
    // Waits (bounded) until at least `count` credits are acknowledged.
    void wait_for(int count) const {
      for (int i = 0; i < 2000 && acknowledged() < count; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    void stop() {
      stop_ = true;
      if (thread_.joinable()) thread_.join();
    }

   private:
    std::atomic<bool> stop_{false};
    std::atomic<int> acknowledged_{0};
    std::thread thread_;
  };
};

TEST_F(BackupTest, FilesCopiedInTheDocumentedOrderWhileTheNodeRunsStartAsANode) {
  // Small snapshot and checkpoint steps, so that both are written during the copy.
  const std::map<std::string, std::string> env = {{"PAYMENTS_SNAPSHOT_EVERY_RECORDS", "100"},
                                                  {"PAYMENTS_AUDIT_CHECKPOINT_EVERY_ENTRIES", "50"},
                                                  {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "100000"},
                                                  {"PAYMENTS_PUBLIC_RATE_BURST", "100000"}};
  start_node(env);
  register_orchestrator("o1", address_of(1));
  Writer writer(node_->port());
  writer.wait_for(300);
  ASSERT_GE(writer.acknowledged(), 300);
  const int before_copy = writer.acknowledged();
  const std::string from = dir_.str() + "/data", to = dir_.str() + "/copy";
  std::filesystem::create_directories(to);
  for (const char* name : {"checkpoints.jsonl", "audit.jsonl", "snapshot.json", "journal.jsonl", "audit.key"}) {
    std::filesystem::copy_file(from + "/" + name, to + "/" + name);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // the node goes on writing between the copies
  }
  writer.stop();
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

// `lpops backup` of a node under load, several times over: each copy checks out, starts as a
// node of its own, holds every credit acknowledged before the backup began, and its log
// verifies once the copy's node has signed it.
TEST_F(BackupTest, TheBackupCommandCopiesARunningNodeIntoANodeOfItsOwn) {
  const std::map<std::string, std::string> env = {{"PAYMENTS_SNAPSHOT_EVERY_RECORDS", "100"},
                                                  {"PAYMENTS_AUDIT_CHECKPOINT_EVERY_ENTRIES", "50"}};
  start_node(env);
  register_orchestrator("o1", address_of(1));
  Writer writer(node_->port());
  const std::string from = dir_.str() + "/data";
  std::vector<std::pair<std::string, int>> copies;  // directory, credits acknowledged before it began
  for (int round = 0; round < 3; ++round) {
    writer.wait_for(200 * (round + 1));
    const int before = writer.acknowledged();
    const std::string to = dir_.str() + "/backup-" + std::to_string(round);
    auto r = run_command_split({lpops_binary(), "backup", "--data-dir", from, "--to", to, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto out = parse_json(r.out);
    EXPECT_GE(out.at("journal_records").as_int64(), before + 2) << r.out;  // the policy and the registration too
    EXPECT_TRUE(out.at("audit_key_copied").as_bool()) << r.out;
    EXPECT_FALSE(out.at("settings_read").as_bool()) << r.out;  // --data-dir: said in the answer too
    EXPECT_NE(r.err.find("with --data-dir the settings are not read"), std::string::npos) << r.err;
    copies.emplace_back(to, before);
  }
  writer.stop();
  ASSERT_EQ(node_->terminate(), 0) << node_->log();
  for (const auto& [to, before] : copies) {
    SCOPED_TRACE(to);
    NodeProcess copy(to, env);
    ASSERT_TRUE(copy.start()) << copy.log();
    // Whole records only: nothing to cut.
    EXPECT_EQ(copy.log().find("cut"), std::string::npos) << copy.log();
    HttpClient client("127.0.0.1", copy.port());
    std::set<std::string> ids;
    const auto listing = parse_json(client.request("GET", "/api/workloads?orchestrator_id=o1").body);  // no limit: all
    for (const auto& w : listing.at("workloads").as_array()) ids.insert(std::string(w.at("workload_id").as_string()));
    for (int i = 0; i < before; ++i) EXPECT_TRUE(ids.count("w" + std::to_string(i))) << "w" << i << " is missing from " << to;
    EXPECT_EQ(copy.terminate(), 0) << copy.log();
    auto verified = run_command({lpops_binary(), "verify", "--log", to + "/audit.jsonl"});
    EXPECT_EQ(verified.exit_code, 0) << verified.output;
  }
}

// What the backup copies of a file being appended to: whole lines (a line half written stays
// behind, so the copy needs no cut), and the source as it was. Of a journal no node writes,
// data after zeros is damage, not a commit landing during the copy: refused, as a copy that
// lacks records its audit log describes is; neither leaves a directory behind.
TEST_F(BackupTest, TheBackupKeepsWholeRecordsAndRefusesADamagedSource) {
  start_node();
  register_orchestrator("o1", address_of(1));
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(post("/api/workloads/time", json::object{{"workload_id", "w" + std::to_string(i)}, {"orchestrator_id", "o1"},
                                                      {"artifact_hash", "h"}, {"duration_ms", 60000}}).status,
              200);
  ASSERT_EQ(node_->terminate(), 0);
  const std::string from = dir_.str() + "/data", journal = from + "/journal.jsonl";
  std::string text = read_all(journal);
  text.resize(text.find_last_not_of('\0') + 1);
  const std::string last_line = text.substr(text.rfind('\n', text.size() - 2) + 1);
  std::ofstream(journal, std::ios::binary | std::ios::trunc) << text << R"({"seq":)";  // half a line
  std::filesystem::remove(from + "/clean-stop.json");
  std::filesystem::permissions(from + "/audit.key", std::filesystem::perms::others_read, std::filesystem::perm_options::add);
  const std::string before = read_all(journal);
  const std::string to = dir_.str() + "/backup";
  auto r = run_command({lpops_binary(), "backup", "--data-dir", from, "--to", to});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The policy, the registration and five credits; an audit entry for each but the registration.
  EXPECT_NE(r.output.find("7 journal records, 6 audit entries (6 signed), 5 workloads"), std::string::npos) << r.output;
  EXPECT_EQ(read_all(to + "/journal.jsonl"), text);
  EXPECT_EQ(read_all(journal), before);
  // As private as the data directory; the audit key the owner's alone, whatever its source's mode.
  EXPECT_EQ(std::filesystem::status(to).permissions(), std::filesystem::status(from).permissions());
  EXPECT_EQ(std::filesystem::status(to + "/audit.key").permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  NodeProcess copy(to);
  ASSERT_TRUE(copy.start()) << copy.log();
  HttpClient client("127.0.0.1", copy.port());
  EXPECT_EQ(parse_json(client.request("GET", "/api/orchestrators/o1").body).at("balance_eth"), json::value("0.00002676798"));
  EXPECT_EQ(copy.terminate(), 0) << copy.log();

  // Zeros, then a record: damage in a journal no node writes.
  std::ofstream(journal, std::ios::binary | std::ios::trunc) << text << std::string(4096, '\0') << last_line;
  auto damaged = run_command({lpops_binary(), "backup", "--data-dir", from, "--to", dir_.str() + "/backup-2"});
  EXPECT_EQ(damaged.exit_code, 1) << damaged.output;
  EXPECT_NE(damaged.output.find("has data at byte " + std::to_string(text.size() + 4096) + " after zeros from byte " +
                                std::to_string(text.size()) + ", and no node is writing it"),
            std::string::npos)
      << damaged.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.str() + "/backup-2"));

  // A journal that lost a record its audit log describes: the copy does not check out.
  const std::string cut = text.substr(0, text.rfind('\n', text.size() - 2) + 1);
  std::ofstream(journal, std::ios::binary | std::ios::trunc) << cut;
  auto lost = run_command({lpops_binary(), "backup", "--data-dir", from, "--to", dir_.str() + "/backup-3"});
  EXPECT_EQ(lost.exit_code, 1) << lost.output;
  EXPECT_NE(lost.output.find("does not check out: the audit log describes journal records up to 7, but the journal ends at 6"),
            std::string::npos)
      << lost.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.str() + "/backup-3"));

  // An audit log damaged before its last line (which a node refuses to start on): the copy
  // does not check out.
  std::ofstream(journal, std::ios::binary | std::ios::trunc) << text;
  const std::string audit = from + "/audit.jsonl", audit_text = read_all(audit);
  std::string forged = audit_text;
  const auto digit = forged.find("\"delta_wei\":\"") + 13;
  forged[digit] = forged[digit] == '1' ? '2' : '1';
  std::ofstream(audit, std::ios::binary | std::ios::trunc) << forged;
  auto unverified = run_command({lpops_binary(), "backup", "--data-dir", from, "--to", dir_.str() + "/backup-6"});
  EXPECT_EQ(unverified.exit_code, 1) << unverified.output;
  EXPECT_NE(unverified.output.find("does not check out: its audit log does not verify"), std::string::npos) << unverified.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.str() + "/backup-6"));
  std::ofstream(audit, std::ios::binary | std::ios::trunc) << audit_text;

  // A copy that cannot be written (its flush fails: a full or failing disk) is a failure (1),
  // and leaves nothing: neither the target nor the partial copy beside it.
  std::ofstream(journal, std::ios::binary | std::ios::trunc) << text;
  const std::string trigger = dir_.str() + "/fail-flushes";
  std::ofstream(trigger).close();
  std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
  asan += std::string(asan.empty() ? "" : ":") + "verify_asan_link_order=0";
  const std::map<std::string, std::string> failing_flush{{"LD_PRELOAD", LPOPS_SYNC_FAULTS},
                                                        {"LPOPS_FAULT_FDATASYNC_TRIGGER", trigger},
                                                        {"LPOPS_FAULT_FDATASYNC_SUFFIX", "/journal.jsonl"},
                                                        {"ASAN_OPTIONS", asan}};
  // The directories made for it go too.
  auto unflushed = run_command({lpops_binary(), "backup", "--data-dir", from, "--to", dir_.str() + "/deep/er/backup-4/"}, failing_flush);
  EXPECT_EQ(unflushed.exit_code, 1) << unflushed.output;
  EXPECT_NE(unflushed.output.find("cannot flush"), std::string::npos) << unflushed.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.str() + "/deep"));
  // An empty target made beforehand stays, with its own permissions back.
  const std::string kept = dir_.str() + "/backup-kept";
  std::filesystem::create_directories(kept);
  std::filesystem::permissions(kept, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                         std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                                         std::filesystem::perms::others_exec);
  const auto kept_mode = std::filesystem::status(kept).permissions();
  auto into_kept = run_command({lpops_binary(), "backup", "--data-dir", from, "--to", kept}, failing_flush);
  EXPECT_EQ(into_kept.exit_code, 1) << into_kept.output;
  ASSERT_TRUE(std::filesystem::is_directory(kept));
  EXPECT_TRUE(std::filesystem::is_empty(kept));
  EXPECT_EQ(std::filesystem::status(kept).permissions(), kept_mode);
  std::filesystem::remove(trigger);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.str()))
    EXPECT_EQ(entry.path().filename().string().find(".partial-"), std::string::npos) << entry.path() << " was left behind";

  // An empty target made beforehand, open to all, ends as private as the data directory, and
  // holds the copy's files (moved up from the partial directory inside it, which is gone).
  const std::string open_dir = dir_.str() + "/backup-5";
  std::filesystem::create_directories(open_dir);
  std::filesystem::permissions(open_dir, std::filesystem::perms::all);
  auto into_open = run_command({lpops_binary(), "backup", "--data-dir", from, "--to", open_dir});
  ASSERT_EQ(into_open.exit_code, 0) << into_open.output;
  EXPECT_EQ(std::filesystem::status(open_dir).permissions(), std::filesystem::status(from).permissions());
  EXPECT_EQ(read_all(open_dir + "/journal.jsonl"), text);
  for (const auto& entry : std::filesystem::directory_iterator(open_dir))
    EXPECT_EQ(entry.path().filename().string().find(".partial-"), std::string::npos) << entry.path() << " was left behind";
}

// Mistakes: a target that is not a new or empty directory, one inside the data directory (or
// holding it), a source that is no data directory; each a usage error that writes nothing.
TEST_F(BackupTest, TheBackupRefusesTargetsItShouldNotWriteInto) {
  start_node();
  ASSERT_EQ(node_->terminate(), 0);
  const std::string from = dir_.str() + "/data";
  const std::string full = dir_.str() + "/full";
  std::filesystem::create_directories(full);
  std::ofstream(full + "/something").close();
  for (const auto& [to, says] : std::vector<std::pair<std::string, std::string>>{
           {full, "exists and is not an empty directory"},
           {from + "/backup", "must not contain each other"},
           {dir_.str(), "must not contain each other"},
           {from, "must not contain each other"}}) {
    auto r = run_command({lpops_binary(), "backup", "--data-dir", from, "--to", to});
    EXPECT_EQ(r.exit_code, 2) << to << ": " << r.output;
    EXPECT_NE(r.output.find(says), std::string::npos) << r.output;
  }
  EXPECT_FALSE(std::filesystem::exists(from + "/backup"));
  auto none = run_command({lpops_binary(), "backup", "--data-dir", dir_.str() + "/nothing", "--to", dir_.str() + "/b"});
  EXPECT_EQ(none.exit_code, 2) << none.output;
  EXPECT_NE(none.output.find("holds no journal.jsonl: not a data directory"), std::string::npos) << none.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.str() + "/b"));
  EXPECT_EQ(run_command({lpops_binary(), "backup", "--data-dir", from}).exit_code, 2);  // --to is required
}

// What an interrupted backup left in a target (.partial-<pid>, holding part of a copy) is removed
// by the next backup into it, which says so; anything else there still refuses the target. A
// backup holds a lock on its target: a second one into it meanwhile is refused.
TEST_F(BackupTest, TheNextBackupRemovesWhatAnInterruptedOneLeftAndOneRunsAtATime) {
  start_node();
  register_orchestrator("o1", address_of(1));
  ASSERT_EQ(post("/api/workloads/time", json::object{{"workload_id", "w1"}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"},
                                                     {"duration_ms", 60000}})
                .status,
            200);
  ASSERT_EQ(node_->terminate(), 0);
  const std::string from = dir_.str() + "/data";
  const std::string to = dir_.str() + "/b";
  std::filesystem::create_directories(to + "/.partial-4242");
  std::ofstream(to + "/.partial-4242/journal.jsonl") << "part of a copy";
  std::filesystem::create_directories(to + "/.partial-77/deeper");
  auto r = run_command({lpops_binary(), "backup", "--data-dir", from, "--to", to});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("removing " + to + "/.partial-4242, left by an interrupted backup"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("removing " + to + "/.partial-77, left by an interrupted backup"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(to + "/.partial-4242"));
  EXPECT_FALSE(std::filesystem::exists(to + "/.partial-77"));
  EXPECT_EQ(read_file_bytes(to + "/journal.jsonl"), read_file_bytes(from + "/journal.jsonl"));

  // Beside anything else, or under a name that is not a backup's, it stays and the target is refused.
  for (const auto& [other, kind] : std::vector<std::pair<std::string, int>>{
           {"/.partial-1x", 0}, {"/notes.txt", 1}, {"/.partial-5", 1}}) {
    const std::string t = dir_.str() + "/t" + std::to_string(kind) + other.substr(1, 3);
    std::filesystem::create_directories(t + "/.partial-9");
    if (kind == 0) std::filesystem::create_directories(t + other);
    else std::ofstream(t + other) << "x";
    auto refused = run_command({lpops_binary(), "backup", "--data-dir", from, "--to", t});
    EXPECT_EQ(refused.exit_code, 2) << other << ": " << refused.output;
    EXPECT_NE(refused.output.find("exists and is not an empty directory"), std::string::npos) << refused.output;
    EXPECT_TRUE(std::filesystem::exists(t + "/.partial-9")) << other;
    EXPECT_TRUE(std::filesystem::exists(t + other)) << other;
  }

  // A backup under way (its lock, held here) keeps a second one out, and leaves its partial copy be.
  const std::string busy = dir_.str() + "/busy";
  std::filesystem::create_directories(busy + "/.partial-31337");
  const int fd = ::open(busy.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  auto second = run_command({lpops_binary(), "backup", "--data-dir", from, "--to", busy});
  EXPECT_EQ(second.exit_code, 2) << second.output;
  EXPECT_NE(second.output.find("another lpops backup is writing into " + busy), std::string::npos) << second.output;
  EXPECT_TRUE(std::filesystem::exists(busy + "/.partial-31337"));
  ::close(fd);
  EXPECT_EQ(run_command({lpops_binary(), "backup", "--data-dir", from, "--to", busy}).exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(busy + "/.partial-31337"));
}

// Without --data-dir the settings say where the data and the audit key are: a key kept
// elsewhere (PAYMENTS_AUDIT_KEY_PATH) is named for the operator to keep with the backup, and an
// audit.key left in the data directory is not copied as if it were the node's.
TEST_F(BackupTest, TheSettingsNameTheDataAndAKeyKeptElsewhere) {
  start_node();
  ASSERT_EQ(node_->terminate(), 0);
  const std::string from = dir_.str() + "/data", key = dir_.str() + "/keys/audit.key", to = dir_.str() + "/backup";
  auto r = run_command({lpops_binary(), "backup", "--to", to, "--env-file", "/dev/null"},
                       {{"PAYMENTS_DATA_DIR", from}, {"PAYMENTS_AUDIT_KEY_PATH", key}});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("backup of " + from + " in " + to), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("the audit key is " + key + " (PAYMENTS_AUDIT_KEY_PATH), which a backup does not copy"), std::string::npos)
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(to + "/audit.key"));
  EXPECT_TRUE(std::filesystem::exists(to + "/journal.jsonl"));
  // With --json: named in the answer, and said on standard error.
  auto as_json = run_command_split({lpops_binary(), "backup", "--to", dir_.str() + "/backup-json/", "--env-file", "/dev/null", "--json"},
                                   {{"PAYMENTS_DATA_DIR", from}, {"PAYMENTS_AUDIT_KEY_PATH", key}});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.out << as_json.err;
  EXPECT_EQ(parse_json(as_json.out).at("audit_key_elsewhere").as_string(), key) << as_json.out;
  EXPECT_NE(as_json.err.find("which a backup does not copy"), std::string::npos) << as_json.err;
  EXPECT_TRUE(std::filesystem::exists(dir_.str() + "/backup-json/journal.jsonl"));  // a --to ending in a slash
  // A key changed as docs/operations.md says lives in the data directory under another name:
  // it is copied under that name (and the old audit.key is not taken for the node's).
  std::filesystem::copy_file(from + "/audit.key", from + "/new-audit.key");
  const std::string to2 = dir_.str() + "/backup2";
  auto renamed = run_command({lpops_binary(), "backup", "--to", to2, "--env-file", "/dev/null", "--json"},
                             {{"PAYMENTS_DATA_DIR", from}, {"PAYMENTS_AUDIT_KEY_PATH", "new-audit.key"}});
  ASSERT_EQ(renamed.exit_code, 0) << renamed.output;
  EXPECT_TRUE(std::filesystem::exists(to2 + "/new-audit.key"));
  EXPECT_FALSE(std::filesystem::exists(to2 + "/audit.key"));
  const auto doc = parse_json(renamed.output.substr(renamed.output.find('{')));
  EXPECT_TRUE(doc.at("audit_key_copied").as_bool()) << renamed.output;
}

}  // namespace
}  // namespace lpops::testing
