// PAYMENTS_AUDIT_SIGN_ENTRIES: every entry also carries the reference's per-entry signature
// (signer, signature = EIP-191 over entry_hash by the audit key). The entry hash excludes
// both, so checkpoints and proofs are unchanged; `lpops verify` checks every signature, that
// one key signed them all, and that it is the checkpoints' key.
#include <cctype>
#include <filesystem>
#include <fstream>

#include "chain/audit_format.hpp"
#include "chain/hex.hpp"
#include "chain/signature.hpp"
#include "domain/canonical_json.hpp"
#include "tests/integration/checkpoint_forge.hpp"
#include "tests/integration/fixture.hpp"

namespace lpops::testing {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class SignedEntriesTest : public NodeTest {
 protected:
  void SetUp() override {
    // Checkpoints every 4 entries and every second: batches can straddle a multiple of 4, and
    // the timer then signs the rest.
    start_node({{"PAYMENTS_AUDIT_SIGN_ENTRIES", "true"}, {"PAYMENTS_AUDIT_CHECKPOINT_EVERY_ENTRIES", "4"},
                {"PAYMENTS_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "1"},
                {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "100000"}, {"PAYMENTS_PUBLIC_RATE_BURST", "100000"}});
    register_orchestrator("o1", address_of(1));
    for (int i = 0; i < 11; ++i) {
      auto r = post("/api/workloads/time", json::object{{"workload_id", "s" + std::to_string(i)}, {"orchestrator_id", "o1"},
                                                        {"artifact_hash", "h"}, {"duration_ms", 2000 + i}});
      ASSERT_EQ(r.status, 200) << r.body;
    }
    wait_for_checkpoint(12);  // the policy entry and 11 credits
    audit_address_ = std::string(get_json("/api/transparency/tee-core/audit/status").at("audit_address").as_string());
    log_ = dir_.str() + "/data/audit.jsonl";
  }
  CommandResult verify(std::vector<std::string> args) {
    std::vector<std::string> argv{lpops_binary(), "verify", "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }
  std::string audit_address_, log_;
};

TEST_F(SignedEntriesTest, EveryEntryIsSignedByTheAuditKey) {
  const auto lines = read_lines(log_);
  ASSERT_EQ(lines.size(), 12u);
  const std::string signer = lower(audit_address_);
  for (const auto& line : lines) {
    const auto entry = parse_json(line).at("audit_entry").as_object();
    ASSERT_EQ(entry.at("signer").as_string(), signer) << line;
    const auto hash = chain::hash32_from_hex(entry.at("entry_hash").as_string()).value();
    const auto sig = chain::Signature::from_hex(entry.at("signature").as_string()).value();
    EXPECT_EQ(chain::to_lower_hex(chain::recover_address(chain::eip191_hash32(hash), sig).value()), signer);
  }
  // Served verbatim, signature included.
  auto receipt = get("/api/transparency/tee-core/receipt?event_id=workload_time:s3");
  ASSERT_EQ(receipt.status, 200);
  EXPECT_NE(receipt.body.find("\"signer\":\"" + signer + "\""), std::string::npos) << receipt.body;
}

TEST_F(SignedEntriesTest, VerifyChecksTheSignaturesOfflineAndLive) {
  auto offline = verify({"--log", log_, "--audit-address", audit_address_});
  ASSERT_EQ(offline.exit_code, 0) << offline.output;
  EXPECT_EQ(lower(parse_json(offline.output).at("entry_signer").as_string()), lower(audit_address_));
  const std::string url = "http://127.0.0.1:" + std::to_string(node_->port());
  auto live = verify({"--url", url, "--audit-address", audit_address_});
  ASSERT_EQ(live.exit_code, 0) << live.output;
  EXPECT_EQ(lower(parse_json(live.output).at("entry_signer").as_string()), lower(audit_address_));
  // Another expected key fails, although the checkpoints and hashes are all fine.
  EXPECT_EQ(verify({"--log", log_, "--audit-address", address_of(5)}).exit_code, 1);
}

// A checkpoint of the empty log by one key beside entries signed by another: the entries are
// not vouched for by the checkpoints' key (as with a checkpoint at any later seq), and the
// checkpoint's key is not reported as the log's.
TEST_F(SignedEntriesTest, EntriesSignedByAnotherKeyThanACheckpointAtSeqZeroFail) {
  ASSERT_EQ(node_->terminate(), 0);
  const auto key = chain::PrivateKey::from_hex("0x" + std::string(63, '0') + "7").value();
  const auto cp = checkpoint_at_seq_zero(parse_json(read_lines(dir_.str() + "/data/checkpoints.jsonl").front()).as_object(), key);
  const std::string only_zero = dir_.str() + "/zero-cps.jsonl";
  std::ofstream(only_zero) << json::serialize(cp) << "\n";
  const auto r = verify({"--log", log_, "--checkpoints", only_zero});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("entries 1-12 are signed by"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("not by the key of the newest checkpoint"), std::string::npos) << r.output;
}

TEST_F(SignedEntriesTest, AMovedSignatureIsCaughtAndNamed) {
  auto lines = read_lines(log_);
  // Entry 6 gets entry 5's signature: its hash still matches (signatures are not hashed), the
  // signature does not recover to the signer.
  auto e5 = parse_json(lines[4]).as_object();
  auto e6 = parse_json(lines[5]).as_object();
  const std::string sig5(e5.at("audit_entry").at("signature").as_string());
  const std::string sig6(e6.at("audit_entry").at("signature").as_string());
  const auto at = lines[5].find(sig6);
  ASSERT_NE(at, std::string::npos);
  lines[5].replace(at, sig6.size(), sig5);
  const std::string copy = dir_.str() + "/moved.jsonl";
  {
    std::ofstream out(copy);
    for (const auto& l : lines) out << l << "\n";
  }
  auto r = verify({"--log", copy, "--checkpoints", dir_.str() + "/data/checkpoints.jsonl"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  const std::string reason(parse_json(r.output).at("reason").as_string());
  EXPECT_NE(reason.find("entry 6"), std::string::npos) << reason;
  EXPECT_NE(reason.find("signature"), std::string::npos) << reason;
}

// Anyone can hash and chain entries: unsigned entries appended after the signed ones, past
// the last checkpoint, are vouched for by nothing. Verify says so and fails, unless
// --allow-unsigned, which passes them as unvouched.
TEST_F(SignedEntriesTest, AnUnsignedTailPastEverySignatureIsNotVerified) {
  auto lines = read_lines(log_);
  ASSERT_EQ(lines.size(), 12u);
  auto last = parse_json(lines.back()).as_object();
  std::string prev(last.at("audit_entry").at("entry_hash").as_string());
  for (int seq = 13; seq <= 14; ++seq) {
    json::object wrapper = last;
    json::object entry = last.at("audit_entry").as_object();
    for (const char* key : {"entry_hash", "signer", "signature"}) entry.erase(key);
    entry["seq"] = seq;
    entry["prev_hash"] = prev;
    entry["event_id"] = "workload_time:forged-" + std::to_string(seq);
    entry["delta_wei"] = "0";  // the balance stays as the last entry states it
    const auto hash = chain::audit::entry_hash(entry);
    entry["entry_hash"] = chain::to_hex(hash);
    prev = chain::to_hex(hash);
    wrapper["audit_entry"] = std::move(entry);
    wrapper["journal_seq"] = 100 + seq;
    lines.push_back(canonical_json(wrapper));
  }
  const std::string copy = dir_.str() + "/forged-tail.jsonl";
  {
    std::ofstream out(copy);
    for (const auto& l : lines) out << l << "\n";
  }
  const std::string checkpoints = dir_.str() + "/data/checkpoints.jsonl";
  auto r = verify({"--log", copy, "--checkpoints", checkpoints, "--audit-address", audit_address_});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  const std::string reason(parse_json(r.output).at("reason").as_string());
  EXPECT_NE(reason.find("entries 13-14 carry no signature"), std::string::npos) << reason;
  auto allowed = verify({"--log", copy, "--checkpoints", checkpoints, "--audit-address", audit_address_, "--allow-unsigned"});
  ASSERT_EQ(allowed.exit_code, 0) << allowed.output;
  const auto doc = parse_json(allowed.output);
  EXPECT_EQ(doc.at("vouched_through_seq").as_int64(), 12);
  EXPECT_EQ(doc.at("unvouched_entries").as_int64(), 2);
  // The untouched log: every entry vouched for.
  auto whole = verify({"--log", log_, "--checkpoints", checkpoints});
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  EXPECT_EQ(parse_json(whole.output).at("vouched_through_seq").as_int64(), 12);
  EXPECT_FALSE(parse_json(whole.output).as_object().contains("unvouched_entries"));
}

// An audit key rotation: the entries signed by the old key, then by the new one, verify with
// the change reported; an entry signed by the key rotated out, after the new key's newest
// checkpoint, is vouched for by nothing.
TEST_F(SignedEntriesTest, AKeyRotationVerifiesAndARetiredKeyCannotExtendTheLog) {
  std::string old_key_text = read_lines(dir_.str() + "/data/audit.key").at(0);
  const auto old_key = chain::PrivateKey::from_hex(old_key_text).value();
  ASSERT_NO_FATAL_FAILURE(make_key_file(dir_.str() + "/another.key"));
  restart_node({{"PAYMENTS_AUDIT_SIGN_ENTRIES", "true"}, {"PAYMENTS_AUDIT_CHECKPOINT_EVERY_ENTRIES", "4"},
                {"PAYMENTS_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "1"}, {"PAYMENTS_AUDIT_KEY_PATH", dir_.str() + "/another.key"},
                {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "100000"}, {"PAYMENTS_PUBLIC_RATE_BURST", "100000"}});
  const std::string new_address(get_json("/api/transparency/tee-core/audit/status").at("audit_address").as_string());
  ASSERT_NE(lower(new_address), lower(audit_address_));
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(post("/api/workloads/time", json::object{{"workload_id", "r" + std::to_string(i)}, {"orchestrator_id", "o1"},
                                                       {"artifact_hash", "h"}, {"duration_ms", 1000}})
                  .status,
              200);
  wait_for_checkpoint(17);
  // Live, the newest checkpoint (the new key's) vouches for entries signed by either key.
  const auto live = verify({"--url", "http://127.0.0.1:" + std::to_string(node_->port())});
  EXPECT_EQ(live.exit_code, 0) << live.output;
  ASSERT_EQ(node_->terminate(), 0) << node_->log();
  const auto lines = read_lines(log_);
  ASSERT_EQ(lines.size(), 17u);
  EXPECT_EQ(parse_json(lines.back()).at("audit_entry").at("signer").as_string(), lower(new_address));

  const auto whole = verify({"--log", log_});
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  const auto changes = parse_json(whole.output).at("entry_signer_changes").as_array();
  ASSERT_EQ(changes.size(), 1u) << whole.output;
  EXPECT_EQ(changes[0].at("seq").as_int64(), 13);
  EXPECT_EQ(lower(std::string(changes[0].at("from").as_string())), lower(audit_address_));
  EXPECT_EQ(lower(std::string(changes[0].at("to").as_string())), lower(new_address));
  EXPECT_EQ(parse_json(whole.output).at("vouched_through_seq").as_int64(), 17);
  EXPECT_EQ(verify({"--log", log_, "--audit-address", audit_address_, "--audit-address", new_address}).exit_code, 0);
  // Oldest key first: listed the other way round, the old key signed after the new one.
  const auto reversed = verify({"--log", log_, "--audit-address", new_address, "--audit-address", audit_address_});
  EXPECT_EQ(reversed.exit_code, 1) << reversed.output;
  EXPECT_NE(reversed.output.find("a key rotated out before"), std::string::npos) << reversed.output;
  const auto old_only = verify({"--log", log_, "--audit-address", audit_address_});
  EXPECT_EQ(old_only.exit_code, 1) << old_only.output;
  EXPECT_NE(old_only.output.find("not by the expected audit address"), std::string::npos) << old_only.output;

  // The retired key signs one more entry after the new key's newest checkpoint.
  auto forged = lines;
  const auto last = parse_json(lines.back()).as_object();
  json::object entry = last.at("audit_entry").as_object();
  for (const char* key : {"entry_hash", "signer", "signature"}) entry.erase(key);
  entry["seq"] = 18;
  entry["prev_hash"] = last.at("audit_entry").at("entry_hash");
  entry["event_id"] = "workload_time:forged";
  entry["delta_wei"] = "0";
  const auto hash = chain::audit::entry_hash(entry);
  entry["entry_hash"] = chain::to_hex(hash);
  entry["signer"] = chain::to_lower_hex(old_key.address());
  entry["signature"] = chain::sign_digest(old_key, chain::eip191_hash32(hash)).to_hex();
  json::object wrapper = last;
  wrapper["audit_entry"] = std::move(entry);
  wrapper["journal_seq"] = last.at("journal_seq").as_int64() + 1;
  forged.push_back(canonical_json(wrapper));
  const std::string copy = dir_.str() + "/retired-key.jsonl";
  {
    std::ofstream out(copy);
    for (const auto& l : forged) out << l << "\n";
  }
  const std::string checkpoints = dir_.str() + "/data/checkpoints.jsonl";
  auto r = verify({"--log", copy, "--checkpoints", checkpoints});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("entries 18-18 are signed by"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("not by the key of the newest checkpoint"), std::string::npos) << r.output;
  auto allowed = verify({"--log", copy, "--checkpoints", checkpoints, "--allow-unsigned"});
  ASSERT_EQ(allowed.exit_code, 0) << allowed.output;
  EXPECT_EQ(parse_json(allowed.output).at("unvouched_entries").as_int64(), 1);
  // Naming the retired key does not let it extend the log either.
  auto named = verify({"--log", copy, "--checkpoints", checkpoints, "--audit-address", audit_address_, "--audit-address", new_address});
  EXPECT_EQ(named.exit_code, 1) << named.output;

  // Entries a third key signed, then a crash, and a fourth key at the restart: its start-up
  // checkpoint vouches for them, and the log verifies.
  auto env = [&](const std::string& key) {
    return std::map<std::string, std::string>{{"PAYMENTS_AUDIT_SIGN_ENTRIES", "true"}, {"PAYMENTS_AUDIT_CHECKPOINT_EVERY_ENTRIES", "1000"},
                                              {"PAYMENTS_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "3600"}, {"PAYMENTS_AUDIT_KEY_PATH", key},
                                              {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "100000"}, {"PAYMENTS_PUBLIC_RATE_BURST", "100000"}};
  };
  ASSERT_NO_FATAL_FAILURE(make_key_file(dir_.str() + "/third.key"));
  start_node(env(dir_.str() + "/third.key"));
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(post("/api/workloads/time", json::object{{"workload_id", "c" + std::to_string(i)}, {"orchestrator_id", "o1"},
                                                       {"artifact_hash", "h"}, {"duration_ms", 1000}})
                  .status,
              200);
  node_->kill_hard();
  ASSERT_NO_FATAL_FAILURE(make_key_file(dir_.str() + "/fourth.key"));
  start_node(env(dir_.str() + "/fourth.key"));
  ASSERT_EQ(node_->terminate(), 0) << node_->log();
  const auto after_crash = verify({"--log", log_});
  EXPECT_EQ(after_crash.exit_code, 0) << after_crash.output;
  EXPECT_EQ(parse_json(after_crash.output).at("entry_signer_changes").as_array().size(), 2u) << after_crash.output;
}

// A signed entry with text beyond ASCII is stored escaped, as every line is: the start-up
// comparison of the newest entry with its journal record takes it as the same entry, with the
// setting on or off.
TEST_F(SignedEntriesTest, ASignedEntryBeyondAsciiStartsAgain) {
  auto r = post("/api/workloads/time", json::object{{"workload_id", "caf\xc3\xa9-\xe6\x97\xa5"}, {"orchestrator_id", "o1"},
                                                    {"artifact_hash", "h"}, {"duration_ms", 1000}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_NE(read_lines(log_).back().find("caf\\u00e9-\\u65e5"), std::string::npos) << read_lines(log_).back();
  restart_node({{"PAYMENTS_AUDIT_SIGN_ENTRIES", "true"}});
  restart_node({});
  EXPECT_EQ(verify({"--log", log_, "--checkpoints", dir_.str() + "/data/checkpoints.jsonl"}).exit_code, 0);
}

TEST_F(SignedEntriesTest, EntriesRegeneratedAfterARestartAreIdentical) {
  // Signatures are deterministic (RFC 6979): a log rebuilt from the journal is byte-identical.
  const auto before = read_lines(log_);
  ASSERT_EQ(node_->terminate(), 0);
  std::filesystem::rename(log_, dir_.str() + "/aside.jsonl");
  std::filesystem::remove(dir_.str() + "/data/audit.index");
  start_node({{"PAYMENTS_AUDIT_SIGN_ENTRIES", "true"}});
  EXPECT_EQ(read_lines(log_), before);
}

}  // namespace
}  // namespace lpops::testing
