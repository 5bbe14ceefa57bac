#include <gtest/gtest.h>

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>

#include "config/settings.hpp"
#include "tests/support/temp_dir.hpp"

namespace lpops::config {
namespace {

Result<Settings> load(std::map<std::string, std::string> values) { return load_settings(Environment::from_map(std::move(values))); }

TEST(Settings, DefaultsMatchTheReference) {
  auto s = load({});
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->api_host, "0.0.0.0");
  EXPECT_EQ(s->api_port, 8081);
  EXPECT_EQ(s->workload_time_rate.text(), "0.000005353596");
  EXPECT_EQ(s->forwarder_health_ttl_seconds, 120);
  EXPECT_EQ(s->registration_per_minute, 5);
  EXPECT_EQ(s->registration_burst, 5);
  EXPECT_EQ(s->data_dir, "./data");
  EXPECT_TRUE(s->journal_fsync);
  EXPECT_TRUE(s->journal_direct_io);
  EXPECT_FALSE(s->admin_token.has_value());
}

// A token TTL of 0 means the default, as the reference reads it (`ttl or 900`).
TEST(Settings, AZeroTokenTtlIsTheDefault) {
  auto zero = load({{"PAYMENTS_ORCHESTRATOR_CREDENTIAL_TOKEN_TTL_SECONDS", "0"}});
  ASSERT_TRUE(zero.ok()) << zero.error();
  EXPECT_EQ(zero->credential_token_ttl_seconds, 900);
  auto set = load({{"PAYMENTS_ORCHESTRATOR_CREDENTIAL_TOKEN_TTL_SECONDS", "60"}});
  ASSERT_TRUE(set.ok()) << set.error();
  EXPECT_EQ(set->credential_token_ttl_seconds, 60);
}

TEST(Settings, BadValuesNameTheVariable) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"PAYMENTS_API_PORT", "abc"},
      {"PAYMENTS_API_PORT", "70000"},
      {"PAYMENTS_API_PORT", "0"},
      {"PAYMENTS_HTTP_THREADS", "65"},
      {"PAYMENTS_JOURNAL_MAX_BATCH", "65537"},
      {"PAYMENTS_SHUTDOWN_DRAIN_SECONDS", "601"},
      {"PAYMENTS_MAX_BUFFERED_BODY_BYTES", "1048576"},
      {"PAYMENTS_MAX_SENDING_BODY_BYTES", "65536"},
      {"PAYMENTS_MAX_QUEUED_READS", "0"},
      {"ETH_CHAIN_ID", "0"},
      {"PAYMENTS_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "86401"},
      {"PAYMENTS_MAX_FEE_PER_GAS_WEI", "0"},
      {"PAYMENTS_API_HOST", ""},
      {"PAYMENTS_ORCHESTRATOR_CREDENTIAL_TOKEN_TTL_SECONDS", "-1"},  // the reference: tokens that never expire
      {"PAYMENTS_WORKLOAD_TIME_CREDIT_ETH_PER_MINUTE", "-1"},
      {"PAYMENTS_REGISTRATION_PER_MINUTE", "0"},
      {"PAYMENTS_ADDRESS_DENYLIST", "0x123"},
      {"PAYMENTS_TRUSTED_PROXY_CIDRS", "10.0.0.0/33"},
      {"PAYMENTS_MANAGER_IP_ALLOWLIST", "not-an-ip"},
      {"PAYMENTS_JOURNAL_FSYNC", "maybe"},
      {"PAYMENTS_PAYOUT_STRATEGY", "cash"},
      {"PAYMENTS_BOOTSTRAP_ORCHESTRATORS", "{oops"},
      {"TOP_CONTRACT_ADDRESS", "0xnothex"},
      {"PAYMENTS_FORWARDER_HEALTH_TTL_SECONDS", "-5"},
      {"PAYMENTS_HTTP_TIMEOUT_SECONDS", "0"},
  };
  for (const auto& [name, value] : bad) {
    auto s = load({{name, value}});
    ASSERT_FALSE(s.ok()) << name << "=" << value;
    EXPECT_NE(s.error().find(name), std::string::npos) << s.error();
  }
}

// The rank check's sources: the reference's by default, each left out when set empty, a bad
// URL stops start-up; with no source (or PAYMENTS_RANK_CHECK=false) the check is off.
TEST(Settings, RankCheckSources) {
  auto d = load({});
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_TRUE(d->rank_check_enabled());
  EXPECT_EQ(d->rank_subgraph_url, "https://api.thegraph.com/subgraphs/name/livepeer/livepeer");
  EXPECT_EQ(d->rank_explorer_urls.size(), 2u);
  EXPECT_NE(describe_rank_check(*d).find("the subgraph https://api.thegraph.com/"), std::string::npos) << describe_rank_check(*d);
  auto none = load({{"PAYMENTS_RANK_SUBGRAPH_URL", ""}, {"PAYMENTS_RANK_EXPLORER_URLS", " "}});
  ASSERT_TRUE(none.ok()) << none.error();
  EXPECT_FALSE(none->rank_check_enabled());
  EXPECT_EQ(describe_rank_check(*none).rfind("disabled: no source", 0), 0u);
  auto contract = load({{"PAYMENTS_RANK_SUBGRAPH_URL", ""}, {"PAYMENTS_RANK_EXPLORER_URLS", ""},
                        {"TOP_CONTRACT_ADDRESS", "0x2222222222222222222222222222222222222222"}});
  ASSERT_TRUE(contract.ok()) << contract.error();
  EXPECT_TRUE(contract->rank_check_enabled());
  auto off = load({{"PAYMENTS_RANK_CHECK", "false"}});
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->rank_check_enabled());
  // What /readyz and the log show names no credential, path or query (API keys live there).
  auto keyed = load({{"TOP_CONTRACT_ADDRESS", "0x2222222222222222222222222222222222222222"},
                     {"ETH_RPC_URL", "https://u:PASS@rpc.example/v2/KEY1?x=KEY2"},
                     {"PAYMENTS_RANK_SUBGRAPH_URL", "https://gw.example/api/KEY3/subgraphs/id/x"},
                     {"PAYMENTS_RANK_EXPLORER_URLS", "https://ex.example/api?token=KEY4 http://ex2.example:8080/"}});
  ASSERT_TRUE(keyed.ok()) << keyed.error();
  const std::string shown = describe_rank_check(*keyed);
  for (const char* secret : {"PASS", "KEY1", "KEY2", "KEY3", "KEY4"}) EXPECT_EQ(shown.find(secret), std::string::npos) << shown;
  EXPECT_NE(shown.find("via https://rpc.example/…, then the subgraph https://gw.example/…, then the explorer API "
                       "https://ex.example/… or http://ex2.example:8080"),
            std::string::npos)
      << shown;
  for (const auto& [name, value] : keyed->describe()) {
    if (name == "ETH_RPC_URL") {
      EXPECT_EQ(value, "https://rpc.example/…");
    }
  }
  auto list = load({{"PAYMENTS_RANK_EXPLORER_URLS", "http://127.0.0.1:1/a, https://x.example/b"}});
  ASSERT_TRUE(list.ok()) << list.error();
  EXPECT_EQ(list->rank_explorer_urls, (std::vector<std::string>{"http://127.0.0.1:1/a", "https://x.example/b"}));
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"PAYMENTS_RANK_SUBGRAPH_URL", "ftp://x"}, {"PAYMENTS_RANK_EXPLORER_URLS", "https://ok.example nope"},
           {"PAYMENTS_RANK_CHECK", "sometimes"}}) {
    auto bad = load({{name, value}});
    ASSERT_FALSE(bad.ok()) << name;
    EXPECT_NE(bad.error().find(name), std::string::npos) << bad.error();
  }
}

// Values the reference accepts: a rate with an exponent (it reads Decimal), a TTL of 0 (which
// it reads as the default, `int(ttl or 120)`).
TEST(Settings, ReferenceFormsAreAccepted) {
  auto s = load({{"PAYMENTS_WORKLOAD_TIME_CREDIT_ETH_PER_MINUTE", "1E-6"},
                 {"PAYMENTS_FORWARDER_HEALTH_TTL_SECONDS", "0"},
                 {"PAYMENTS_SESSION_IDLE_TIMEOUT_SECONDS", "0"}});
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->workload_time_rate.text(), "0.000001");
  EXPECT_EQ(s->forwarder_health_ttl_seconds, 120);
  EXPECT_EQ(s->session_idle_timeout_seconds, 120);
  // The rate as Decimal reads text: underscores, Unicode spaces around, digits of any script.
  for (const auto& [text, read] : std::vector<std::pair<std::string, std::string>>{
           {"1_0", "10"}, {"1__0", "10"}, {"_1", "1"}, {"\u00a05.5\u2003", "5.5"}, {"\u0660.\u0661", "0.1"}, {"0.000_001", "0.000001"}}) {
    auto r = load({{"PAYMENTS_WORKLOAD_TIME_CREDIT_ETH_PER_MINUTE", text}});
    ASSERT_TRUE(r.ok()) << text << ": " << r.error();
    EXPECT_EQ(r->workload_time_rate.text(), read) << text;
  }
  for (const char* bad : {"1 0", "\u00a0", "1_e", "\u0661\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660"}) {
    auto r = load({{"PAYMENTS_WORKLOAD_TIME_CREDIT_ETH_PER_MINUTE", bad}});
    EXPECT_FALSE(r.ok()) << bad;
  }
}

// Set to nothing is not unset for a number, a boolean, an amount or a choice: "" stops
// start-up as any other bad value (an empty PAYMENTS_JOURNAL_FSYNC meant "true" before).
// Lists and optional texts may be empty.
TEST(Settings, EmptyTypedValuesNameTheVariable) {
  for (const char* name : {"PAYMENTS_API_PORT", "PAYMENTS_JOURNAL_FSYNC", "PAYMENTS_WORKLOAD_TIME_CREDIT_ETH_PER_MINUTE",
                           "PAYMENTS_PAYOUT_STRATEGY", "PAYMENTS_MAX_FEE_PER_GAS_WEI"}) {
    for (const char* value : {"", "  "}) {
      auto s = load({{name, value}});
      ASSERT_FALSE(s.ok()) << name << "=\"" << value << "\"";
      EXPECT_NE(s.error().find(name), std::string::npos) << s.error();
    }
  }
  auto lists = load({{"PAYMENTS_ADDRESS_DENYLIST", ""}, {"PAYMENTS_VIEWER_TOKENS", " "}});
  ASSERT_TRUE(lists.ok()) << lists.error();
}

// A token set to nothing is a mistake, not "no token": a blank admin token would otherwise
// open every admin route.
TEST(Settings, BlankTokensNameTheVariable) {
  for (const char* name : {"PAYMENTS_API_ADMIN_TOKEN", "PAYMENTS_SESSION_REPORTER_TOKEN", "PAYMENTS_EDGE_CONFIG_TOKEN"})
    for (const char* value : {"", "   ", "\t"}) {
      auto s = load({{name, value}});
      ASSERT_FALSE(s.ok()) << name << "=\"" << value << "\"";
      EXPECT_NE(s.error().find(name), std::string::npos) << s.error();
    }
  auto nbsp = load({{"PAYMENTS_API_ADMIN_TOKEN", "\xc2\xa0"}});  // U+00A0 alone: blank, as Python strips it
  ASSERT_FALSE(nbsp.ok());
  auto set = load({{"PAYMENTS_API_ADMIN_TOKEN", " secret "}});
  ASSERT_TRUE(set.ok()) << set.error();
  EXPECT_EQ(set->admin_token, "secret");
  // A viewer list that names only blanks would leave the view routes open while looking set.
  for (const char* value : {R"([" "])", R"([""])", ",", " , ", "[]", "\u00a0", "\xc2\xa0", "[\"\u00a0\"]", "\xe3\x80\x80,"}) {
    auto s = load({{"PAYMENTS_VIEWER_TOKENS", value}});
    ASSERT_FALSE(s.ok()) << value;
    EXPECT_NE(s.error().find("PAYMENTS_VIEWER_TOKENS must be at least one non-blank token"), std::string::npos) << s.error();
  }
}

// An error message never shows a secret: viewer tokens, or a URL's user:password.
TEST(Settings, ErrorsDoNotShowSecrets) {
  auto tokens = load({{"PAYMENTS_VIEWER_TOKENS", R"(["viewer-secret-1", 2])"}});
  ASSERT_FALSE(tokens.ok());
  EXPECT_NE(tokens.error().find("PAYMENTS_VIEWER_TOKENS"), std::string::npos) << tokens.error();
  EXPECT_EQ(tokens.error().find("viewer-secret-1"), std::string::npos) << tokens.error();
  auto url = load({{"ETH_RPC_URL", "https://user:SuperSecret@rpc.example:999999/"}});
  ASSERT_FALSE(url.ok());
  EXPECT_NE(url.error().find("ETH_RPC_URL"), std::string::npos) << url.error();
  EXPECT_EQ(url.error().find("SuperSecret"), std::string::npos) << url.error();
  EXPECT_NE(url.error().find("rpc.example"), std::string::npos) << url.error();
  // Nor the path or query of a URL that does not parse (providers put API keys there).
  for (const char* bad : {"https://arb.example.com:99999/v2/SECRETKEY", "http://rpc example/?key=SECRETKEY",
                          "https://a:SECRETKEY@rpc.example:99999"}) {
    auto shown = load({{"ETH_RPC_URL", bad}});
    ASSERT_FALSE(shown.ok()) << bad;
    EXPECT_EQ(shown.error().find("SECRETKEY"), std::string::npos) << shown.error();
    EXPECT_NE(shown.error().find("example"), std::string::npos) << shown.error();
  }
  auto explorer = load({{"PAYMENTS_RANK_EXPLORER_URLS", "https://explorer.example:99999/api?key=SECRETKEY"}});
  ASSERT_FALSE(explorer.ok());
  EXPECT_EQ(explorer.error().find("SECRETKEY"), std::string::npos) << explorer.error();
  for (const char* edge : {"https://user:SECRETKEY@edge.example", "user:SECRETKEY@edge.example"}) {
    auto host = load({{"PAYMENTS_PUBLIC_EDGE_HOST", edge}});
    ASSERT_FALSE(host.ok()) << edge;
    EXPECT_NE(host.error().find("PAYMENTS_PUBLIC_EDGE_HOST"), std::string::npos) << host.error();
    EXPECT_EQ(host.error().find("SECRETKEY"), std::string::npos) << host.error();
    EXPECT_NE(host.error().find("edge.example"), std::string::npos) << host.error();
  }
  // A URL's scheme in any case, as RFC 3986 has it.
  auto upper = load({{"ETH_RPC_URL", "HTTPS://rpc.example:8545"}});
  EXPECT_TRUE(upper.ok()) << upper.error();
}

// Integers as pydantic's lax mode reads them; the nonce TTL floored at 30 s as the reference does.
TEST(Settings, IntegersAreReadAsThePydanticSettingsReadThem) {
  for (const char* port : {"8082", " 8082 ", "+8082", "8082.0", "8082.000", "8_082", "80_8_2"}) {
    auto s = load({{"PAYMENTS_API_PORT", port}});
    ASSERT_TRUE(s.ok()) << port << ": " << s.error();
    EXPECT_EQ(s->api_port, 8082) << port;
  }
  for (const char* port : {"8082.5", "8082x", "0x1f92", "++8082", "1e3", "_8082", "8082_", "80__82", "+_8082", "8082.", "8082.0_0"}) EXPECT_FALSE(load({{"PAYMENTS_API_PORT", port}}).ok()) << port;
  // Numbers too take underscores between digits.
  auto uptime = load({{"PAYMENTS_DEFAULT_MIN_SERVICE_UPTIME", "8_0.5"}});
  ASSERT_TRUE(uptime.ok()) << uptime.error();
  EXPECT_EQ(uptime->default_min_service_uptime, 80.5);
  for (const char* fine : {"0_.5", "8._5", "+_8", "1_e1"})
    EXPECT_TRUE(load({{"PAYMENTS_DEFAULT_MIN_SERVICE_UPTIME", fine}}).ok()) << fine;
  for (const char* bad : {"80_", "_80", "8__0", " _8"}) EXPECT_FALSE(load({{"PAYMENTS_DEFAULT_MIN_SERVICE_UPTIME", bad}}).ok()) << bad;
  // The reference's int(ttl or 300): the window of a token request's expires_at (nonces live
  // at least 30 s, which the node applies where it mints them). Negative is refused: with it
  // the reference refused every token request.
  for (const auto& [ttl, seconds] : {std::pair{"0", 300}, {"10", 10}, {"45", 45}}) {
    auto s = load({{"PAYMENTS_ORCHESTRATOR_CREDENTIAL_NONCE_TTL_SECONDS", ttl}});
    ASSERT_TRUE(s.ok()) << ttl << ": " << s.error();
    EXPECT_EQ(s->credential_nonce_ttl_seconds, seconds) << ttl;
  }
  auto negative = load({{"PAYMENTS_ORCHESTRATOR_CREDENTIAL_NONCE_TTL_SECONDS", "-5"}});
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.error().find("PAYMENTS_ORCHESTRATOR_CREDENTIAL_NONCE_TTL_SECONDS"), std::string::npos) << negative.error();
}

// Settings the reference does not read or check unless they are used: ORCHESTRATOR_HEALTH_URL
// outside single-orchestrator mode, an empty CHECKPOINT_CHAIN_ID (its compose default).
TEST(Settings, SettingsLeftUnusedAreNotRefused) {
  auto unused = load({{"ORCHESTRATOR_HEALTH_URL", "127.0.0.1:9090/health"}, {"ORCHESTRATOR_HEALTH_TIMEOUT", "90"},
                      {"CHECKPOINT_CHAIN_ID", ""}});
  ASSERT_TRUE(unused.ok()) << unused.error();
  EXPECT_FALSE(unused->checkpoint_chain_id);
  EXPECT_FALSE(unused->orchestrator_health_timeout);
  for (const auto& [name, value] : {std::pair{"ORCHESTRATOR_HEALTH_URL", "127.0.0.1:9090/health"},
                                    std::pair{"ORCHESTRATOR_HEALTH_TIMEOUT", "90"}}) {
    auto single = load({{name, value},
                        {"PAYMENTS_SINGLE_ORCHESTRATOR_MODE", "true"},
                        {"ORCHESTRATOR_ID", "o1"},
                        {"ORCHESTRATOR_ADDRESS", "0x1111111111111111111111111111111111111111"}});
    ASSERT_FALSE(single.ok()) << name;
    EXPECT_NE(single.error().find(name), std::string::npos) << single.error();
  }
  // The single orchestrator's address is registered as written (checksummed, say), as the
  // reference stores a registration's address.
  auto cased = load({{"ORCHESTRATOR_ADDRESS", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}});
  ASSERT_TRUE(cased.ok()) << cased.error();
  EXPECT_EQ(cased->orchestrator_address, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
}

// Settings used only later (chain calls, proxies, edge bootstrap) are still checked at start.
TEST(Settings, UrlsPathsCidrsAndKeysAreCheckedAtStart) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"ETH_RPC_URL", "localhost:8545"},
      {"ETH_RPC_URL", "ftp://rpc.example"},
      {"ETH_RPC_URL", "http://"},
      {"ETH_RPC_URL", "http://rpc.example:99999"},
      {"ETH_RPC_URL", "http://rpc example"},
      {"ETH_RPC_URL", " "},
      {"PAYMENTS_EDGE_CONFIG_URL", "edge.example/config"},
      {"PAYMENTS_API_ROOT_PATH", "payments"},
      {"PAYMENTS_API_ROOT_PATH", "/payments?x"},
      {"PAYMENTS_API_ROOT_PATH", "/pay ments"},
      {"PAYMENTS_TRUSTED_PROXY_CIDRS", "10.0.0.0/33"},
      {"PAYMENTS_MANAGER_IP_ALLOWLIST", "fd00::1/64"},
      {"PAYMENT_PRIVATE_KEY", "0x1234"},
      {"PAYMENT_PRIVATE_KEY", "0x" + std::string(63, 'a') + "g"},
      // In range for secp256k1: not 0, below the curve order.
      {"PAYMENT_PRIVATE_KEY", "0x" + std::string(64, '0')},
      {"PAYMENT_PRIVATE_KEY", "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141"},
      {"PAYMENT_PRIVATE_KEY", "0x" + std::string(64, 'f')},
      {"ETH_RPC_URL", "http://rpc.example:0"},
      // Checked as given, even where --host would override it.
      {"PAYMENTS_API_HOST", "bad host!!"},
      {"PAYMENTS_API_HOST", "999.1.1.1"},
      {"PAYMENTS_API_HOST", "http://127.0.0.1"},
      {"PAYMENTS_API_HOST", "-lead.example"},
      {"PAYMENTS_API_HOST", "a..b"},
  };
  for (const auto& [name, value] : bad) {
    auto s = load({{name, value}});
    ASSERT_FALSE(s.ok()) << name << "=" << value;
    EXPECT_NE(s.error().find(name), std::string::npos) << s.error();
  }
  // A key is never echoed, even a malformed one.
  auto key = load({{"PAYMENT_PRIVATE_KEY", "0xdeadbeefcafe"}});
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().find("deadbeef"), std::string::npos) << key.error();

  auto good = load({{"ETH_RPC_URL", "https://user:pw@rpc.example:8443/v2/key?x=1"},
                    {"PAYMENTS_EDGE_CONFIG_URL", "http://[::1]:9000/edge"},
                    {"PAYMENTS_API_ROOT_PATH", "/payments"},
                    {"PAYMENTS_TRUSTED_PROXY_CIDRS", "10.0.0.0/8, 192.168.1.7, fd00::/64"},
                    {"PAYMENT_PRIVATE_KEY", std::string(63, '0') + "1"}});
  ASSERT_TRUE(good.ok()) << good.error();
  for (const char* host : {"0.0.0.0", "::", "::1", "127.0.0.1", "localhost", "node-1.example.", "my_host", "10.1.2.3"})
    EXPECT_TRUE(load({{"PAYMENTS_API_HOST", host}}).ok()) << host;
  EXPECT_TRUE(load({{"PAYMENT_PRIVATE_KEY", "0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140"}}).ok());
  EXPECT_EQ(good->root_path, "/payments");
  // A trailing slash names the same mount point; "/" alone is none.
  EXPECT_EQ(load({{"PAYMENTS_API_ROOT_PATH", "/payments/"}})->root_path, "/payments");
  EXPECT_EQ(load({{"PAYMENTS_API_ROOT_PATH", "/"}})->root_path, "");
  EXPECT_EQ(good->eth_rpc_url, "https://user:pw@rpc.example:8443/v2/key?x=1");
}

TEST(Settings, AllErrorsAreCollected) {
  auto s = load({{"PAYMENTS_API_PORT", "x"}, {"PAYMENTS_HTTP_THREADS", "0"}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("PAYMENTS_API_PORT"), std::string::npos);
  EXPECT_NE(s.error().find("PAYMENTS_HTTP_THREADS"), std::string::npos);
}

TEST(Settings, ListsBooleansAndAddresses) {
  auto s = load({{"PAYMENTS_VIEWER_TOKENS", "a, b  c"},
                 {"PAYMENTS_TRUSTED_PROXY_CIDRS", "[\"10.0.0.0/8\", \"::1\"]"},
                 {"PAYMENTS_ADDRESS_DENYLIST", "0xABCDEF0000000000000000000000000000000001"},
                 {"PAYMENTS_JOURNAL_FSYNC", "Off"},
                 {"PAYMENTS_JOURNAL_DIRECT_IO", "false"},
                 {"PAYMENTS_ENABLE_DOCS", "n"}});
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->viewer_tokens, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(s->trusted_proxy_cidrs.size(), 2u);
  EXPECT_EQ(s->address_denylist.at(0), "0xabcdef0000000000000000000000000000000001");
  EXPECT_FALSE(s->journal_fsync);
  EXPECT_FALSE(s->journal_direct_io);
  EXPECT_FALSE(s->enable_docs);
}

// Split surfaces as the reference checks them at start: enforcement needs both hosts, and two
// different ones (compared as requests are: case, port and a trailing dot aside).
TEST(Settings, SplitSurfacesNeedTwoDifferentHosts) {
  auto off = load({{"PAYMENTS_PUBLIC_EDGE_HOST", "edge.example"}});
  ASSERT_TRUE(off.ok()) << off.error();
  EXPECT_FALSE(off->enforce_split_surfaces);
  auto on = load({{"PAYMENTS_ENFORCE_SPLIT_SURFACES", "yes"},
                  {"PAYMENTS_PUBLIC_EDGE_HOST", " Edge.Example.:8443 "},
                  {"PAYMENTS_PUBLIC_OPS_HOST", "ops.example"}});
  ASSERT_TRUE(on.ok()) << on.error();
  EXPECT_TRUE(on->enforce_split_surfaces);
  EXPECT_EQ(on->public_edge_host, "edge.example");
  EXPECT_EQ(on->public_ops_host, "ops.example");
  const std::map<std::string, std::string> cases[] = {
      {{"PAYMENTS_ENFORCE_SPLIT_SURFACES", "true"}, {"PAYMENTS_PUBLIC_OPS_HOST", "ops.example"}},
      {{"PAYMENTS_ENFORCE_SPLIT_SURFACES", "true"}, {"PAYMENTS_PUBLIC_EDGE_HOST", "edge.example"}, {"PAYMENTS_PUBLIC_OPS_HOST", " "}},
      {{"PAYMENTS_ENFORCE_SPLIT_SURFACES", "true"}, {"PAYMENTS_PUBLIC_EDGE_HOST", "a.example"}, {"PAYMENTS_PUBLIC_OPS_HOST", "A.example:80"}},
  };
  for (const auto& env : cases) {
    auto s = load(env);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().find("PAYMENTS_ENFORCE_SPLIT_SURFACES"), std::string::npos) << s.error();
  }
  EXPECT_EQ(load(cases[0]).error(),
            "PAYMENTS_ENFORCE_SPLIT_SURFACES must be false unless PAYMENTS_PUBLIC_EDGE_HOST and PAYMENTS_PUBLIC_OPS_HOST "
            "are both set (got \"true\")");
  EXPECT_EQ(load(cases[2]).error(),
            "PAYMENTS_PUBLIC_OPS_HOST must be another host than PAYMENTS_PUBLIC_EDGE_HOST (a.example) when "
            "PAYMENTS_ENFORCE_SPLIT_SURFACES is true (got \"a.example\")");
  // Written as a URL, as the reference takes it: its host (and port) count.
  auto url = load({{"PAYMENTS_ENFORCE_SPLIT_SURFACES", "true"},
                   {"PAYMENTS_PUBLIC_EDGE_HOST", "HTTPS://Edge.Example:8443/api?x#y"},
                   {"PAYMENTS_PUBLIC_OPS_HOST", "http://[0:0::1]/"}});
  ASSERT_TRUE(url.ok()) << url.error();
  EXPECT_EQ(url->public_edge_host, "edge.example");
  EXPECT_EQ(url->public_ops_host, "[::1]");
  auto same = load({{"PAYMENTS_ENFORCE_SPLIT_SURFACES", "true"},
                    {"PAYMENTS_PUBLIC_EDGE_HOST", "https://edge.example.com"},
                    {"PAYMENTS_PUBLIC_OPS_HOST", "edge.example.com"}});
  ASSERT_FALSE(same.ok());
  EXPECT_NE(same.error().find("must be another host"), std::string::npos) << same.error();
  for (const char* bad : {"ftp://edge.example", "https://", "edge.example/api", "edge example", "edge.example:port", "[zz]"}) {
    auto s = load({{"PAYMENTS_PUBLIC_EDGE_HOST", bad}});
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.error().find("PAYMENTS_PUBLIC_EDGE_HOST"), std::string::npos) << s.error();
  }
}

// As the reference checks at start: tickets need the TicketBroker they are redeemed at.
TEST(Settings, TicketPayoutsNeedTheBrokerAddress) {
  auto tickets = load({{"PAYMENTS_PAYOUT_STRATEGY", "LIVEPEER_TICKET"},
                       {"PAYMENTS_LIVEPEER_TICKET_BROKER_ADDRESS", "0xa8bB618B1520E284046F3dFc448851A1Ff26e41B"}});
  ASSERT_TRUE(tickets.ok()) << tickets.error();
  EXPECT_EQ(tickets->payout_strategy, "livepeer_ticket");
  EXPECT_EQ(tickets->livepeer_ticket_broker_address, "0xa8bb618b1520e284046f3dfc448851a1ff26e41b");
  EXPECT_TRUE(tickets->unused.empty());
  auto missing = load({{"PAYMENTS_PAYOUT_STRATEGY", "livepeer_ticket"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(),
            "PAYMENTS_PAYOUT_STRATEGY must be eth_transfer unless PAYMENTS_LIVEPEER_TICKET_BROKER_ADDRESS is set (the TicketBroker "
            "tickets are redeemed at) (got \"livepeer_ticket\")");
  // A bad address is said once, as itself.
  auto bad = load({{"PAYMENTS_PAYOUT_STRATEGY", "livepeer_ticket"}, {"PAYMENTS_LIVEPEER_TICKET_BROKER_ADDRESS", "0x1234"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), "PAYMENTS_LIVEPEER_TICKET_BROKER_ADDRESS must be an address of 0x and 40 hex digits (got \"0x1234\")");
  // An ETH-transfer node may name one (it is read, not listed as unused).
  auto transfers = load({{"PAYMENTS_LIVEPEER_TICKET_BROKER_ADDRESS", "0xa8bB618B1520E284046F3dFc448851A1Ff26e41B"}});
  ASSERT_TRUE(transfers.ok()) << transfers.error();
  EXPECT_TRUE(transfers->unused.empty());
}

// A value that is not UTF-8 (a .env file saved in Latin-1) is refused by name, its bytes not
// echoed; UTF-8 text beyond ASCII is taken.
TEST(Settings, ValuesMustBeUtf8) {
  for (const char* name : {"PAYMENTS_CREDIT_UNIT", "PAYMENTS_TEST_RUN_ID", "PAYMENTS_API_ADMIN_TOKEN", "PAYMENTS_API_PORT",
                           "PAYMENT_KEYSTORE_PASSWORD", "PAYMENT_DRY_RUN"}) {
    auto s = load({{name, "caf\xe9"}});
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_EQ(s.error(), std::string(name) + " must be UTF-8 text (got \"<4 bytes that are not UTF-8>\")");
  }
  for (const char* bad : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe6\x97"})
    EXPECT_FALSE(load({{"PAYMENTS_CREDIT_UNIT", bad}}).ok()) << bad;
  auto good = load({{"PAYMENTS_CREDIT_UNIT", "\xc3\x89TH"}, {"PAYMENTS_TEST_RUN_ID", "run-\xf0\x9f\x98\x80"}});
  ASSERT_TRUE(good.ok()) << good.error();
  EXPECT_EQ(good->test_run_id, "run-\xf0\x9f\x98\x80");
  EXPECT_EQ(good->credit_unit, "\xc3\xa9th");  // lower-cased as Python's str.lower() does
}

TEST(Settings, HostsForSurfacesDropCasePortAndTrailingDot) {
  EXPECT_EQ(host_for_surface("Edge.Example.com.:443"), "edge.example.com");
  EXPECT_EQ(host_for_surface("edge.example.com"), "edge.example.com");
  EXPECT_EQ(host_for_surface("10.0.0.1:8081"), "10.0.0.1");
  EXPECT_EQ(host_for_surface("[0:0::1]:80"), "[::1]");
  EXPECT_EQ(host_for_surface("[::1]"), "[::1]");
  EXPECT_EQ(host_for_surface("edge.example:"), "edge.example");  // an empty port (RFC 3986)
  EXPECT_EQ(host_for_surface("[::1]:"), "[::1]");
  for (const char* bad : {"", ":80", ":", "a:123456", "a::1", "a b", "[::1", "[::1]x", "caf\xc3\xa9.example"})
    EXPECT_EQ(host_for_surface(bad), std::nullopt) << bad;
}

// A trusted proxy block with host bits set is the block they fall in (Python's
// ip_network(strict=False), as the reference reads it), with a warning; the manager allowlist
// stays strict.
TEST(Settings, TrustedProxyBlocksWithHostBitsAreTheirBlock) {
  auto s = load({{"PAYMENTS_TRUSTED_PROXY_CIDRS", "172.17.0.1/16, fd00::1/64, 10.0.0.0/8"}});
  ASSERT_TRUE(s.ok()) << s.error();
  ASSERT_EQ(s->trusted_proxy_cidrs.size(), 3u);
  EXPECT_EQ(s->trusted_proxy_cidrs[0].text(), "172.17.0.0/16");
  EXPECT_TRUE(s->trusted_proxy_cidrs[0].contains("172.17.9.9"));
  EXPECT_FALSE(s->trusted_proxy_cidrs[0].contains("172.18.0.1"));
  EXPECT_EQ(s->trusted_proxy_cidrs[1].text(), "fd00::/64");
  EXPECT_TRUE(s->trusted_proxy_cidrs[1].contains("fd00::abcd"));
  EXPECT_EQ(s->trusted_proxy_cidrs[2].text(), "10.0.0.0/8");
  ASSERT_EQ(s->warnings.size(), 2u);
  EXPECT_NE(s->warnings[0].find("172.17.0.1/16 has bits set after its prefix; read as 172.17.0.0/16"), std::string::npos)
      << s->warnings[0];
  EXPECT_TRUE(load({{"PAYMENTS_TRUSTED_PROXY_CIDRS", "10.0.0.0/8"}})->warnings.empty());
  EXPECT_FALSE(load({{"PAYMENTS_MANAGER_IP_ALLOWLIST", "10.0.0.1/8"}}).ok());
}

// The reference's settings that this node does not act on are named at start: its payment
// loop's (PAYMENT_DRY_RUN=false gets its own warning: nothing is sent by itself), its
// checkpoint witness's, its rank contract's ABI, its health service's port.
TEST(Settings, TheReferencesSettingsNothingReadsAreListed) {
  auto s = load({{"PAYMENT_INTERVAL_SECONDS", "3600"}, {"PAYMENT_PAYOUT_THRESHOLD_ETH", "0.01"},
                 {"PAYMENT_INCREMENT_ETH", "0.00001"}, {"CHECKPOINT_RPC_URL", "http://x"},
                 {"CHECKPOINT_INTERVAL_SECONDS", "60"}, {"TOP_CONTRACT_FUNCTION", "f"}, {"TOP_CONTRACT_ABI_JSON", "[]"},
                 {"MIN_SERVICE_UPTIME", "80"}, {"ORCHESTRATOR_HEALTH_PORT", "9090"}, {"PAYMENT_DRY_RUN", "true"},
                 {"CHECKPOINT_CONTRACT_ADDRESS", "0x00000000000000000000000000000000000000aa"}, {"TOP_CONTRACT_ADDRESS", ""}});
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->unused, (std::vector<std::string>{"CHECKPOINT_INTERVAL_SECONDS", "CHECKPOINT_RPC_URL", "MIN_SERVICE_UPTIME",
                                                 "ORCHESTRATOR_HEALTH_PORT", "PAYMENT_INCREMENT_ETH", "PAYMENT_INTERVAL_SECONDS",
                                                 "PAYMENT_PAYOUT_THRESHOLD_ETH", "TOP_CONTRACT_ABI_JSON", "TOP_CONTRACT_FUNCTION"}));
  EXPECT_TRUE(s->warnings.empty());  // a dry run: what this node does anyway
  for (const char* off : {"false", " False ", "0", "no", "off"}) {
    auto sending = load({{"PAYMENT_DRY_RUN", off}});
    ASSERT_TRUE(sending.ok()) << sending.error();
    ASSERT_EQ(sending->warnings.size(), 1u) << off;
    EXPECT_NE(sending->warnings[0].find("PAYMENT_DRY_RUN is false, but this node sends no payments by itself"),
              std::string::npos);
    EXPECT_TRUE(sending->unused.empty());
  }
}

// The checkpoint binding's chain: CHECKPOINT_CHAIN_ID (the reference's witness publishes there),
// else ETH_CHAIN_ID. The keystore password as written; `~` in a path is the home directory.
TEST(Settings, CheckpointChainKeystorePasswordAndHomePaths) {
  auto s = load({{"CHECKPOINT_CHAIN_ID", "421614"}, {"PAYMENT_KEYSTORE_PASSWORD", "  pass word "},
                 {"PAYMENT_KEYSTORE_PATH", "~/keys/k.json"}, {"PAYMENTS_AUDIT_KEY_PATH", "~"},
                 {"PAYMENTS_BOOTSTRAP_ORCHESTRATORS_PATH", "~other/o.json"}});
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->checkpoint_chain_id, 421614);
  EXPECT_EQ(s->payment_keystore_password, "  pass word ");
  const std::string home = std::getenv("HOME") ? std::getenv("HOME") : "";
  ASSERT_FALSE(home.empty());
  EXPECT_EQ(s->payment_keystore_path, home + "/keys/k.json");
  EXPECT_EQ(s->audit_key_path, home);
  EXPECT_EQ(s->bootstrap_orchestrators_path, "~other/o.json");  // another user's home is not looked up
  // Without $HOME, the password database's home, as expanduser() takes it.
  ::unsetenv("HOME");
  auto without = load({{"PAYMENT_KEYSTORE_PATH", "~/k.json"}});
  ::setenv("HOME", home.c_str(), 1);
  ASSERT_TRUE(without.ok()) << without.error();
  const passwd* user = ::getpwuid(::getuid());
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(without->payment_keystore_path, std::string(user->pw_dir) + "/k.json");
  EXPECT_EQ(load({})->checkpoint_chain_id, std::nullopt);
  for (const char* bad : {"0", "-1", "x"}) {  // empty is unset (SettingsLeftUnusedAreNotRefused)
    auto b = load({{"CHECKPOINT_CHAIN_ID", bad}});
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.error().find("CHECKPOINT_CHAIN_ID"), std::string::npos) << b.error();
  }
}

// Names no setting reads are listed for the start-up warning: a misspelt one, and the
// reference's that do not apply (its file paths); names any setting reads are not.
TEST(Settings, NamesNothingReadsAreListed) {
  auto s = load({{"PAYMENTS_API_PORT", "8082"}, {"payments_api_portt", "1"}, {"PAYMENTS_LEDGER_JOURNAL_PATH", "/x"},
                 {"OTHER_VARIABLE", "y"}, {"payments_viewer_tokens", "v"},
                 {"PAYMENTS_TEE_CORE_STATE_PATH", "sealed/state.b64"}});  // lpops import's
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->unused, (std::vector<std::string>{"PAYMENTS_API_PORTT", "PAYMENTS_LEDGER_JOURNAL_PATH"}));
  EXPECT_TRUE(load({})->unused.empty());
}

TEST(Settings, DescribeNeverShowsSecrets) {
  auto s = load({{"PAYMENTS_API_ADMIN_TOKEN", "super-secret"}, {"PAYMENTS_VIEWER_TOKENS", "view-secret"},
                 {"ETH_RPC_URL", "https://user:rpc-secret@rpc.example/v1"}});
  ASSERT_TRUE(s.ok());
  bool rpc_shown = false;
  for (const auto& [k, v] : s->describe()) {
    EXPECT_EQ(v.find("super-secret"), std::string::npos) << k;
    EXPECT_EQ(v.find("view-secret"), std::string::npos) << k;
    EXPECT_EQ(v.find("rpc-secret"), std::string::npos) << k << "=" << v;
    rpc_shown = rpc_shown || (k == "ETH_RPC_URL" && v.find("rpc.example") != std::string::npos);
  }
  EXPECT_TRUE(rpc_shown);
}

// The reference reads .env files with python-dotenv (through pydantic-settings). Each text here
// was given to python-dotenv 1.2.2's dotenv_values, and the expected values are what it returned:
// comments, quotes and their escapes, values over several lines, quoted names, ${...} expansion.
TEST(Environment, DotenvReadsAsTheReferencesLoader) {
  ::setenv("LPOPS_DOTENV_TEST_HOME", "/home/x", 1);
  for (const char* name : {"LPOPS_DOTENV_TEST_UNSET", "B", "C", "Q"}) ::unsetenv(name);
  const std::vector<std::pair<std::string, std::map<std::string, std::string>>> cases = {
      {"A= # none yet", {{"A", "# none yet"}}},
      {"A=\t# nothing", {{"A", "# nothing"}}},
      {"A=#v", {{"A", "#v"}}},
      {"A=abc#def", {{"A", "abc#def"}}},
      {"A=abc #def", {{"A", "abc"}}},
      {"A=abc\t#def", {{"A", "abc"}}},
      {"A='x' # c", {{"A", "x"}}},
      {"A=\"x\"# c", {{"A", "x"}}},
      {"A=\"s3cr\\et\"", {{"A", "s3cr\\et"}}},
      {"A=\"C:\\path\\x\"", {{"A", "C:\\path\\x"}}},
      {"A=\"a\\qb\\\\c\\\"d\\re\"", {{"A", "a\\qb\\c\"d\re"}}},
      {"A='it\\'s'", {{"A", "it's"}}},
      {"A='a\\\\b'", {{"A", "a\\b"}}},
      {"A=\"a\nb\"", {{"A", "a\nb"}}},
      {"'A'=qk", {{"A", "qk"}}},
      {"A=${LPOPS_DOTENV_TEST_HOME}/x", {{"A", "/home/x/x"}}},
      {"A=\"${LPOPS_DOTENV_TEST_HOME}y\"", {{"A", "/home/xy"}}},
      {"A='${LPOPS_DOTENV_TEST_HOME}'", {{"A", "/home/x"}}},
      {"A=${LPOPS_DOTENV_TEST_UNSET:-dflt}", {{"A", "dflt"}}},
      {"A=${LPOPS_DOTENV_TEST_UNSET}", {{"A", ""}}},
      {"A=$LPOPS_DOTENV_TEST_HOME", {{"A", "$LPOPS_DOTENV_TEST_HOME"}}},
      {"B=1\nA=${B}2", {{"B", "1"}, {"A", "12"}}},
      {"A=${B}\nB=1", {{"A", ""}, {"B", "1"}}},
      {"A=${B:x}", {{"A", "${B:x}"}}},
      {"A=${B:-${C}}", {{"A", "${C}"}}},
      {"A=${Q:${B}}\nB=2", {{"A", "${Q:}"}, {"B", "2"}}},
      {"A=", {{"A", ""}}},
      {"A = b ", {{"A", "b"}}},
      {"export A=b", {{"A", "b"}}},
      {"A==b", {{"A", "=b"}}},
      {" A=b", {{"A", "b"}}},
      {"A=b\r\nC=d\r\n", {{"A", "b"}, {"C", "d"}}},
      {"A=\"\\u00e9\"", {{"A", "\\u00e9"}}},
      {"A='multi\nline'\nB=2", {{"A", "multi\nline"}, {"B", "2"}}},
      {"A=\"\\n\\t\\a\\b\\f\\v\\r\"", {{"A", "\n\t\007\010\014\013\r"}}},
      {"A='\\n'", {{"A", "\\n"}}},
      {"A=a b c", {{"A", "a b c"}}},
      {"A=\"\"", {{"A", ""}}},
      {"A=''", {{"A", ""}}},
      {"A=\"x\" # c", {{"A", "x"}}},
      {"A=\"a\\\\\"", {{"A", "a\\"}}},
      {"A=\"a\\\\\"\nB=1", {{"A", "a\\"}, {"B", "1"}}},
      {"A='x\\''", {{"A", "x'"}}},
      {"export\tA=1", {{"A", "1"}}},
      {"exportA=1", {{"exportA", "1"}}},
      {"A=1\nA=2", {{"A", "2"}}},
      {"A=1\nA", {}},          // a name alone gives None, which replaces the earlier value
      {"A\nA=2", {{"A", "2"}}},
      {"B=\nA=${B:-d}", {{"B", ""}, {"A", ""}}},
      {"A=\"x\" \t", {{"A", "x"}}},
      {"A='#'", {{"A", "#"}}},
      {"A=\"${LPOPS_DOTENV_TEST_HOME\"", {{"A", "${LPOPS_DOTENV_TEST_HOME"}}},
      {"A=$", {{"A", "$"}}},
      {"A=${", {{"A", "${"}}},
      {"A=\\n", {{"A", "\\n"}}},
      {"A=a\\\"b", {{"A", "a\\\"b"}}},
  };
  for (const auto& [text, expected] : cases) {
    auto parsed = Environment::parse_dotenv(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error();
    EXPECT_EQ(*parsed, expected) << text;
  }
  // Statements python-dotenv cannot read (it skips them with a warning): start-up stops here.
  for (const char* text : {"A=\"x\"y", "A=\"x", "A='x", "A b=c", "A=\"q\" \"r\"", "'A=1", "''=1"})
    EXPECT_FALSE(Environment::parse_dotenv(text).ok()) << text;
  // A value that starts with '#' is the value, as there; said, since it reads like a comment.
  std::vector<std::string> notes;
  auto hashed = Environment::parse_dotenv("A=1\nPAYMENTS_API_ADMIN_TOKEN= # set me\n", &notes);
  ASSERT_TRUE(hashed.ok());
  EXPECT_EQ(hashed->at("PAYMENTS_API_ADMIN_TOKEN"), "# set me");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("line 2: the value of PAYMENTS_API_ADMIN_TOKEN starts with '#'"), std::string::npos) << notes[0];
  // A secret's value is not shown in the note; another's is.
  EXPECT_EQ(notes[0].find("set me"), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find("<8 characters, not shown>"), std::string::npos) << notes[0];
  std::vector<std::string> plain;
  ASSERT_TRUE(Environment::parse_dotenv("PAYMENTS_LOG_LEVEL= # debug\n", &plain).ok());
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_NE(plain[0].find("(\"# debug\")"), std::string::npos) << plain[0];
  // Lines are counted across a value that spans several.
  EXPECT_EQ(Environment::parse_dotenv("A='one\ntwo'\n\nB=\"open\n").error(), "line 4 has an unterminated quote");
  ::unsetenv("LPOPS_DOTENV_TEST_HOME");
}

TEST(Environment, DotenvSyntax) {
  auto parsed = Environment::parse_dotenv(
      "# comment\n\nexport A=1\nB = two words # trailing\nC=\"quoted # not a comment\\n\"\nD='single'\nE=\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->at("A"), "1");
  EXPECT_EQ(parsed->at("B"), "two words");
  EXPECT_EQ(parsed->at("C"), "quoted # not a comment\n");
  EXPECT_EQ(parsed->at("D"), "single");
  EXPECT_EQ(parsed->at("E"), "");
  // A name alone sets nothing, and one no setting can have is skipped, each said in a note,
  // as the reference's loader reads both and applies neither.
  std::vector<std::string> notes;
  auto lax = Environment::parse_dotenv("NOEQUALS\nPAYMENTS-X=1\n1B=2\nA=3\n", &notes);
  ASSERT_TRUE(lax.ok()) << lax.error();
  EXPECT_EQ(lax->size(), 1u);
  EXPECT_EQ(lax->at("A"), "3");
  ASSERT_EQ(notes.size(), 3u);
  EXPECT_NE(notes[0].find("line 1 names NOEQUALS without '='"), std::string::npos) << notes[0];
  EXPECT_NE(notes[1].find("line 2: PAYMENTS-X is no setting's name"), std::string::npos) << notes[1];
  EXPECT_NE(notes[2].find("line 3: 1B"), std::string::npos) << notes[2];
  EXPECT_EQ(Environment::parse_dotenv("A B=1\n").error(), "line 1 has an invalid name");
  EXPECT_EQ(Environment::parse_dotenv("=1\n").error(), "line 1 has an invalid name");
  EXPECT_FALSE(Environment::parse_dotenv("A=\"open\n").ok());
  // Text after a closing quote would be dropped: refused; a comment there is fine.
  EXPECT_FALSE(Environment::parse_dotenv("A=\"18904\" junk\n").ok());
  auto quoted = Environment::parse_dotenv("A=\"18904\"  # the port\nexport\tB=2\nC=3\t# tab, then a comment\n");
  ASSERT_TRUE(quoted.ok()) << quoted.error();
  EXPECT_EQ(quoted->at("A"), "18904");
  EXPECT_EQ(quoted->at("B"), "2");
  EXPECT_EQ(quoted->at("C"), "3");
  // A UTF-8 byte-order mark before the first name is not part of it.
  auto marked = Environment::parse_dotenv("\xef\xbb\xbfPAYMENTS_API_PORT=18505\n");
  ASSERT_TRUE(marked.ok()) << marked.error();
  EXPECT_EQ(marked->at("PAYMENTS_API_PORT"), "18505");
  testing::TempDir dir;
  auto as_dir = Environment::load(dir.str());
  ASSERT_FALSE(as_dir.ok());
  EXPECT_NE(as_dir.error().find("is a directory"), std::string::npos) << as_dir.error();
}

// A file that cannot be read is named with the reason, never a stream library's text.
TEST(Environment, AnUnreadableFileIsNamedWithTheReason) {
  auto unreadable = Environment::load(std::string("/proc/self/mem"));  // open works, read fails (EIO)
  ASSERT_FALSE(unreadable.ok());
  EXPECT_EQ(unreadable.error(), std::string("cannot read settings file /proc/self/mem: ") + std::strerror(EIO));
  auto missing = Environment::load(std::string("/nonexistent/lpops.env"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("cannot read settings file /nonexistent/lpops.env"), std::string::npos) << missing.error();
}

// As the reference's loader does, a settings file that is not UTF-8 anywhere (a comment, a
// variable no setting reads) is refused whole; its line is named, its bytes never echoed.
TEST(Environment, ASettingsFileThatIsNotUtf8IsRefusedWithItsLine) {
  testing::TempDir dir;
  const std::string path = dir.str() + "/.env";
  std::ofstream(path) << "PAYMENTS_API_PORT=18001\n# caf\xe9 au lait\nLPOPS_TEST_OTHER=1\n";
  auto latin1 = Environment::load(path);
  ASSERT_FALSE(latin1.ok());
  EXPECT_EQ(latin1.error(), "settings file " + path + " is not UTF-8 text (line 2); save it as UTF-8");
  std::ofstream(path) << "PAYMENTS_API_PORT=18001\nLPOPS_TEST_SECRET=tok\xe9n";  // the last line, unended
  auto last = Environment::load(path);
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(last.error(), "settings file " + path + " is not UTF-8 text (line 2); save it as UTF-8");
  std::ofstream(path) << "# caf\xc3\xa9 au lait\nPAYMENTS_CREDIT_UNIT=\xc3\x89TH\n";  // UTF-8 beyond ASCII
  auto utf8 = Environment::load(path);
  ASSERT_TRUE(utf8.ok()) << utf8.error();
  EXPECT_EQ(utf8->get("PAYMENTS_CREDIT_UNIT").value(), "\xc3\x89TH");
}

TEST(Environment, ProcessEnvironmentWinsOverTheFile) {
  testing::TempDir dir;
  std::string path = dir.str() + "/.env";
  std::ofstream(path) << "LPOPS_TEST_ONLY_FILE=file\nLPOPS_TEST_BOTH=file\n";
  ::setenv("LPOPS_TEST_BOTH", "process", 1);
  auto env = Environment::load(path);
  ::unsetenv("LPOPS_TEST_BOTH");
  ASSERT_TRUE(env.ok()) << env.error();
  EXPECT_EQ(env->get("LPOPS_TEST_ONLY_FILE").value(), "file");
  EXPECT_EQ(env->get("LPOPS_TEST_BOTH").value(), "process");
  EXPECT_FALSE(Environment::load(dir.str() + "/missing.env").ok());
}

TEST(Environment, NamesMatchWhateverTheirCase) {
  testing::TempDir dir;
  std::string path = dir.str() + "/.env";
  std::ofstream(path) << "lpops_test_lower_file=file\nLpops_Test_Mixed=file\nLPOPS_TEST_EXACT=exact\n"
                         "lpops_test_exact=other\n";
  ::setenv("lpops_test_mixed", "process", 1);
  auto env = Environment::load(path);
  ::unsetenv("lpops_test_mixed");
  ASSERT_TRUE(env.ok()) << env.error();
  EXPECT_EQ(env->get("LPOPS_TEST_LOWER_FILE").value(), "file");
  EXPECT_EQ(env->get("LPOPS_TEST_MIXED").value(), "process");  // the process environment still wins
  EXPECT_EQ(env->get("LPOPS_TEST_EXACT").value(), "exact");    // the exact spelling first
  EXPECT_FALSE(env->get("LPOPS_TEST_LOWER_FIL").has_value());

  auto settings = load({{"payments_api_port", "9123"}});
  ASSERT_TRUE(settings.ok()) << settings.error();
  EXPECT_EQ(settings->api_port, 9123);
}

// An address matches networks of its own version only, as Python's ipaddress has it (::/0
// does not trust every IPv4 client, nor does an IPv6 block written over the mapped range); a
// peer in IPv4-mapped form is its IPv4 address to an IPv4 network.
TEST(IpNetwork, MatchesV4V6AndMappedPeers) {
  const struct {
    const char* network;
    const char* ip;
    bool matches;
  } cases[] = {
      {"10.0.0.0/8", "10.1.2.3", true},        {"10.0.0.0/8", "11.0.0.1", false},
      {"10.0.0.0/8", "::ffff:10.9.9.9", true}, {"127.0.0.1", "127.0.0.1", true},
      {"127.0.0.1", "127.0.0.2", false},       {"fd00::/8", "fd12::1", true},
      {"fd00::/8", "fe80::1", false},          {"fd00::/8", "garbage", false},
      {"::/0", "2001:db8::1", true},           {"::/0", "127.0.0.1", false},
      // A block of mapped addresses is the IPv4 block it maps: peers are matched in IPv4 form.
      {"::ffff:127.0.0.0/104", "127.0.0.1", true}, {"::ffff:127.0.0.0/104", "::ffff:127.0.0.1", true},
      {"::ffff:127.0.0.0/104", "128.0.0.1", false}, {"::ffff:10.0.0.1", "10.0.0.1", true},
      {"::fffe:0:0/95", "10.0.0.1", false},    {"::fffe:0:0/95", "::ffff:10.0.0.1", true},  // wider: IPv6
      {"0.0.0.0/0", "2001:db8::1", false},     {"0.0.0.0/0", "::ffff:192.0.2.1", true},
  };
  for (const auto& c : cases) EXPECT_EQ(IpNetwork::parse(c.network).value().contains(c.ip), c.matches) << c.network << " " << c.ip;
  EXPECT_FALSE(IpNetwork::parse("1.2.3.4/40").ok());
  EXPECT_FALSE(IpNetwork::parse("host.example").ok());
  for (const char* signed_prefix : {"10.0.0.0/-0", "10.0.0.0/+8", "fd00::/-0", "10.0.0.0/", "10.0.0.0/ 8"})
    EXPECT_FALSE(IpNetwork::parse(signed_prefix).ok()) << signed_prefix;
  // An IPv4 mask as a netmask or a hostmask, as Python's ip_network reads them.
  for (const char* twelve : {"172.16.0.0/255.240.0.0", "172.16.0.0/0.15.255.255", "172.16.0.0/12"}) {
    const auto n = IpNetwork::parse(twelve);
    ASSERT_TRUE(n.ok()) << twelve << ": " << n.error();
    EXPECT_TRUE(n.value().contains("172.31.255.255")) << twelve;
    EXPECT_FALSE(n.value().contains("172.32.0.0")) << twelve;
  }
  EXPECT_TRUE(IpNetwork::parse("10.0.0.0/0.255.255.255").value().contains("10.9.9.9"));
  EXPECT_TRUE(IpNetwork::parse("0.0.0.0/0.0.0.0").value().contains("8.8.8.8"));             // a netmask of /0
  EXPECT_FALSE(IpNetwork::parse("10.0.0.1/255.255.255.255").value().contains("10.0.0.2"));  // /32
  EXPECT_FALSE(IpNetwork::parse("10.0.0.0/255.0.255.0").ok());                               // neither
  EXPECT_FALSE(IpNetwork::parse("fd00::/255.0.0.0").ok());                                   // IPv6 takes a length
}

// One spelling per address, so that rate limits and last_seen_ip count one client once.
TEST(IpNetwork, OneSpellingPerAddress) {
  for (const char* same : {"2001:db8::1", "2001:DB8::1", "2001:0db8::1", "2001:db8:0:0::1", "2001:db8::0:1", "2001:0DB8:0000:0000:0000:0000:0000:0001"})
    EXPECT_EQ(canonical_ip_text(same), "2001:db8::1") << same;
  for (const char* same : {"9.1.1.1", "::ffff:9.1.1.1", "::FFFF:9.1.1.1", "::ffff:0901:0101"})
    EXPECT_EQ(canonical_ip_text(same), "9.1.1.1") << same;
  EXPECT_EQ(canonical_ip_text("2001:db8:0:1:0:0:0:1"), "2001:db8:0:1::1");  // the longest run of zeros
  EXPECT_EQ(canonical_ip_text("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");  // a single zero group stays
  EXPECT_FALSE(canonical_ip_text("host.example"));
}

// Who a client is: an IPv4 address, an IPv6 client's /64, an IPv4-mapped peer as given, and
// an address a NAT64 translator made for an IPv4 client by itself.
TEST(IpNetwork, AClientIsItsAddressOrItsSlash64) {
  EXPECT_EQ(client_group("198.51.100.7"), "198.51.100.7");
  EXPECT_EQ(client_group("2001:db8::1"), "2001:db8::/64");
  EXPECT_EQ(client_group("2001:db8:0:0:ffff::9"), "2001:db8::/64");
  EXPECT_EQ(client_group("2001:db8:0:1::1"), "2001:db8:0:1::/64");
  EXPECT_EQ(client_group("::ffff:198.51.100.7"), "::ffff:198.51.100.7");
  EXPECT_EQ(client_group("64:ff9b::c633:6407"), "64:ff9b::c633:6407");
  EXPECT_EQ(client_group("64:ff9b:1::c633:6408"), "64:ff9b:1::c633:6408");
  EXPECT_EQ(client_group("not an address"), "not an address");
}

}  // namespace
}  // namespace lpops::config
