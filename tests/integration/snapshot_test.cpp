// Snapshots are written off the ledger's thread from a replica fed by durable journal
// batches; a restart from snapshot + tail must give exactly what a full replay gives.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "domain/digest.hpp"
#include "tests/integration/fixture.hpp"

namespace lpops::testing {
namespace {

class SnapshotTest : public NodeTest {
 protected:
  // A node with snapshots every 100 records, one orchestrator (o0) and 130 time credits, once
  // its first snapshot is written.
  void credit_past_a_snapshot();
};

std::uint64_t snapshot_seq(const std::string& path) {
  std::ifstream in(path);
  if (!in) return 0;
  std::stringstream text;
  text << in.rdbuf();
  auto doc = parse_json(text.str());
  if (!doc.is_object()) return 0;
  for (const char* key : {"seq", "last_seq"}) {
    if (auto* v = doc.as_object().if_contains(key); v && v->is_int64()) return static_cast<std::uint64_t>(v->as_int64());
    if (auto* b = doc.as_object().if_contains("book"); b && b->is_object())
      if (auto* v = b->as_object().if_contains(key); v && v->is_int64()) return static_cast<std::uint64_t>(v->as_int64());
  }
  return 0;
}

// A snapshot of `doc`'s header and the book text `book`, with a checksum that holds (over every
// byte before it).
void write_snapshot(const std::string& path, const json::object& doc, const std::string& book) {
  const std::string prefix = "{\"format\":" + json::serialize(doc.at("format")) + ",\"seq\":" +
                             std::to_string(doc.at("seq").as_int64()) + ",\"journal_offset\":" +
                             std::to_string(doc.at("journal_offset").as_int64()) + ",\"last_hash\":" +
                             json::serialize(doc.at("last_hash")) + ",\"book\":" + book;
  std::ofstream(path, std::ios::trunc) << prefix << ",\"sha256\":\"" << hex_lower(sha256(prefix)) << "\"}\n";
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The records of a journal: its lines up to the zeroed blocks written ahead of them (read a
// piece at a time, never the zeros' megabytes, which a test reading it a hundred times pays).
std::uint64_t journal_records(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::uint64_t lines = 0;
  std::vector<char> piece(1 << 16);
  while (in.read(piece.data(), static_cast<std::streamsize>(piece.size())) || in.gcount() > 0) {
    const auto end = piece.begin() + in.gcount();
    const auto zeros = std::find(piece.begin(), end, '\0');
    lines += static_cast<std::uint64_t>(std::count(piece.begin(), zeros, '\n'));
    if (zeros != end) break;
  }
  return lines;
}

void SnapshotTest::credit_past_a_snapshot() {
  start_node({{"PAYMENTS_SNAPSHOT_EVERY_RECORDS", "100"}});
  register_orchestrator("o0", address_of(1));
  for (int i = 0; i < 130; ++i) {
    auto t = post("/api/workloads/time", json::object{{"workload_id", "t" + std::to_string(i)}, {"orchestrator_id", "o0"},
                                                      {"artifact_hash", "h"}, {"duration_ms", 1000 + i}});
    ASSERT_EQ(t.status, 200) << t.body;
  }
  const std::string snapshot_path = dir_.str() + "/data/snapshot.json";
  for (int i = 0; i < 100 && snapshot_seq(snapshot_path) < 100; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_GE(snapshot_seq(snapshot_path), 100u);
}

TEST_F(SnapshotTest, RestartFromSnapshotMatchesFullReplay) {
  start_node({{"PAYMENTS_SNAPSHOT_EVERY_RECORDS", "100"}});
  for (int o = 0; o < 3; ++o) register_orchestrator("o" + std::to_string(o), address_of(o));
  // Every kind of effect: time workloads, plain workloads credited by PATCH, adjustments.
  for (int i = 0; i < 60; ++i) {
    const std::string orch = "o" + std::to_string(i % 3);
    auto t = post("/api/workloads/time", json::object{{"workload_id", "t" + std::to_string(i)}, {"orchestrator_id", orch},
                                                      {"artifact_hash", "h"}, {"duration_ms", 1000 * (i + 1)}});
    ASSERT_EQ(t.status, 200) << t.body;
    auto w = post("/api/workloads", json::object{{"workload_id", "w" + std::to_string(i)}, {"orchestrator_id", orch},
                                                 {"payout_amount_eth", "0.00" + std::to_string(i + 1)}, {"artifact_uri", "s3://b/" + std::to_string(i)}});
    ASSERT_EQ(w.status, 200) << w.body;
    if (i % 2 == 0) {
      auto p = raw("PATCH", "/api/workloads/w" + std::to_string(i), json::serialize(json::object{{"status", "verified"}}));
      ASSERT_EQ(p.status, 200) << p.body;
    }
    if (i % 5 == 0) {
      auto a = post("/api/ledger/adjustments", json::object{{"orchestrator_id", orch}, {"amount_eth", "-0.00000001"}},
                    {{"Idempotency-Key", "adj-" + std::to_string(i)}});
      ASSERT_EQ(a.status, 200) << a.body;
    }
  }
  const std::string snapshot_path = dir_.str() + "/data/snapshot.json";
  // The snapshot is written asynchronously; wait (bounded) for one past the registrations.
  for (int i = 0; i < 100 && snapshot_seq(snapshot_path) < 100; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const std::uint64_t seq = snapshot_seq(snapshot_path);
  ASSERT_GE(seq, 100u) << "no snapshot was written";

  const auto balances = get("/api/balances").body;
  const auto workloads = get("/api/workloads?limit=1000").body;
  const auto events = get("/api/ledger/events?limit=1000").body;
  ASSERT_EQ(node_->terminate(), 0);
  // A snapshot whose write a crash cut short is never read, and is removed at start.
  const std::string partial = dir_.str() + "/data/snapshot.json.tmp";
  std::ofstream(partial) << "{\"seq\":";
  start_node({{"PAYMENTS_SNAPSHOT_EVERY_RECORDS", "100"}});
  EXPECT_FALSE(std::filesystem::exists(partial));
  EXPECT_NE(node_->log().find("(snapshot at seq " + std::to_string(seq) + ", "), std::string::npos) << node_->log();
  EXPECT_EQ(get("/api/balances").body, balances);
  EXPECT_EQ(get("/api/workloads?limit=1000").body, workloads);
  EXPECT_EQ(get("/api/ledger/events?limit=1000").body, events);
  // The same idempotency key still answers with the first result, across the snapshot.
  auto again = post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o0"}, {"amount_eth", "-0.00000001"}},
                    {{"Idempotency-Key", "adj-0"}});
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(get("/api/balances").body, balances);
  ASSERT_EQ(node_->terminate(), 0);

  // A snapshot damaged on disk (one digit of a balance) fails its checksum: the whole
  // journal is replayed instead, and nothing changes.
  const std::string good_snapshot = read_text(snapshot_path);
  {
    std::string damaged = good_snapshot;
    const auto at = damaged.find("\"accounts\":{\"o0\":[\"") + 20;
    ASSERT_TRUE(std::isdigit(static_cast<unsigned char>(damaged[at]))) << damaged.substr(at - 20, 60);
    damaged[at] = damaged[at] == '1' ? '2' : '1';
    std::ofstream(snapshot_path, std::ios::trunc) << damaged;
    start_node({{"PAYMENTS_SNAPSHOT_EVERY_RECORDS", "100000"}});
    EXPECT_NE(node_->log().find("fails its checksum"), std::string::npos) << node_->log();
    EXPECT_NE(node_->log().find("(snapshot at seq 0, "), std::string::npos) << node_->log();
    EXPECT_EQ(get("/api/balances").body, balances);
    ASSERT_EQ(node_->terminate(), 0);
  }
  // A snapshot whose checksum holds but whose book disagrees with the journal (o0's credits
  // one wei off): the next record for o0 does not apply on top of it, so the journal is
  // replayed from the start instead of start-up stopping.
  {
    auto doc = parse_json(good_snapshot).as_object();
    auto book = doc.at("book").as_object();
    auto& credits = book["accounts"].as_object()["o0"].as_array()[0];
    credits = std::to_string(std::stoull(std::string(credits.as_string())) + 1);
    write_snapshot(snapshot_path, doc, json::serialize(book));
    start_node({{"PAYMENTS_SNAPSHOT_EVERY_RECORDS", "100000"}});
    EXPECT_NE(node_->log().find("recovery on top of snapshot.json failed, which may be the snapshot's fault: replaying the whole journal"), std::string::npos) << node_->log();
    EXPECT_EQ(get("/api/balances").body, balances);
    EXPECT_EQ(get("/api/ledger/events?limit=1000").body, events);
    ASSERT_EQ(node_->terminate(), 0);
  }

  // A snapshot of an older version, without the members later versions added (the random
  // adjustment ids, the payouts, ...): set aside for a full replay, which rebuilds them.
  for (const char* member : {"generated_adjustment_ids", "payouts", "policies", "credential_tokens"}) {
    auto doc = parse_json(good_snapshot).as_object();
    auto book = doc.at("book").as_object();
    ASSERT_TRUE(book.erase(member)) << member;
    write_snapshot(snapshot_path, doc, json::serialize(book));
    start_node({{"PAYMENTS_SNAPSHOT_EVERY_RECORDS", "100000"}});
    EXPECT_NE(node_->log().find(std::string("snapshot of an older version (no ") + member + ")"), std::string::npos)
        << node_->log();
    EXPECT_NE(node_->log().find("(snapshot at seq 0, "), std::string::npos) << node_->log();
    EXPECT_EQ(get("/api/balances").body, balances);
    ASSERT_EQ(node_->terminate(), 0);
  }

  // The workloads are read one by one apart from the rest of the snapshot: a checksum that
  // holds over a workloads array that is no JSON (an empty element), or over a workload that
  // is no workload, still sets the snapshot aside for a full replay.
  for (const auto& [broken, expected_log] :
       {std::pair{std::string("\"workloads\":[,{"), std::string("snapshot.json is unreadable; replaying the whole journal")},
        std::pair{std::string("\"workloads\":[{\"workload_id\":\"stray\"},{"), std::string("snapshot workload: ")}}) {
    auto doc = parse_json(good_snapshot).as_object();
    std::string book = json::serialize(doc.at("book"));
    const auto at = book.find("\"workloads\":[{");
    ASSERT_NE(at, std::string::npos) << book.substr(0, 200);
    book.replace(at, std::string("\"workloads\":[{").size(), broken);
    write_snapshot(snapshot_path, doc, book);
    start_node({{"PAYMENTS_SNAPSHOT_EVERY_RECORDS", "100000"}});
    EXPECT_NE(node_->log().find(expected_log), std::string::npos) << node_->log();
    EXPECT_NE(node_->log().find("(snapshot at seq 0, "), std::string::npos) << node_->log();
    EXPECT_EQ(get("/api/balances").body, balances);
    EXPECT_EQ(get("/api/workloads?limit=1000").body, workloads);
    ASSERT_EQ(node_->terminate(), 0);
  }

  // A snapshot that is there but cannot be read (a directory in its place) is said, not
  // taken for "none" or a reason to stop.
  {
    std::filesystem::remove(snapshot_path);
    std::filesystem::create_directory(snapshot_path);
    start_node({{"PAYMENTS_SNAPSHOT_EVERY_RECORDS", "100000"}});
    EXPECT_NE(node_->log().find("snapshot.json is not a readable file"), std::string::npos) << node_->log();
    EXPECT_EQ(get("/api/balances").body, balances);
    ASSERT_EQ(node_->terminate(), 0);
    std::filesystem::remove(snapshot_path);
  }

  auto replay = run_command({lpops_binary(), "replay", "--data-dir", dir_.str() + "/data", "--json"});
  ASSERT_EQ(replay.exit_code, 0) << replay.output;
  auto replayed = parse_json(replay.output.substr(replay.output.find('{')));
  auto live = parse_json(balances);
  for (const auto& b : live.at("balances").as_array())
    EXPECT_EQ(replayed.at("balances").at(b.at("orchestrator_id").as_string()).at("balance_wei"), b.at("balance_wei"));
}

// `lpops replay` and `lpops verify --log` beside a running node that is writing: what they
// read ends where the node's writing was; a write in progress is never called damage, a
// checkpoint signed meanwhile never a rollback.
TEST_F(SnapshotTest, ReplayAndVerifyBesideAWritingNodeNeverReportDamage) {
  start_node({{"PAYMENTS_AUDIT_CHECKPOINT_EVERY_ENTRIES", "50"}});
  register_orchestrator("o1", address_of(1));
  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w)
    writers.emplace_back([&, w, port = node_->port()] {
      HttpClient c("127.0.0.1", port, std::chrono::seconds(5));
      for (int i = 0; i < 50000 && !stop.load(); ++i) {
        auto r = c.request("POST", "/api/workloads/time",
                           json::serialize(json::object{{"workload_id", "live-" + std::to_string(w) + "-" + std::to_string(i)},
                                                        {"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"duration_ms", 1000}}));
        if (r.status == 200) ++acknowledged;
        // Paced (at most ~800 credits a second in all): the node writes all through the
        // checks, while the journal they read stays small enough to read ten times under the
        // sanitizers (unpaced, it grew by tens of thousands of records a round there).
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  const std::string data = dir_.str() + "/data";
  auto checkpointed = [&] {
    const auto status = parse_json(get("/api/transparency/tee-core/audit/status").body);
    return status.is_object() && status.at("audit_checkpoint_seq").as_int64() > 0;
  };
  for (int i = 0; i < 500 && !checkpointed(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(checkpointed()) << "no signed checkpoint to check";
  for (int i = 0; i < 10; ++i) {
    auto replay = run_command({lpops_binary(), "replay", "--data-dir", data, "--json"});
    EXPECT_EQ(replay.exit_code, 0) << replay.output;
    EXPECT_NE(replay.output.find("a running node holds"), std::string::npos) << replay.output;
    EXPECT_NE(replay.output.find("\"node_running\":true"), std::string::npos) << replay.output;
    // The entries after the newest checkpoint are vouched for by nothing yet: checked for
    // damage (hashes, links, balances) and reported, never refused as damaged.
    auto verify = run_command({lpops_binary(), "verify", "--json", "--allow-unsigned", "--log", data + "/audit.jsonl"});
    EXPECT_EQ(verify.exit_code, 0) << verify.output;
  }
  stop = true;
  for (auto& t : writers) t.join();
  EXPECT_GT(acknowledged.load(), 0);
  const auto balances = parse_json(get("/api/balances").body);
  ASSERT_EQ(node_->terminate(), 0);
  auto replay = run_command({lpops_binary(), "replay", "--data-dir", data, "--json"});
  ASSERT_EQ(replay.exit_code, 0) << replay.output;
  EXPECT_EQ(replay.output.find("node_running"), std::string::npos) << replay.output;
  auto replayed = parse_json(replay.output.substr(replay.output.find('{')));
  EXPECT_EQ(replayed.at("balances").at("o1").at("balance_wei"), balances.at("balances").at(0).at("balance_wei"));
}

// Damage behind the snapshot (records a start from the snapshot does not replay) is found by
// the background check, which stops the node; listings never skip a damaged record.
TEST_F(SnapshotTest, DamageBehindTheSnapshotStopsTheNode) {
  ASSERT_NO_FATAL_FAILURE(credit_past_a_snapshot());
  ASSERT_EQ(node_->terminate(), 0);

  const std::string journal = dir_.str() + "/data/journal.jsonl";
  std::string text = read_text(journal);
  std::size_t at = 0;
  for (int line = 1; line < 50; ++line) at = text.find('\n', at) + 1;
  const auto digit = text.find("\"duration_ms\":", at) + 14;
  ASSERT_LT(digit, text.find('\n', at));
  text[digit] = text[digit] == '1' ? '2' : '1';
  std::ofstream(journal, std::ios::binary | std::ios::trunc) << text;

  NodeProcess damaged(dir_.str() + "/data", {{"PAYMENTS_SNAPSHOT_EVERY_RECORDS", "100"}});
  // The check may finish before the node serves (it then never does), or after.
  if (damaged.start()) {
    // While it still serves, a listing that reaches the damaged record is an error, not a gap.
    HttpClient client("127.0.0.1", damaged.port());
    auto events = client.request("GET", "/api/ledger/events?limit=1000", "", {});
    EXPECT_TRUE(events.status == 500 || events.status == 0) << events.status << " " << events.body;
    EXPECT_EQ(damaged.wait_exit(std::chrono::seconds(20)), 70) << damaged.log();
  }
  // Found by the background check, or first by start-up's comparison of the audit entries no
  // checkpoint covers yet with the records they describe (here all of them: no checkpoint yet).
  const std::string& log = damaged.log();
  EXPECT_TRUE(log.find("journal check: journal.jsonl is damaged") != std::string::npos ||
              log.find("journal check: journal record 50: record hash does not match its content") != std::string::npos)
      << log;
}

// `lpops replay` fails (exit 1) on a data directory start-up refuses for records it lost:
// records the audit log describes (its last line torn, as a crash leaves it), records a
// snapshot proves durable, records a signed checkpoint covers.
TEST_F(SnapshotTest, ReplayFailsWhereStartUpRefusesForLostRecords) {
  ASSERT_NO_FATAL_FAILURE(credit_past_a_snapshot());
  const std::string data = dir_.str() + "/data";
  ASSERT_EQ(node_->terminate(), 0);
  ASSERT_EQ(run_command({lpops_binary(), "replay", "--data-dir", data}).exit_code, 0);

  // A copy of the directory with its journal cut after `records` records (at a line
  // boundary: a valid chain) and the named files removed; clean-stop.json too, as after a
  // crash (with it, each is refused for not reaching the clean stop's last record).
  const std::string journal_text = read_text(data + "/journal.jsonl");
  auto variant = [&](const std::string& name, int records, std::vector<std::string> removed) {
    const std::string copy = dir_.str() + "/" + name;
    std::filesystem::copy(data, copy, std::filesystem::copy_options::recursive);
    std::size_t at = 0;
    for (int line = 0; line < records; ++line) at = journal_text.find('\n', at) + 1;
    std::ofstream(copy + "/journal.jsonl", std::ios::binary | std::ios::trunc) << journal_text.substr(0, at);
    for (const auto& f : removed) std::filesystem::remove(copy + "/" + f);
    std::filesystem::remove(copy + "/clean-stop.json");
    return copy;
  };
  const std::vector<std::string> audit_files{"audit.jsonl", "audit.index", "audit.orchestrators"};

  // The audit log's last line torn: the line before it still names a record the journal lacks.
  const std::string torn = variant("torn", 120, {"snapshot.json"});
  std::string audit = read_text(torn + "/audit.jsonl");
  audit.resize(audit.size() - 100);
  std::ofstream(torn + "/audit.jsonl", std::ios::binary | std::ios::trunc) << audit;
  auto r = run_command({lpops_binary(), "replay", "--data-dir", torn});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("the audit log describes journal records up to 131, but the journal ends at 120"), std::string::npos)
      << r.output;

  // The snapshot proves records the journal lacks.
  auto audit_gone = audit_files;
  const std::string behind = variant("behind", 50, audit_gone);
  r = run_command({lpops_binary(), "replay", "--data-dir", behind});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("journal.jsonl ends at record 50"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("but snapshot.json was taken at record"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cannot replay"), std::string::npos) << r.output;

  // A record behind the snapshot damaged, the records after it intact: named as damage among
  // the records, not as a journal that ends there.
  const auto records = static_cast<int>(std::count(journal_text.begin(), journal_text.end(), '\n'));
  ASSERT_GT(records, 100);
  const std::string damaged = variant("damaged", records, {});
  std::string text = read_text(damaged + "/journal.jsonl");
  std::size_t line40 = 0;
  for (int line = 0; line < 39; ++line) line40 = text.find('\n', line40) + 1;
  const auto digit = text.find_first_of("0123456789", text.find("\"duration_ms\":", line40));
  ASSERT_LT(digit, text.find('\n', line40));
  text[digit] = text[digit] == '7' ? '8' : '7';
  std::ofstream(damaged + "/journal.jsonl", std::ios::binary | std::ios::trunc) << text;
  r = run_command({lpops_binary(), "replay", "--data-dir", damaged});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("is corrupt at byte " + std::to_string(line40)), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("an intact record is there or after it"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("ends at record"), std::string::npos) << r.output;

  // A signed checkpoint covers entries the journal no longer makes (the policy entry and 130
  // credits; 49 of the 50 records left carry one).
  audit_gone.push_back("snapshot.json");
  const std::string signed_past = variant("signed", 50, audit_gone);
  r = run_command({lpops_binary(), "replay", "--data-dir", signed_past});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("checkpoints.jsonl holds a signed checkpoint of 131 audit entries, but the journal's records make 49"),
            std::string::npos)
      << r.output;
  // Start-up refuses each of them too.
  for (const std::string& dir : {torn, behind, signed_past}) {
    NodeProcess refused(dir);
    EXPECT_FALSE(refused.start()) << dir << ": " << refused.log();
  }
}

// A clean stop right after a snapshot of the last record: the restart starts from the snapshot,
// scans no record, and still finds the clean stop's last record where clean-stop.json says.
TEST_F(SnapshotTest, ACleanStopAtTheSnapshotsRecordRestarts) {
  start_node({{"PAYMENTS_SNAPSHOT_EVERY_RECORDS", "100"}});
  register_orchestrator("o0", address_of(1));
  const std::string data = dir_.str() + "/data";
  auto records = [&] { return journal_records(data + "/journal.jsonl"); };
  // Exactly 100 records, then the snapshot they trigger.
  for (int i = 0; records() < 100 && i < 200; ++i) {
    auto t = post("/api/workloads/time", json::object{{"workload_id", "t" + std::to_string(i)}, {"orchestrator_id", "o0"},
                                                      {"artifact_hash", "h"}, {"duration_ms", 1000 + i}});
    ASSERT_EQ(t.status, 200) << t.body;
  }
  ASSERT_EQ(records(), 100u);
  for (int wait = 0; wait < 500 && snapshot_seq(data + "/snapshot.json") < 100; ++wait)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto last = records();
  ASSERT_EQ(node_->terminate(), 0);
  ASSERT_EQ(parse_json(read_text(data + "/clean-stop.json")).at("journal_records").as_int64(), static_cast<std::int64_t>(last));
  ASSERT_EQ(snapshot_seq(data + "/snapshot.json"), last);
  NodeProcess again(data, {{"PAYMENTS_SNAPSHOT_EVERY_RECORDS", "100"}});
  ASSERT_TRUE(again.start()) << again.log();
  EXPECT_NE(again.log().find("snapshot at seq " + std::to_string(last) + ", 0 replayed"), std::string::npos) << again.log();
  EXPECT_EQ(again.terminate(), 0) << again.log();
}

// Damage after the snapshot's record that a full replay would meet again is refused at once:
// the fallback to a full replay is only for a record that does not apply on top of the snapshot.
TEST_F(SnapshotTest, DamageAfterTheSnapshotIsNotBlamedOnIt) {
  ASSERT_NO_FATAL_FAILURE(credit_past_a_snapshot());
  ASSERT_EQ(node_->terminate(), 0);
  const std::string data = dir_.str() + "/data";
  std::string text = read_text(data + "/journal.jsonl");
  const auto last = text.rfind('\n', text.size() - 2) + 1;
  const auto digit = text.find("\"duration_ms\":", last) + 14;
  ASSERT_LT(digit, text.size() - 1);
  text[digit] = text[digit] == '1' ? '2' : '1';
  std::ofstream(data + "/journal.jsonl", std::ios::binary | std::ios::trunc) << text;
  NodeProcess refused(data, {{"PAYMENTS_SNAPSHOT_EVERY_RECORDS", "100"}});
  EXPECT_FALSE(refused.start());
  EXPECT_NE(refused.log().find("but the node stopped cleanly with record"), std::string::npos) << refused.log();
  EXPECT_EQ(refused.log().find("may be the snapshot's fault"), std::string::npos) << refused.log();
}

// Damage behind the snapshot found by the background check stops the node and leaves a
// marker: the next start checks before it serves (no window of acknowledged writes on a
// journal known to be damaged), and a repaired journal starts again and clears the marker.
TEST_F(SnapshotTest, AfterDamageIsFoundTheNextStartChecksBeforeServing) {
  const std::map<std::string, std::string> env{{"PAYMENTS_SNAPSHOT_EVERY_RECORDS", "100"},
                                               {"PAYMENTS_AUDIT_CHECKPOINT_EVERY_ENTRIES", "10"}};
  start_node(env);
  register_orchestrator("o0", address_of(1));
  for (int i = 0; i < 130; ++i)
    ASSERT_EQ(post("/api/workloads/time", json::object{{"workload_id", "t" + std::to_string(i)}, {"orchestrator_id", "o0"},
                                                      {"artifact_hash", "h"}, {"duration_ms", 1000 + i}})
                  .status,
              200);
  const std::string snapshot_path = dir_.str() + "/data/snapshot.json";
  for (int i = 0; i < 100 && snapshot_seq(snapshot_path) < 100; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_GE(snapshot_seq(snapshot_path), 100u);
  wait_for_checkpoint(130);  // the audit entries are signed: start-up compares none of them
  ASSERT_EQ(node_->terminate(), 0);

  const std::string journal = dir_.str() + "/data/journal.jsonl";
  const std::string marker = dir_.str() + "/data/journal-check.failed";
  const std::string original = read_text(journal);
  std::string text = original;
  std::size_t at = 0;
  for (int line = 1; line < 50; ++line) at = text.find('\n', at) + 1;
  const auto digit = text.find("\"duration_ms\":", at) + 14;
  text[digit] = text[digit] == '1' ? '2' : '1';
  std::ofstream(journal, std::ios::binary | std::ios::trunc) << text;

  {
    NodeProcess damaged(dir_.str() + "/data", env);
    if (damaged.start()) {
      EXPECT_EQ(damaged.wait_exit(std::chrono::seconds(20)), 70) << damaged.log();
    }
    EXPECT_NE(damaged.log().find("journal check: journal.jsonl is damaged"), std::string::npos) << damaged.log();
  }
  ASSERT_TRUE(std::filesystem::exists(marker));
  {
    NodeProcess again(dir_.str() + "/data", env);
    EXPECT_FALSE(again.start(std::chrono::seconds(20)));
    const std::string log = again.log();
    EXPECT_NE(log.find("checking before serving"), std::string::npos) << log;
    EXPECT_NE(log.find("journal.jsonl is damaged"), std::string::npos) << log;
    EXPECT_EQ(log.find("lpops serving"), std::string::npos) << log;
  }
  EXPECT_TRUE(std::filesystem::exists(marker));

  // Repaired: it checks first, starts, and the marker is gone.
  std::ofstream(journal, std::ios::binary | std::ios::trunc) << original;
  start_node(env);
  EXPECT_NE(node_->log().find("records behind the snapshot re-checked"), std::string::npos) << node_->log();
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_EQ(get_json("/api/workloads?limit=500").at("workloads").as_array().size(), 130u);
}

}  // namespace
}  // namespace lpops::testing
