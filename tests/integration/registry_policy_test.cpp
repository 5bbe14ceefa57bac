// Denylist, IP redaction and proxy-aware client addresses.
#include "tests/integration/fixture.hpp"

namespace lpops::testing {
namespace {

class PolicyTest : public NodeTest {};

TEST_F(PolicyTest, DenylistedAddressIsRefusedAndFlagSticks) {
  start_node({{"PAYMENTS_ADDRESS_DENYLIST", address_of(3)}});
  auto r = post("/api/orchestrators/register", json::object{{"orchestrator_id", "bad"}, {"address", address_of(3)}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(parse_json(r.body).at("detail").as_string(), "Address is denylisted and cannot register");
  EXPECT_EQ(get_json("/api/orchestrators").at("orchestrators").as_array().size(), 0u);
  // The refusal is in the node's log, as the reference's registry.log has register_denied.
  EXPECT_NE(node_->log().find("registration of orchestrator bad refused: address " + address_of(3) +
                              " is on PAYMENTS_ADDRESS_DENYLIST (client 127.0.0.1)"),
            std::string::npos)
      << node_->log();

  // An orchestrator registered before its address was denylisted is flagged at start-up,
  // in every view and for payouts, before anything else touches it; then refused.
  register_orchestrator("early", address_of(4));
  ASSERT_EQ(post("/api/ledger/adjustments", json::object{{"orchestrator_id", "early"}, {"amount_eth", "2"}}).status, 200);
  const std::string seen = std::string(get_json("/api/orchestrators/early").at("last_seen").as_string());
  // The payout routes need an admin token to exist at all (404 without one).
  ASSERT_EQ(post("/api/payouts", json::object{{"orchestrator_id", "early"}, {"amount_eth", "1"}}).status, 404);
  const std::vector<std::pair<std::string, std::string>> admin{{"X-Admin-Token", "adm"}};
  auto admin_json = [&](const std::string& target) { return parse_json(get(target, admin).body); };
  restart_node({{"PAYMENTS_ADDRESS_DENYLIST", address_of(3) + "," + address_of(4)}, {"PAYMENTS_API_ADMIN_TOKEN", "adm"}});
  auto view = admin_json("/api/orchestrators/early");
  EXPECT_TRUE(view.at("denylisted").as_bool());
  EXPECT_EQ(view.at("last_seen").as_string(), seen);  // flagged at start-up: no contact was made
  EXPECT_FALSE(view.at("eligible_for_payments").as_bool());
  const auto listed = admin_json("/api/orchestrators").at("orchestrators").as_array();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_TRUE(listed[0].at("denylisted").as_bool());
  auto payout = post("/api/payouts", json::object{{"orchestrator_id", "early"}, {"amount_eth", "1"}}, admin);
  EXPECT_EQ(payout.status, 403) << payout.body;
  auto again = post("/api/orchestrators/register", json::object{{"orchestrator_id", "early"}, {"address", address_of(4)}});
  EXPECT_EQ(again.status, 403);
  // The flag was journalled: it holds after another restart, with the address off the list.
  restart_node({});
  EXPECT_TRUE(get_json("/api/orchestrators/early").at("denylisted").as_bool());
}

// The ledger records its own entries (the pricing policy) under "__system__": no orchestrator
// may take that id (it would become the policy entries' recipient).
TEST_F(PolicyTest, TheLedgersOwnIdCannotBeRegistered) {
  start_node({});
  auto r = post("/api/orchestrators/register", json::object{{"orchestrator_id", "__system__"}, {"address", address_of(1)}});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(parse_json(r.body).at("detail").as_array()[0].at("loc").as_array()[1].as_string(), "orchestrator_id");
  EXPECT_EQ(get_json("/api/orchestrators").at("orchestrators").as_array().size(), 0u);
  restart_node({});  // and the node starts again
  EXPECT_EQ(get("/api/orchestrators/__system__").status, 404);
}

TEST_F(PolicyTest, IpFieldsAreRedactedOutsideTheManagerAllowlist) {
  start_node({{"PAYMENTS_MANAGER_IP_ALLOWLIST", "10.1.2.3"}});
  auto r = post("/api/orchestrators/register", json::object{{"orchestrator_id", "o"}, {"address", address_of(1)},
                                                          {"host_public_ip", "203.0.113.5"}, {"health_url", "http://203.0.113.5:9090/health"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto view = get_json("/api/orchestrators/o");
  for (const char* key : {"host_public_ip", "last_seen_ip", "health_url", "last_session_upstream_addr", "last_session_edge_id"})
    EXPECT_TRUE(view.at(key).is_null()) << key;
  EXPECT_TRUE(get_json("/api/orchestrators").at("orchestrators").as_array()[0].at("host_public_ip").is_null());
}

TEST_F(PolicyTest, AllowlistedCallerSeesIpFields) {
  start_node({{"PAYMENTS_MANAGER_IP_ALLOWLIST", "127.0.0.0/8"}});
  ASSERT_EQ(post("/api/orchestrators/register", json::object{{"orchestrator_id", "o"}, {"address", address_of(1)},
                                                             {"host_public_ip", "203.0.113.5"}}).status, 200);
  EXPECT_EQ(get_json("/api/orchestrators/o").at("host_public_ip").as_string(), "203.0.113.5");
}

TEST_F(PolicyTest, RedactionReadsOnlyTheFirstForwardedEntry) {
  start_node({{"PAYMENTS_MANAGER_IP_ALLOWLIST", "10.9.9.9"}, {"PAYMENTS_TRUSTED_PROXY_CIDRS", "127.0.0.1/32"}});
  ASSERT_EQ(post("/api/orchestrators/register", json::object{{"orchestrator_id", "o"}, {"address", address_of(1)},
                                                             {"host_public_ip", "203.0.113.5"}}).status, 200);
  const auto seen = [&](const char* xff) {
    const auto r = get("/api/orchestrators/o", {{"X-Forwarded-For", xff}});
    EXPECT_EQ(r.status, 200) << r.body;
    return !json::parse(r.body).at("host_public_ip").is_null();
  };
  EXPECT_TRUE(seen("10.9.9.9"));
  // The client is the entry the trusted proxy added (the last): one a client sent before it,
  // claiming an allowlisted address, is not read.
  EXPECT_FALSE(seen(" 10.9.9.9 , 198.51.100.1"));
  EXPECT_TRUE(seen("garbage, 10.9.9.9"));
  EXPECT_TRUE(seen(", 10.9.9.9"));
  EXPECT_TRUE(seen("198.51.100.1, 10.9.9.9"));
  // Two fields are one list, in order.
  {
    const auto r = get("/api/orchestrators/o", {{"X-Forwarded-For", "10.9.9.9"}, {"X-Forwarded-For", "198.51.100.1"}});
    EXPECT_TRUE(json::parse(r.body).at("host_public_ip").is_null()) << r.body;
  }
  // An entry the proxy added that is not an address counts as the peer (127.0.0.1, not allowlisted).
  EXPECT_FALSE(seen("10.9.9.9, garbage"));
  EXPECT_FALSE(seen("10.9.9.9,"));
}

TEST_F(PolicyTest, ForwardedForIsTrustedOnlyFromConfiguredProxies) {
  start_node({{"PAYMENTS_TRUSTED_PROXY_CIDRS", "127.0.0.1/32"}});
  auto r = post("/api/orchestrators/register", json::object{{"orchestrator_id", "o"}, {"address", address_of(1)}},
                {{"X-Forwarded-For", "198.51.100.7, 127.0.0.1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(get_json("/api/orchestrators/o").at("last_seen_ip").as_string(), "198.51.100.7");
  restart_node({});
  ASSERT_EQ(post("/api/orchestrators/register", json::object{{"orchestrator_id", "o"}, {"address", address_of(1)}},
                 {{"X-Forwarded-For", "198.51.100.8"}}).status, 200);
  EXPECT_EQ(get_json("/api/orchestrators/o").at("last_seen_ip").as_string(), "127.0.0.1");
  // Read from the right, stripped: the first entry that is not a trusted proxy is the client,
  // whatever a client put before it; one that is not an address ends the walk at the hop
  // before it (here the peer).
  restart_node({{"PAYMENTS_TRUSTED_PROXY_CIDRS", "127.0.0.1/32"},
                {"PAYMENTS_REGISTRATION_PER_MINUTE", "1000"},
                {"PAYMENTS_REGISTRATION_BURST", "1000"}});
  const auto registered_from = [&](const std::string& xff) {
    EXPECT_EQ(post("/api/orchestrators/register", json::object{{"orchestrator_id", "o"}, {"address", address_of(1)}},
                   {{"X-Forwarded-For", xff}}).status,
              200);
    return std::string(get_json("/api/orchestrators/o").at("last_seen_ip").as_string());
  };
  EXPECT_EQ(registered_from(" \t203.0.113.9 , 198.51.100.1 "), "198.51.100.1");
  EXPECT_EQ(registered_from("203.0.113.9, 198.51.100.1, 127.0.0.1"), "198.51.100.1");  // through two trusted hops
  for (const char* xff : {"garbage, 203.0.113.10", ", 203.0.113.10", "10.0.0.0/8, 203.0.113.10"})
    EXPECT_EQ(registered_from(xff), "203.0.113.10") << xff;
  for (const char* xff : {"203.0.113.10, garbage", "203.0.113.10, 10.0.0.0/8", "203.0.113.10,", "127.0.0.1, 127.0.0.1"})
    EXPECT_EQ(registered_from(xff), "127.0.0.1") << xff;
  // One spelling per address: stored so, and counted once by the rate limit.
  ASSERT_EQ(post("/api/orchestrators/register", json::object{{"orchestrator_id", "o"}, {"address", address_of(1)}},
                 {{"X-Forwarded-For", "2001:0DB8:0:0::0001"}}).status, 200);
  EXPECT_EQ(get_json("/api/orchestrators/o").at("last_seen_ip").as_string(), "2001:db8::1");
  restart_node({{"PAYMENTS_TRUSTED_PROXY_CIDRS", "127.0.0.1/32"}, {"PAYMENTS_REGISTRATION_BURST", "3"}});
  int status = 0;
  int i = 0;
  // One address in several spellings, and others of its /64 (one client, as one host commonly
  // holds a whole /64).
  for (const char* spelling : {"2001:db8::1", "2001:DB8::1", "2001:0db8::2", "2001:db8:0:0:ffff::9"}) {
    status = post("/api/orchestrators/register", json::object{{"orchestrator_id", "s" + std::to_string(i)}, {"address", address_of(10 + i)}},
                  {{"X-Forwarded-For", spelling}}).status;
    ++i;
  }
  EXPECT_EQ(status, 429);  // the fourth from one client within the burst
  EXPECT_EQ(post("/api/orchestrators/register", json::object{{"orchestrator_id", "u0"}, {"address", address_of(21)}},
                 {{"X-Forwarded-For", "2001:db8:0:1::1"}}).status, 200);  // the next /64: another client
  // Another client behind the same proxy has its own share: the limit keys on the forwarded
  // client, not on the proxy's address.
  EXPECT_EQ(post("/api/orchestrators/register", json::object{{"orchestrator_id", "t0"}, {"address", address_of(20)}},
                 {{"X-Forwarded-For", "203.0.113.44"}}).status, 200);
}

// A registration that names another orchestrator's id with a denylisted address is refused
// and flags nothing: the reference flagged that id, so anyone could denylist any orchestrator.
TEST_F(PolicyTest, ADenylistedAddressCannotFlagAnotherOrchestrator) {
  start_node({{"PAYMENTS_ADDRESS_DENYLIST", address_of(3)}});
  register_orchestrator("victim", address_of(1));
  const auto before = get_json("/api/orchestrators/victim");
  auto r = post("/api/orchestrators/register", json::object{{"orchestrator_id", "victim"}, {"address", address_of(3)}});
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(parse_json(r.body).at("detail").as_string(), "Address is denylisted and cannot register");
  const auto after = get_json("/api/orchestrators/victim");
  EXPECT_FALSE(after.at("denylisted").as_bool()) << after;
  EXPECT_EQ(after, before);  // nothing of it changed, last_seen included
  restart_node({{"PAYMENTS_ADDRESS_DENYLIST", address_of(3)}});
  EXPECT_FALSE(get_json("/api/orchestrators/victim").at("denylisted").as_bool());
}

// Credential nonces are asked for without authentication, so asking holds nothing: a nonce
// carries its expiry and a MAC, and no number of them, from any number of clients, uses up a
// limit (PAYMENTS_ORCHESTRATOR_CREDENTIAL_MAX_NONCES counts only nonces of valid signatures).
// Each is bound to its orchestrator, refused after a restart (a new key), kept out of the data
// directory (the reference wrote each to a file that grew without end), and the route is
// rate-limited per client.
TEST_F(PolicyTest, CredentialNoncesHoldNothingAndAreNeverWritten) {
  start_node({{"PAYMENTS_ORCHESTRATOR_CREDENTIAL_CONTRACT_ADDRESS", address_of(99)},
              {"ETH_RPC_URL", "http://127.0.0.1:9"},  // never called: nonces need no chain
              {"PAYMENTS_ORCHESTRATOR_CREDENTIAL_MAX_NONCES", "1"},
              {"PAYMENTS_TRUSTED_PROXY_CIDRS", "127.0.0.1/32"},  // the clients: X-Forwarded-For
              {"PAYMENTS_PUBLIC_RATE_BURST", "1000"},
              {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "1000"}});
  for (int i = 1; i <= 2; ++i) register_orchestrator("o" + std::to_string(i), address_of(i));
  const auto nonce_from = [&](const std::string& client, const std::string& id) {
    return raw("POST", "/api/orchestrators/" + id + "/credential/nonce", "", {{"X-Forwarded-For", client}});
  };
  // Many clients ask many times, far past the limit of 1.
  std::vector<std::string> nonces;
  for (int i = 0; i < 60; ++i) {
    auto r = nonce_from("10.0." + std::to_string(i % 30) + ".1", "o1");
    ASSERT_EQ(r.status, 200) << i << ": " << r.body;
    nonces.push_back(std::string(parse_json(r.body).at("nonce").as_string()));
  }
  // A token request shows which nonces are good: the nonce is checked before the signature,
  // so a good one gets as far as the signature.
  const auto token_with = [&](const std::string& id, const std::string& nonce) {
    const auto expires = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() + 60;
    auto r = post("/api/orchestrators/" + id + "/credential/token",
                  json::object{{"delegate_address", address_of(50)}, {"nonce", nonce}, {"expires_at", expires},
                               {"signature", "0x" + std::string(130, '1')}});
    EXPECT_EQ(r.status, 401) << r.body;
    return std::string(parse_json(r.body).at("detail").as_string());
  };
  for (std::size_t i = 0; i < nonces.size(); ++i) EXPECT_EQ(token_with("o1", nonces[i]), "Invalid credential signature") << i;
  // Bound to the orchestrator it was asked for; one never given is refused.
  EXPECT_EQ(token_with("o2", nonces[0]), "Invalid credential nonce");
  EXPECT_EQ(token_with("o1", "0x" + std::string(64, 'a')), "Invalid credential nonce");
  // Nothing about them on disk.
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.str() + "/data")) {
    EXPECT_EQ(e.path().filename().string().find("nonce"), std::string::npos) << e.path();
    if (!e.is_regular_file()) continue;
    const std::string bytes = read_file_bytes(e.path().string());
    for (const auto& n : nonces) EXPECT_EQ(bytes.find(n.substr(2)), std::string::npos) << e.path();
  }

  // And the route is rate-limited per client, as the transparency routes are.
  restart_node({{"PAYMENTS_ORCHESTRATOR_CREDENTIAL_CONTRACT_ADDRESS", address_of(99)},
                {"ETH_RPC_URL", "http://127.0.0.1:9"},
                {"PAYMENTS_TRUSTED_PROXY_CIDRS", "127.0.0.1/32"},
                {"PAYMENTS_PUBLIC_RATE_BURST", "3"}});
  // A restart draws a new key: the nonces of before are refused.
  EXPECT_EQ(token_with("o1", nonces[1]), "Invalid credential nonce");
  const auto nonce_for = [&](const std::string& id) { return nonce_from("10.0.0.1", id); };
  for (int i = 0; i < 3; ++i) EXPECT_EQ(nonce_for("o1").status, 200) << i;
  auto limited = nonce_for("o1");
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(parse_json(limited.body).at("detail").as_string(), "Rate limited");
  // An IPv6 client is its /64: its other addresses share its limit.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(nonce_from("2001:db8::" + std::to_string(i + 1), "o1").status, 200) << i;
  EXPECT_EQ(nonce_from("2001:db8::ff", "o1").status, 429);
  EXPECT_EQ(nonce_from("2001:db8:0:1::1", "o1").status, 200);
}

}  // namespace
}  // namespace lpops::testing
