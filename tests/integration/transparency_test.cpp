// The transparency log end to end over HTTP: entries for every balance change, the hash
// chain, Merkle roots, inclusion and consistency proofs against signed checkpoints, and
// recovery (regeneration from the journal, torn tails cut, tampering refused).
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "chain/audit_format.hpp"
#include "chain/hex.hpp"
#include "chain/merkle.hpp"
#include "chain/signature.hpp"
#include "domain/canonical_json.hpp"
#include "storage/record_format.hpp"
#include "tests/integration/fixture.hpp"

namespace lpops::testing {
namespace {

using chain::Hash256;

Hash256 h(const json::value& v) {
  auto b = chain::from_hex(v.as_string()).value();
  Hash256 out;
  std::copy(b.begin(), b.end(), out.begin());
  return out;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TransparencyTest : public NodeTest {
 protected:
  const std::map<std::string, std::string> env_{{"PAYMENTS_AUDIT_CHECKPOINT_EVERY_ENTRIES", "5"},
                                                {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "100000"},
                                                {"PAYMENTS_PUBLIC_RATE_BURST", "100000"}};
  std::string audit_path() { return dir_.str() + "/data/audit.jsonl"; }

  // The policy entry, `workloads` credits and an adjustment. With `checkpoint_at`, waits for
  // the checkpoint of that many entries before going on: the auditor signs once per write it
  // is told of, so on a loaded machine one checkpoint can cover two steps of 5.
  void make_traffic(int workloads, std::int64_t checkpoint_at = 0) {
    register_orchestrator("o1", address_of(1));
    register_orchestrator("o2", address_of(2));
    for (int i = 0; i < workloads; ++i) {
      auto r = post("/api/workloads/time", json::object{{"workload_id", "w" + std::to_string(i)},
                                                        {"orchestrator_id", i % 2 ? "o2" : "o1"},
                                                        {"artifact_hash", "h"}, {"duration_ms", 60000 + i}});
      ASSERT_EQ(r.status, 200) << r.body;
      if (checkpoint_at == 2 + i) wait_for_checkpoint(checkpoint_at);
    }
    auto adj = post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "-0.000001"}},
                    {{"Idempotency-Key", "adj-1"}});
    ASSERT_EQ(adj.status, 200) << adj.body;
  }

  // Fetches the whole log and checks every entry, the chain and the root; returns the root.
  Hash256 verify_whole_log(std::uint64_t expected_entries) {
    auto page = get("/api/transparency/tee-core/log?order=asc&limit=1000");
    EXPECT_EQ(page.status, 200) << page.body;
    auto doc = parse_json(page.body);
    const auto& entries = doc.at("entries").as_array();
    EXPECT_EQ(entries.size(), expected_entries);
    Hash256 prev{};
    chain::merkle::Tree tree;
    std::uint64_t seq = 0;
    for (const auto& wrapper : entries) {
      EXPECT_EQ(wrapper.at("schema").as_string(), "payments-host:tee-core-transparency-log:v1");
      json::object entry = wrapper.at("audit_entry").as_object();
      const Hash256 stored = h(entry.at("entry_hash"));
      entry.erase("entry_hash");
      EXPECT_EQ(chain::audit::entry_hash(entry), stored);
      EXPECT_EQ(entry.at("seq").as_int64(), static_cast<std::int64_t>(++seq));
      EXPECT_EQ(h(entry.at("prev_hash")), prev);
      EXPECT_FALSE(entry.contains("metadata") && entry.at("metadata").is_null());  // never an added null
      prev = stored;
      tree.append(stored);
    }
    auto status = parse_json(get("/api/transparency/tee-core/audit/status").body);
    EXPECT_EQ(status.at("audit_seq").as_int64(), static_cast<std::int64_t>(expected_entries));
    EXPECT_EQ(h(status.at("audit_head_hash")), prev);
    EXPECT_EQ(h(status.at("audit_merkle_root")), tree.root());
    EXPECT_EQ(h(status.at("audit_checkpoint_head_hash")), chain::audit::checkpoint_head(prev, tree.root()));
    return tree.root();
  }
};

// A checkpoint signed before ETH_CHAIN_ID changed is served signed for the new binding (its
// own stored binding decides whether it must be signed again, not the configured one).
TEST_F(TransparencyTest, ACheckpointSignedForAnotherChainIsSignedAgainForTheConfiguredOne) {
  auto env = env_;
  env["ETH_CHAIN_ID"] = "42161";
  start_node(env);
  make_traffic(6);
  wait_for_checkpoint(5);
  auto before = parse_json(get("/api/transparency/tee-core/audit/checkpoint").body);
  ASSERT_EQ(before.at("chain_id").as_int64(), 42161) << before;
  env["ETH_CHAIN_ID"] = "1";
  restart_node(env);
  auto cp = parse_json(get("/api/transparency/tee-core/audit/checkpoint").body);
  ASSERT_TRUE(cp.is_object()) << cp;
  EXPECT_EQ(cp.at("chain_id").as_int64(), 1) << cp;
  const auto audit_address = chain::parse_address(cp.at("audit_address").as_string()).value();
  const auto seq = static_cast<std::uint64_t>(cp.at("seq").as_int64());
  const Hash256 head = chain::audit::checkpoint_head(h(cp.at("chain_head_hash")), h(cp.at("merkle_root")));
  const Hash256 message = chain::audit::checkpoint_message(audit_address, seq, head, 1,
                                                           chain::parse_address(cp.at("contract_address").as_string()).value());
  EXPECT_EQ(h(cp.at("message_hash")), message);
  auto sig = chain::Signature::from_hex(cp.at("signature").as_string()).value();
  EXPECT_EQ(chain::recover_address(chain::eip191_hash32(message), sig).value(), audit_address);

  // The checkpoint contract on a chain of its own (CHECKPOINT_CHAIN_ID, where the reference's
  // witness publishes): the binding is that chain's, whatever ETH_CHAIN_ID says.
  env["CHECKPOINT_CHAIN_ID"] = "421614";
  env["CHECKPOINT_CONTRACT_ADDRESS"] = "0x00000000000000000000000000000000000000c0";
  restart_node(env);
  auto bound = parse_json(get("/api/transparency/tee-core/audit/checkpoint").body);
  ASSERT_TRUE(bound.is_object()) << bound;
  EXPECT_EQ(bound.at("chain_id").as_int64(), 421614) << bound;
  EXPECT_EQ(bound.at("contract_address").as_string(), "0x00000000000000000000000000000000000000c0") << bound;
  const Hash256 bound_message = chain::audit::checkpoint_message(
      audit_address, static_cast<std::uint64_t>(bound.at("seq").as_int64()),
      chain::audit::checkpoint_head(h(bound.at("chain_head_hash")), h(bound.at("merkle_root"))), 421614,
      chain::parse_address("0x00000000000000000000000000000000000000c0").value());
  EXPECT_EQ(h(bound.at("message_hash")), bound_message);
}

TEST_F(TransparencyTest, EveryBalanceChangeIsProvableAgainstASignedCheckpoint) {
  start_node(env_);
  make_traffic(12, 5);  // two checkpoints at least: at 5, and at 10 or later
  // The policy snapshot, then 12 credits and an adjustment.
  const Hash256 root = verify_whole_log(14);
  wait_for_checkpoint(10);
  auto first = parse_json(get("/api/transparency/tee-core/log?order=asc&limit=1").body).at("entries").as_array()[0];
  EXPECT_EQ(first.at("audit_entry").at("kind").as_string(), "policy");
  EXPECT_EQ(first.at("source").as_string(), "policy");
  EXPECT_EQ(first.at("audit_entry").at("metadata").at("policy").at("workload_time_credit_eth_per_minute").as_string(),
            "0.000005353596");

  // The latest checkpoint: signed by the audit address over (seq, head(chain head, root)).
  auto cp_resp = get("/api/transparency/tee-core/audit/checkpoint");
  ASSERT_EQ(cp_resp.status, 200) << cp_resp.body;
  auto cp = parse_json(cp_resp.body);
  const auto cp_seq = static_cast<std::uint64_t>(cp.at("seq").as_int64());
  EXPECT_GE(cp_seq, 10u);
  const auto audit_address = chain::parse_address(cp.at("audit_address").as_string()).value();
  const Hash256 head = chain::audit::checkpoint_head(h(cp.at("chain_head_hash")), h(cp.at("merkle_root")));
  EXPECT_EQ(head, h(cp.at("head_hash")));
  const Hash256 message = chain::audit::checkpoint_message(audit_address, cp_seq, head,
                                                           static_cast<std::uint64_t>(cp.at("chain_id").as_int64()),
                                                           chain::parse_address(cp.at("contract_address").as_string()).value());
  EXPECT_EQ(message, h(cp.at("message_hash")));
  auto sig = chain::Signature::from_hex(cp.at("signature").as_string()).value();
  EXPECT_EQ(chain::recover_address(chain::eip191_hash32(message), sig).value(), audit_address);
  // Asked for another chain id and contract (the reference's query parameters): the same
  // statement (size, heads, root, time), signed for that binding.
  const std::string other_contract = "0x00000000000000000000000000000000000000aa";
  auto rebound_resp = get("/api/transparency/tee-core/audit/checkpoint?chain_id=1&contract_address=" + other_contract);
  ASSERT_EQ(rebound_resp.status, 200) << rebound_resp.body;
  auto rebound = parse_json(rebound_resp.body);
  EXPECT_EQ(rebound.at("chain_id").as_int64(), 1);
  EXPECT_EQ(rebound.at("contract_address").as_string(), other_contract);
  for (const char* same : {"seq", "head_hash", "chain_head_hash", "merkle_root", "timestamp", "audit_address"})
    EXPECT_EQ(rebound.at(same), cp.at(same)) << same;
  const Hash256 rebound_message =
      chain::audit::checkpoint_message(audit_address, cp_seq, head, 1, chain::parse_address(other_contract).value());
  EXPECT_EQ(h(rebound.at("message_hash")), rebound_message);
  EXPECT_EQ(chain::recover_address(chain::eip191_hash32(rebound_message),
                                   chain::Signature::from_hex(rebound.at("signature").as_string()).value())
                .value(),
            audit_address);
  // The configured binding asked for explicitly is the stored checkpoint, byte for byte.
  EXPECT_EQ(get("/api/transparency/tee-core/audit/checkpoint?chain_id=" + std::to_string(cp.at("chain_id").as_int64()) +
                "&contract_address=" + std::string(cp.at("contract_address").as_string()))
                .body,
            cp_resp.body);
  // An empty or blank contract is none given: the stored checkpoint.
  EXPECT_EQ(get("/api/transparency/tee-core/audit/checkpoint?contract_address=").body, cp_resp.body);
  EXPECT_EQ(get("/api/transparency/tee-core/audit/checkpoint?contract_address=%20%20").body, cp_resp.body);
  // A contract given with spaces around it is that contract.
  EXPECT_EQ(get("/api/transparency/tee-core/audit/checkpoint?contract_address=%20" + std::string(cp.at("contract_address").as_string()) +
                "%09")
                .body,
            cp_resp.body);
  for (const char* bad : {"chain_id=0", "chain_id=abc", "chain_id=-1", "contract_address=0x12", "contract_address=nope"})
    EXPECT_EQ(get(std::string("/api/transparency/tee-core/audit/checkpoint?") + bad).status, 422) << bad;
  // The reference's pattern in any case: mixed case that is not the EIP-55 checksum still names
  // its 20 bytes, and the checkpoint is the one asked for in lower case.
  const auto mixed = get("/api/transparency/tee-core/audit/checkpoint?contract_address=0x99F3ddf963C7F1987E096a0c7EcFA6960343d46e");
  EXPECT_EQ(mixed.status, 200) << mixed.body;
  EXPECT_EQ(parse_json(mixed.body).at("contract_address").as_string(), "0x99f3ddf963c7f1987e096a0c7ecfa6960343d46e") << mixed.body;

  // An inclusion proof for a credit, checked against the checkpoint's root.
  auto proof_resp = get("/api/transparency/tee-core/audit/proof?event_id=workload_time:w3");
  ASSERT_EQ(proof_resp.status, 200) << proof_resp.body;
  auto proof = parse_json(proof_resp.body);
  std::vector<Hash256> path;
  for (const auto& p : proof.at("proof").as_array()) path.push_back(h(p));
  EXPECT_EQ(proof.at("tree_size").as_int64(), static_cast<std::int64_t>(cp_seq));
  const Hash256 leaf = h(proof.at("audit_entry").at("entry_hash"));
  EXPECT_TRUE(chain::merkle::verify_inclusion(leaf, static_cast<std::uint64_t>(proof.at("leaf_index").as_int64()), cp_seq, path,
                                              h(proof.at("checkpoint").at("merkle_root"))));
  EXPECT_EQ(proof.at("audit_entry").at("kind").as_string(), "credit");
  EXPECT_EQ(proof.at("audit_entry").at("recipient").as_string(), address_of(2));
  // The members in the reference's order.
  std::vector<std::string> members;
  for (const auto& m : proof.as_object()) members.emplace_back(m.key());
  EXPECT_EQ(members, (std::vector<std::string>{"checkpoint", "audit_entry", "leaf_index", "tree_size", "proof"}));
  auto proof_other = parse_json(get("/api/transparency/tee-core/audit/proof?event_id=workload_time:w3&chain_id=1").body);
  EXPECT_EQ(proof_other.at("checkpoint").at("chain_id").as_int64(), 1);
  EXPECT_EQ(proof_other.at("checkpoint").at("merkle_root"), proof.at("checkpoint").at("merkle_root"));
  EXPECT_EQ(proof_other.at("proof"), proof.at("proof"));
  auto missing = get("/api/transparency/tee-core/audit/proof?event_id=nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(parse_json(missing.body).at("detail").as_string(), "Receipt not found");
  EXPECT_EQ(get("/api/transparency/tee-core/audit/proof?event_id=").status, 422);

  // Consistency between two checkpointed sizes, and to the current size.
  auto cons = parse_json(get("/api/transparency/tee-core/audit/consistency?first=5&second=14").body);
  std::vector<Hash256> cpath;
  for (const auto& p : cons.at("proof").as_array()) cpath.push_back(h(p));
  EXPECT_TRUE(chain::merkle::verify_consistency(5, 14, h(cons.at("first_root")), h(cons.at("second_root")), cpath));
  EXPECT_EQ(h(cons.at("second_root")), root);
  EXPECT_EQ(get("/api/transparency/tee-core/audit/consistency?first=9&second=3").status, 400);
  EXPECT_EQ(get("/api/transparency/tee-core/audit/consistency?first=1&second=99").status, 404);

  // Receipts and per-orchestrator listings are verbatim stored lines.
  auto receipt = get("/api/transparency/tee-core/receipt?event_id=adjustment:adj-1");
  ASSERT_EQ(receipt.status, 200) << receipt.body;
  EXPECT_EQ(parse_json(receipt.body).at("audit_entry").at("kind").as_string(), "adjustment");
  EXPECT_EQ(parse_json(receipt.body).at("audit_entry").at("delta_wei").as_string(), "-1000000000000");
  EXPECT_NE(file_text(audit_path()).find(receipt.body), std::string::npos);
  EXPECT_EQ(get("/api/transparency/tee-core/receipt?event_id=nope").status, 404);
  EXPECT_EQ(get("/api/transparency/tee-core/receipt").status, 422);
  // The receipt looks its event id up stripped, as the reference's does; the proof does not.
  EXPECT_EQ(get("/api/transparency/tee-core/receipt?event_id=%20adjustment:adj-1%09").body, receipt.body);
  EXPECT_EQ(get("/api/transparency/tee-core/receipt?event_id=%20").status, 404);
  EXPECT_EQ(get("/api/transparency/tee-core/audit/proof?event_id=%20workload_time:w3").status, 404);
  auto o2 = parse_json(get("/api/transparency/tee-core/log?orchestrator_id=o2&order=desc&limit=2").body);
  ASSERT_EQ(o2.at("entries").as_array().size(), 2u);
  EXPECT_EQ(o2.at("entries").as_array()[0].at("audit_entry").at("event_id").as_string(), "workload_time:w11");
  EXPECT_EQ(get("/api/transparency/tee-core/log?order=sideways").status, 422);
  // A Literal's error for any other text, however long; an address's pattern error likewise.
  for (const std::string& query : {std::string("/log?order=descending"), "/audit/checkpoint?contract_address=0x" + std::string(80, 'a')}) {
    const auto r = get("/api/transparency/tee-core" + query);
    ASSERT_EQ(r.status, 422) << query << ": " << r.body;
    EXPECT_EQ(parse_json(r.body).at("detail").at(0).at("type").as_string(),
              query.starts_with("/log") ? "literal_error" : "string_pattern_mismatch") << r.body;
  }
  // An empty orchestrator_id is no filter, as in the reference.
  EXPECT_EQ(get("/api/transparency/tee-core/log?orchestrator_id=&limit=5").body, get("/api/transparency/tee-core/log?limit=5").body);
  EXPECT_EQ(parse_json(get("/api/transparency/tee-core/log?orchestrator_id=&limit=5").body).at("entries").as_array().size(), 5u);
  // An id longer than any orchestrator's names none: an empty page, as the reference answers it.
  auto long_id = get("/api/transparency/tee-core/log?orchestrator_id=" + std::string(2000, 'a'));
  EXPECT_EQ(long_id.status, 200) << long_id.body;
  EXPECT_EQ(long_id.body, R"({"entries":[]})");
  EXPECT_GE(parse_json(get("/api/transparency/tee-core/audit/checkpoints").body).at("checkpoints").as_array().size(), 2u);
}

// The public answers carry exactly the fields the API description requires of them.
TEST_F(TransparencyTest, AnswersCarryExactlyTheFieldsTheDescriptionRequires) {
  start_node(env_);
  make_traffic(6, 5);
  const auto doc = parse_json(get("/openapi.json").body);
  const std::string base = "/api/transparency/tee-core";
  for (const std::string route : {"/audit/status", "/audit/checkpoint", "/audit/proof", "/audit/consistency", "/receipt"}) {
    const auto& schema =
        doc.at("paths").at(base + route).at("get").at("responses").at("200").at("content").at("application/json").at("schema");
    std::set<std::string> required, fields;
    for (const auto& f : schema.at("required").as_array()) required.insert(std::string(f.as_string()));
    const std::string query = route == "/audit/consistency" ? "?first=1&second=3"
                              : route == "/audit/proof" || route == "/receipt" ? "?event_id=workload_time:w0"
                                                                              : "";
    const auto r = get(base + route + query);
    ASSERT_EQ(r.status, 200) << route << ": " << r.body;
    const auto answer = parse_json(r.body);
    for (const auto& kv : answer.as_object()) fields.insert(std::string(kv.key()));
    EXPECT_EQ(fields, required) << route;
  }
}

TEST_F(TransparencyTest, TheLogIsRegeneratedFromTheJournalByteForByte) {
  start_node(env_);
  make_traffic(7);
  ASSERT_EQ(node_->terminate(), 0);
  const std::string original = file_text(audit_path());
  ASSERT_FALSE(original.empty());

  // Lost entirely (it is derived from the journal): regenerated identically.
  std::filesystem::remove(audit_path());
  start_node(env_);
  EXPECT_EQ(file_text(audit_path()), original);
  ASSERT_EQ(node_->terminate(), 0);

  // A torn last line is cut and the entry regenerated.
  std::filesystem::resize_file(audit_path(), original.size() - 10);
  start_node(env_);
  EXPECT_NE(node_->log().find("cut"), std::string::npos) << node_->log();
  EXPECT_EQ(file_text(audit_path()), original);
  const Hash256 root = verify_whole_log(9);
  ASSERT_EQ(node_->terminate(), 0);

  // A changed byte in the middle is tampering: start-up refuses and says where.
  std::string tampered = original;
  const auto pos = tampered.find("\"delta_wei\":\"") + 13;
  tampered[pos] = tampered[pos] == '1' ? '2' : '1';
  std::ofstream(audit_path(), std::ios::binary | std::ios::trunc) << tampered;
  NodeProcess refused(dir_.str() + "/data", env_);
  EXPECT_FALSE(refused.start(std::chrono::seconds(10)));
  EXPECT_NE(refused.log().find("entry 1"), std::string::npos) << refused.log();
  std::ofstream(audit_path(), std::ios::binary | std::ios::trunc) << original;
  start_node(env_);
  EXPECT_EQ(verify_whole_log(9), root);  // the same policy is not recorded twice
  // A changed policy is recorded once more.
  ASSERT_EQ(node_->terminate(), 0);
  auto changed = env_;
  changed["PAYMENTS_WORKLOAD_TIME_CREDIT_ETH_PER_MINUTE"] = "0.00001";
  start_node(changed);
  verify_whole_log(10);
}

TEST_F(TransparencyTest, RestartsFromTheIndexAndCatchesDamageItCovers) {
  start_node(env_);
  make_traffic(7);
  ASSERT_EQ(node_->terminate(), 0);
  const std::string original = file_text(audit_path());

  // A clean restart takes every entry from audit.index, then re-checks them in the background.
  start_node(env_);
  for (int i = 0; i < 500 && node_->log().find("re-checked") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_NE(node_->log().find("(9 from audit.index"), std::string::npos) << node_->log();
  EXPECT_NE(node_->log().find("9 entries loaded from audit.index re-checked"), std::string::npos) << node_->log();
  verify_whole_log(9);
  ASSERT_EQ(node_->terminate(), 0);

  // A byte changed inside an entry the index covers (not the first or last, which start-up
  // reads): the node starts from the index, the background check finds it and stops the node.
  std::string tampered = original;
  std::size_t line_start = 0;
  for (int i = 1; i < 5; ++i) line_start = tampered.find('\n', line_start) + 1;
  const auto pos = tampered.find("\"delta_wei\":\"", line_start) + 13;
  tampered[pos] = tampered[pos] == '1' ? '2' : '1';
  std::ofstream(audit_path(), std::ios::binary | std::ios::trunc) << tampered;
  NodeProcess damaged(dir_.str() + "/data", env_);
  if (damaged.start(std::chrono::seconds(10))) {  // it may already be gone by the time it serves
    EXPECT_EQ(damaged.wait_exit(std::chrono::seconds(10)), 70) << damaged.log();
  }
  EXPECT_NE(damaged.log().find("entry 5"), std::string::npos) << damaged.log();
  // It leaves a mark: the next start checks before it serves anything, and refuses.
  const std::string marker = dir_.str() + "/data/audit-check.failed";
  ASSERT_TRUE(std::filesystem::exists(marker));
  {
    NodeProcess again(dir_.str() + "/data", env_);
    EXPECT_FALSE(again.start(std::chrono::seconds(20)));
    const std::string log = again.log();
    EXPECT_NE(log.find("the last run stopped on damage"), std::string::npos) << log;
    EXPECT_NE(log.find("checking before serving"), std::string::npos) << log;
    EXPECT_NE(log.find("entry 5"), std::string::npos) << log;
    EXPECT_EQ(log.find("lpops serving"), std::string::npos) << log;
  }
  EXPECT_TRUE(std::filesystem::exists(marker));

  // Without the index, start-up itself reads every line and refuses.
  std::filesystem::remove(dir_.str() + "/data/audit.index");
  NodeProcess refused(dir_.str() + "/data", env_);
  EXPECT_FALSE(refused.start(std::chrono::seconds(10)));
  EXPECT_NE(refused.log().find("entry 5"), std::string::npos) << refused.log();

  // The original bytes back: it starts (and rebuilds the index), and the mark is gone.
  std::ofstream(audit_path(), std::ios::binary | std::ios::trunc) << original;
  start_node(env_);
  verify_whole_log(9);
  EXPECT_FALSE(std::filesystem::exists(marker));
}

// Entries past the last signed checkpoint are compared with the journal records they describe
// at start-up: an edited entry chained anew (its hash and every later link recomputed) is
// refused, not signed by the next checkpoint. Signed and unsigned entries both compare clean.
TEST_F(TransparencyTest, AnEditedEntryNoCheckpointCoversIsRefusedAtStartUp) {
  for (const bool signed_entries : {false, true}) {
    SCOPED_TRACE(signed_entries ? "signed entries" : "unsigned entries");
    auto env = env_;
    env["PAYMENTS_AUDIT_SIGN_ENTRIES"] = signed_entries ? "true" : "false";
    std::filesystem::remove_all(dir_.str() + "/data");
    start_node(env);
    // The checkpoint of the first 5 entries is awaited: a first checkpoint signed late (on a
    // loaded machine) would otherwise cover every entry and leave none unsigned.
    make_traffic(7, 5);
    ASSERT_EQ(node_->terminate(), 0);
    const std::string original = file_text(audit_path());
    std::vector<std::string> lines;
    for (std::istringstream in(original); std::getline(in, lines.emplace_back());) {}
    lines.pop_back();
    ASSERT_EQ(lines.size(), 9u);
    // A clean stop signs a checkpoint of every entry: the checkpoints past the first 5 entries
    // are dropped, as a crash before the next checkpoint leaves entries 6 to 9 (the last
    // credits, the adjustment) unsigned.
    const std::string cps_path = dir_.str() + "/data/checkpoints.jsonl";
    auto unsign_past_five = [&] {
      std::istringstream cps(file_text(cps_path));
      std::string kept;
      std::uint64_t covered = 0;
      for (std::string l; std::getline(cps, l);) {
        const auto seq = static_cast<std::uint64_t>(parse_json(l).at("seq").as_int64());
        if (seq > 5) continue;
        kept += l + "\n";
        covered = seq;
      }
      std::ofstream(cps_path, std::ios::binary | std::ios::trunc) << kept;
      return covered;
    };
    ASSERT_EQ(unsign_past_five(), 5u);

    // A clean restart compares the unsigned tail and starts, with the setting either way.
    auto other = env;
    other["PAYMENTS_AUDIT_SIGN_ENTRIES"] = signed_entries ? "false" : "true";
    start_node(other);
    ASSERT_EQ(node_->terminate(), 0);
    ASSERT_EQ(file_text(audit_path()), original);
    ASSERT_EQ(unsign_past_five(), 5u);

    // Entry 8 credited ten times as much, its hash and entry 9's link recomputed.
    Hash256 prev = h(parse_json(lines[6]).at("audit_entry").at("entry_hash"));
    for (std::size_t i = 7; i < lines.size(); ++i) {
      auto wrapper = parse_json(lines[i]).as_object();
      json::object entry = wrapper.at("audit_entry").as_object();
      if (i == 7) {
        std::string delta(entry.at("delta_wei").as_string());
        entry["delta_wei"] = delta + "0";
      }
      entry["prev_hash"] = chain::to_hex(prev);
      entry.erase("entry_hash");
      entry.erase("signer");
      entry.erase("signature");
      prev = chain::audit::entry_hash(entry);
      entry["entry_hash"] = chain::to_hex(prev);
      wrapper["audit_entry"] = entry;
      lines[i] = canonical_json(wrapper);
    }
    std::string edited;
    for (const auto& l : lines) edited += l + "\n";
    std::ofstream(audit_path(), std::ios::binary | std::ios::trunc) << edited;
    std::filesystem::remove(dir_.str() + "/data/audit.index");  // as its lines were rewritten
    NodeProcess refused(dir_.str() + "/data", env);
    EXPECT_FALSE(refused.start(std::chrono::seconds(10)));
    EXPECT_NE(refused.log().find("audit log: entry 8 differs from journal record 10"), std::string::npos) << refused.log();
    EXPECT_EQ(file_text(dir_.str() + "/data/checkpoints.jsonl").find("\"seq\":8"), std::string::npos);

    // The remedy the message gives: the log moved aside is rebuilt, byte for byte.
    std::filesystem::remove(audit_path());
    std::filesystem::remove(dir_.str() + "/data/audit.orchestrators");
    start_node(env);
    EXPECT_EQ(file_text(audit_path()), original);
    ASSERT_EQ(node_->terminate(), 0);
  }
}

// audit.index holds each entry's hash, from which the tree a checkpoint signs is built: an
// index record whose hash was replaced (its checksum, no secret, recomputed) for an entry no
// checkpoint covers yet is refused at start-up, before any checkpoint could sign the false
// leaf; the index moved aside, as the message says, is rebuilt from the log.
TEST_F(TransparencyTest, AForgedIndexHashNoCheckpointCoversIsRefusedAtStartUp) {
  // A log signed but for its last few entries.
  start_node(env_);
  make_traffic(600);
  ASSERT_EQ(node_->terminate(), 0);
  const std::uint64_t total = 602;  // the policy, 600 credits, the adjustment
  const std::uint64_t forged = total - 2;
  const std::string cps_path = dir_.str() + "/data/checkpoints.jsonl";
  std::uint64_t newest = 0;
  {
    std::istringstream cps(file_text(cps_path));
    std::string kept;
    for (std::string l; std::getline(cps, l);) {
      const auto seq = static_cast<std::uint64_t>(parse_json(l).at("seq").as_int64());
      if (seq >= forged) continue;  // as a crash before the next checkpoint leaves them
      kept += l + "\n";
      newest = seq;
    }
    std::ofstream(cps_path, std::ios::binary | std::ios::trunc) << kept;
  }
  ASSERT_GT(newest, 0u);
  // audit.index: 64 bytes a record, the entry hash first, a checksum of the 56 bytes before it
  // last (the mix audit_log.cpp uses).
  const std::string index_path = dir_.str() + "/data/audit.index";
  std::string index = file_text(index_path);
  ASSERT_EQ(index.size(), total * 64);
  char* record = index.data() + (forged - 1) * 64;
  record[0] = static_cast<char>(record[0] ^ 0x5a);
  std::uint64_t check = 0x6c706f7073696478ULL;
  for (int i = 0; i < 7; ++i) {
    std::uint64_t w;
    std::memcpy(&w, record + 8 * i, 8);
    check = (check ^ w) * 0x9e3779b97f4a7c15ULL;
    check ^= check >> 29;
  }
  std::memcpy(record + 56, &check, 8);
  std::ofstream(index_path, std::ios::binary | std::ios::trunc) << index;
  // The background check of the log (which would find it too) made to read slowly, so that
  // start-up reaches its signing first, as with a log of millions of entries.
  auto slow = env_;
  std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
  slow["ASAN_OPTIONS"] = asan + (asan.empty() ? "" : ":") + "verify_asan_link_order=0";
  slow["LD_PRELOAD"] = LPOPS_SYNC_FAULTS;
  slow["LPOPS_FAULT_SLOW_BIG_READS"] = "/audit.jsonl";
  NodeProcess refused(dir_.str() + "/data", slow);
  EXPECT_FALSE(refused.start(std::chrono::seconds(30)));
  const std::string log = refused.log();
  EXPECT_NE(log.find("audit.index holds another hash for entry " + std::to_string(forged) + " than its line in audit.jsonl"),
            std::string::npos)
      << log;
  // No checkpoint signed the false leaf.
  std::istringstream cps(file_text(cps_path));
  for (std::string l; std::getline(cps, l);) EXPECT_LT(static_cast<std::uint64_t>(parse_json(l).at("seq").as_int64()), forged) << l;
  // The remedy the message gives.
  std::filesystem::remove(index_path);
  std::filesystem::remove(dir_.str() + "/data/audit.orchestrators");
  start_node(env_);
  verify_whole_log(total);
  ASSERT_EQ(node_->terminate(), 0);
}

// The journal is hash-linked but signed by no one: a journal rewritten with its links
// recomputed (a credit raised, every later balance with it) replays cleanly. Its balances
// then differ from what the signed audit log states, and start-up refuses to serve them.
TEST_F(TransparencyTest, AJournalRewrittenWithItsLinksRecomputedIsRefusedAtStartUp) {
  auto env = env_;
  env["PAYMENTS_AUDIT_CHECKPOINT_INTERVAL_SECONDS"] = "1";
  start_node(env);
  make_traffic(7, 5);
  // The newest entry is o2's, which the forgery below leaves as it is: the newest entry is
  // compared with its journal record at every start, so only the balances can tell.
  ASSERT_EQ(post("/api/workloads/time", json::object{{"workload_id", "last"}, {"orchestrator_id", "o2"},
                                                     {"artifact_hash", "h"}, {"duration_ms", 60000}})
                .status,
            200);
  wait_for_checkpoint(10);  // every entry signed: only the newest is compared with the journal at start-up
  ASSERT_EQ(node_->terminate(), 0);
  const std::string journal_path = dir_.str() + "/data/journal.jsonl";
  const std::string original = file_text(journal_path);
  std::vector<std::string> lines;
  for (std::istringstream in(original.substr(0, original.find('\0'))); std::getline(in, lines.emplace_back());) {}
  lines.pop_back();
  // o1's first credit raised by 1000 wei; o1's later balances with it; every link recomputed.
  bool raised = false;
  Digest32 prev{};
  for (auto& line : lines) {
    auto record = storage::parse_record(line);
    ASSERT_TRUE(record) << record.error();
    json::object effect = record->effect;
    if (auto it = effect.find("entry"); it != effect.end() && it->value().at("orchestrator_id").as_string() == "o1") {
      auto& entry = it->value().as_object();
      auto bump = [](json::value& v) { v = std::to_string(std::stoull(std::string(v.as_string())) + 1000); };
      if (!raised && effect.at("type").as_string() == "workload") {
        bump(entry["delta_wei"]);
        bump(effect["workload"].as_object()["payout_amount_wei"]);
        raised = true;
      }
      if (raised) bump(entry["balance_wei"]);
    }
    auto framed = storage::frame_record(record->seq, prev, effect);
    prev = framed.hash;
    line = framed.line.substr(0, framed.line.size() - 1);
  }
  ASSERT_TRUE(raised);
  std::string forged;
  for (const auto& l : lines) forged += l + "\n";
  std::ofstream(journal_path, std::ios::binary | std::ios::trunc) << forged;
  std::filesystem::remove(dir_.str() + "/data/snapshot.json");  // the whole journal is replayed
  {
    NodeProcess refused(dir_.str() + "/data", env);
    EXPECT_FALSE(refused.start(std::chrono::seconds(10)));
    EXPECT_NE(refused.log().find("is not the one the node stopped cleanly at"), std::string::npos) << refused.log();
  }
  // A forger removes the clean stop's mark too: the audit log still shows the change.
  std::filesystem::remove(dir_.str() + "/data/clean-stop.json");
  {
    NodeProcess refused(dir_.str() + "/data", env);
    EXPECT_FALSE(refused.start(std::chrono::seconds(10)));
    EXPECT_NE(refused.log().find("the balance of o1 recovered from the journal is"), std::string::npos) << refused.log();
  }
  // The real journal back: the node starts, with the balances the log states.
  std::ofstream(journal_path, std::ios::binary | std::ios::trunc) << original;
  start_node(env);
  EXPECT_NE(node_->log().find("balances recovered match their newest audit entries"), std::string::npos) << node_->log();
}

// Query handling of the public routes: the first checkpoint exists as soon as the log has an
// entry; the longest event ids the node writes can be looked up; one error per bad field; the
// receipt takes event_id alone; checkpoints page back with before_seq.
TEST_F(TransparencyTest, PublicRoutesAnswerForEveryEntryAndPageBack) {
  start_node(env_);
  wait_for_checkpoint(1);  // the policy entry, signed without waiting for a step of 5
  register_orchestrator("o1", address_of(1));
  const std::string long_id(255, 'w');
  ASSERT_EQ(post("/api/workloads/time", json::object{{"workload_id", long_id}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"duration_ms", 60000}}).status,
            200);
  for (int i = 0; i < 11; ++i)
    ASSERT_EQ(post("/api/workloads/time", json::object{{"workload_id", "p" + std::to_string(i)}, {"orchestrator_id", "o1"},
                                                      {"artifact_hash", "h"}, {"duration_ms", 60000}})
                  .status,
              200);
  wait_for_checkpoint(10);
  auto receipt = get("/api/transparency/tee-core/receipt?event_id=workload_time:" + long_id);
  ASSERT_EQ(receipt.status, 200) << receipt.body;
  EXPECT_EQ(get("/api/transparency/tee-core/audit/proof?event_id=workload_time:" + long_id).status, 200);
  EXPECT_EQ(get("/api/transparency/tee-core/receipt?event_id=workload_time:" + long_id + "&chain_id=0").status, 200);
  EXPECT_EQ(get("/api/transparency/tee-core/audit/proof?event_id=workload_time:" + long_id + "&chain_id=0").status, 422);
  auto bad = parse_json(get("/api/transparency/tee-core/audit/consistency?first=-1&second=3").body);
  ASSERT_EQ(bad.at("detail").as_array().size(), 1u) << bad;
  EXPECT_EQ(bad.at("detail").as_array()[0].at("type").as_string(), "greater_than_equal");
  auto missing = parse_json(get("/api/transparency/tee-core/audit/consistency?second=3").body);
  EXPECT_EQ(missing.at("detail").as_array()[0].at("type").as_string(), "missing");
  auto too_long = parse_json(get("/api/transparency/tee-core/receipt?event_id=" + std::string(1025, 'x')).body);
  ASSERT_EQ(too_long.at("detail").as_array().size(), 1u) << too_long;
  EXPECT_EQ(too_long.at("detail").as_array()[0].at("type").as_string(), "string_too_long");
  // Paging back through the checkpoints: newest first, each page below the last seq seen.
  auto all = parse_json(get("/api/transparency/tee-core/audit/checkpoints?limit=1000").body).at("checkpoints").as_array();
  ASSERT_GE(all.size(), 2u);
  std::vector<std::int64_t> paged;
  std::string before;
  for (int guard = 0; guard < 100; ++guard) {
    auto page = parse_json(get("/api/transparency/tee-core/audit/checkpoints?limit=1" + before).body).at("checkpoints").as_array();
    if (page.empty()) break;
    paged.push_back(page[0].at("seq").as_int64());
    before = "&before_seq=" + std::to_string(paged.back());
  }
  ASSERT_EQ(paged.size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(paged[i], all[i].at("seq").as_int64());
  EXPECT_EQ(get("/api/transparency/tee-core/audit/checkpoints?before_seq=0").status, 422);
  // Positions past the int64 range compare as the reference's Python integers do: past the end.
  const std::string huge = "184467440737095516160000";
  auto past = parse_json(get("/api/transparency/tee-core/audit/checkpoints?limit=1000&before_seq=" + huge).body);
  EXPECT_EQ(past.at("checkpoints").as_array().size(), all.size()) << past;
  auto empty = get("/api/transparency/tee-core/log?since_seq=" + huge);
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_TRUE(parse_json(empty.body).at("entries").as_array().empty()) << empty.body;
  EXPECT_EQ(get("/api/transparency/tee-core/audit/consistency?first=1&second=" + huge).status, 404);
  EXPECT_EQ(get("/api/transparency/tee-core/audit/checkpoints?before_seq=-" + huge).status, 422);
  EXPECT_EQ(get("/api/transparency/tee-core/audit/checkpoint?chain_id=" + huge).status, 422);
}

TEST_F(TransparencyTest, TheAuditKeyIsDerivedFromThePayoutKeystore) {
  const std::string keystore = dir_.str() + "/keystore.json";
  std::ofstream(keystore) << R"({"crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"6087dab2f9fdbbfaddc31a909735c1e6"},)"
                             R"("ciphertext":"5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46","kdf":"pbkdf2",)"
                             R"("kdfparams":{"c":262144,"dklen":32,"prf":"hmac-sha256","salt":"ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"},)"
                             R"("mac":"517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"},"id":"3198bc9c-6672-5ab3-d995-4942343ae5b6","version":3})";
  const auto payout = chain::PrivateKey::from_hex("0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d").value();
  const auto expected = chain::to_lower_hex(chain::audit::derive_audit_key(payout).address());
  start_node({{"PAYMENT_KEYSTORE_PATH", keystore}, {"PAYMENT_KEYSTORE_PASSWORD", "testpassword"}});
  EXPECT_EQ(parse_json(get("/api/transparency/tee-core/audit/status").body).at("audit_address").as_string(), expected);
  EXPECT_FALSE(std::filesystem::exists(dir_.str() + "/data/audit.key"));
  // A relative PAYMENT_KEYSTORE_PATH is under the data directory, as the reference's paths are.
  ASSERT_EQ(node_->terminate(), 0);
  std::filesystem::copy_file(keystore, dir_.str() + "/data/payout-keystore.json");
  start_node({{"PAYMENT_KEYSTORE_PATH", "payout-keystore.json"}, {"PAYMENT_KEYSTORE_PASSWORD", "testpassword"}});
  EXPECT_EQ(parse_json(get("/api/transparency/tee-core/audit/status").body).at("audit_address").as_string(), expected);
  // A wrong password stops start-up (status 2, naming the setting): going on would sign with
  // another audit key, which every verifier pinned to this one refuses.
  ASSERT_EQ(node_->terminate(), 0);
  auto wrong = run_command({lpops_binary(), "serve", "--data-dir", dir_.str() + "/data", "--host", "127.0.0.1", "--port", "0"},
                           {{"PAYMENT_KEYSTORE_PATH", keystore}, {"PAYMENT_KEYSTORE_PASSWORD", "wrong"}}, std::chrono::seconds(60));
  EXPECT_EQ(wrong.exit_code, 2) << wrong.output;
  EXPECT_NE(wrong.output.find("PAYMENT_KEYSTORE_PATH"), std::string::npos) << wrong.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.str() + "/data/audit.key"));
}

// A key file gone from a directory whose log is signed (a backup restored without it) stops
// start-up instead of a new identity being made unasked; a key made on purpose is taken, and
// the change is said.
TEST_F(TransparencyTest, AMissingAuditKeyBesideSignedCheckpointsStopsStartup) {
  start_node(env_);
  const std::string first(parse_json(get("/api/transparency/tee-core/audit/status").body).at("audit_address").as_string());
  ASSERT_EQ(node_->terminate(), 0) << node_->log();
  ASSERT_GT(std::filesystem::file_size(dir_.str() + "/data/checkpoints.jsonl"), 0u);
  const std::string key = dir_.str() + "/data/audit.key";
  ASSERT_TRUE(std::filesystem::remove(key));
  auto refused = run_command({lpops_binary(), "serve", "--data-dir", dir_.str() + "/data", "--host", "127.0.0.1", "--port", "0"},
                             {}, std::chrono::seconds(60));
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("the audit key " + key + " is missing"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("lpops keygen --key-file " + key), std::string::npos) << refused.output;
  EXPECT_FALSE(std::filesystem::exists(key)) << "a key was made anyway";
  EXPECT_EQ(refused.output.find("listening on"), std::string::npos) << refused.output;

  ASSERT_NO_FATAL_FAILURE(make_key_file(key));
  start_node(env_);
  const std::string second(parse_json(get("/api/transparency/tee-core/audit/status").body).at("audit_address").as_string());
  EXPECT_NE(second, first);
  EXPECT_NE(node_->log().find("the audit key changed"), std::string::npos) << node_->log();
}

// A damaged checkpoints file stops start-up with what to do; moved aside as advised, the node
// starts and signs a checkpoint of the whole log.
TEST_F(TransparencyTest, ADamagedCheckpointsFileSaysWhatToDo) {
  start_node(env_);
  make_traffic(3, 5);
  const auto entries = parse_json(get("/api/transparency/tee-core/audit/status").body).at("audit_seq");
  ASSERT_EQ(node_->terminate(), 0) << node_->log();
  const std::string path = dir_.str() + "/data/checkpoints.jsonl";
  auto lines = read_lines(path);
  ASSERT_GE(lines.size(), 2u);
  const auto at = lines[0].find("\"audit_address\"");
  ASSERT_NE(at, std::string::npos);
  lines[0].replace(at, 15, "\"auditXaddress\"");
  {
    std::ofstream out(path, std::ios::trunc);
    for (const auto& l : lines) out << l << "\n";
  }
  // A port file an earlier run left (here one killed) names a port nothing serves on: removed
  // once the directory is this start's, so that nobody takes the refused start for ready.
  const std::string port_file = dir_.str() + "/port";
  std::ofstream(port_file) << "12345\n";
  auto refused = run_command({lpops_binary(), "serve", "--data-dir", dir_.str() + "/data", "--host", "127.0.0.1", "--port", "0",
                              "--port-file", port_file},
                             {}, std::chrono::seconds(60));
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("Restore checkpoints.jsonl from a backup; failing that, move it aside"), std::string::npos)
      << refused.output;
  EXPECT_FALSE(std::filesystem::exists(port_file));
  std::filesystem::rename(path, dir_.str() + "/checkpoints.damaged");
  start_node(env_);
  const auto status = parse_json(get("/api/transparency/tee-core/audit/checkpoint").body);
  EXPECT_EQ(status.at("seq"), entries) << status;
}

TEST_F(TransparencyTest, PublicRoutesAreRateLimitedPerIp) {
  // Clients told apart by X-Forwarded-For from a trusted proxy (the test's own address).
  start_node({{"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "1000"}, {"PAYMENTS_TRUSTED_PROXY_CIDRS", "127.0.0.1/32"}});
  const auto status_as = [&](const std::string& client) {
    return get("/api/transparency/tee-core/audit/status", {{"X-Forwarded-For", client}});
  };
  int limited = 0;
  for (int i = 0; i < 25; ++i) {
    auto r = status_as("198.51.100.7");
    if (r.status != 429) continue;
    ++limited;
    EXPECT_EQ(parse_json(r.body).at("detail").as_string(), "Rate limited");  // the reference's text
  }
  EXPECT_EQ(limited, 5);  // 20 per 10 s
  // Another client is not held back by the first one's use.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(status_as("198.51.100.8").status, 200) << i;
  EXPECT_EQ(status_as("198.51.100.8").status, 429);
  EXPECT_EQ(status_as("198.51.100.7").status, 429);
}

// Without a trusted proxy, X-Forwarded-For is the client's own say: a client that changes it
// on each request is still one client.
TEST_F(TransparencyTest, AForgedForwardedForDoesNotEscapeThePublicRateLimit) {
  start_node({{"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "1000"}});
  int limited = 0;
  for (int i = 0; i < 25; ++i)
    if (get("/api/transparency/tee-core/audit/status", {{"X-Forwarded-For", "198.51.100." + std::to_string(i)}}).status == 429)
      ++limited;
  EXPECT_EQ(limited, 5);
}

}  // namespace
}  // namespace lpops::testing
