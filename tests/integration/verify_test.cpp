// `lpops verify` on a real log: it passes on what the node wrote, and names the first bad
// seq for every kind of tampering (flipped byte, deleted, reordered, duplicated or
// truncated entries, a checkpoint forged with another key, a rollback below a saved
// checkpoint); live, every event's inclusion proof verifies against the served checkpoint.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "chain/audit_format.hpp"
#include "chain/hex.hpp"
#include "chain/merkle.hpp"
#include "chain/signature.hpp"
#include "domain/canonical_json.hpp"
#include "storage/record_format.hpp"
#include "tests/integration/checkpoint_forge.hpp"
#include "tests/integration/fixture.hpp"
#include "tests/support/fake_http_server.hpp"

namespace lpops::testing {
namespace {

chain::Hash256 hash_of(const json::value& v) {
  chain::Hash256 h{};
  auto b = chain::from_hex(v.as_string()).value();
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::trunc);
  for (const auto& l : lines) out << l << "\n";
}

// The log with `edit` applied to each entry, every entry re-hashed and re-chained (a
// consistent rewrite: only signatures or content rules can tell).
std::vector<std::string> rechained(std::vector<std::string> lines, const std::function<void(std::size_t, json::object&)>& edit) {
  chain::Hash256 prev{};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto wrapper = parse_json(lines[i]).as_object();
    auto entry = wrapper.at("audit_entry").as_object();
    entry.erase("entry_hash");
    edit(i, entry);
    entry["prev_hash"] = chain::to_hex(prev);
    prev = chain::audit::entry_hash(entry);
    entry["entry_hash"] = chain::to_hex(prev);
    wrapper["audit_entry"] = entry;
    lines[i] = canonical_json(wrapper);
  }
  return lines;
}

// A node as a dishonest operator (or a broken proxy) serves it: each GET goes to the real
// node, except targets answered by `forge` (a JSON body), or, with `silent`, nothing is ever
// answered.
class FakeNode {
 public:
  using Forge = std::function<std::optional<std::string>(const std::string& target)>;
  // A forged answer with its status.
  using ForgeAnswer = std::function<std::optional<std::pair<int, std::string>>(const std::string& target)>;
  FakeNode(std::uint16_t real_port, Forge forge, bool silent = false)
      : FakeNode(
            real_port,
            ForgeAnswer([forge = std::move(forge)](const std::string& target) -> std::optional<std::pair<int, std::string>> {
              if (auto forged = forge(target)) return std::pair<int, std::string>{200, *forged};
              return std::nullopt;
            }),
            silent) {}
  FakeNode(std::uint16_t real_port, ForgeAnswer forge, bool silent = false)
      : server_(
            [real_port, forge = std::move(forge)](const FakeHttpServer::Request& r) -> std::pair<int, std::string> {
              if (auto forged = forge(r.target)) return *forged;
              HttpClient real("127.0.0.1", real_port);
              auto answer = real.request("GET", r.target);
              return {answer.status, answer.body};
            },
            silent) {}
  std::string url() const { return server_.url(); }

 private:
  FakeHttpServer server_;
};

class VerifyTest : public NodeTest {
 protected:
  void SetUp() override {
    start_node({{"PAYMENTS_AUDIT_CHECKPOINT_EVERY_ENTRIES", "5"}, {"PAYMENTS_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "1"},
                {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "100000"},
                {"PAYMENTS_PUBLIC_RATE_BURST", "100000"}});
    register_orchestrator("o1", address_of(1));
    register_orchestrator("o2", address_of(2));
    for (int i = 0; i < 30; ++i) {
      if (i == 12) {
        wait_for_checkpoint(10);
        // A partner saves the checkpoint they saw here.
        saved_ = dir_.str() + "/saved-checkpoint.json";
        std::ofstream(saved_) << get("/api/transparency/tee-core/audit/checkpoint").body;
      }
      auto r = post("/api/workloads/time", json::object{{"workload_id", "w" + std::to_string(i)},
                                                        {"orchestrator_id", i % 2 ? "o2" : "o1"}, {"artifact_hash", "h"}, {"duration_ms", 1000 + i}});
      ASSERT_EQ(r.status, 200) << r.body;
    }
    wait_for_checkpoint(31);  // the policy entry and 30 credits
    audit_address_ = std::string(parse_json(get("/api/transparency/tee-core/audit/status").body).at("audit_address").as_string());
    log_ = dir_.str() + "/data/audit.jsonl";
    checkpoints_ = dir_.str() + "/data/checkpoints.jsonl";
  }

  CommandResult verify(std::vector<std::string> args) {
    std::vector<std::string> argv{lpops_binary(), "verify", "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }
  // Verifies a tampered copy of the log (with the node's checkpoints) and returns the reason.
  std::string tampered(const std::vector<std::string>& lines, int* code) {
    const std::string copy = dir_.str() + "/tampered.jsonl";
    write_lines(copy, lines);
    auto r = verify({"--log", copy, "--checkpoints", checkpoints_});
    *code = r.exit_code;
    auto doc = parse_json(r.output);
    return doc.is_object() && doc.as_object().contains("reason") ? std::string(doc.at("reason").as_string()) : r.output;
  }

  std::string saved_, audit_address_, log_, checkpoints_;
};

TEST_F(VerifyTest, AGoodLogVerifiesOfflineWithProofsAndTheSavedCheckpoint) {
  ASSERT_EQ(node_->terminate(), 0);
  auto r = verify({"--log", log_, "--audit-address", audit_address_, "--event-id", "workload_time:w7", "--since", saved_});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto doc = parse_json(r.output);
  EXPECT_EQ(doc.at("status").as_string(), "ok");
  EXPECT_EQ(doc.at("entries").as_int64(), 31);
  EXPECT_EQ(doc.at("checkpoint_seq").as_int64(), 31);
  EXPECT_EQ(doc.at("event_seq").as_int64(), 9);
  EXPECT_EQ(doc.at("line_form").as_string(), "lpops");
  // Every line's journal_seq taken out: the entries still verify, as livepeer-ops's lines,
  // and the outcome says that is what they read as.
  std::vector<std::string> stripped;
  for (const auto& line : read_lines(log_)) {
    auto wrapper = parse_json(line).as_object();
    wrapper.erase("journal_seq");
    stripped.push_back(json::serialize(wrapper));
  }
  const std::string stripped_log = dir_.str() + "/stripped.jsonl";
  write_lines(stripped_log, stripped);
  const auto as_reference = verify({"--log", stripped_log, "--checkpoints", checkpoints_});
  ASSERT_EQ(as_reference.exit_code, 0) << as_reference.output;
  EXPECT_EQ(parse_json(as_reference.output).at("line_form").as_string(), "livepeer-ops");
  // The wrong expected key, an unknown event: verification failures (exit 1).
  EXPECT_EQ(verify({"--log", log_, "--audit-address", address_of(9)}).exit_code, 1);
  EXPECT_EQ(verify({"--log", log_, "--event-id", "workload_time:nope"}).exit_code, 1);
  // Usage and I/O errors: exit 2.
  EXPECT_EQ(verify({"--log", dir_.str() + "/missing.jsonl"}).exit_code, 2);
  EXPECT_EQ(verify({}).exit_code, 2);
  EXPECT_EQ(verify({"--log", log_, "--event-id", ""}).exit_code, 2);              // a proof of nothing
  // Another file named as the checkpoints: a usage mistake, not a failed checkpoint.
  const auto wrong_file = verify({"--log", log_, "--checkpoints", log_});
  EXPECT_EQ(wrong_file.exit_code, 2) << wrong_file.output;
  EXPECT_NE(wrong_file.output.find("is not a checkpoints file"), std::string::npos) << wrong_file.output;
  EXPECT_EQ(verify({"--log", log_, "--skip-log"}).exit_code, 2);                  // --skip-log is for --url
  EXPECT_EQ(verify({"--log", log_, "--audit-address", "0x1234"}).exit_code, 2);   // not an address
  EXPECT_EQ(verify({"--url", "http://127.0.0.1:1", "--checkpoints", checkpoints_}).exit_code, 2);
  // A log copied without its checkpoints file: the failure says which file it looked for.
  std::filesystem::create_directories(dir_.str() + "/alone");
  std::filesystem::copy_file(log_, dir_.str() + "/alone/audit.jsonl");
  auto alone = verify({"--log", dir_.str() + "/alone/audit.jsonl"});
  EXPECT_EQ(alone.exit_code, 1) << alone.output;
  EXPECT_NE(alone.output.find(dir_.str() + "/alone/checkpoints.jsonl does not exist: name the node's checkpoints.jsonl with "
                                          "--checkpoints FILE"),
            std::string::npos)
      << alone.output;
  // A checkpoints file whose whole last line lacks its newline (saved by hand) still counts
  // it; half a line is a checkpoint being written, left out and said.
  std::ifstream cps_in(checkpoints_, std::ios::binary);
  std::string cps((std::istreambuf_iterator<char>(cps_in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(cps.back(), '\n');
  const std::string unterminated = dir_.str() + "/unterminated.jsonl";
  std::ofstream(unterminated, std::ios::trunc) << cps.substr(0, cps.size() - 1);
  auto whole = verify({"--log", log_, "--checkpoints", unterminated});
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  EXPECT_EQ(parse_json(whole.output).at("checkpoint_seq").as_int64(), 31);
  EXPECT_FALSE(parse_json(whole.output).as_object().contains("torn_checkpoint_bytes"));
  std::ofstream(unterminated, std::ios::trunc) << cps.substr(0, cps.size() - 20);
  auto torn = verify({"--log", log_, "--checkpoints", unterminated, "--allow-unsigned"});  // the last entry is covered by none
  EXPECT_NE(torn.output.find("torn_checkpoint_bytes"), std::string::npos) << torn.output;
  // Its event cannot be proved yet: status 2 (retry after the next checkpoint), as a node's 409
  // over --url is, not 1 (nothing is wrong with the log).
  const auto last = parse_json(read_lines(log_).back());
  const auto* wrapped = last.as_object().if_contains("audit_entry");
  const std::string newest(wrapped ? wrapped->at("event_id").as_string() : last.at("event_id").as_string());
  auto not_yet = verify({"--log", log_, "--checkpoints", unterminated, "--allow-unsigned", "--event-id", newest});
  EXPECT_EQ(not_yet.exit_code, 2) << not_yet.output;
  EXPECT_NE(not_yet.output.find("is newer than the latest checkpoint"), std::string::npos) << not_yet.output;
  EXPECT_NE(not_yet.output.find("retry after the node's next checkpoint"), std::string::npos) << not_yet.output;
}

// A last line without its newline (a write in progress, or torn by a crash; start-up cuts it)
// is not an entry: the rest verifies, and its size is reported. A complete damaged last line
// still fails.
TEST_F(VerifyTest, AnUnterminatedLastLineIsReportedNotVerified) {
  ASSERT_EQ(node_->terminate(), 0);
  const auto lines = read_lines(log_);
  ASSERT_EQ(lines.size(), 31u);
  const std::string copy = dir_.str() + "/torn.jsonl";
  write_lines(copy, lines);
  std::ofstream(copy, std::ios::app) << lines[30].substr(0, 100);
  auto r = verify({"--log", copy, "--checkpoints", checkpoints_});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto doc = parse_json(r.output);
  EXPECT_EQ(doc.at("entries").as_int64(), 31);
  EXPECT_EQ(doc.at("torn_tail_bytes").as_int64(), 100);
  auto damaged = lines;
  damaged.push_back(lines[30].substr(0, 100));  // the same bytes with a newline: a bad entry
  int code = 0;
  EXPECT_NE(tampered(damaged, &code).find("entry 32"), std::string::npos);
  EXPECT_EQ(code, 1);
  // The whole file one unterminated line: no entries, and the checkpoints are beyond it.
  std::ofstream(copy, std::ios::trunc) << lines[0].substr(0, 50);
  auto alone = verify({"--log", copy, "--checkpoints", checkpoints_});
  EXPECT_EQ(alone.exit_code, 1) << alone.output;
}

// A log given as a pipe (no size to map) is read whole and checked, not taken as empty.
TEST_F(VerifyTest, APipedLogIsVerifiedAsGiven) {
  ASSERT_EQ(node_->terminate(), 0);
  const auto piped = [&](const std::string& file) {
    return run_command({"/bin/sh", "-c", "cat '" + file + "' | '" + lpops_binary() + "' verify --json --log /dev/stdin --checkpoints '" +
                                             checkpoints_ + "'"});
  };
  const auto whole = piped(log_);
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  EXPECT_EQ(parse_json(whole.output).at("entries").as_int64(), 31);
  auto lines = read_lines(log_);
  lines.erase(lines.begin() + 4);
  const std::string copy = dir_.str() + "/piped.jsonl";
  write_lines(copy, lines);
  const auto removed = piped(copy);
  EXPECT_EQ(removed.exit_code, 1) << removed.output;
  EXPECT_NE(removed.output.find("entry 5"), std::string::npos) << removed.output;
}

TEST_F(VerifyTest, EveryKindOfTamperingIsCaughtAndNamed) {
  ASSERT_EQ(node_->terminate(), 0);
  const auto lines = read_lines(log_);
  ASSERT_EQ(lines.size(), 31u);
  int code = 0;

  auto flipped = lines;
  const auto pos = flipped[6].find("\"delta_wei\":\"") + 13;
  flipped[6][pos] = flipped[6][pos] == '1' ? '2' : '1';
  EXPECT_NE(tampered(flipped, &code).find("entry 7"), std::string::npos);
  EXPECT_EQ(code, 1);

  auto deleted = lines;
  deleted.erase(deleted.begin() + 4);
  EXPECT_NE(tampered(deleted, &code).find("entry 5"), std::string::npos);
  EXPECT_EQ(code, 1);

  auto reordered = lines;
  std::swap(reordered[2], reordered[3]);
  EXPECT_NE(tampered(reordered, &code).find("entry 3"), std::string::npos);
  EXPECT_EQ(code, 1);

  auto duplicated = lines;
  duplicated.insert(duplicated.begin() + 6, lines[5]);
  EXPECT_NE(tampered(duplicated, &code).find("entry 7"), std::string::npos);
  EXPECT_EQ(code, 1);

  // A key given twice: readers disagree on which copy counts, whatever the hash covers.
  auto twice = lines;
  twice[4].insert(std::string("{\"audit_entry\":{").size(), "\"delta_wei\":\"999000000000000000000\",");
  const std::string twice_reason = tampered(twice, &code);
  EXPECT_NE(twice_reason.find("entry 5: names delta_wei twice"), std::string::npos) << twice_reason;
  EXPECT_EQ(code, 1);

  // The wrapper is outside the entry hash; its members are what the entry and the order
  // of the log make them.
  auto wrapper_edit = [&](std::size_t i, const std::function<void(json::object&)>& edit) {
    auto copy = lines;
    auto wrapper = parse_json(copy[i]).as_object();
    edit(wrapper);
    copy[i] = canonical_json(wrapper);
    return tampered(copy, &code);
  };
  const std::pair<std::function<void(json::object&)>, std::string> wrapper_cases[] = {
      {[](json::object& w) { w["source"] = "forged_source"; }, "entry 6: source forged_source is not"},
      {[](json::object& w) { w["received_at"] = "2020-01-01T00:00:00Z"; }, "entry 6: received_at is not the entry's timestamp"},
      {[](json::object& w) { w["note"] = "forged"; }, "entry 6: the wrapper has a member note"},
      {[](json::object& w) { w["schema"] = "evil"; }, "entry 6: the wrapper's schema is not"},
      {[&](json::object& w) { w["journal_seq"] = parse_json(lines[4]).at("journal_seq"); }, "entry 6: journal_seq"},
      {[](json::object& w) { w.erase("journal_seq"); }, "entry 6: no journal_seq"},
  };
  // Re-encoded (the same JSON, spelled otherwise): not the bytes the node signed and serves.
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{{"\"journal_seq\":", "\"journal_seq\": "},
                                                                                  {"\"kind\":\"credit\"", "\"kind\":\"cr\\u0065dit\""}}) {
    auto copy = lines;
    const auto at = copy[5].find(from);
    ASSERT_NE(at, std::string::npos) << from;
    copy[5].replace(at, from.size(), to);
    const std::string reason = tampered(copy, &code);
    EXPECT_NE(reason.find("entry 6: is not in the canonical form"), std::string::npos) << reason;
    EXPECT_EQ(code, 1);
  }
  for (const auto& [edit, expected] : wrapper_cases) {
    const std::string reason = wrapper_edit(5, edit);
    EXPECT_NE(reason.find(expected), std::string::npos) << reason;
    EXPECT_EQ(code, 1);
  }

  // journal_seq taken off every line before one (which makes them read as another writer's
  // lines, whose spelling and wrapper go unchecked): the first line that has it says so.
  {
    auto copy = lines;
    for (std::size_t i = 0; i < 5; ++i) {
      auto wrapper = parse_json(copy[i]).as_object();
      wrapper.erase("journal_seq");
      wrapper["source"] = "forged_source";
      copy[i] = canonical_json(wrapper);
    }
    const std::string reason = tampered(copy, &code);
    EXPECT_NE(reason.find("entry 6: journal_seq"), std::string::npos) << reason;
    EXPECT_NE(reason.find("where the lines before it have none"), std::string::npos) << reason;
    EXPECT_EQ(code, 1);
  }

  // A blank line: the node never writes one.
  auto blank = lines;
  blank.insert(blank.begin() + 4, "");
  const std::string blank_reason = tampered(blank, &code);
  EXPECT_NE(blank_reason.find("entry 5: a blank line"), std::string::npos) << blank_reason;
  EXPECT_EQ(code, 1);

  // Truncated (or rolled back): the signed checkpoint names a seq beyond the log.
  auto truncated = std::vector<std::string>(lines.begin(), lines.begin() + 27);
  EXPECT_NE(tampered(truncated, &code).find("beyond the log's 27 entries"), std::string::npos);
  EXPECT_EQ(code, 1);

  // An entry whose balance is not its orchestrator's previous balance plus its delta (the
  // log re-hashed and re-chained around it): the running balances give it away.
  const auto unbalanced = rechained(lines, [](std::size_t i, json::object& entry) {
    if (i == 9) entry["delta_wei"] = "999";
  });
  const std::string unbalanced_reason = tampered(unbalanced, &code);
  EXPECT_NE(unbalanced_reason.find("entry 10: balance_wei"), std::string::npos) << unbalanced_reason;
  EXPECT_NE(unbalanced_reason.find("plus delta_wei 999"), std::string::npos) << unbalanced_reason;
  EXPECT_EQ(code, 1);

  // A consistent rewrite of the history (entries re-hashed and re-chained) cannot match the
  // signed checkpoints.
  const auto rewritten = rechained(lines, [](std::size_t i, json::object& entry) {
    if (i == 9) entry["event_id"] = "workload_time:rewritten";
  });
  // Named by the first signed checkpoint at or after entry 10 (checkpoints are signed
  // asynchronously, so its seq depends on timing).
  const std::string rewrite_reason = tampered(rewritten, &code);
  EXPECT_NE(rewrite_reason.find("the checkpoint signed"), std::string::npos) << rewrite_reason;
  EXPECT_EQ(code, 1);

  // One change recorded twice: entry 13 given entry 12's event id, the whole log re-hashed
  // and re-chained (every entry is well formed and linked; only the repeat gives it away).
  const auto twelfth = parse_json(lines[11]).at("audit_entry").at("event_id");
  const auto repeated = rechained(lines, [&](std::size_t i, json::object& entry) {
    if (i == 12) entry["event_id"] = twelfth;
  });
  const std::string repeat_reason = tampered(repeated, &code);
  EXPECT_NE(repeat_reason.find("entry 13: event id " + std::string(twelfth.as_string()) + " repeats entry 12"), std::string::npos)
      << repeat_reason;
  EXPECT_EQ(code, 1);

  // A checkpoint line duplicated (or moved): checkpoints only grow.
  auto cps = read_lines(checkpoints_);
  ASSERT_GE(cps.size(), 2u);
  {
    auto doubled = cps;
    doubled.insert(doubled.begin() + 1, cps[1]);
    const std::string doubled_path = dir_.str() + "/doubled-cps.jsonl";
    write_lines(doubled_path, doubled);
    auto r = verify({"--log", log_, "--checkpoints", doubled_path});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("checkpoints only grow"), std::string::npos) << r.output;
  }

  // A checkpoint line edited outside what its signature covers: its schema, or a member no
  // writer puts there, is found; its timestamp is a string no signature vouches for.
  for (const auto& [edit, reason] : std::vector<std::pair<std::function<void(json::object&)>, std::string>>{
           {[](json::object& c) { c["schema"] = "payments-tee-core:checkpoint:v2"; }, "schema is not payments-tee-core:checkpoint:v1"},
           {[](json::object& c) { c["evil"] = "x"; }, "a member evil that no writer puts there"},
           {[](json::object& c) { c.erase("timestamp"); }, "timestamp is missing"}}) {
    auto edited = cps;
    auto line = parse_json(edited[1]).as_object();
    edit(line);
    edited[1] = json::serialize(line);
    const std::string path = dir_.str() + "/edited-cps.jsonl";
    write_lines(path, edited);
    auto r = verify({"--log", log_, "--checkpoints", path});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find(reason), std::string::npos) << r.output;
  }

  // No signed checkpoint at all: the structure holds, but nothing vouches for the entries.
  {
    const std::string none = dir_.str() + "/no-cps.jsonl";
    write_lines(none, {});
    auto unsigned_log = verify({"--log", log_, "--checkpoints", none});
    EXPECT_EQ(unsigned_log.exit_code, 1) << unsigned_log.output;
    EXPECT_NE(unsigned_log.output.find("nothing signed vouches"), std::string::npos) << unsigned_log.output;
    auto structure = verify({"--log", log_, "--checkpoints", none, "--allow-unsigned"});
    EXPECT_EQ(structure.exit_code, 0) << structure.output;
    EXPECT_EQ(parse_json(structure.output).at("signed"), json::value(false));
    // A blank line between checkpoints.
    auto blank_cps = cps;
    blank_cps.insert(blank_cps.begin() + 1, "");
    const std::string blank_path = dir_.str() + "/blank-cps.jsonl";
    write_lines(blank_path, blank_cps);
    auto r = verify({"--log", log_, "--checkpoints", blank_path});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("a blank line after checkpoint 1"), std::string::npos) << r.output;
  }

  // A checkpoint forged with another key: the signature is valid, the key is not the audit key.
  auto forged = parse_json(cps.back()).as_object();
  auto other = chain::PrivateKey::from_hex("0x" + std::string(63, '0') + "5").value();
  const auto head = chain::audit::checkpoint_head(hash_of(forged.at("chain_head_hash")), hash_of(forged.at("merkle_root")));
  const auto message = chain::audit::checkpoint_message(other.address(), static_cast<std::uint64_t>(forged.at("seq").as_int64()), head,
                                                        static_cast<std::uint64_t>(forged.at("chain_id").as_int64()), chain::Address{});
  forged["audit_address"] = chain::to_lower_hex(other.address());
  forged["message_hash"] = chain::to_hex(message);
  forged["signature"] = chain::sign_digest(other, chain::eip191_hash32(message)).to_hex();
  const std::string forged_path = dir_.str() + "/forged.json";
  std::ofstream(forged_path) << json::serialize(forged);
  auto with_forged = verify({"--log", log_, "--audit-address", audit_address_, "--since", forged_path});
  EXPECT_EQ(with_forged.exit_code, 1) << with_forged.output;
  // The message names the key that was expected.
  EXPECT_NE(with_forged.output.find("not by the expected audit address " +
                                    chain::to_checksummed(chain::parse_address(audit_address_).value())),
            std::string::npos)
      << with_forged.output;
  // A directory named as the checkpoints file: said so (2).
  auto cps_dir = verify({"--log", log_, "--checkpoints", dir_.str()});
  EXPECT_EQ(cps_dir.exit_code, 2) << cps_dir.output;
  EXPECT_NE(cps_dir.output.find(dir_.str() + " is a directory: --checkpoints takes the checkpoints file"), std::string::npos)
      << cps_dir.output;
  // A file that is no checkpoint at all is the wrong file: a usage error (2), not a failed check.
  const std::string not_a_checkpoint = dir_.str() + "/not-a-checkpoint.json";
  std::ofstream(not_a_checkpoint) << "{}";
  auto wrong_file = verify({"--log", log_, "--since", not_a_checkpoint});
  EXPECT_EQ(wrong_file.exit_code, 2) << wrong_file.output;
  EXPECT_NE(wrong_file.output.find("is not a saved checkpoint"), std::string::npos) << wrong_file.output;

  // A rollback: a log (and its checkpoints) older than a checkpoint the partner saved.
  ASSERT_GE(cps.size(), 3u);
  const std::string old_log = dir_.str() + "/old.jsonl", old_cps = dir_.str() + "/old-cps.jsonl";
  const auto old_size = static_cast<std::size_t>(parse_json(cps[1]).at("seq").as_int64());
  write_lines(old_log, std::vector<std::string>(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(old_size)));
  write_lines(old_cps, std::vector<std::string>(cps.begin(), cps.begin() + 2));
  ASSERT_EQ(verify({"--log", old_log, "--checkpoints", old_cps}).exit_code, 0);  // consistent on its own
  const std::string newer = dir_.str() + "/newer.json";
  std::ofstream(newer) << cps.back();
  auto rolled_back = verify({"--log", old_log, "--checkpoints", old_cps, "--since", newer});
  EXPECT_EQ(rolled_back.exit_code, 1) << rolled_back.output;
  EXPECT_NE(rolled_back.output.find("seq " + std::to_string(parse_json(cps.back()).at("seq").as_int64())), std::string::npos)
      << rolled_back.output;
}

// After the audit key changed, the node serves its newest checkpoint signed again by the key
// it now reports (as the reference signs each answer with its key of the moment), so a
// verifier need not wait for the next checkpoint; the stored lines keep their signatures.
TEST_F(VerifyTest, AfterAKeyChangeTheServedCheckpointIsSignedByTheNewKey) {
  const auto stored = read_lines(checkpoints_);
  ASSERT_NO_FATAL_FAILURE(make_key_file(dir_.str() + "/another.key"));
  restart_node({{"PAYMENTS_AUDIT_KEY_PATH", dir_.str() + "/another.key"}, {"PAYMENTS_AUDIT_CHECKPOINT_EVERY_ENTRIES", "5"},
                {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "100000"}, {"PAYMENTS_PUBLIC_RATE_BURST", "100000"}});
  const auto status = parse_json(get("/api/transparency/tee-core/audit/status").body);
  const std::string new_address(status.at("audit_address").as_string());
  ASSERT_NE(new_address, audit_address_);
  auto served = parse_json(get("/api/transparency/tee-core/audit/checkpoint").body).as_object();
  const auto newest = parse_json(stored.back()).as_object();
  EXPECT_EQ(served.at("audit_address").as_string(), new_address);
  for (const char* same : {"seq", "chain_head_hash", "merkle_root", "head_hash", "timestamp", "chain_id", "contract_address"})
    EXPECT_EQ(served.at(same), newest.at(same)) << same;
  EXPECT_EQ(chain::recover_address(chain::eip191_hash32(chain::hash32_field(served, "message_hash").value()),
                                   chain::Signature::from_hex(served.at("signature").as_string()).value())
                .value(),
            chain::parse_address(new_address).value());
  // The history as it was signed.
  const auto history = parse_json(get("/api/transparency/tee-core/audit/checkpoints").body).at("checkpoints").as_array();
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history.front().at("audit_address").as_string(), audit_address_);
  EXPECT_EQ(read_lines(checkpoints_), stored);
  const std::string url = "http://127.0.0.1:" + std::to_string(node_->port());
  const auto r = verify({"--url", url, "--skip-log"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(parse_json(r.output).at("audit_address").as_string(),
            chain::to_checksummed(chain::parse_address(new_address).value()));

  // The log grows under the new key. A partner's checkpoint saved under the old one still
  // anchors the walk (the node proves the log extends it), and the whole history verifies:
  // each checkpoint by its own signature, the rotation reported.
  for (int i = 0; i < 6; ++i)
    ASSERT_EQ(post("/api/workloads/time", json::object{{"workload_id", "rotated-" + std::to_string(i)}, {"orchestrator_id", "o1"},
                                                       {"artifact_hash", "h"}, {"duration_ms", 1000}})
                  .status,
              200);
  wait_for_checkpoint(35);  // every 5 entries: the next at 35 (the stop signs the rest)
  const auto since = verify({"--url", url, "--since", saved_});
  EXPECT_EQ(since.exit_code, 0) << since.output;
  // The rotation holds across a saved checkpoint too: listed the other way round, the node's
  // newest checkpoint is signed by a key rotated out before the saved one's.
  EXPECT_EQ(verify({"--url", url, "--since", saved_, "--audit-address", audit_address_, "--audit-address", new_address}).exit_code, 0);
  const auto since_reversed = verify({"--url", url, "--since", saved_, "--audit-address", new_address, "--audit-address", audit_address_});
  EXPECT_EQ(since_reversed.exit_code, 1) << since_reversed.output;
  EXPECT_NE(since_reversed.output.find("the node's newest checkpoint"), std::string::npos) << since_reversed.output;
  EXPECT_NE(since_reversed.output.find("a key rotated out before"), std::string::npos) << since_reversed.output;
  ASSERT_EQ(node_->terminate(), 0);
  const auto whole = verify({"--log", log_});
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  const auto changes = parse_json(whole.output).at("audit_key_changes").as_array();
  ASSERT_EQ(changes.size(), 1u) << whole.output;
  EXPECT_EQ(changes[0].at("from").as_string(), chain::to_checksummed(chain::parse_address(audit_address_).value()));
  EXPECT_EQ(changes[0].at("to").as_string(), chain::to_checksummed(chain::parse_address(new_address).value()));
  // Expecting one key, the other key's checkpoints fail; both keys given, every one holds.
  const auto old_only = verify({"--log", log_, "--audit-address", audit_address_});
  EXPECT_EQ(old_only.exit_code, 1) << old_only.output;
  EXPECT_NE(old_only.output.find("not by the expected audit address"), std::string::npos) << old_only.output;
  EXPECT_EQ(verify({"--log", log_, "--audit-address", new_address}).exit_code, 1);
  const auto both = verify({"--log", log_, "--audit-address", audit_address_, "--audit-address", new_address});
  EXPECT_EQ(both.exit_code, 0) << both.output;
  // The keys are listed oldest first: listed the other way round, the history reads as the
  // newer key rotated out and the older one signing after it.
  const auto reversed = verify({"--log", log_, "--audit-address", new_address, "--audit-address", audit_address_});
  EXPECT_EQ(reversed.exit_code, 1) << reversed.output;
  EXPECT_NE(reversed.output.find("a key rotated out before"), std::string::npos) << reversed.output;
}

// A checkpoint naming a member twice reads differently in different readers (Boost keeps the
// last value, others the first): refused wherever it comes from.
TEST_F(VerifyTest, ACheckpointNamingAMemberTwiceIsRefused) {
  const auto lines = read_lines(checkpoints_);
  ASSERT_FALSE(lines.empty());
  const std::string doubled = "{\"merkle_root\":\"0x" + std::string(64, '0') + "\"," + lines.back().substr(1);
  auto in_file = lines;
  in_file.back() = doubled;
  const std::string cps = dir_.str() + "/doubled-cps.jsonl";
  write_lines(cps, in_file);
  ASSERT_EQ(node_->terminate(), 0);
  const auto file = verify({"--log", log_, "--checkpoints", cps});
  EXPECT_EQ(file.exit_code, 1) << file.output;
  EXPECT_NE(file.output.find("names merkle_root twice"), std::string::npos) << file.output;
  const std::string saved = dir_.str() + "/doubled-saved.json";
  std::ofstream(saved) << doubled;
  const auto since = verify({"--log", log_, "--checkpoints", checkpoints_, "--since", saved});
  EXPECT_EQ(since.exit_code, 1) << since.output;
  EXPECT_NE(since.output.find("names merkle_root twice"), std::string::npos) << since.output;
}

// With --chain-id and --contract every checkpoint must be signed for that binding: one signed
// for another chain or contract (a test deployment's, replayed) fails, offline and live; live,
// the node is asked for the binding and signs its statement for it.
TEST_F(VerifyTest, CheckpointsAreHeldToTheExpectedChainAndContract) {
  const auto lines = read_lines(checkpoints_);
  ASSERT_FALSE(lines.empty());
  const auto first = parse_json(lines.front());
  const std::string chain_id = std::to_string(first.at("chain_id").as_int64());
  const std::string other_contract = address_of(99);
  EXPECT_EQ(verify({"--log", log_, "--chain-id", chain_id}).exit_code, 0);
  const auto wrong_chain = verify({"--log", log_, "--chain-id", std::to_string(first.at("chain_id").as_int64() + 1)});
  EXPECT_EQ(wrong_chain.exit_code, 1) << wrong_chain.output;
  EXPECT_NE(wrong_chain.output.find("is signed for chain id " + chain_id + ", not "), std::string::npos) << wrong_chain.output;
  const auto wrong_contract = verify({"--log", log_, "--contract", other_contract});
  EXPECT_EQ(wrong_contract.exit_code, 1) << wrong_contract.output;
  EXPECT_NE(wrong_contract.output.find("(--contract)"), std::string::npos) << wrong_contract.output;
  // A saved checkpoint is held to it too: one the node signed for another chain, beside a log
  // whose own checkpoints are all for this one.
  const std::string other_binding = dir_.str() + "/saved-for-another-chain.json";
  std::ofstream(other_binding) << get("/api/transparency/tee-core/audit/checkpoint?chain_id=424242").body;
  EXPECT_EQ(verify({"--log", log_, "--since", other_binding}).exit_code, 0);
  const auto saved_wrong = verify({"--log", log_, "--since", other_binding, "--chain-id", chain_id});
  EXPECT_EQ(saved_wrong.exit_code, 1) << saved_wrong.output;
  EXPECT_NE(saved_wrong.output.find("saved checkpoint: checkpoint at seq"), std::string::npos) << saved_wrong.output;
  EXPECT_NE(saved_wrong.output.find("is signed for chain id 424242, not " + chain_id + " (--chain-id)"), std::string::npos)
      << saved_wrong.output;
  const auto bad_usage = verify({"--log", log_, "--contract", "0x1234"});
  EXPECT_EQ(bad_usage.exit_code, 2) << bad_usage.output;
  // Live: asked for chain 424242 and the other contract, the node signs for them, and the
  // checkpoint, the proof and the downloaded log all verify.
  const std::string url = "http://127.0.0.1:" + std::to_string(node_->port());
  const auto live = verify({"--url", url, "--chain-id", "424242", "--contract", other_contract, "--event-id", "workload_time:w3"});
  EXPECT_EQ(live.exit_code, 0) << live.output;
  // A node that serves its own binding whatever it is asked fails.
  FakeNode deaf(node_->port(), [&](const std::string& target) -> std::optional<std::string> {
    if (!target.starts_with("/api/transparency/tee-core/audit/checkpoint")) return std::nullopt;
    HttpClient real("127.0.0.1", node_->port());
    return real.request("GET", "/api/transparency/tee-core/audit/checkpoint").body;
  });
  const auto ignored = verify({"--url", deaf.url(), "--skip-log", "--chain-id", "424242"});
  EXPECT_EQ(ignored.exit_code, 1) << ignored.output;
  EXPECT_NE(ignored.output.find("(--chain-id)"), std::string::npos) << ignored.output;
}

// A log file cut shorter while it is read (mapped, then truncated by another process) ends the
// command with status 2 and a reason, in JSON too, rather than a SIGBUS.
TEST_F(VerifyTest, ALogCutShorterWhileReadIsAnErrorNotACrash) {
  ASSERT_EQ(node_->terminate(), 0);
  const std::string copy = dir_.str() + "/shrinking.jsonl";
  std::filesystem::copy_file(log_, copy);
  const auto size = std::filesystem::file_size(copy);
  std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
  asan += std::string(asan.empty() ? "" : ":") + "verify_asan_link_order=0:handle_sigbus=0";
  for (const bool as_json : {true, false}) {
    std::filesystem::copy_file(log_, copy, std::filesystem::copy_options::overwrite_existing);
    std::vector<std::string> argv{lpops_binary(), "verify", "--log", copy, "--checkpoints", checkpoints_, "--threads", "1"};
    if (as_json) argv.push_back("--json");
    const auto r = run_command(argv, {{"LD_PRELOAD", LPOPS_SYNC_FAULTS},
                                      {"LPOPS_FAULT_TRUNCATE_AT_MADVISE", copy},
                                      {"LPOPS_FAULT_TRUNCATE_TO", std::to_string(size / 3)},
                                      {"ASAN_OPTIONS", asan}});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("was cut shorter while it was read"), std::string::npos) << r.output;
    if (as_json) {
      const auto json_at = r.output.find("{\"status\"");
      ASSERT_NE(json_at, std::string::npos) << r.output;
      EXPECT_EQ(parse_json(r.output.substr(json_at, r.output.find('\n', json_at) - json_at)).at("status"), json::value("error"));
    }
  }
  EXPECT_EQ(std::filesystem::file_size(copy), size / 3);  // the preload did cut it
}

// A checkpoint saved from another node does not anchor this one's log: the failure names both
// signers, since a file from the wrong node is likelier than a fork.
TEST_F(VerifyTest, ASavedCheckpointOfAnotherNodeIsNamedAsSuch) {
  const std::string other_data = dir_.str() + "/other";
  {
    NodeProcess other(other_data, {{"PAYMENTS_BOOTSTRAP_ORCHESTRATORS",
                                    "[{\"orchestrator_id\":\"x1\",\"address\":\"" + address_of(7) + "\"}]"}});
    ASSERT_TRUE(other.start()) << other.log();
    HttpClient client("127.0.0.1", other.port());
    for (int i = 0; i < 3; ++i)
      ASSERT_EQ(client.request("POST", "/api/workloads/time",
                               R"({"workload_id":"x)" + std::to_string(i) + R"(","orchestrator_id":"x1","artifact_hash":"h","duration_ms":1000})")
                    .status,
                200);
    ASSERT_EQ(other.terminate(), 0) << other.log();  // a clean stop signs the whole log
  }
  const auto other_cps = read_lines(other_data + "/checkpoints.jsonl");
  ASSERT_FALSE(other_cps.empty());
  const std::string foreign = dir_.str() + "/foreign.json";
  std::ofstream(foreign) << other_cps.back();
  const std::string other_address(parse_json(other_cps.back()).at("audit_address").as_string());
  const std::string url = "http://127.0.0.1:" + std::to_string(node_->port());
  for (const auto& args : {std::vector<std::string>{"--url", url, "--since", foreign},
                           std::vector<std::string>{"--log", log_, "--since", foreign}}) {
    const auto r = verify(args);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("the saved checkpoint is signed by " + chain::to_checksummed(chain::parse_address(other_address).value()) +
                            ", the checked one by " + chain::to_checksummed(chain::parse_address(audit_address_).value())),
              std::string::npos)
        << r.output;
  }
  // The node's own saved checkpoint has no such note.
  const auto own = verify({"--url", url, "--since", saved_});
  EXPECT_EQ(own.exit_code, 0) << own.output;
  // A URL with a path: errors name the path asked for, with it.
  const auto prefixed = verify({"--url", url + "/payments"});
  EXPECT_EQ(prefixed.exit_code, 2) << prefixed.output;
  EXPECT_NE(prefixed.output.find("GET /payments/api/transparency/tee-core/audit/"), std::string::npos) << prefixed.output;
}

// The newest checkpoint a node serves must be signed by the key it reports: one signed by
// another vouches for nothing the node stands behind.
TEST_F(VerifyTest, ANewestCheckpointSignedByAnotherKeyThanTheNodeReportsFails) {
  const std::string other = chain::to_lower_hex(chain::PrivateKey::from_hex("0x" + std::string(63, '0') + "9").value().address());
  const std::uint16_t real = node_->port();
  FakeNode forged(real, [&](const std::string& target) -> std::optional<std::string> {
    if (target != "/api/transparency/tee-core/audit/status") return std::nullopt;
    HttpClient node("127.0.0.1", real);
    auto status = parse_json(node.request("GET", target).body).as_object();
    status["audit_address"] = other;
    return json::serialize(status);
  });
  const auto r = verify({"--url", forged.url(), "--skip-log"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("but its newest checkpoint (seq 31) is signed by"), std::string::npos) << r.output;
}

// A served checkpoint or log page that names a member twice reads differently in different
// readers (one takes the first value, another the last): a forged answer, status 1.
TEST_F(VerifyTest, AServedAnswerNamingAMemberTwiceFails) {
  const std::uint16_t real = node_->port();
  // The member given first with another value: a reader keeping the first takes that one.
  const auto with_twice = [real](const std::string& target, const std::string& first) {
    HttpClient node("127.0.0.1", real);
    const std::string body = node.request("GET", target).body;
    EXPECT_EQ(body.front(), '{') << body;
    return "{" + first + "," + body.substr(1);
  };
  FakeNode checkpoint(real, [&](const std::string& target) -> std::optional<std::string> {
    if (!target.starts_with("/api/transparency/tee-core/audit/checkpoint") || target.starts_with("/api/transparency/tee-core/audit/checkpoints"))
      return std::nullopt;
    return with_twice(target, R"("seq":1)");
  });
  const auto cp = verify({"--url", checkpoint.url(), "--skip-log"});
  EXPECT_EQ(cp.exit_code, 1) << cp.output;
  EXPECT_NE(cp.output.find("served checkpoint names seq twice"), std::string::npos) << cp.output;

  FakeNode page(real, [&](const std::string& target) -> std::optional<std::string> {
    if (!target.starts_with("/api/transparency/tee-core/log")) return std::nullopt;
    return with_twice(target, R"("entries":[])");
  });
  const auto log = verify({"--url", page.url(), "--audit-address", audit_address_});
  EXPECT_EQ(log.exit_code, 1) << log.output;
  EXPECT_NE(log.output.find("log page names entries twice"), std::string::npos) << log.output;

  // Passed through unchanged, the same fake node verifies.
  FakeNode honest(real, [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
  const auto passed = verify({"--url", honest.url(), "--audit-address", audit_address_});
  EXPECT_EQ(passed.exit_code, 0) << passed.output;
}

TEST_F(VerifyTest, LiveNodeVerifiesAndEveryEventProves) {
  const std::string url = "http://127.0.0.1:" + std::to_string(node_->port());
  auto whole = verify({"--url", url, "--audit-address", audit_address_, "--since", saved_});
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  EXPECT_EQ(parse_json(whole.output).at("entries").as_int64(), 31);
  for (int i = 0; i < 30; ++i) {
    auto one = verify({"--url", url, "--skip-log", "--event-id", "workload_time:w" + std::to_string(i)});
    EXPECT_EQ(one.exit_code, 0) << i << ": " << one.output;
  }
  // An entry no checkpoint covers yet: the node's 409 is no failure of the log (status 2,
  // with the node's advice), not tampering (status 1).
  const std::uint16_t real = node_->port();
  FakeHttpServer early([real](const FakeHttpServer::Request& r) -> std::pair<int, std::string> {
    if (r.target.starts_with("/api/transparency/tee-core/audit/proof"))
      return {409, R"({"detail":"The entry is newer than the latest checkpoint; retry after the next one"})"};
    HttpClient node("127.0.0.1", real);
    auto answer = node.request("GET", r.target);
    return {answer.status, answer.body};
  });
  auto not_yet = verify({"--url", early.url(), "--skip-log", "--event-id", "workload_time:w1"});
  EXPECT_EQ(not_yet.exit_code, 2) << not_yet.output;
  EXPECT_NE(not_yet.output.find("cannot prove workload_time:w1 yet: The entry is newer than the latest checkpoint"),
            std::string::npos)
      << not_yet.output;
  // A checkpoint from another history (saved from a different node) is a fork.
  auto forked_saved = parse_json(read_lines(checkpoints_).front()).as_object();
  EXPECT_EQ(verify({"--url", url, "--skip-log", "--since", saved_}).exit_code, 0);
  forked_saved["merkle_root"] = chain::to_hex(chain::keccak256("another history"));
  const std::string forked_path = dir_.str() + "/forked.json";
  std::ofstream(forked_path) << json::serialize(forked_saved);
  EXPECT_EQ(verify({"--url", url, "--skip-log", "--since", forked_path}).exit_code, 1);  // its signature no longer holds
}

// An event id beyond ASCII: its line is written ASCII-escaped (as the reference writes its
// wrapper lines), and the log verifies offline, live and after a restart that reads it line by
// line; its receipt proves.
TEST_F(VerifyTest, AnEventIdBeyondAsciiIsEscapedInTheLineAndVerifies) {
  const std::string id = "caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x98\x80";
  auto r = post("/api/workloads/time",
                json::object{{"workload_id", id}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"duration_ms", 1000}});
  ASSERT_EQ(r.status, 200) << r.body;
  wait_for_checkpoint(32);
  const auto lines = read_lines(log_);
  ASSERT_EQ(lines.size(), 32u);
  for (unsigned char c : lines.back()) ASSERT_LT(c, 0x7f) << lines.back();
  EXPECT_NE(lines.back().find(R"("event_id":"workload_time:caf\u00e9-\u65e5\u672c-\ud83d\ude00")"), std::string::npos)
      << lines.back();
  auto offline = verify({"--log", log_, "--checkpoints", checkpoints_});
  EXPECT_EQ(offline.exit_code, 0) << offline.output;
  const std::string url = "http://127.0.0.1:" + std::to_string(node_->port());
  auto one = verify({"--url", url, "--skip-log", "--event-id", "workload_time:" + id});
  EXPECT_EQ(one.exit_code, 0) << one.output;
  std::filesystem::remove(dir_.str() + "/data/audit.index");
  restart_node({{"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "100000"}, {"PAYMENTS_PUBLIC_RATE_BURST", "100000"}});
  const std::string again = "http://127.0.0.1:" + std::to_string(node_->port());
  auto whole = verify({"--url", again, "--audit-address", audit_address_});
  EXPECT_EQ(whole.exit_code, 0) << whole.output;
  EXPECT_EQ(verify({"--url", again, "--skip-log", "--event-id", "workload_time:" + id}).exit_code, 0);
  // The log as versions before the escaping wrote it, in raw UTF-8: the node starts on it (its
  // newest entry, this one, is compared with the journal record it describes) and it verifies.
  ASSERT_EQ(node_->terminate(), 0) << node_->log();
  std::vector<std::string> raw;
  for (const auto& line : read_lines(log_)) raw.push_back(canonical_json(parse_json(line)));
  ASSERT_NE(raw, read_lines(log_));
  write_lines(log_, raw);
  std::filesystem::remove(dir_.str() + "/data/audit.index");
  start_node({{"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "100000"}, {"PAYMENTS_PUBLIC_RATE_BURST", "100000"}});
  auto raw_offline = verify({"--log", log_, "--checkpoints", checkpoints_});
  EXPECT_EQ(raw_offline.exit_code, 0) << raw_offline.output;
  EXPECT_EQ(verify({"--url", "http://127.0.0.1:" + std::to_string(node_->port()), "--audit-address", audit_address_}).exit_code, 0);
}

// A proof against a checkpoint of another history, signed with the node's own audit key (an
// operator can), for an event the verified log does not hold: --url --event-id fails, with
// or without --since, instead of proving it.
TEST_F(VerifyTest, AProofAgainstAForkedCheckpointFails) {
  const std::string url = "http://127.0.0.1:" + std::to_string(node_->port());
  std::ifstream key_in(dir_.str() + "/data/audit.key");
  std::string key_hex;
  key_in >> key_hex;
  const auto key = chain::PrivateKey::from_hex(key_hex).value();
  // The fork: one entry, "adjustment:forged", as entry 1 of a tree of size 1.
  auto entry = parse_json(read_lines(log_).front()).at("audit_entry").as_object();
  entry.erase("entry_hash");
  entry["event_id"] = "adjustment:forged";
  const chain::Hash256 entry_hash = chain::audit::entry_hash(entry);
  entry["entry_hash"] = chain::to_hex(entry_hash);
  const chain::Hash256 root = chain::merkle::leaf_node(entry_hash);
  auto cp = parse_json(get("/api/transparency/tee-core/audit/checkpoint").body).as_object();
  cp["seq"] = 1;
  cp["chain_head_hash"] = chain::to_hex(entry_hash);
  cp["merkle_root"] = chain::to_hex(root);
  const chain::Hash256 head = chain::audit::checkpoint_head(entry_hash, root);
  cp["head_hash"] = chain::to_hex(head);
  const auto message = chain::audit::checkpoint_message(key.address(), 1, head, static_cast<std::uint64_t>(cp.at("chain_id").as_int64()),
                                                        chain::parse_address(cp.at("contract_address").as_string()).value());
  cp["message_hash"] = chain::to_hex(message);
  cp["signature"] = chain::sign_digest(key, chain::eip191_hash32(message)).to_hex();
  const std::string forged_proof = json::serialize(json::object{
      {"audit_entry", entry}, {"leaf_index", 0}, {"tree_size", 1}, {"proof", json::array{}}, {"checkpoint", cp}});
  FakeNode fake(node_->port(), [&](const std::string& target) -> std::optional<std::string> {
    if (target.rfind("/api/transparency/tee-core/audit/proof", 0) == 0) return forged_proof;
    return std::nullopt;
  });
  for (const bool skip_log : {false, true}) {
    std::vector<std::string> args{"--url", fake.url(), "--audit-address", audit_address_, "--event-id", "adjustment:forged",
                                  "--since", saved_};
    if (skip_log) args.push_back("--skip-log");
    auto r = verify(args);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("fork"), std::string::npos) << r.output;
  }
  // The honest node through the same proxy proves its own events.
  FakeNode honest(node_->port(), [](const std::string&) { return std::optional<std::string>(); });
  EXPECT_EQ(verify({"--url", honest.url(), "--audit-address", audit_address_, "--event-id", "workload_time:w7"}).exit_code, 0);
  (void)url;
}

// Over --url the entries are checked as the bytes served, as --log checks a file's lines: a
// proxy that names a key twice (readers disagree on which copy counts), escapes a letter or
// adds a space, all of it hashing to the same entry, is caught.
TEST_F(VerifyTest, ServedEntriesAreCheckedAsServed) {
  const std::string served = get("/api/transparency/tee-core/log?order=asc&limit=1000&since_seq=0").body;
  const std::string balance = "\"balance_wei\":\"";
  const auto at = served.find(balance, served.find("workload_time:w2"));
  ASSERT_NE(at, std::string::npos) << served;
  const std::vector<std::pair<std::string, std::string>> edits = {
      {"a key named twice", served.substr(0, at) + balance + "9500000000000000000\"," + served.substr(at)},
      {"an escaped letter", [&] {
         std::string t = served;
         const auto o = t.find("\"orchestrator_id\":\"o1\"");
         return t.replace(o, 22, "\"orchestrator_id\":\"\\u006f1\"");
       }()},
      {"a space", [&] {
         std::string t = served;
         const auto k = t.find("\"kind\":");
         return t.replace(k, 7, "\"kind\" :");
       }()}};
  for (const auto& [what, body] : edits) {
    ASSERT_NE(body, served) << what;
    FakeNode proxy(node_->port(), [&](const std::string& target) -> std::optional<std::string> {
      if (target.rfind("/api/transparency/tee-core/log?order=asc&limit=1000&since_seq=0", 0) == 0) return body;
      return std::nullopt;
    });
    auto r = verify({"--url", proxy.url(), "--audit-address", audit_address_});
    EXPECT_EQ(r.exit_code, 1) << what << ": " << r.output;
  }
  // A page naming "entries" twice: readers take one copy or the other.
  const std::string doubled = served.substr(0, served.size() - 1) + ",\"entries\":[]}";
  FakeNode twice(node_->port(), [&](const std::string& target) -> std::optional<std::string> {
    if (target.rfind("/api/transparency/tee-core/log?order=asc&limit=1000&since_seq=0", 0) == 0) return doubled;
    return std::nullopt;
  });
  const auto r = verify({"--url", twice.url(), "--audit-address", audit_address_});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("names entries twice"), std::string::npos) << r.output;
  FakeNode honest(node_->port(), [](const std::string&) { return std::optional<std::string>(); });
  EXPECT_EQ(verify({"--url", honest.url(), "--audit-address", audit_address_}).exit_code, 0);
  // Something in between that pages smaller: a short page is not the end of the log.
  FakeNode small_pages(node_->port(), [&](const std::string& target) -> std::optional<std::string> {
    const std::string prefix = "/api/transparency/tee-core/log?order=asc&limit=1000&since_seq=";
    if (target.rfind(prefix, 0) != 0) return std::nullopt;
    HttpClient real("127.0.0.1", node_->port());
    return real.request("GET", "/api/transparency/tee-core/log?order=asc&limit=7&since_seq=" + target.substr(prefix.size())).body;
  });
  const auto paged = verify({"--url", small_pages.url(), "--audit-address", audit_address_});
  EXPECT_EQ(paged.exit_code, 0) << paged.output;
  EXPECT_EQ(parse_json(paged.output).at("entries").as_int64(), 31) << paged.output;
}

// A log whose last credit repeats an earlier event id (journal and log edited alike, the
// checkpoints past it dropped, so the node itself signs it at the next start): verify --url
// finds the repeat, and an entry served again for the confirmation must be the one verified
// at that position, not another genuine one.
TEST_F(VerifyTest, ARepeatedEventIsFoundEvenWhenTheConfirmationIsServedAnotherEntry) {
  ASSERT_EQ(node_->terminate(), 0);
  const std::string data = dir_.str() + "/data";
  // The journal's last record (the last credit, w29) takes w28's event id, framed anew.
  auto journal = read_lines(data + "/journal.jsonl");
  ASSERT_GE(journal.size(), 2u);
  auto before = storage::parse_record(journal[journal.size() - 2]).value();
  auto last = storage::parse_record(journal.back()).value();
  ASSERT_EQ(last.effect.at("entry").at("event_id").as_string(), "workload_time:w29");
  last.effect["entry"].as_object()["event_id"] = "workload_time:w28";
  std::string framed = storage::frame_record(last.seq, before.hash, last.effect).line;
  framed.pop_back();  // its '\n'
  journal.back() = framed;
  {
    std::ofstream out(data + "/journal.jsonl", std::ios::binary | std::ios::trunc);
    for (const auto& l : journal) out << l << "\n";
  }
  // The log's last entry the same, its hash recomputed.
  auto lines = rechained(read_lines(log_), [&](std::size_t i, json::object& entry) {
    if (i == 30) entry["event_id"] = "workload_time:w28";
  });
  ASSERT_EQ(lines.size(), 31u);
  {
    std::ofstream out(log_, std::ios::binary | std::ios::trunc);
    for (const auto& l : lines) out << l << "\n";
  }
  std::vector<std::string> kept;
  for (const auto& l : read_lines(checkpoints_))
    if (parse_json(l).at("seq").as_int64() < 31) kept.push_back(l);
  {
    std::ofstream out(checkpoints_, std::ios::binary | std::ios::trunc);
    for (const auto& l : kept) out << l << "\n";
  }
  for (const char* cache : {"/audit.index", "/audit.orchestrators", "/snapshot.json", "/clean-stop.json"})
    std::filesystem::remove(data + cache);
  start_node({{"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "100000"}, {"PAYMENTS_PUBLIC_RATE_BURST", "100000"}});
  wait_for_checkpoint(31);
  const std::string url = "http://127.0.0.1:" + std::to_string(node_->port());
  const auto direct = verify({"--url", url});
  EXPECT_EQ(direct.exit_code, 1) << direct.output;
  EXPECT_NE(direct.output.find("repeats entry 30"), std::string::npos) << direct.output;
  // Asked for entry 31 again, a proxy serves entry 30 (genuine, but not the one verified there).
  FakeNode swap(node_->port(), [&](const std::string& target) -> std::optional<std::string> {
    if (target != "/api/transparency/tee-core/log?order=asc&limit=1&since_seq=30") return std::nullopt;
    HttpClient real("127.0.0.1", node_->port());
    return real.request("GET", "/api/transparency/tee-core/log?order=asc&limit=1&since_seq=29").body;
  });
  const auto swapped = verify({"--url", swap.url()});
  EXPECT_EQ(swapped.exit_code, 1) << swapped.output;
  EXPECT_NE(swapped.output.find("another entry than the one verified at seq 31"), std::string::npos) << swapped.output;
}

// A checkpoint of the empty log (seq 0), validly signed, vouches for no entry: the log is as
// unsigned as one with no checkpoint at all.
TEST_F(VerifyTest, ACheckpointAtSeqZeroVouchesForNothing) {
  ASSERT_EQ(node_->terminate(), 0);
  const auto key = chain::PrivateKey::from_hex("0x" + std::string(63, '0') + "7").value();
  const auto cp = checkpoint_at_seq_zero(parse_json(read_lines(checkpoints_).front()).as_object(), key);
  const std::string only_zero = dir_.str() + "/zero-cps.jsonl";
  write_lines(only_zero, {json::serialize(cp)});
  auto r = verify({"--log", log_, "--checkpoints", only_zero});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("no signed checkpoint"), std::string::npos) << r.output;
  auto allowed = verify({"--log", log_, "--checkpoints", only_zero, "--allow-unsigned"});
  ASSERT_EQ(allowed.exit_code, 0) << allowed.output;
  EXPECT_FALSE(parse_json(allowed.output).at("signed").as_bool());
}

// A node that rate-limits verify's requests (429): verify waits and asks again, says so on
// stderr, and still verifies.
TEST_F(VerifyTest, ARateLimitedWalkWaitsAndSaysSo) {
  restart_node({{"PAYMENTS_PUBLIC_RATE_BURST", "1"}, {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "100000"}});
  const std::string url = "http://127.0.0.1:" + std::to_string(node_->port());
  // The wait is said on standard error; standard output holds the JSON outcome alone.
  const auto r = run_command_split({lpops_binary(), "verify", "--json", "--url", url, "--skip-log"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("rate-limits its public routes (HTTP 429); waiting"), std::string::npos) << r.err;
  boost::system::error_code ec;
  const auto doc = json::parse(r.out, ec);
  ASSERT_FALSE(ec) << "standard output is not one JSON document: " << r.out;
  EXPECT_EQ(doc.at("status"), json::value("ok")) << r.out;
  // Refused in the middle of a walk of the log, the wait says where the walk is: two requests
  // (the checkpoint and the node's status) take the burst, the first page, asked for within
  // 200 ms of the first, waits for a token.
  restart_node({{"PAYMENTS_PUBLIC_RATE_BURST", "2"}, {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "300"}});
  const auto walk = verify({"--url", "http://127.0.0.1:" + std::to_string(node_->port())});
  EXPECT_EQ(walk.exit_code, 0) << walk.output;
  EXPECT_NE(walk.output.find("waiting and asking again (0 s so far; 0 of 31 log entries read)"), std::string::npos) << walk.output;
}

// A proof the node serves wrongly fails the check (1): the proof of another event, one whose
// leaf index is off by one, one without its parts; an event the node has no entry for is no
// proof either.
TEST_F(VerifyTest, AWrongProofFromTheNodeFails) {
  const std::uint16_t real = node_->port();
  const std::string proof_route = "/api/transparency/tee-core/audit/proof";
  auto real_proof = [real, proof_route](const std::string& event) {
    HttpClient node("127.0.0.1", real);
    auto answer = node.request("GET", proof_route + "?event_id=" + event);
    EXPECT_EQ(answer.status, 200) << answer.body;
    return parse_json(answer.body).as_object();
  };
  auto with_proof = [&](const std::function<std::string()>& forged) {
    FakeNode fake(real, [&](const std::string& target) -> std::optional<std::string> {
      if (target.starts_with(proof_route)) return forged();
      return std::nullopt;
    });
    return verify({"--url", fake.url(), "--skip-log", "--event-id", "workload_time:w1"});
  };
  // Unchanged, the forger passes it through: the check passes.
  auto honest = with_proof([&] { return json::serialize(real_proof("workload_time:w1")); });
  ASSERT_EQ(honest.exit_code, 0) << honest.output;
  auto other = with_proof([&] { return json::serialize(real_proof("workload_time:w2")); });
  EXPECT_EQ(other.exit_code, 1) << other.output;
  EXPECT_NE(other.output.find("the proof is for another event"), std::string::npos) << other.output;
  auto shifted = with_proof([&] {
    auto p = real_proof("workload_time:w1");
    p["leaf_index"] = p.at("leaf_index").as_int64() + 1;
    return json::serialize(p);
  });
  EXPECT_EQ(shifted.exit_code, 1) << shifted.output;
  EXPECT_NE(shifted.output.find("leaf_index is not seq - 1"), std::string::npos) << shifted.output;
  for (const char* part : {"checkpoint", "audit_entry", "leaf_index"}) {
    auto lacking = with_proof([&] {
      auto p = real_proof("workload_time:w1");
      p.erase(part);
      return json::serialize(p);
    });
    EXPECT_EQ(lacking.exit_code, 1) << part << ": " << lacking.output;
    EXPECT_NE(lacking.output.find("the proof lacks checkpoint, audit_entry or leaf_index"), std::string::npos) << lacking.output;
  }
  // A sibling path of the right length but wrong hashes: the inclusion does not verify.
  auto bent = with_proof([&] {
    auto p = real_proof("workload_time:w1");
    auto& path = p.at("proof").as_array();
    EXPECT_FALSE(path.empty());
    if (!path.empty()) path[0] = chain::to_hex(chain::keccak256("not a sibling"));
    return json::serialize(p);
  });
  EXPECT_EQ(bent.exit_code, 1) << bent.output;
  EXPECT_NE(bent.output.find("does not verify against the signed checkpoint"), std::string::npos) << bent.output;
  auto unknown = verify({"--url", "http://127.0.0.1:" + std::to_string(real), "--skip-log", "--event-id", "workload_time:none"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_NE(unknown.output.find("no proof for workload_time:none (HTTP 404)"), std::string::npos) << unknown.output;
  // A node whose status names no audit address vouches for nothing.
  FakeNode nameless(real, [](const std::string& target) -> std::optional<std::string> {
    if (target.starts_with("/api/transparency/tee-core/audit/status")) return std::string(R"({"audit_address":null})");
    return std::nullopt;
  });
  auto no_address = verify({"--url", nameless.url(), "--skip-log"});
  EXPECT_EQ(no_address.exit_code, 1) << no_address.output;
  EXPECT_NE(no_address.output.find("names no audit_address"), std::string::npos) << no_address.output;
}

// A proof the node fails to give (5xx) is an I/O failure (status 2); one it refuses (404) is
// a verdict (status 1).
TEST_F(VerifyTest, ANodeFailingToGiveAProofIsAnIoFailure) {
  const std::uint16_t real = node_->port();
  for (const auto& [status, code] : {std::pair{503, 2}, {500, 2}, {404, 1}}) {
    FakeNode fake(real, FakeNode::ForgeAnswer([status](const std::string& target) -> std::optional<std::pair<int, std::string>> {
                    if (target.starts_with("/api/transparency/tee-core/audit/proof"))
                      return std::pair<int, std::string>{status, R"({"detail":"x"})"};
                    return std::nullopt;
                  }));
    const auto r = verify({"--url", fake.url(), "--skip-log", "--event-id", "workload_time:w7"});
    EXPECT_EQ(r.exit_code, code) << status << ": " << r.output;
    EXPECT_NE(r.output.find("HTTP " + std::to_string(status)), std::string::npos) << r.output;
  }
}

// A node asked to prove that its log extends a saved checkpoint and refusing (4xx) fails the
// check: it may be hiding a rollback or a fork. A failure on its side (5xx) leaves the check
// undone (2), as a network error does; neither passes.
TEST_F(VerifyTest, ANodeThatWillNotProveConsistencyFails) {
  const std::uint16_t real = node_->port();
  auto refusing = [real](int status, std::string body = R"({"detail":"Not found"})") {
    return std::make_unique<FakeNode>(
        real, FakeNode::ForgeAnswer([status, body](const std::string& target) -> std::optional<std::pair<int, std::string>> {
          if (target.starts_with("/api/transparency/tee-core/audit/consistency")) return std::pair<int, std::string>{status, body};
          return std::nullopt;
        }));
  };
  const auto honest = verify({"--url", "http://127.0.0.1:" + std::to_string(real), "--skip-log", "--since", saved_});
  ASSERT_EQ(honest.exit_code, 0) << honest.output;
  for (int status : {404, 400, 403}) {
    auto fake = status == 403 ? refusing(status, "Forbidden") : refusing(status);  // a body that is no JSON: the same
    const auto r = verify({"--url", fake->url(), "--skip-log", "--since", saved_});
    EXPECT_EQ(r.exit_code, 1) << status << ": " << r.output;
    EXPECT_NE(r.output.find("the node will not prove that its log at seq"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("HTTP " + std::to_string(status)), std::string::npos) << r.output;
  }
  auto failing = refusing(500);
  const auto r = verify({"--url", failing->url(), "--skip-log", "--since", saved_});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("HTTP 500"), std::string::npos) << r.output;
}

// Empty or out-of-range arguments are usage errors (2), said in JSON on standard output with
// --json, before anything is checked: an empty --since would otherwise skip the rollback check.
TEST_F(VerifyTest, EmptyOrOutOfRangeArgumentsAreUsageErrors) {
  const std::string url = "http://127.0.0.1:" + std::to_string(node_->port());
  const std::vector<std::vector<std::string>> mistakes{
      {"--log", ""},
      {"--log", log_, "--checkpoints", ""},
      {"--log", log_, "--since", ""},
      {"--url", ""},
      {"--url", url, "--skip-log", "--event-id", ""},
      {"--log", log_, "--threads", "0"},
      {"--log", log_, "--threads", "65"},
  };
  for (const auto& args : mistakes) {
    std::vector<std::string> argv{lpops_binary(), "verify", "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run_command_split(argv);
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    EXPECT_EQ(r.exit_code, 2) << shown << r.out << r.err;
    boost::system::error_code ec;
    const auto doc = json::parse(r.out, ec);
    ASSERT_FALSE(ec) << shown << "standard output is not one JSON document: " << r.out;
    EXPECT_EQ(doc.at("status"), json::value("error")) << shown << r.out;
  }
  // The threads change nothing but the speed.
  auto outcome = [&](std::vector<std::string> args) {
    auto r = verify(std::move(args));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    auto doc = parse_json(r.output).as_object();
    doc.erase("seconds");
    return json::serialize(doc);
  };
  const auto by_default = outcome({"--log", log_, "--audit-address", audit_address_});
  EXPECT_NE(by_default.find("\"entries\":31"), std::string::npos) << by_default;
  EXPECT_EQ(outcome({"--log", log_, "--audit-address", audit_address_, "--threads", "1"}), by_default);
  EXPECT_EQ(outcome({"--log", log_, "--audit-address", audit_address_, "--threads", "3"}), by_default);
  // A checkpoints file beside the log that is there but cannot be read (a link to nothing)
  // is said as such, not taken for an absent one.
  const std::string copy_dir = dir_.str() + "/copy";
  std::filesystem::create_directories(copy_dir);
  std::filesystem::copy_file(log_, copy_dir + "/audit.jsonl");
  std::filesystem::create_symlink(copy_dir + "/nothing.jsonl", copy_dir + "/checkpoints.jsonl");
  auto dangling = verify({"--log", copy_dir + "/audit.jsonl"});
  EXPECT_EQ(dangling.exit_code, 2) << dangling.output;
  EXPECT_NE(dangling.output.find("cannot read " + copy_dir + "/checkpoints.jsonl: No such file or directory"), std::string::npos)
      << dangling.output;
}

// An empty log holds nothing to vouch for: it verifies (entries 0, unsigned). Only a saved
// checkpoint tells an emptied log from a new one, and an audit address to check needs a
// checkpoint.
TEST_F(VerifyTest, AnEmptyLogVerifiesAsEmptyAndASavedCheckpointTellsItWasEmptied) {
  const std::string empty_dir = dir_.str() + "/empty";
  std::filesystem::create_directories(empty_dir);
  std::ofstream(empty_dir + "/audit.jsonl").close();
  auto r = verify({"--log", empty_dir + "/audit.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto doc = parse_json(r.output);
  EXPECT_EQ(doc.at("entries"), json::value(0)) << r.output;
  EXPECT_EQ(doc.at("signed"), json::value(false)) << r.output;
  auto emptied = verify({"--log", empty_dir + "/audit.jsonl", "--since", saved_});
  EXPECT_EQ(emptied.exit_code, 1) << emptied.output;
  auto with_address = verify({"--log", empty_dir + "/audit.jsonl", "--audit-address", audit_address_});
  EXPECT_EQ(with_address.exit_code, 1) << with_address.output;
  EXPECT_NE(with_address.output.find("no signed checkpoint to check the audit address against"), std::string::npos)
      << with_address.output;
}

// --json answers on standard output alone, one JSON document whatever the outcome; what
// verify says meanwhile goes to standard error.
TEST_F(VerifyTest, JsonIsAloneOnStandardOutput) {
  // (A rate limit's wait: ARateLimitedWalkWaitsAndSaysSo.) A failed check:
  boost::system::error_code ec;
  json::value doc;
  auto lines = read_lines(log_);
  lines.erase(lines.begin() + 3);
  const std::string cut = dir_.str() + "/cut.jsonl";
  write_lines(cut, lines);
  const auto failed = run_command_split({lpops_binary(), "verify", "--json", "--log", cut, "--checkpoints", checkpoints_});
  EXPECT_EQ(failed.exit_code, 1) << failed.out << failed.err;
  doc = json::parse(failed.out, ec);
  ASSERT_FALSE(ec) << failed.out;
  EXPECT_EQ(doc.at("status"), json::value("failed")) << failed.out;
}

// The node's URL in its forms: an IPv6 literal in brackets (here the IPv4-mapped form of
// 127.0.0.1), the port sent in Host; user information, a query or a fragment are refused.
TEST_F(VerifyTest, TheNodesUrlInItsForms) {
  const std::string port = std::to_string(node_->port());
  auto mapped = verify({"--url", "http://[::ffff:127.0.0.1]:" + port, "--skip-log"});
  EXPECT_EQ(mapped.exit_code, 0) << mapped.output;
  std::string host;
  FakeHttpServer recorder([&host](const FakeHttpServer::Request& r) -> std::pair<int, std::string> {
    if (host.empty()) {
      std::string head = r.head;
      for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const auto at = head.find("\r\nhost: ");
      if (at != std::string::npos) host = r.head.substr(at + 8, r.head.find("\r\n", at + 2) - at - 8);
    }
    return {404, R"({"detail":"Not Found"})"};
  });
  (void)verify({"--url", recorder.url(), "--skip-log"});
  EXPECT_EQ("http://" + host, recorder.url());
  const std::vector<std::string> refused{"http://user:pw@127.0.0.1:" + port, "http://127.0.0.1:" + port + "/?x=1",
                                         "http://127.0.0.1:" + port + "/#top"};
  for (const auto& bad : refused) {
    auto r = verify({"--url", bad, "--skip-log"});
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.output;
    EXPECT_NE(r.output.find("must not carry user information, a query or a fragment"), std::string::npos) << r.output;
  }
  auto no_port = verify({"--url", "http://127.0.0.1:", "--skip-log"});
  EXPECT_EQ(no_port.exit_code, 2) << no_port.output;
  EXPECT_NE(no_port.output.find("its port is empty"), std::string::npos) << no_port.output;
}

// A server that accepts and never answers: verify gives up after --timeout (exit 2), once:
// the request is not sent again after a wait that was all spent.
TEST_F(VerifyTest, AServerThatNeverAnswersTimesOut) {
  FakeNode silent(node_->port(), [](const std::string&) { return std::optional<std::string>(); }, true);
  const auto start = std::chrono::steady_clock::now();
  auto r = verify({"--url", silent.url(), "--timeout", "3"});
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no answer within 3 s"), std::string::npos) << r.output;
  EXPECT_GE(took, std::chrono::seconds(3));
  EXPECT_LT(took, std::chrono::milliseconds(5500));  // not twice the wait
}

}  // namespace
}  // namespace lpops::testing
