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

  // An orchestrator registered before its address was denylisted is flagged and refused.
  register_orchestrator("early", address_of(4));
  restart_node({{"PAYMENTS_ADDRESS_DENYLIST", address_of(3) + "," + address_of(4)}});
  auto again = post("/api/orchestrators/register", json::object{{"orchestrator_id", "early"}, {"address", address_of(4)}});
  EXPECT_EQ(again.status, 403);
  auto view = get_json("/api/orchestrators/early");
  EXPECT_TRUE(view.at("denylisted").as_bool());
  EXPECT_FALSE(view.at("eligible_for_payments").as_bool());
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
}

}  // namespace
}  // namespace lpops::testing
