// Orchestrator credentials end to end: the OrchestratorCredential contract on anvil, a
// started `lpops serve` checking it over JSON-RPC, signatures made by the delegate's key,
// and the routes the token opens (/me, /me/stats, /bootstrap, ledger-entry, ledger-proof).
#include <gtest/gtest.h>

#include <cctype>
#include <thread>

#include <boost/json.hpp>

#include <ctime>

#include "chain/abi.hpp"
#include "chain/credential.hpp"
#include "chain/hex.hpp"
#include "chain/keys.hpp"
#include "chain/merkle.hpp"
#include "chain/signature.hpp"
#include "tests/anvil/deploy.hpp"
#include "tests/support/anvil_process.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/openapi_check.hpp"
#include "tests/support/temp_dir.hpp"

namespace lpops::testing {
namespace {

namespace json = boost::json;
using namespace lpops::chain;

const char* kAdmin = "admin-secret";

PrivateKey key_of(std::uint8_t fill) {
  std::array<std::uint8_t, 32> b;
  b.fill(fill);
  return PrivateKey::from_bytes(b).value();
}

abi::Bytes call_data(const char* signature, std::vector<abi::Value> args) {
  return abi::Function::parse(signature).value().encode_call(args).value();
}

json::value body_of(const HttpResult& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  return ec ? json::value(r.body) : v;
}

std::string detail(const HttpResult& r) {
  auto v = body_of(r);
  return v.is_object() && v.as_object().contains("detail") && v.at("detail").is_string() ? std::string(v.at("detail").as_string())
                                                                                       : r.body;
}

struct Nonce {
  std::string nonce;
  std::int64_t expires_at = 0;
};

// A node with the credential contract configured; "o1" is registered at anvil's funded
// account, which holds a credential naming `delegate`; "o2" at an address without one.
class CredentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(anvil.start()) << anvil.log();
    contract = deploy_contract(anvil.url(), "OrchestratorCredential.sol", "OrchestratorCredential");
    ASSERT_NE(contract, Address{});
    ASSERT_TRUE(send_transaction(anvil.url(), owner, contract,
                                 call_data("mint(address,address)", {abi::Value::address(owner.address()),
                                                                     abi::Value::address(delegate.address())})));
    start_node();
  }

  void start_node(std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> env{
            {"PAYMENTS_ORCHESTRATOR_CREDENTIAL_CONTRACT_ADDRESS", to_checksummed(contract)},
            {"ETH_RPC_URL", anvil.url()},
            {"PAYMENTS_API_ADMIN_TOKEN", kAdmin},
            {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "100000"},
            {"PAYMENTS_PUBLIC_RATE_BURST", "100000"},
            {"PAYMENTS_EDGE_CONFIG_URL", "https://edge.example/config"},
            {"PAYMENTS_BOOTSTRAP_ORCHESTRATORS",
             "[{\"orchestrator_id\":\"o1\",\"address\":\"" + to_checksummed(owner.address()) +
                 "\"},{\"orchestrator_id\":\"o2\",\"address\":\"" + to_lower_hex(other_owner.address()) + "\"}]"}};
    env.merge(extra);
    node = std::make_unique<NodeProcess>(dir.str() + "/data", std::move(env));
    ASSERT_TRUE(node->start()) << node->log();
    http = std::make_unique<HttpClient>("127.0.0.1", node->port(), std::chrono::seconds(30));
  }

  Nonce nonce_for(const std::string& id) {
    auto r = http->request("POST", "/api/orchestrators/" + id + "/credential/nonce");
    EXPECT_EQ(r.status, 200) << r.body;
    auto v = body_of(r);
    if (r.status != 200) return {};
    return {std::string(v.at("nonce").as_string()), v.at("expires_at").as_int64()};
  }

  std::string sign(const PrivateKey& signer, const std::string& id, const Address& as_owner, const Address& as_delegate,
                   const Nonce& n) {
    const Hash256 h = credential::auth_hash(id, as_owner, as_delegate, hash32_from_hex(n.nonce).value(),
                                            static_cast<std::uint64_t>(n.expires_at));
    return sign_digest(signer, eip191_hash32(h)).to_hex();
  }

  HttpResult ask_token(const std::string& id, const Address& delegate_address, const Nonce& n, const std::string& signature) {
    return http->request("POST", "/api/orchestrators/" + id + "/credential/token",
                         json::serialize(json::object{{"delegate_address", to_checksummed(delegate_address)},
                                                      {"nonce", n.nonce},
                                                      {"expires_at", n.expires_at},
                                                      {"signature", signature}}));
  }

  // A token for o1 through the whole flow.
  std::string token_for_o1() {
    Nonce n = nonce_for("o1");
    auto r = ask_token("o1", delegate.address(), n, sign(delegate, "o1", owner.address(), delegate.address(), n));
    EXPECT_EQ(r.status, 200) << r.body << node->log();
    return r.status == 200 ? std::string(body_of(r).at("token").as_string()) : "";
  }

  HttpResult as_orchestrator(const std::string& token, const std::string& target) {
    return http->request("GET", target, "", {{"Authorization", "Bearer " + token}});
  }

  AnvilProcess anvil;
  TempDir dir;
  PrivateKey owner = PrivateKey::from_hex(AnvilProcess::kFundedKey).value();
  PrivateKey delegate = key_of(0x11);
  PrivateKey stranger = key_of(0x22);
  PrivateKey other_owner = key_of(0x33);
  Address contract{};
  std::unique_ptr<NodeProcess> node;
  std::unique_ptr<HttpClient> http;
};

TEST_F(CredentialTest, TokenFlowOpensTheOrchestratorRoutesAndSurvivesRestart) {
  auto ready = body_of(http->request("GET", "/readyz"));
  EXPECT_EQ(std::string(ready.at("orchestrator_credentials").as_string()).rfind("enabled", 0), 0u) << ready;
  Nonce n = nonce_for("o1");
  ASSERT_EQ(n.nonce.size(), 66u);
  const std::int64_t now = std::time(nullptr);
  EXPECT_GE(n.expires_at, now + 299);
  EXPECT_LE(n.expires_at, now + 301);
  auto nonce_body = body_of(http->request("POST", "/api/orchestrators/o1/credential/nonce"));
  EXPECT_EQ(nonce_body.at("owner_address").as_string(), to_lower_hex(owner.address()));
  EXPECT_EQ(nonce_body.at("contract_address").as_string(), to_checksummed(contract));  // as configured
  // Every answer of the flow carries exactly what /openapi.json requires of it.
  const auto doc = body_of(http->request("GET", "/openapi.json"));
  const std::string routes = "/api/orchestrators/{orchestrator_id}/credential";
  EXPECT_EQ(schema_mismatch(nonce_body, answer_schema(doc, routes + "/nonce", "post")), "");

  auto r = ask_token("o1", delegate.address(), n, sign(delegate, "o1", owner.address(), delegate.address(), n));
  ASSERT_EQ(r.status, 200) << r.body << node->log();
  auto issued = body_of(r);
  const std::string token(issued.at("token").as_string());
  EXPECT_EQ(token.size(), 43u);
  EXPECT_EQ(issued.at("token_id").as_string().size(), 32u);
  EXPECT_EQ(issued.at("expires_at").as_string().back(), 'Z');
  EXPECT_EQ(schema_mismatch(issued, answer_schema(doc, routes + "/token", "post")), "");
  // The nonce is spent.
  auto again = ask_token("o1", delegate.address(), n, sign(delegate, "o1", owner.address(), delegate.address(), n));
  EXPECT_EQ(again.status, 401);
  EXPECT_EQ(detail(again), "Invalid credential nonce");

  auto me = as_orchestrator(token, "/api/orchestrators/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(body_of(me).at("orchestrator_id").as_string(), "o1");
  auto via_header = http->request("GET", "/api/orchestrators/me", "", {{"X-Orchestrator-Token", token}});
  EXPECT_EQ(via_header.status, 200);
  auto lower_scheme = http->request("GET", "/api/orchestrators/me", "", {{"Authorization", "bearer " + token}});
  EXPECT_EQ(lower_scheme.status, 200);
  auto stats = as_orchestrator(token, "/api/orchestrators/me/stats?days=7");
  ASSERT_EQ(stats.status, 200) << stats.body;
  EXPECT_EQ(body_of(stats).at("daily").as_array().size(), 7u);
  auto boot = body_of(as_orchestrator(token, "/api/orchestrators/bootstrap"));
  EXPECT_EQ(boot.at("orchestrator_id").as_string(), "o1");
  EXPECT_EQ(boot.at("edge_config_url").as_string(), "https://edge.example/config");
  EXPECT_TRUE(boot.at("edge_config_token").is_null());
  EXPECT_EQ(schema_mismatch(boot, answer_schema(doc, "/api/orchestrators/bootstrap", "get")), "");
  EXPECT_EQ(as_orchestrator(token + "x", "/api/orchestrators/me").status, 401);
  // Auth before validation, as the reference: a bad token is 401 whatever the query; a good
  // one with a bad query is 422.
  EXPECT_EQ(as_orchestrator(token + "x", "/api/orchestrators/me/stats?days=0").status, 401);
  // An operator's token does not open an orchestrator's own route: a bad orchestrator token
  // beside it is still 401 before the query is read.
  EXPECT_EQ(http->request("GET", "/api/orchestrators/me/stats?days=0", "",
                          {{"Authorization", "Bearer " + token + "x"}, {"X-Admin-Token", kAdmin}})
                .status,
            401);
  EXPECT_EQ(as_orchestrator(token + "x", "/api/transparency/tee-core/ledger-entry?orchestrator_id=").status, 401);
  EXPECT_EQ(as_orchestrator(token, "/api/orchestrators/me/stats?days=0").status, 422);
  EXPECT_EQ(as_orchestrator(token, "/api/transparency/tee-core/ledger-entry?orchestrator_id=").status, 422);
  EXPECT_EQ(http->request("GET", "/api/orchestrators/me").status, 401);

  // Before any credit: a zero balance. Then credit o1 and prove its new balance.
  auto before = body_of(as_orchestrator(token, "/api/transparency/tee-core/ledger-entry?orchestrator_id=o1"));
  EXPECT_EQ(before.at("entry").at("balance_wei").as_string(), "0") << before;
  auto credit = http->request("POST", "/api/workloads", R"({"workload_id":"w1","orchestrator_id":"o1","payout_amount_eth":"0.25","artifact_hash":"h1"})",
                              {{"X-Admin-Token", kAdmin}});
  ASSERT_EQ(credit.status, 200) << credit.body;
  ASSERT_EQ(http->request("PATCH", "/api/workloads/w1", R"({"status":"verified"})", {{"X-Admin-Token", kAdmin}}).status, 200);
  auto proof = as_orchestrator(token, "/api/transparency/tee-core/ledger-proof?orchestrator_id=o1");
  ASSERT_EQ(proof.status, 200) << proof.body;
  auto p = body_of(proof).as_object();
  const auto& leaf_schema = answer_schema(doc, "/api/transparency/tee-core/ledger-proof", "get");
  EXPECT_EQ(schema_mismatch(p, leaf_schema), "");
  EXPECT_EQ(schema_mismatch(p.at("entry"), leaf_schema.at("properties").at("entry")), "");
  const auto& entry = p.at("entry").as_object();
  EXPECT_EQ(entry.at("balance_wei").as_string(), "250000000000000000");
  EXPECT_EQ(entry.at("balance_eth").as_string(), "0.25");
  EXPECT_EQ(entry.at("recipient").as_string(), to_lower_hex(owner.address()));
  EXPECT_EQ(p.at("tree_size").as_int64(), 2);
  const Hash256 leaf = credential::ledger_leaf_hash(keccak256("o1"), owner.address(), SignedWei{false, Wei(250'000'000'000'000'000ull)});
  EXPECT_EQ(entry.at("leaf_hash").as_string(), to_hex(leaf));
  EXPECT_EQ(entry.at("orch_hash").as_string(), to_hex(keccak256("o1")));
  std::vector<Hash256> path;
  for (const auto& h : p.at("proof").as_array()) path.push_back(hash32_from_hex(h.as_string()).value());
  const Hash256 root = hash32_from_hex(p.at("ledger_root").as_string()).value();
  EXPECT_TRUE(merkle::verify_inclusion(leaf, static_cast<std::uint64_t>(p.at("leaf_index").as_int64()), 2, path, root));
  Hash256 wrong = leaf;
  wrong[0] ^= 1;
  EXPECT_FALSE(merkle::verify_inclusion(wrong, static_cast<std::uint64_t>(p.at("leaf_index").as_int64()), 2, path, root));
  // ledger-entry is the same without the proof; the token's own id is the default.
  auto own = body_of(as_orchestrator(token, "/api/transparency/tee-core/ledger-entry")).as_object();
  EXPECT_EQ(own.at("entry").at("orchestrator_id").as_string(), "o1");
  EXPECT_FALSE(own.contains("proof"));
  EXPECT_EQ(schema_mismatch(own, answer_schema(doc, "/api/transparency/tee-core/ledger-entry", "get")), "");
  EXPECT_EQ(own.at("ledger_root"), p.at("ledger_root"));

  // The reference let any token read any id; here only an operator may.
  auto foreign = as_orchestrator(token, "/api/transparency/tee-core/ledger-entry?orchestrator_id=o2");
  EXPECT_EQ(foreign.status, 403) << foreign.body;
  auto by_operator = http->request("GET", "/api/transparency/tee-core/ledger-entry?orchestrator_id=o2", "", {{"X-Admin-Token", kAdmin}});
  EXPECT_EQ(by_operator.status, 200) << by_operator.body;
  EXPECT_EQ(http->request("GET", "/api/transparency/tee-core/ledger-entry?orchestrator_id=o2").status, 401);
  auto unknown = http->request("GET", "/api/transparency/tee-core/ledger-entry?orchestrator_id=nobody", "", {{"X-Admin-Token", kAdmin}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(detail(unknown), "orchestrator not in ledger");

  // The token is durable: a restarted node still knows it.
  ASSERT_EQ(node->terminate(), 0) << node->log();
  start_node();
  EXPECT_EQ(as_orchestrator(token, "/api/orchestrators/me").status, 200);

  // Revocation ends it.
  auto revoked = http->request("DELETE", "/api/orchestrators/o1/credential/tokens", "", {{"X-Admin-Token", kAdmin}});
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(body_of(revoked).at("revoked").as_int64(), 1);
  EXPECT_EQ(schema_mismatch(body_of(revoked), answer_schema(doc, routes + "/tokens", "delete")), "");
  EXPECT_EQ(as_orchestrator(token, "/api/orchestrators/me").status, 401);
  EXPECT_EQ(http->request("DELETE", "/api/orchestrators/o1/credential/tokens").status, 401);
  EXPECT_EQ(node->terminate(), 0) << node->log();
}

// Revoking counts the tokens that still worked; expired ones are dropped with them.
TEST_F(CredentialTest, RevokingCountsTheTokensThatStillWorked) {
  ASSERT_EQ(node->terminate(), 0) << node->log();
  start_node({{"PAYMENTS_ORCHESTRATOR_CREDENTIAL_TOKEN_TTL_SECONDS", "1"}});
  const auto revoke = [&] {
    auto r = http->request("DELETE", "/api/orchestrators/o1/credential/tokens", "", {{"X-Admin-Token", kAdmin}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? body_of(r).at("revoked").as_int64() : -1;
  };
  (void)token_for_o1();
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  EXPECT_EQ(revoke(), 0);  // expired: nothing that worked was revoked
  const std::string live = token_for_o1();
  EXPECT_EQ(revoke(), 1);
  EXPECT_EQ(as_orchestrator(live, "/api/orchestrators/me").status, 401);
  EXPECT_EQ(node->terminate(), 0) << node->log();
}

TEST_F(CredentialTest, RefusalsLeaveNothingIssued) {
  const Address d = delegate.address();
  Nonce n = nonce_for("o1");
  // expires_at outside [now, now + nonce TTL].
  Nonce past = n;
  past.expires_at = std::time(nullptr) - 5;
  auto r = ask_token("o1", d, past, sign(delegate, "o1", owner.address(), d, past));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(detail(r), "Credential expired");
  Nonce far = n;
  far.expires_at = std::time(nullptr) + 3600;
  EXPECT_EQ(detail(ask_token("o1", d, far, sign(delegate, "o1", owner.address(), d, far))), "Credential expired");
  // A signature by another key, or a malformed one: 401, and the nonce stays usable.
  r = ask_token("o1", d, n, sign(stranger, "o1", owner.address(), d, n));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(detail(r), "Invalid credential signature");
  r = ask_token("o1", d, n, "0x1234");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(detail(r), "Invalid credential signature");
  // A signature over another orchestrator id.
  EXPECT_EQ(detail(ask_token("o1", d, n, sign(delegate, "o2", owner.address(), d, n))), "Invalid credential signature");
  // A nonce issued for another orchestrator.
  Nonce n2 = nonce_for("o2");
  EXPECT_EQ(detail(ask_token("o1", d, n2, sign(delegate, "o1", owner.address(), d, n2))), "Invalid credential nonce");
  // An unknown nonce.
  Nonce made_up{"0x" + std::string(64, 'a'), n.expires_at};
  EXPECT_EQ(detail(ask_token("o1", d, made_up, sign(delegate, "o1", owner.address(), d, made_up))), "Invalid credential nonce");
  // A delegate the contract does not name, signing for itself: the signature is fine, the chain says no.
  r = ask_token("o1", stranger.address(), n, sign(stranger, "o1", owner.address(), stranger.address(), n));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(detail(r), "Credential not valid on-chain");
  // o2's address holds no credential.
  Nonce m = nonce_for("o2");
  r = ask_token("o2", other_owner.address(), m, sign(other_owner, "o2", other_owner.address(), other_owner.address(), m));
  EXPECT_EQ(r.status, 403);
  // The first nonce survived every refusal. The delegate in any case, as the reference takes it
  // (no EIP-55 checksum is checked): here with one letter's case turned.
  std::string any_case = to_checksummed(d);
  const auto letter = any_case.find_first_of("abcdefABCDEF", 2);
  ASSERT_NE(letter, std::string::npos);
  any_case[letter] = static_cast<char>(std::isupper(static_cast<unsigned char>(any_case[letter])) ? std::tolower(any_case[letter])
                                                                                                   : std::toupper(any_case[letter]));
  r = http->request("POST", "/api/orchestrators/o1/credential/token",
                    json::serialize(json::object{{"delegate_address", any_case},
                                                 {"nonce", n.nonce},
                                                 {"expires_at", n.expires_at},
                                                 {"signature", sign(delegate, "o1", owner.address(), d, n)}}));
  EXPECT_EQ(r.status, 200) << any_case << ": " << r.body;

  // Validation (422) and unknown orchestrators (404).
  auto post = [&](const std::string& id, const std::string& body) {
    return http->request("POST", "/api/orchestrators/" + id + "/credential/token", body);
  };
  const std::string good_nonce = "\"nonce\":\"" + std::string(64, 'b') + "\"";
  EXPECT_EQ(post("o1", R"({"delegate_address":"0x12",)" + good_nonce + R"(,"expires_at":1,"signature":"0x00"})").status, 422);
  EXPECT_EQ(post("o1", R"({"delegate_address":"0X1111111111111111111111111111111111111111",)" + good_nonce +
                           R"(,"expires_at":5,"signature":"0x00"})")
                .status,
            422);  // the reference's pattern wants a lower-case 0x
  EXPECT_EQ(post("o1", R"({"delegate_address":"0x1111111111111111111111111111111111111111","nonce":"0x12","expires_at":1,"signature":"0x00"})").status, 422);
  EXPECT_EQ(post("o1", R"({"delegate_address":"0x1111111111111111111111111111111111111111",)" + good_nonce + R"(,"expires_at":0,"signature":"0x00"})").status, 422);
  EXPECT_EQ(post("o1", R"({"delegate_address":"0x1111111111111111111111111111111111111111",)" + good_nonce + R"(,"expires_at":5,"signature":"abc"})").status, 422);
  EXPECT_EQ(post("o1", "not json").status, 422);
  // Each field is checked on its own and every error is listed, in the model's order, as
  // pydantic 2.13 lists them for the reference's model.
  auto all_bad = post("o1", R"({"delegate_address":"nope","nonce":"zz","expires_at":0,"signature":"abc"})");
  EXPECT_EQ(all_bad.status, 422);
  EXPECT_EQ(body_of(all_bad), json::parse(R"({"detail":[
      {"type":"string_pattern_mismatch","loc":["body","delegate_address"],"msg":"String should match pattern '^0x[a-fA-F0-9]{40}$'",
       "input":"nope","ctx":{"pattern":"^0x[a-fA-F0-9]{40}$"}},
      {"type":"value_error","loc":["body","nonce"],"msg":"Value error, nonce must be 32 bytes","input":"zz","ctx":{"error":{}}},
      {"type":"value_error","loc":["body","expires_at"],"msg":"Value error, expires_at must be a unix timestamp","input":0,
       "ctx":{"error":{}}},
      {"type":"value_error","loc":["body","signature"],"msg":"Value error, signature must be 0x hex","input":"abc","ctx":{"error":{}}}]})"));
  // A whole float past 64 bits is no integer to pydantic.
  auto too_big = post("o1", R"({"delegate_address":"0x1111111111111111111111111111111111111111",)" + good_nonce +
                                R"(,"expires_at":1e20,"signature":"0x00"})");
  EXPECT_EQ(too_big.status, 422);
  EXPECT_NE(too_big.body.find("int_parsing_size"), std::string::npos) << too_big.body;
  // What the model takes goes on to the checks, as in the reference: an integer past 64 bits
  // is a Python integer, outside the window (401 expired); 64 characters that are no hex
  // digits are no nonce of the node's (401 after the window). A boolean, which pydantic reads
  // as 1, is refused as for every integer field.
  const std::string d_text = to_checksummed(d);
  auto past_64_bits = post("o1", R"({"delegate_address":")" + d_text + R"(",)" + good_nonce +
                                     R"(,"expires_at":99999999999999999999999,"signature":"0x00"})");
  EXPECT_EQ(past_64_bits.status, 401) << past_64_bits.body;
  EXPECT_EQ(detail(past_64_bits), "Credential expired");
  EXPECT_EQ(post("o1", R"({"delegate_address":")" + d_text + R"(",)" + good_nonce + R"(,"expires_at":true,"signature":"0x00"})").status,
            422);
  auto not_hex = post("o1", R"({"delegate_address":")" + d_text + R"(","nonce":")" + std::string(64, 'g') +
                                R"(","expires_at":)" + std::to_string(n.expires_at) + R"(,"signature":"0x00"})");
  EXPECT_EQ(not_hex.status, 401) << not_hex.body;
  EXPECT_EQ(detail(not_hex), "Invalid credential nonce");
  // The nonce and the signature are read as the reference's str.strip() reads them: Unicode's
  // spaces and \v around them, the nonce in any case with 0X.
  {
    Nonce padded = nonce_for("o1");
    std::string upper = padded.nonce;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto r2 = http->request("POST", "/api/orchestrators/o1/credential/token",
                            json::serialize(json::object{{"delegate_address", d_text},
                                                         {"nonce", " " + upper + "\n"},
                                                         {"expires_at", padded.expires_at},
                                                         {"signature", "\v" + sign(delegate, "o1", owner.address(), d, padded) +
                                                                           "\xe3\x80\x80"}}));  // U+3000
    EXPECT_EQ(r2.status, 200) << r2.body;
  }
  // v in the chain-id form (35 + 2 × chain id + recovery id), as eth_account reads it.
  {
    Nonce chain_v = nonce_for("o1");
    std::string sig = sign(delegate, "o1", owner.address(), d, chain_v);
    const int v = std::stoi(sig.substr(130, 2), nullptr, 16);  // 27 or 28
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", 35 + 2 * 1 + (v - 27));  // chain id 1
    sig.replace(130, 2, hex);
    auto r2 = ask_token("o1", d, chain_v, sig);
    EXPECT_EQ(r2.status, 200) << sig << ": " << r2.body;
  }
  auto missing = http->request("POST", "/api/orchestrators/nobody/credential/nonce");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(detail(missing), "Orchestrator not found");

  // The contract changes: a new delegate works, a burnt credential does not.
  PrivateKey next = key_of(0x44);
  ASSERT_TRUE(send_transaction(anvil.url(), owner, contract,
                               call_data("updateDelegate(address,address)", {abi::Value::address(owner.address()),
                                                                              abi::Value::address(next.address())})));
  Nonce k = nonce_for("o1");
  EXPECT_EQ(ask_token("o1", d, k, sign(delegate, "o1", owner.address(), d, k)).status, 403);
  EXPECT_EQ(ask_token("o1", next.address(), k, sign(next, "o1", owner.address(), next.address(), k)).status, 200);
  ASSERT_TRUE(send_transaction(anvil.url(), owner, contract,
                               call_data("burn(uint256)", {abi::Value::uint(Wei(abi::Value::address(owner.address()).as_uint()))})));
  Nonce b = nonce_for("o1");
  EXPECT_EQ(ask_token("o1", next.address(), b, sign(next, "o1", owner.address(), next.address(), b)).status, 403);
  EXPECT_EQ(node->terminate(), 0) << node->log();
}

TEST(Credential, WithoutAContractTheRoutesAre503AndTokensUnknown) {
  TempDir dir;
  NodeProcess node(dir.str() + "/data",
                   {{"PAYMENTS_BOOTSTRAP_ORCHESTRATORS", R"([{"orchestrator_id":"o1","address":"0x1111111111111111111111111111111111111111"}])"}});
  ASSERT_TRUE(node.start()) << node.log();
  HttpClient c("127.0.0.1", node.port());
  auto r = c.request("POST", "/api/orchestrators/o1/credential/nonce");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(detail(r), "Credential contract not configured");
  EXPECT_EQ(c.request("POST", "/api/orchestrators/o1/credential/token", "{}").status, 503);
  EXPECT_EQ(c.request("GET", "/api/orchestrators/me", "", {{"Authorization", "Bearer made-up"}}).status, 401);
  EXPECT_EQ(c.request("GET", "/api/transparency/tee-core/ledger-proof?orchestrator_id=o1", "", {{"Authorization", "Bearer x"}}).status, 401);
  EXPECT_EQ(node.terminate(), 0) << node.log();
}

TEST(Credential, AnUnreachableChainNodeIs503) {
  TempDir dir;
  const auto delegate = key_of(0x11);
  const auto owner = key_of(0x55);
  NodeProcess node(dir.str() + "/data",
                   {{"PAYMENTS_ORCHESTRATOR_CREDENTIAL_CONTRACT_ADDRESS", "0x5555555555555555555555555555555555555555"},
                    {"ETH_RPC_URL", "http://127.0.0.1:" + std::to_string(free_loopback_port())},
                    {"PAYMENTS_ORCHESTRATOR_CREDENTIAL_RPC_TIMEOUT_SECONDS", "2"},
                    {"PAYMENTS_BOOTSTRAP_ORCHESTRATORS",
                     "[{\"orchestrator_id\":\"o1\",\"address\":\"" + to_lower_hex(owner.address()) + "\"}]"}});
  ASSERT_TRUE(node.start()) << node.log();
  HttpClient c("127.0.0.1", node.port(), std::chrono::seconds(30));
  auto nr = c.request("POST", "/api/orchestrators/o1/credential/nonce");
  ASSERT_EQ(nr.status, 200) << nr.body;
  auto nv = body_of(nr);
  Nonce n{std::string(nv.at("nonce").as_string()), nv.at("expires_at").as_int64()};
  const Hash256 h = credential::auth_hash("o1", owner.address(), delegate.address(), hash32_from_hex(n.nonce).value(),
                                          static_cast<std::uint64_t>(n.expires_at));
  auto r = c.request("POST", "/api/orchestrators/o1/credential/token",
                     json::serialize(json::object{{"delegate_address", to_lower_hex(delegate.address())},
                                                  {"nonce", n.nonce},
                                                  {"expires_at", n.expires_at},
                                                  {"signature", sign_digest(delegate, eip191_hash32(h)).to_hex()}}));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(node.log().find("cannot check o1 on-chain"), std::string::npos);
  EXPECT_EQ(node.terminate(), 0) << node.log();
}

}  // namespace
}  // namespace lpops::testing
