// `lpops import` and /api/import: a reference deployment's data directory brought into a
// node, exactly once, with conflicts and bad entries refused whole.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "domain/clock.hpp"
#include "tests/integration/fixture.hpp"
#include "tests/support/anvil_process.hpp"
#include "tests/support/fake_http_server.hpp"
#include "tests/support/openapi_check.hpp"

namespace lpops::testing {
namespace {

const std::vector<std::pair<std::string, std::string>> kAdmin{{"X-Admin-Token", "secret"}};

class ImportTest : public NodeTest {
 protected:
  void SetUp() override {
    start_node({{"PAYMENTS_API_ADMIN_TOKEN", "secret"}, {"PAYMENTS_ADDRESS_DENYLIST", address_of(4)}});
    ref_ = dir_.str() + "/reference";
    std::filesystem::create_directories(ref_);
  }

  void write(const std::string& name, const json::value& v) { std::ofstream(ref_ + "/" + name) << json::serialize(v); }

  CommandResult run_import(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{lpops_binary(), "import", "--from", ref_, "--url",
                                  "http://127.0.0.1:" + std::to_string(node_->port()), "--env-file", "/dev/null"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_command(argv, {{"PAYMENTS_API_ADMIN_TOKEN", "secret"}});
  }

  std::map<std::string, std::string> balances() {
    std::map<std::string, std::string> out;
    auto r = client_->request("GET", "/api/balances", "", kAdmin);
    EXPECT_EQ(r.status, 200);
    const auto answer = parse_json(r.body);
    for (const auto& b : answer.at("balances").as_array())
      out[std::string(b.at("orchestrator_id").as_string())] = std::string(b.at("balance_eth").as_string());
    return out;
  }

  json::value admin_get(const std::string& target) {
    auto r = client_->request("GET", target, "", kAdmin);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return parse_json(r.body);
  }

  HttpResult admin_post(const std::string& target, const json::value& body) {
    return client_->request("POST", target, json::serialize(body), kAdmin);
  }

  // A reference data directory: three orchestrators (one whose address is on this node's
  // denylist), four workloads in no particular order, balances with an exponent, a zero
  // and an amount finer than 1 wei.
  void write_reference() {
    write("registry.json",
          json::object{{"orch-a", json::object{{"orchestrator_id", "orch-a"}, {"address", address_of(1)},
                                               {"capability", "transcoding"}, {"first_seen", "2025-01-02T03:04:05.123456+00:00"},
                                               {"last_seen", "2025-02-02T03:04:05+00:00"}, {"registration_count", 7},
                                               {"is_top_100", true}, {"eligible_for_payments", true}, {"denylisted", false},
                                               {"monitored_services", json::array{"a", "b"}}, {"health_timeout", 5.0},
                                               {"payout_address", address_of(9)}}},
                       {"orch-b", json::object{{"address", "0xAbCdEf0000000000000000000000000000000002"}, {"registration_count", 1}}},
                       {"orch-d", json::object{{"address", address_of(4)}, {"denylisted", false}, {"eligible_for_payments", true}}}});
    write("workloads.json",
          json::object{
              {"w2", json::object{{"orchestrator_id", "orch-a"}, {"artifact_hash", "h2"}, {"payout_amount_eth", "0.5"},
                                  {"status", "verified"}, {"submitted_at", "2025-03-01T00:00:00"}, {"credited", true},
                                  {"credited_at", "2025-03-01T00:00:01"}, {"notes", nullptr}, {"tx_hash", nullptr}}},
              {"w1", json::object{{"orchestrator_id", "orch-b"}, {"artifact_hash", "h1"}, {"payout_amount_eth", "0.25"},
                                  {"status", "pending"}, {"submitted_at", "2025-02-01T00:00:00"}, {"credited", false},
                                  {"credited_at", nullptr}}},
              {"w3", json::object{{"orchestrator_id", "orch-a"}, {"payout_amount_eth", "8.92266E-11"}, {"status", "verified"},
                                  {"submitted_at", "2025-03-02T00:00:00"}, {"credited", true}, {"credited_at", "2025-03-02T00:00:00"},
                                  {"pricing", json::object{{"kind", "workload_time"}, {"duration_ms", 1},
                                                           {"credit_eth_per_minute", "0.000005353596"}, {"credit_unit", "eth"},
                                                           {"computed_at", "2025-03-02T00:00:00"}}}}},
              {"w4", json::object{{"orchestrator_id", "orch-b"}, {"artifact_uri", "s3://x/v.mp4"},
                                  {"payout_amount_eth", "0.1234567890123456789"}, {"status", "paid"},
                                  {"submitted_at", "2025-03-03T00:00:00"}, {"credited", true}, {"credited_at", "2025-03-03T00:00:00"},
                                  {"tx_hash", "0xabc"}}}});
    write("balances.json", json::object{{"orch-a", "1.2004"}, {"orch-b", "2E-3"}, {"orch-d", "0.0000000000000000015"}, {"orch-c", "0"}, {"orch-e", "1E-100"}});
  }

  static std::string iso_now() {
    return iso_utc(now_micros(), UtcSuffix::z);  // the node's clock, read later, is not behind it
  }

  std::string ref_;
};

TEST_F(ImportTest, BringsAReferenceDirectoryOverExactlyOnce) {
  write_reference();
  // A dry run says beforehand what the import will say of the entries it changes.
  auto dry = run_command({lpops_binary(), "import", "--from", ref_, "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  for (const char* line : {"workloads.json: cut to whole wei: w4: 0.1234567890123456789 ETH imported as 0.123456789012345678 ETH",
                           "balances.json: cut to whole wei: orch-d: 0.0000000000000000015 ETH imported as 0.000000000000000001 ETH",
                           "registry.json: field not kept: payout_address"})
    EXPECT_NE(dry.output.find(line), std::string::npos) << line << "\n" << dry.output;
  auto r = run_import();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("registry.json: 3 imported, 0 already there"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("workloads.json: 4 imported, 0 already there"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("balances.json: 3 imported, 0 already there, 2 zero balances skipped"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("balances.json \"orch-e\": 1E-100 ETH is less than 1 wei: not imported"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("w4: 0.1234567890123456789 ETH imported as 0.123456789012345678 ETH"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("orch-d: 0.0000000000000000015 ETH imported as 0.000000000000000001 ETH"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("field not kept: payout_address"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("imported denylisted: orch-d"), std::string::npos) << r.output;

  const std::map<std::string, std::string> expected{{"orch-a", "1.2004"}, {"orch-b", "0.002"}, {"orch-d", "0.000000000000000001"}};
  EXPECT_EQ(balances(), expected);

  // Records as the file had them; the denylist of this node applied.
  auto a = admin_get("/api/orchestrators/orch-a");
  EXPECT_EQ(a.at("registration_count").as_int64(), 7);
  EXPECT_EQ(a.at("first_seen").as_string(), "2025-01-02T03:04:05.123456+00:00");
  EXPECT_EQ(a.at("capability").as_string(), "transcoding");
  EXPECT_FALSE(a.as_object().contains("payout_address"));
  auto d = admin_get("/api/orchestrators/orch-d");
  EXPECT_TRUE(d.at("denylisted").as_bool());
  EXPECT_FALSE(d.at("eligible_for_payments").as_bool());
  // The address stays the orchestrator's: another id may not register it, nor orch-b change it.
  EXPECT_EQ(post("/api/orchestrators/register", json::object{{"orchestrator_id", "x"}, {"address", address_of(1)}}).status, 409);
  EXPECT_EQ(post("/api/orchestrators/register", json::object{{"orchestrator_id", "orch-b"}, {"address", address_of(7)}}).status, 409);

  // Workloads newest first by submission, credited as the file says, amounts in whole wei.
  auto listed = admin_get("/api/workloads").at("workloads").as_array();
  ASSERT_EQ(listed.size(), 4u);
  std::vector<std::string> order;
  for (const auto& w : listed) order.emplace_back(w.at("workload_id").as_string());
  EXPECT_EQ(order, (std::vector<std::string>{"w4", "w3", "w2", "w1"}));
  EXPECT_EQ(listed[0].at("payout_amount_eth").as_string(), "0.123456789012345678");
  EXPECT_TRUE(listed[0].at("credited").as_bool());
  EXPECT_EQ(listed[1].at("payout_amount_eth").as_string(), "0.0000000000892266");
  EXPECT_FALSE(listed[3].at("credited").as_bool());

  // A credited workload is never credited again; an uncredited one credits once, here.
  auto patch = [&](const std::string& id, const char* status) {
    return client_->request("PATCH", "/api/workloads/" + id, json::serialize(json::object{{"status", status}}), kAdmin);
  };
  EXPECT_EQ(patch("w2", "paid").status, 200);
  EXPECT_EQ(patch("w3", "paid").status, 200);
  EXPECT_EQ(balances().at("orch-a"), "1.2004");
  EXPECT_EQ(patch("w1", "verified").status, 200);
  EXPECT_EQ(patch("w1", "paid").status, 200);
  EXPECT_EQ(balances().at("orch-b"), "0.252");

  // Each balance is one ledger entry, reason import, event id import:<id>.
  bool seen = false;
  const auto events = admin_get("/api/ledger/events?orchestrator_id=orch-a");
  for (const auto& e : events.at("events").as_array())
    if (e.at("event_id") == "import:orch-a") {
      seen = true;
      EXPECT_EQ(e.at("reason").as_string(), "import");
      EXPECT_EQ(e.at("delta").as_string(), "1.2004");
    }
  EXPECT_TRUE(seen);
  // Not earned that day: in the stats' net change only.
  const auto stats = admin_get("/api/orchestrators/orch-a/stats?days=1");
  EXPECT_EQ(stats.at("total_credits_eth").as_string(), "0");
  EXPECT_EQ(stats.at("total_adjustments_eth").as_string(), "0");
  EXPECT_EQ(stats.at("total_net_delta_eth").as_string(), "1.2004");

  // Again: nothing changes.
  auto again = run_import();
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("registry.json: 0 imported, 3 already there"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("workloads.json: 0 imported, 4 already there"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("balances.json: 0 imported, 3 already there"), std::string::npos) << again.output;
  EXPECT_EQ(again.output.find("cut to whole wei"), std::string::npos) << again.output;  // only what was imported now
  const std::map<std::string, std::string> after{{"orch-a", "1.2004"}, {"orch-b", "0.252"}, {"orch-d", "0.000000000000000001"}};
  EXPECT_EQ(balances(), after);

  // Durable: the same after a restart, and from the journal alone.
  restart_node({{"PAYMENTS_API_ADMIN_TOKEN", "secret"}});
  EXPECT_EQ(balances(), after);
  EXPECT_EQ(admin_get("/api/orchestrators/orch-a").at("registration_count").as_int64(), 7);
  EXPECT_EQ(run_import().exit_code, 0);
  EXPECT_EQ(balances(), after);
  ASSERT_EQ(node_->terminate(), 0) << node_->log();
  auto replay = run_command({lpops_binary(), "replay", "--data-dir", dir_.str() + "/data", "--json", "--env-file", "/dev/null"});
  ASSERT_EQ(replay.exit_code, 0) << replay.output;
  auto replayed = parse_json(replay.output.substr(replay.output.find('{')));
  EXPECT_EQ(replayed.at("balances").at("orch-b").at("balance_wei").as_string(), "252000000000000000");
  EXPECT_EQ(replayed.at("balances").at("orch-d").at("balance_wei").as_string(), "1");
  // The imported balances are in the transparency log like any adjustment, and it verifies.
  auto verified = run_command({lpops_binary(), "verify", "--log", dir_.str() + "/data/audit.jsonl"});
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_NE(read_all(dir_.str() + "/data/audit.jsonl").find("\"event_id\":\"import:orch-a\""), std::string::npos);
}

// A file of many slices prints its progress at most once a second, and always its end.
TEST_F(ImportTest, ProgressIsPrintedAtMostOnceASecondAndAtTheEnd) {
  constexpr int kWorkloads = 120;
  write("registry.json", json::object{{"orch-a", json::object{{"orchestrator_id", "orch-a"}, {"address", address_of(1)}}}});
  json::object workloads;
  for (int i = 0; i < kWorkloads; ++i)
    workloads["w" + std::to_string(i)] =
        json::object{{"orchestrator_id", "orch-a"}, {"payout_amount_eth", "0.001"}, {"status", "verified"},
                     {"submitted_at", "2025-03-01T00:00:00"}, {"credited", true}, {"credited_at", "2025-03-01T00:00:01"}};
  write("workloads.json", workloads);
  const auto started = std::chrono::steady_clock::now();
  auto r = run_import({"--per-request", "1"});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("workloads.json: " + std::to_string(kWorkloads) + " imported, 0 already there"), std::string::npos) << r.output;
  for (const std::string what : {"checked", "sent"}) {
    std::vector<std::string> lines;
    std::istringstream in(r.output);
    for (std::string line; std::getline(in, line);)
      if (line.starts_with("workloads.json: ") && line.find(" " + what) != std::string::npos) lines.push_back(line);
    ASSERT_FALSE(lines.empty()) << what << "\n" << r.output;
    // One a second at most (the run's whole length bounds each phase), against 120 slices.
    EXPECT_LE(lines.size(), static_cast<std::size_t>(seconds) + 1) << what << "\n" << r.output;
    const std::string end = "workloads.json: " + std::to_string(kWorkloads) + "/" + std::to_string(kWorkloads) + " " + what;
    EXPECT_TRUE(lines.back().starts_with(end)) << lines.back();
  }
}

TEST_F(ImportTest, ConflictsAreListedAndNothingOfTheRequestIsImported) {
  register_orchestrator("orch-a", address_of(1));
  // orch-a under another address, and a new record beside it: neither is taken.
  write("registry.json", json::object{{"orch-a", json::object{{"address", address_of(2)}}},
                                      {"orch-z", json::object{{"address", address_of(3)}}},
                                      {"orch-y", json::object{{"address", address_of(1)}}}});
  auto r = run_import();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("registered here with address " + address_of(1)), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("is registered here to orchestrator orch-a"), std::string::npos) << r.output;
  EXPECT_EQ(client_->request("GET", "/api/orchestrators/orch-z", "", kAdmin).status, 404);
  EXPECT_EQ(client_->request("GET", "/api/orchestrators/orch-y", "", kAdmin).status, 404);

  // Balances: one import per id; another amount later is a conflict; an unknown id waits for
  // its record. Each refusal leaves the whole request out.
  auto ok = admin_post("/api/import/balances", json::object{{"orch-a", "1"}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto twice = admin_post("/api/import/balances", json::object{{"orch-a", "2"}});
  EXPECT_EQ(twice.status, 409) << twice.body;
  EXPECT_NE(twice.body.find("a balance of 1 ETH was imported for this id before"), std::string::npos) << twice.body;
  auto unknown = admin_post("/api/import/balances", json::object{{"ghost", "1"}});
  EXPECT_EQ(unknown.status, 409) << unknown.body;
  EXPECT_NE(unknown.body.find("Unknown orchestrator ghost"), std::string::npos) << unknown.body;
  EXPECT_EQ(balances().at("orch-a"), "1");
  EXPECT_EQ(admin_post("/api/import/balances", json::object{{"orch-a", "1.0"}}).status, 200);  // the same amount: existing
  EXPECT_EQ(balances().at("orch-a"), "1");

  // Workloads: none older than what the ledger already holds (listings read it newest first),
  // none for an unknown orchestrator, none where the ledger holds other data under the id.
  ASSERT_EQ(post("/api/workloads", json::object{{"workload_id", "live"}, {"orchestrator_id", "orch-a"}, {"artifact_hash", "h"},
                                                {"payout_amount_eth", "1"}}, kAdmin).status,
            200);
  auto old = admin_post("/api/import/workloads",
                        json::object{{"new-one", json::object{{"orchestrator_id", "orch-a"}, {"payout_amount_eth", "1"}, {"status", "pending"},
                                                              {"submitted_at", iso_now()}}},
                                     {"old-one", json::object{{"orchestrator_id", "orch-a"}, {"payout_amount_eth", "1"}, {"status", "pending"},
                                                              {"submitted_at", "2025-01-01T00:00:00"}}},
                                     {"live", json::object{{"orchestrator_id", "orch-a"}, {"payout_amount_eth", "2"}, {"status", "pending"},
                                                           {"submitted_at", iso_now()}}},
                                     {"nobody", json::object{{"orchestrator_id", "ghost"}, {"payout_amount_eth", "1"}, {"status", "pending"},
                                                             {"submitted_at", iso_now()}}}});
  EXPECT_EQ(old.status, 409) << old.body;
  auto conflicts = parse_json(old.body).at("conflicts").as_array();
  EXPECT_EQ(conflicts.size(), 3u) << old.body;
  EXPECT_NE(old.body.find("is older than"), std::string::npos) << old.body;
  EXPECT_NE(old.body.find("with payout_amount_eth 1"), std::string::npos) << old.body;
  EXPECT_NE(old.body.find("Unknown orchestrator ghost"), std::string::npos) << old.body;
  EXPECT_EQ(admin_get("/api/workloads").at("workloads").as_array().size(), 1u);
  EXPECT_EQ(balances(), (std::map<std::string, std::string>{{"orch-a", "1"}}));
}

TEST_F(ImportTest, BadEntriesAre422AndChangeNothing) {
  register_orchestrator("orch-a", address_of(1));
  auto expect_422 = [&](const char* route, const json::object& body, const std::string& where) {
    auto r = admin_post(std::string("/api/import/") + route, body);
    EXPECT_EQ(r.status, 422) << route << " " << json::serialize(body) << " -> " << r.body;
    EXPECT_NE(r.body.find(where), std::string::npos) << r.body;
  };
  const json::object good_record{{"address", address_of(5)}};
  expect_422("registry", json::object{{"fine", good_record}, {"bad", json::object{{"address", "0xzz"}}}}, R"(["body","bad","address"])");
  expect_422("registry", json::object{{"fine", good_record}, {"bad", json::object{{"address", address_of(6)}, {"registration_count", -1}}}},
             "registration_count");
  expect_422("registry", json::object{{"bad", json::object{{"orchestrator_id", "other"}, {"address", address_of(6)}}}}, "must equal the record's key");
  expect_422("registry", json::object{{"__system__", good_record}}, "reserved");
  expect_422("registry", json::object{{std::string(129, 'x'), good_record}}, "1-128 characters");
  EXPECT_EQ(client_->request("GET", "/api/orchestrators/fine", "", kAdmin).status, 404);

  const json::object w{{"orchestrator_id", "orch-a"}, {"payout_amount_eth", "1"}, {"status", "pending"}, {"submitted_at", "2099-01-01T00:00:00"}};
  auto with = [&](const char* key, json::value v) {
    json::object o = w;
    if (v.is_null()) o.erase(key);
    else o[key] = std::move(v);
    return json::object{{"ok", w}, {"bad", std::move(o)}};
  };
  expect_422("workloads", with("payout_amount_eth", 0.5), "not a JSON number with a fraction");
  expect_422("workloads", with("payout_amount_eth", "-1"), "must not be negative");
  expect_422("workloads", with("payout_amount_eth", "abc"), "payout_amount_eth");
  expect_422("workloads", with("status", "done"), "must be pending, verified, paid or rejected");
  expect_422("workloads", with("submitted_at", nullptr), "submitted_at is required");
  expect_422("workloads", with("submitted_at", "yesterday"), "ISO 8601");
  expect_422("workloads", with("credited", "yes"), "credited must be true or false");
  expect_422("workloads", with("notes", json::value(std::string(1025, 'n'))), "at most 1024");
  expect_422("workloads", with("pricing", json::object{{"duration_ms", -5}}), "pricing");
  // A zone that takes a time past 9999 in UTC (10000-01-01T02:59:59Z): kept, it would read
  // back as no time at all after a restart.
  expect_422("workloads", with("credited_at", "9999-12-31T23:59:59-03:00"), R"(["body","bad","credited_at"])");
  {
    // Every problem of an entry, each at its own field.
    json::object bad = w;
    bad["status"] = "done";
    bad["credited"] = "yes";
    auto r = admin_post("/api/import/workloads", json::object{{"bad", bad}});
    EXPECT_EQ(r.status, 422) << r.body;
    auto detail = parse_json(r.body).at("detail").as_array();
    ASSERT_EQ(detail.size(), 2u) << r.body;
    EXPECT_EQ(json::serialize(detail[0].at("loc")), R"(["body","bad","status"])");
    EXPECT_EQ(json::serialize(detail[1].at("loc")), R"(["body","bad","credited"])");
    EXPECT_EQ(detail[1].at("input"), json::value("yes"));
  }
  EXPECT_EQ(admin_get("/api/workloads").at("workloads").as_array().size(), 0u);

  expect_422("balances", json::object{{"orch-a", "1"}, {"bad", "1.2.3"}}, R"(["body","bad"])");
  expect_422("balances", json::object{{"orch-a", 1.5}}, "not a JSON number with a fraction");
  json::object many;
  for (int i = 0; i < 1001; ++i) many["o" + std::to_string(i)] = "1";
  expect_422("balances", many, "At most 1000 entries");
  EXPECT_EQ(balances(), (std::map<std::string, std::string>{{"orch-a", "0"}}));

  // The admin token only; a node without one has no import routes.
  EXPECT_EQ(client_->request("POST", "/api/import/balances", R"({"orch-a":"1"})", {}).status, 401);
  EXPECT_EQ(client_->request("POST", "/api/import/balances", R"({"orch-a":"1"})", {{"X-Admin-Token", "wrong"}}).status, 401);

  // The command line reads every entry first and sends nothing when one is bad.
  write("registry.json", json::object{{"orch-n", json::object{{"address", address_of(8)}}}});
  write("balances.json", json::object{{"orch-n", "1"}, {"orch-m", "one"}});
  auto r = run_import();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("balances.json \"orch-m\": amount is not a decimal number"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1 entry cannot be imported as it is; nothing was sent"), std::string::npos) << r.output;
  // Every problem of every entry is listed; the count is of entries.
  write("workloads.json", json::object{{"w-bad", json::object{{"orchestrator_id", "orch-n"},
                                                              {"payout_amount_eth", "-1"},
                                                              {"status", "done"},
                                                              {"submitted_at", "2099-01-01T00:00:00"}}}});
  r = run_import();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("workloads.json \"w-bad\": payout_amount_eth must not be negative"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("workloads.json \"w-bad\": status must be pending, verified, paid or rejected"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("2 entries cannot be imported as they are; nothing was sent"), std::string::npos) << r.output;
  std::filesystem::remove(ref_ + "/workloads.json");
  EXPECT_EQ(client_->request("GET", "/api/orchestrators/orch-n", "", kAdmin).status, 404);
  auto dry = run_command({lpops_binary(), "import", "--from", ref_, "--dry-run"});
  EXPECT_EQ(dry.exit_code, 1) << dry.output;
  write("balances.json", json::object{{"orch-n", "1"}});
  dry = run_command({lpops_binary(), "import", "--from", ref_, "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("registry.json 1 records, workloads.json 0 workloads, balances.json 1 balances"), std::string::npos)
      << dry.output;
  EXPECT_EQ(client_->request("GET", "/api/orchestrators/orch-n", "", kAdmin).status, 404);
  auto empty = run_command({lpops_binary(), "import", "--from", dir_.str() + "/data/nothing-here", "--dry-run"});
  EXPECT_EQ(empty.exit_code, 2) << empty.output;
  std::filesystem::create_directories(dir_.str() + "/empty");
  empty = run_command({lpops_binary(), "import", "--from", dir_.str() + "/empty", "--dry-run"});
  EXPECT_EQ(empty.exit_code, 2) << empty.output;
  EXPECT_NE(empty.output.find("holds none of"), std::string::npos) << empty.output;
}

// What a review of the first version found, each now refused or carried over.
TEST_F(ImportTest, CreditsAreNeverCountedTwiceAndFlagsAreNotLost) {
  register_orchestrator("o1", address_of(1));
  register_orchestrator("o2", address_of(2));
  // A workload this node credited itself, which the (newer) file has credited too: its amount
  // is in the file's balance as well.
  ASSERT_EQ(post("/api/workloads", json::object{{"workload_id", "job-1"}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"},
                                                {"payout_amount_eth", "0.5"}}, kAdmin).status,
            200);
  ASSERT_EQ(client_->request("PATCH", "/api/workloads/job-1", R"({"status":"paid"})", kAdmin).status, 200);
  const json::object credited{{"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"payout_amount_eth", "0.5"}, {"status", "paid"},
                              {"submitted_at", "2025-03-01T00:00:00"}, {"credited", true}};
  auto twice = admin_post("/api/import/workloads", json::object{{"job-1", credited}});
  EXPECT_EQ(twice.status, 409) << twice.body;
  EXPECT_NE(twice.body.find("credited the workload itself"), std::string::npos) << twice.body;

  // Imported uncredited, credited here, then the file credited: the same.
  json::object pending = credited;
  pending["credited"] = false;
  pending["status"] = "verified";
  pending["submitted_at"] = "2026-01-01T00:00:00";
  ASSERT_EQ(admin_post("/api/import/workloads", json::object{{"job-2", pending}}).status, 409);  // older than job-1 here
  pending["submitted_at"] = "2099-01-01T00:00:00";
  auto future = admin_post("/api/import/workloads", json::object{{"job-2", pending}});
  EXPECT_EQ(future.status, 409) << future.body;
  EXPECT_NE(future.body.find("later than this node's clock"), std::string::npos) << future.body;

  // A workload imported credited may be imported again (its credit is only in the balance).
  json::object fresh = credited;
  fresh["submitted_at"] = iso_now();
  ASSERT_EQ(admin_post("/api/import/workloads", json::object{{"job-3", fresh}}).status, 200);
  fresh["notes"] = "changed there";
  auto again = admin_post("/api/import/workloads", json::object{{"job-3", fresh}});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_NE(again.body.find(R"("kept_as_here":["job-3"])"), std::string::npos) << again.body;
  EXPECT_EQ(balances().at("o1"), "0.5");

  // The reference's denylist flag is never cleared: a record denylisted there is not taken as
  // "already here" while this node has it eligible.
  auto flag = admin_post("/api/import/registry", json::object{{"o2", json::object{{"address", address_of(2)}, {"denylisted", true}}}});
  EXPECT_EQ(flag.status, 409) << flag.body;
  EXPECT_NE(flag.body.find("PAYMENTS_ADDRESS_DENYLIST"), std::string::npos) << flag.body;
  EXPECT_FALSE(admin_get("/api/orchestrators/o2").at("denylisted").as_bool());

  // Adjustment keys and imported balances do not share ids.
  auto keyed = client_->request("POST", "/api/ledger/adjustments", R"({"orchestrator_id":"o2","amount_eth":"0.01"})",
                                {{"X-Admin-Token", "secret"}, {"Idempotency-Key", "import:o2"}});
  ASSERT_EQ(keyed.status, 200) << keyed.body;
  auto balance = admin_post("/api/import/balances", json::object{{"o2", "5"}});
  ASSERT_EQ(balance.status, 200) << balance.body;
  auto other = client_->request("POST", "/api/ledger/adjustments", R"({"orchestrator_id":"o1","amount_eth":"0.01"})",
                                {{"X-Admin-Token", "secret"}, {"Idempotency-Key", "import:o1"}});
  EXPECT_EQ(other.status, 200) << other.body;
  EXPECT_EQ(balances().at("o2"), "5.01");

  // Pricing must agree with the amount; counters stay within what the node can count.
  json::object priced{{"orchestrator_id", "o1"}, {"payout_amount_eth", "5"}, {"status", "verified"}, {"submitted_at", "2025-01-01T00:00:00"},
                      {"credited", false},
                      {"pricing", json::object{{"duration_ms", 1}, {"credit_eth_per_minute", "abc"}}}};
  auto bad_rate = admin_post("/api/import/workloads", json::object{{"p1", priced}});
  EXPECT_EQ(bad_rate.status, 422) << bad_rate.body;
  priced["pricing"].as_object()["credit_eth_per_minute"] = "0.000005353596";
  auto bad_amount = admin_post("/api/import/workloads", json::object{{"p1", priced}});
  EXPECT_EQ(bad_amount.status, 422) << bad_amount.body;
  EXPECT_NE(bad_amount.body.find("is not pricing.duration_ms"), std::string::npos) << bad_amount.body;
  auto count = admin_post("/api/import/registry",
                          json::object{{"o9", json::object{{"address", address_of(9)}, {"registration_count", 9223372036854775807LL}}}});
  EXPECT_EQ(count.status, 422) << count.body;
  // What the reference stores unchecked is taken at its length.
  auto long_ip = admin_post("/api/import/registry",
                            json::object{{"o8", json::object{{"address", address_of(8)}, {"last_seen_ip", std::string(200, '1')},
                                                             {"monitored_services", json::array{json::value(std::string(5000, 's'))}}}}});
  EXPECT_EQ(long_ip.status, 200) << long_ip.body;
}

// A record imported outside the top set keeps its flag through a bootstrap registration (the
// rank check skipped), as in the reference; a registration over HTTP, which passed the check,
// sets it. The first registration of an imported record refreshes it.
TEST_F(ImportTest, ARegistrationWithoutRankCheckKeepsTheImportedTopFlag) {
  auto imported = admin_post("/api/import/registry",
                             json::object{{"z1", json::object{{"address", address_of(5)}, {"is_top_100", false},
                                                              {"eligible_for_payments", false}, {"registration_count", 0}}}});
  ASSERT_EQ(imported.status, 200) << imported.body;
  restart_node({{"PAYMENTS_API_ADMIN_TOKEN", "secret"},
                {"PAYMENTS_BOOTSTRAP_ORCHESTRATORS", R"([{"orchestrator_id":"z1","address":")" + address_of(5) + R"("}])"}});
  auto z1 = admin_get("/api/orchestrators/z1");
  EXPECT_EQ(z1.at("registration_count").as_int64(), 1) << z1;
  EXPECT_FALSE(z1.at("is_top_100").as_bool()) << z1;
  EXPECT_FALSE(z1.at("eligible_for_payments").as_bool()) << z1;
  auto http = post("/api/orchestrators/register", json::object{{"orchestrator_id", "z1"}, {"address", address_of(5)}});
  ASSERT_EQ(http.status, 200) << http.body;
  EXPECT_EQ(parse_json(http.body).at("message").as_string(), "Registration refreshed") << http.body;
  EXPECT_TRUE(parse_json(http.body).at("is_top_100").as_bool()) << http.body;
  auto fresh = admin_post("/api/import/registry", json::object{{"z2", json::object{{"address", address_of(6)}, {"registration_count", 0}}}});
  ASSERT_EQ(fresh.status, 200) << fresh.body;
  auto first = post("/api/orchestrators/register", json::object{{"orchestrator_id", "z2"}, {"address", address_of(6)}});
  EXPECT_EQ(parse_json(first.body).at("message").as_string(), "Registration refreshed") << first.body;
}

// A record without its top-set or eligibility flag, or with null there, is not eligible, as
// the reference reads it (bool of a missing or null value).
TEST_F(ImportTest, AMissingOrNullTopFlagIsFalseAsTheReferenceReadsIt) {
  auto imported = admin_post("/api/import/registry",
                             json::object{{"n1", json::object{{"address", address_of(11)}}},
                                          {"n2", json::object{{"address", address_of(12)}, {"is_top_100", nullptr},
                                                              {"eligible_for_payments", nullptr}}},
                                          {"n3", json::object{{"address", address_of(13)}, {"is_top_100", true},
                                                              {"eligible_for_payments", true}}}});
  ASSERT_EQ(imported.status, 200) << imported.body;
  for (const char* id : {"n1", "n2"}) {
    auto rec = admin_get(std::string("/api/orchestrators/") + id);
    EXPECT_FALSE(rec.at("is_top_100").as_bool()) << rec;
    EXPECT_FALSE(rec.at("eligible_for_payments").as_bool()) << rec;
  }
  auto n3 = admin_get("/api/orchestrators/n3");
  EXPECT_TRUE(n3.at("is_top_100").as_bool()) << n3;
  EXPECT_TRUE(n3.at("eligible_for_payments").as_bool()) << n3;
}

// payouts.json holds payouts livepeer-ops sent and has not seen confirmed; their amounts are
// still in balances.json. The import refuses them unless told to reserve each here, at what
// livepeer-ops would debit: the amount, or the balance when that is less.
TEST_F(ImportTest, PendingPayoutsRefuseTheImportOrAreReserved) {
  write_reference();
  const std::string tx_a = "0x" + std::string(64, 'A'), tx_b = "0x" + std::string(64, 'b');
  const json::object pending_payouts{
      {"orch-a", json::object{{"tx_hash", tx_a}, {"recipient", address_of(1)}, {"amount_eth", "1.2"},
                              {"strategy", "direct"}, {"submitted_at", "2025-03-04T00:00:00+00:00"}}},
      {"orch-b", json::object{{"tx_hash", tx_b}, {"recipient", address_of(2)}, {"amount_eth", "0.01"},
                              {"strategy", "livepeer_ticket"}, {"batch", true}}},
      {"orch-x", json::object{{"tx_hash", ""}, {"amount_eth", "3"}}}};
  // One for an orchestrator registry.json brings in that the node will hold denylisted (its
  // address on PAYMENTS_ADDRESS_DENYLIST): found by the check, before anything is sent.
  write("payouts.json", json::object{{"orch-d", json::object{{"tx_hash", "0x" + std::string(64, 'd')}, {"recipient", address_of(4)},
                                                             {"amount_eth", "0.000000000000000001"}}}});
  auto to_denied = run_import({"--pending-payouts", "reserve", "--ignore-tee-core-state"});
  EXPECT_EQ(to_denied.exit_code, 1) << to_denied.output;
  EXPECT_NE(to_denied.output.find("the node holds its orchestrator denylisted"), std::string::npos) << to_denied.output;
  EXPECT_TRUE(balances().empty()) << "something was imported";
  write("payouts.json", pending_payouts);
  auto refused = run_import();
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("payouts.json holds 2 payouts livepeer-ops sent and has not seen confirmed"), std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("orch-a\": 1.2 ETH to " + address_of(1) + " in 0x" + std::string(64, 'a')), std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("1 records without a transaction"), std::string::npos) << refused.output;
  EXPECT_TRUE(balances().empty()) << "something was imported";
  auto dry = run_command({lpops_binary(), "import", "--from", ref_, "--dry-run"});
  EXPECT_EQ(dry.exit_code, 1) << dry.output;
  dry = run_command({lpops_binary(), "import", "--from", ref_, "--dry-run", "--pending-payouts", "reserve"});
  EXPECT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("payouts.json: 2 pending payouts to reserve"), std::string::npos) << dry.output;
  EXPECT_NE(dry.output.find("(reserved: 0.002 ETH, its balance)"), std::string::npos) << dry.output;
  EXPECT_EQ(run_command({lpops_binary(), "import", "--from", ref_, "--dry-run", "--pending-payouts", "ignore"}).exit_code, 2);  // usage

  // A TEE core's sealed state refuses it too, unless the operator says it held no balances.
  std::ofstream(ref_ + "/tee_core_state.b64") << "c2VhbGVk";
  auto sealed = run_import({"--pending-payouts", "reserve"});
  EXPECT_EQ(sealed.exit_code, 1) << sealed.output;
  EXPECT_NE(sealed.output.find("tee_core_state.b64"), std::string::npos) << sealed.output;
  EXPECT_TRUE(balances().empty()) << "something was imported";

  // Or where PAYMENTS_TEE_CORE_STATE_PATH put it (relative: within the data directory).
  std::filesystem::create_directories(ref_ + "/sealed");
  std::filesystem::rename(ref_ + "/tee_core_state.b64", ref_ + "/sealed/state.b64");
  auto elsewhere = run_command({lpops_binary(), "import", "--from", ref_, "--dry-run", "--pending-payouts", "reserve"},
                               {{"PAYMENTS_TEE_CORE_STATE_PATH", "sealed/state.b64"}});
  EXPECT_EQ(elsewhere.exit_code, 1) << elsewhere.output;
  EXPECT_NE(elsewhere.output.find("sealed/state.b64 is a TEE core's sealed state"), std::string::npos) << elsewhere.output;

  for (int round = 0; round < 2; ++round) {  // a second import changes nothing
    auto done = run_import({"--pending-payouts", "reserve", "--ignore-tee-core-state"});
    ASSERT_EQ(done.exit_code, 0) << done.output;
    EXPECT_NE(done.output.find("payouts.json: 2 pending payouts reserved here"), std::string::npos) << done.output;
    auto listing = admin_get("/api/payouts");
    const auto& rows = listing.at("payouts").as_array();
    ASSERT_EQ(rows.size(), 2u) << listing;
    std::map<std::string, json::object> by_orchestrator;
    for (const auto& row : rows) by_orchestrator[std::string(row.at("orchestrator_id").as_string())] = row.as_object();
    const auto& a = by_orchestrator.at("orch-a");
    EXPECT_EQ(a.at("status").as_string(), "reserved");
    EXPECT_EQ(a.at("amount_eth").as_string(), "1.2");
    EXPECT_EQ(a.at("recipient").as_string(), address_of(1));
    EXPECT_EQ(std::string(a.at("payout_id").as_string()).substr(0, 78), "livepeer-ops-" + std::string(64, 'a') + "-");
    EXPECT_NE(std::string(a.at("notes").as_string()).find("sent in 0x" + std::string(64, 'a') + " (direct)"), std::string::npos) << a;
    EXPECT_EQ(by_orchestrator.at("orch-b").at("amount_eth").as_string(), "0.002");  // its whole balance
    auto accounts = admin_get("/api/balances");
    for (const auto& b : accounts.at("balances").as_array()) {
      if (b.at("orchestrator_id") == "orch-a") {
        EXPECT_EQ(b.at("balance_eth").as_string(), "1.2004");
        EXPECT_EQ(b.at("available_eth").as_string(), "0.0004");
      }
      if (b.at("orchestrator_id") == "orch-b") {
        EXPECT_EQ(b.at("available_eth").as_string(), "0");
      }
    }
  }
  const auto payouts_held = [&] { return admin_get("/api/payouts").at("payouts").as_array().size(); };
  // A hash without 0x (web3 v7 wrote them so) is the same payout. One that livepeer-ops would
  // take from credits still to come (no balance above zero) is refused before anything is sent.
  write("payouts.json",
        json::object{{"orch-a", json::object{{"tx_hash", std::string(64, 'A')}, {"recipient", address_of(1)}, {"amount_eth", "1.2"},
                                             {"strategy", "direct"}, {"submitted_at", "2025-03-04T00:00:00+00:00"}}},
                     {"orch-c", json::object{{"tx_hash", "0x" + std::string(64, 'c')}, {"recipient", address_of(3)}, {"amount_eth", "0.1"}}}});
  auto owed = run_import({"--pending-payouts", "reserve", "--ignore-tee-core-state"});
  EXPECT_EQ(owed.exit_code, 1) << owed.output;
  EXPECT_NE(owed.output.find("orch-c\": 0.1 ETH to " + address_of(3) + " in 0x" + std::string(64, 'c') +
                             ": balances.json holds nothing above zero for it"),
            std::string::npos)
      << owed.output;
  EXPECT_EQ(payouts_held(), 2u);
  // A hash that is no hash is no record without a transaction (which livepeer-ops drops): it
  // stops the import, named, rather than leaving the amount unreserved.
  for (const json::value& bad : {json::value("0x1234"), json::value(123), json::value("0x" + std::string(63, 'e') + "g")}) {
    write("payouts.json", json::object{{"orch-e", json::object{{"tx_hash", bad}, {"recipient", address_of(5)}, {"amount_eth", "0.5"},
                                                               {"strategy", "eth_transfer"}}}});
    auto malformed = run_import({"--pending-payouts", "reserve", "--ignore-tee-core-state"});
    EXPECT_NE(malformed.exit_code, 0) << malformed.output;
    EXPECT_NE(malformed.output.find("payouts.json \"orch-e\": tx_hash must be"), std::string::npos) << malformed.output;
    EXPECT_EQ(malformed.output.find("without a transaction"), std::string::npos) << malformed.output;
    EXPECT_EQ(payouts_held(), 2u);
  }
  // One the node would refuse (its orchestrator is denylisted here, its address on
  // PAYMENTS_ADDRESS_DENYLIST) is found in the check: nothing is sent, at every run.
  write("payouts.json",
        json::object{{"orch-a", json::object{{"tx_hash", std::string(64, 'A')}, {"recipient", address_of(1)}, {"amount_eth", "1.2"},
                                             {"strategy", "direct"}, {"submitted_at", "2025-03-04T00:00:00+00:00"}}},
                     {"orch-d", json::object{{"tx_hash", "0x" + std::string(64, 'd')}, {"recipient", address_of(4)},
                                             {"amount_eth", "0.000000000000000001"}}}});
  auto denied = run_import({"--pending-payouts", "reserve", "--ignore-tee-core-state"});
  EXPECT_EQ(denied.exit_code, 1) << denied.output;
  EXPECT_NE(denied.output.find("orch-d\": 0.000000000000000001 ETH to " + address_of(4)), std::string::npos) << denied.output;
  EXPECT_NE(denied.output.find("the node holds its orchestrator denylisted"), std::string::npos) << denied.output;
  EXPECT_NE(denied.output.find("1 pending payouts cannot be reserved; nothing was imported"), std::string::npos) << denied.output;
  EXPECT_EQ(payouts_held(), 2u);

  // One reserved by an earlier run, whose orchestrator the node denylisted since, is answered
  // again as it was: no reason to stop. The same file with one not yet reserved still stops.
  ASSERT_NO_FATAL_FAILURE(restart_node({{"PAYMENTS_API_ADMIN_TOKEN", "secret"},
                                        {"PAYMENTS_ADDRESS_DENYLIST", address_of(4) + "," + address_of(1)},
                                        {"PAYMENTS_REGISTRATION_PER_MINUTE", "1000"}}));
  EXPECT_EQ(post("/api/orchestrators/register", json::object{{"orchestrator_id", "orch-a"}, {"address", address_of(1)}}).status, 403);
  ASSERT_TRUE(admin_get("/api/orchestrators/orch-a").at("denylisted").as_bool());
  write("payouts.json", json::object{{"orch-a", json::object{{"tx_hash", std::string(64, 'A')}, {"recipient", address_of(1)},
                                                             {"amount_eth", "1.2"}, {"strategy", "direct"},
                                                             {"submitted_at", "2025-03-04T00:00:00+00:00"}}}});
  auto reserved_before = run_import({"--pending-payouts", "reserve", "--ignore-tee-core-state"});
  EXPECT_EQ(reserved_before.exit_code, 0) << reserved_before.output;
  EXPECT_EQ(reserved_before.output.find("cannot be reserved"), std::string::npos) << reserved_before.output;
  EXPECT_EQ(payouts_held(), 2u);
  write("payouts.json", json::object{{"orch-a", json::object{{"tx_hash", "0x" + std::string(64, 'f')}, {"recipient", address_of(1)},
                                                             {"amount_eth", "0.0001"}}}});
  auto new_one = run_import({"--pending-payouts", "reserve", "--ignore-tee-core-state"});
  EXPECT_EQ(new_one.exit_code, 1) << new_one.output;
  EXPECT_NE(new_one.output.find("the node holds its orchestrator denylisted"), std::string::npos) << new_one.output;
  EXPECT_EQ(payouts_held(), 2u);
}

// Each import answer carries the fields /openapi.json requires of it, and no others; the
// optional lists appear when they have entries.
// payouts.json and workloads.json are read where the deployment's PAYMENTS_PAYOUTS_PATH and
// PAYMENTS_WORKLOADS_PATH put them: a pending payout kept elsewhere still refuses the import
// (else the balance that still holds it would be imported, and paid again). Every file not
// found is said.
TEST_F(ImportTest, FilesWhereTheDeploymentKeptThemAreFound) {
  write_reference();
  std::filesystem::create_directories(ref_ + "/state");
  std::filesystem::rename(ref_ + "/workloads.json", ref_ + "/state/workloads.json");
  const json::object pending{{"orch-a", json::object{{"tx_hash", "0x" + std::string(64, 'a')}, {"recipient", address_of(1)},
                                                     {"amount_eth", "1.2"}}}};
  std::ofstream(ref_ + "/state/payouts.json") << json::serialize(pending);
  auto import_with = [&](std::map<std::string, std::string> env) {
    env["PAYMENTS_API_ADMIN_TOKEN"] = "secret";
    return run_command({lpops_binary(), "import", "--from", ref_, "--url", "http://127.0.0.1:" + std::to_string(node_->port()),
                        "--env-file", "/dev/null"},
                       env);
  };
  auto refused = import_with({{"PAYMENTS_PAYOUTS_PATH", "state/payouts.json"}, {"PAYMENTS_WORKLOADS_PATH", "state/workloads.json"}});
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("payouts.json holds 1 payouts livepeer-ops sent and has not seen confirmed"), std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("workloads.json: 4 entries read from " + ref_ + "/state/workloads.json"), std::string::npos)
      << refused.output;
  // A path of the deployment's own machine (/app/data in its container): --from stands for it.
  std::filesystem::rename(ref_ + "/state/payouts.json", ref_ + "/payouts.json");
  auto theirs = import_with({{"PAYMENTS_PAYOUTS_PATH", "/app/data/no-such-dir/payouts.json"}});
  EXPECT_EQ(theirs.exit_code, 1) << theirs.output;
  EXPECT_NE(theirs.output.find("PAYMENTS_PAYOUTS_PATH (/app/data/no-such-dir/payouts.json) is not on this machine"), std::string::npos)
      << theirs.output;
  EXPECT_NE(theirs.output.find("payouts.json holds 1 payouts"), std::string::npos) << theirs.output;
  // A relative one that is not there is a mistake, said before anything is read.
  auto mistyped = import_with({{"PAYMENTS_PAYOUTS_PATH", "stat/payouts.json"}});
  EXPECT_EQ(mistyped.exit_code, 2) << mistyped.output;
  EXPECT_NE(mistyped.output.find("PAYMENTS_PAYOUTS_PATH: " + ref_ + "/stat/payouts.json is not there"), std::string::npos)
      << mistyped.output;
  // Outside --from: files of two directories are not read together (a copy's balances and the
  // live directory's payouts could disagree).
  TempDir elsewhere;
  std::ofstream(elsewhere.str() + "/payouts.json") << "{}";
  auto outside = import_with({{"PAYMENTS_PAYOUTS_PATH", elsewhere.str() + "/payouts.json"}});
  EXPECT_EQ(outside.exit_code, 2) << outside.output;
  EXPECT_NE(outside.output.find("is outside --from"), std::string::npos) << outside.output;
  // Set, and found neither where it says nor in --from: the deployment's file is elsewhere.
  std::filesystem::rename(ref_ + "/payouts.json", ref_ + "/state/payouts.json");
  auto lost = import_with({{"PAYMENTS_PAYOUTS_PATH", "/app/data/no-such-dir/payouts.json"}});
  EXPECT_EQ(lost.exit_code, 2) << lost.output;
  EXPECT_NE(lost.output.find("is not on this machine, and " + ref_ + " holds no payouts.json"), std::string::npos) << lost.output;
  EXPECT_TRUE(balances().empty()) << "something was imported";
  // Without the settings: workloads.json is not found, and the command says what that means.
  std::filesystem::remove(ref_ + "/state/payouts.json");
  auto without = import_with({});
  EXPECT_EQ(without.exit_code, 0) << without.output;
  EXPECT_NE(without.output.find("workloads.json: not found (" + ref_ + "/workloads.json): nothing is imported from it"),
            std::string::npos)
      << without.output;
  EXPECT_NE(without.output.find("payouts.json: not found (" + ref_ + "/payouts.json): no payouts sent and not seen confirmed"),
            std::string::npos)
      << without.output;
}

// A pending payout's strategy is cut to 64 bytes in the reservation's notes before a
// character, never inside one (a lone lead byte made a body the node refuses, at every run).
TEST_F(ImportTest, AReservationsNotesAreCutBetweenCharacters) {
  write_reference();
  std::string strategy = "a";
  for (int i = 0; i < 40; ++i) strategy += "\u00e9";  // é: two bytes each, the 64th byte inside one
  write("payouts.json", json::object{{"orch-b", json::object{{"tx_hash", "0x" + std::string(64, 'b')}, {"recipient", address_of(2)},
                                                             {"amount_eth", "0.001"}, {"strategy", strategy}}}});
  auto done = run_import({"--pending-payouts", "reserve", "--ignore-tee-core-state"});
  ASSERT_EQ(done.exit_code, 0) << done.output;
  const auto rows = admin_get("/api/payouts").at("payouts").as_array();
  ASSERT_EQ(rows.size(), 1u);
  const std::string notes(rows.at(0).at("notes").as_string());
  EXPECT_NE(notes.find(" (" + strategy.substr(0, 63) + ")"), std::string::npos) << notes;
}

// Entries the node notes one by one (amounts cut to whole wei) are listed up to 100 of a kind
// and counted past that, in time linear in their number.
TEST_F(ImportTest, ManyNotesOfAKindAreCountedNotListed) {
  write("registry.json", json::object{{"orch-a", json::object{{"address", address_of(1)}}}});
  json::object workloads;
  for (int i = 0; i < 150; ++i)
    workloads["w" + std::to_string(i)] =
        json::object{{"orchestrator_id", "orch-a"}, {"artifact_hash", "h"}, {"payout_amount_eth", "1.0000000000000000001"},
                     {"status", "verified"}, {"submitted_at", "2025-03-01T00:00:00"}, {"credited", true},
                     {"credited_at", "2025-03-01T00:00:01"}};
  write("workloads.json", workloads);
  auto done = run_import({"--ignore-tee-core-state"});
  ASSERT_EQ(done.exit_code, 0) << done.output;
  std::size_t listed = 0;
  for (std::size_t at = done.output.find("workloads.json: cut to whole wei: w"); at != std::string::npos;
       at = done.output.find("workloads.json: cut to whole wei: w", at + 1))
    ++listed;
  EXPECT_EQ(listed, 100u) << done.output;
  EXPECT_NE(done.output.find("workloads.json: cut to whole wei: ... and 50 more"), std::string::npos) << done.output;
}

TEST_F(ImportTest, AnswersCarryTheFieldsTheDescriptionGives) {
  const auto doc = parse_json(client_->request("GET", "/openapi.json").body);
  auto check = [&](const std::string& path, const HttpResult& r, const char* optional_list) {
    ASSERT_EQ(r.status, 200) << path << ": " << r.body;
    const auto answer = parse_json(r.body);
    const auto& schema = answer_schema(doc, path, "post");
    EXPECT_EQ(schema_mismatch(answer, schema), "") << path << ": " << r.body;
    ASSERT_TRUE(answer.as_object().contains(optional_list)) << path << ": " << r.body;
    if (std::string(optional_list) == "rounded") {
      for (const auto& item : answer.at("rounded").as_array())
        EXPECT_EQ(schema_mismatch(item, schema.at("properties").at("rounded").at("items")), "") << path;
    }
  };
  check("/api/import/registry",
        admin_post("/api/import/registry", json::object{{"o3", json::object{{"address", address_of(3)}, {"color", "blue"}}}}),
        "ignored_fields");
  check("/api/import/workloads",
        admin_post("/api/import/workloads",
                   json::object{{"w1", json::object{{"orchestrator_id", "o3"}, {"payout_amount_eth", "0.0000000000000000015"},
                                                    {"status", "verified"}, {"submitted_at", iso_now()}, {"credited", false}}}}),
        "rounded");
  check("/api/import/balances", admin_post("/api/import/balances", json::object{{"o3", "1.00000000000000000015"}}), "rounded");
  // Without anything to list, the lists are left out and the answer still agrees.
  const auto plain = admin_post("/api/import/balances", json::object{{"o3", "1.00000000000000000015"}});
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(schema_mismatch(parse_json(plain.body), answer_schema(doc, "/api/import/balances", "post")), "") << plain.body;
}

// Nothing listening at the URL yet (a node still starting up): the command waits up to its
// --timeout for the node, saying so, rather than failing at the first refused connection.
TEST_F(ImportTest, ANodeNotYetListeningIsWaitedFor) {
  write_reference();
  const int port = node_->port();
  ASSERT_EQ(node_->terminate(), 0) << node_->log();
  const auto begun = std::chrono::steady_clock::now();
  auto r = run_command({lpops_binary(), "import", "--from", ref_, "--url", "http://127.0.0.1:" + std::to_string(port), "--env-file",
                        "/dev/null", "--timeout", "2"},
                       {{"PAYMENTS_API_ADMIN_TOKEN", "secret"}});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("nothing listens there yet"), std::string::npos) << r.output;
  EXPECT_GE(std::chrono::steady_clock::now() - begun, std::chrono::seconds(2)) << r.output;
}

TEST_F(ImportTest, TheCommandChecksEverythingItCanBeforeSending) {
  // An integer past 64 bits inside an entry: the entries holding one are named.
  std::ofstream(ref_ + "/registry.json") << R"({"plain":{"address":"0x)" << std::string(40, 'c') << R"("},)"
                                         << R"("big":{"address":"0x)" << std::string(40, 'd')
                                         << R"(","forwarder_health":{"data":{"n":18446744073709551616}}}})";
  auto big = run_command({lpops_binary(), "import", "--from", ref_, "--dry-run"});
  EXPECT_NE(big.exit_code, 0) << big.output;
  EXPECT_NE(big.output.find("registry.json: 1 integers past 64 bits inside its entries"), std::string::npos) << big.output;
  EXPECT_NE(big.output.find(": \"big\""), std::string::npos) << big.output;
  EXPECT_EQ(big.output.find("\"plain\""), std::string::npos) << big.output;

  // Two records with one address (in another case): found offline.
  write("registry.json", json::object{{"a", json::object{{"address", "0x" + std::string(40, 'a')}}},
                                      {"b", json::object{{"address", "0x" + std::string(40, 'A')}}}});
  auto dup = run_command({lpops_binary(), "import", "--from", ref_, "--dry-run"});
  EXPECT_EQ(dup.exit_code, 1) << dup.output;
  EXPECT_NE(dup.output.find("is also the address of \"a\""), std::string::npos) << dup.output;

  // Balances and workloads of ids neither the file nor the node has: nothing is sent.
  std::filesystem::remove(ref_ + "/registry.json");
  register_orchestrator("known", address_of(1));
  write("balances.json", json::object{{"known", "1"}, {"ghost", "2"}});
  auto dry = run_command({lpops_binary(), "import", "--from", ref_, "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("must have them registered already"), std::string::npos) << dry.output;
  auto r = run_import();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("orchestrator \"ghost\" is named by workloads.json or balances.json"), std::string::npos) << r.output;
  // A refused token is said as such on the node's listing, as on an import request.
  const std::string url = "http://127.0.0.1:" + std::to_string(node_->port());
  auto refused = run_command({lpops_binary(), "import", "--from", ref_, "--url", url, "--env-file", "/dev/null"},
                             {{"PAYMENTS_API_ADMIN_TOKEN", "wrong"}});
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("GET /api/orchestrators answered 401"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("the admin token was refused"), std::string::npos) << refused.output;
  EXPECT_EQ(balances().at("known"), "0");
  write("balances.json", json::object{{"known", "1"}});
  // A settings file or token file that cannot be used is said before the files are read.
  auto no_env = run_command({lpops_binary(), "import", "--from", ref_, "--url", url, "--env-file", ref_ + "/missing.env"},
                            {{"PAYMENTS_API_ADMIN_TOKEN", "secret"}});
  EXPECT_EQ(no_env.exit_code, 2) << no_env.output;
  EXPECT_NE(no_env.output.find("missing.env"), std::string::npos) << no_env.output;
  EXPECT_EQ(no_env.output.find("balances.json 1 balances"), std::string::npos) << no_env.output;
  auto dry_no_env = run_command({lpops_binary(), "import", "--from", ref_, "--dry-run", "--env-file", ref_ + "/missing.env"});
  EXPECT_EQ(dry_no_env.exit_code, 2) << dry_no_env.output;
  auto token_dir = run_command({lpops_binary(), "import", "--from", ref_, "--url", url, "--env-file", "/dev/null",
                                "--admin-token-file", ref_});
  EXPECT_EQ(token_dir.exit_code, 2) << token_dir.output;
  EXPECT_NE(token_dir.output.find("--admin-token-file " + ref_ + " is a directory"), std::string::npos) << token_dir.output;
  const std::string token_file = dir_.str() + "/token";
  std::ofstream(token_file).close();
  auto empty_token = run_command({lpops_binary(), "import", "--from", ref_, "--url", url, "--env-file", "/dev/null",
                                  "--admin-token-file", token_file});
  EXPECT_EQ(empty_token.exit_code, 2) << empty_token.output;
  EXPECT_NE(empty_token.output.find("--admin-token-file " + token_file + " is empty"), std::string::npos) << empty_token.output;
  auto no_token_file = run_command({lpops_binary(), "import", "--from", ref_, "--url", url, "--env-file", "/dev/null",
                                    "--admin-token-file", token_file + "-none"});
  EXPECT_EQ(no_token_file.exit_code, 2) << no_token_file.output;
  EXPECT_NE(no_token_file.output.find("--admin-token-file " + token_file + "-none cannot be read"), std::string::npos)
      << no_token_file.output;
  // No token at all.
  auto no_token = run_command({lpops_binary(), "import", "--from", ref_, "--url", url, "--env-file", "/dev/null"});
  EXPECT_EQ(no_token.exit_code, 2) << no_token.output;
  EXPECT_NE(no_token.output.find("the node's admin token is needed"), std::string::npos) << no_token.output;
  // A URL that cannot be used is said before the files are read.
  for (const std::string& bad : {std::string("ftp://127.0.0.1:1"), std::string("127.0.0.1:1"), std::string("http://127.0.0.1:1/?x")}) {
    auto r2 = run_command({lpops_binary(), "import", "--from", ref_, "--url", bad, "--env-file", "/dev/null"},
                          {{"PAYMENTS_API_ADMIN_TOKEN", "secret"}});
    EXPECT_EQ(r2.exit_code, 2) << bad << ": " << r2.output;
    EXPECT_EQ(r2.output.find("balances.json 1 balances"), std::string::npos) << r2.output;
  }
  // --url is needed unless --dry-run, and excludes it, as --check does.
  auto no_url = run_command({lpops_binary(), "import", "--from", ref_});
  EXPECT_EQ(no_url.exit_code, 2) << no_url.output;
  EXPECT_NE(no_url.output.find("--url (the node) is required unless --dry-run"), std::string::npos) << no_url.output;
  EXPECT_EQ(run_command({lpops_binary(), "import", "--from", ref_, "--url", url, "--dry-run"}).exit_code, 2);
  EXPECT_EQ(run_command({lpops_binary(), "import", "--from", ref_, "--check", "--dry-run"}).exit_code, 2);
  // The token from a file, its first line (trailing CR and spaces cut).
  std::ofstream(token_file, std::ios::trunc) << "secret \r\nsecond line\n";
  auto by_file = run_command({lpops_binary(), "import", "--from", ref_, "--url", url, "--env-file", "/dev/null",
                              "--admin-token-file", token_file, "--check"});
  EXPECT_EQ(by_file.exit_code, 0) << by_file.output;
  ASSERT_EQ(run_import().exit_code, 0);
  EXPECT_EQ(balances().at("known"), "1");

  // Python writes NaN and Infinity into JSON; they are read as null, and said so. A number no
  // JSON can carry (1e400) is named with its entry.
  std::ofstream(ref_ + "/registry.json")
      << R"({"p": {"address": ")" << address_of(5) << R"(", "forwarder_health": {"source": "f", "reported_at": null, "data": {"load": NaN, "max": Infinity, "min": -Infinity, "note": "NaN stays"}}}})";
  auto nan = run_import();
  ASSERT_EQ(nan.exit_code, 0) << nan.output;
  EXPECT_NE(nan.output.find("3 NaN or Infinity (Python's, no JSON) read as null"), std::string::npos) << nan.output;
  // Python also escapes lone UTF-16 surrogates (text it took that is no Unicode): each is read
  // as U+FFFD, and said so; a pair, and an escaped backslash before a "u", stay as they are.
  std::ofstream(ref_ + "/registry.json")
      << R"({"s": {"address": ")" << address_of(8) << R"(", "last_ops_upgrade": {"a": "x\ud800y", "b": "\ud83d\ude00 \\ud800 \udc00"}}})";
  auto lone = run_import();
  ASSERT_EQ(lone.exit_code, 0) << lone.output;
  EXPECT_NE(lone.output.find("registry.json: 2 lone UTF-16 surrogates"), std::string::npos) << lone.output;
  {
    HttpClient node("127.0.0.1", node_->port());
    const auto view = node.request("GET", "/api/orchestrators/s", "", {{"X-Admin-Token", "secret"}});
    ASSERT_EQ(view.status, 200) << view.body;
    const auto data = parse_json(view.body).at("last_ops_upgrade");
    EXPECT_EQ(data.at("a").as_string(), "x\xef\xbf\xbdy") << view.body;
    EXPECT_EQ(data.at("b").as_string(), "\xf0\x9f\x98\x80 \\ud800 \xef\xbf\xbd") << view.body;
  }
  // In a key (an id) it is refused, not replaced: two such ids could read as one.
  std::ofstream(ref_ + "/registry.json", std::ios::trunc)
      << R"({"x\ud800": {"address": ")" << address_of(8) << R"("}, "x\udbff": {"address": ")" << address_of(9) << R"("}})";
  auto in_keys = run_import();
  EXPECT_EQ(in_keys.exit_code, 2) << in_keys.output;
  EXPECT_NE(in_keys.output.find("registry.json: 2 keys (ids or field names) hold a lone UTF-16 surrogate"), std::string::npos)
      << in_keys.output;
  std::ofstream(ref_ + "/registry.json") << R"({"q": {"address": ")" << address_of(6) << R"(", "last_ops_upgrade": {"x": 1e400}}})";
  auto inf = run_import();
  EXPECT_EQ(inf.exit_code, 1) << inf.output;
  EXPECT_NE(inf.output.find("registry.json \"q\": last_ops_upgrade.x is not a finite number"), std::string::npos) << inf.output;
  std::ofstream(ref_ + "/registry.json") << "{\"r\": {\"address\": 1,\n \"x\": }}";
  auto broken = run_import();
  EXPECT_EQ(broken.exit_code, 2) << broken.output;
  EXPECT_NE(broken.output.find("line 2"), std::string::npos) << broken.output;
  std::filesystem::remove(ref_ + "/registry.json");
  std::filesystem::create_directories(ref_ + "/registry.json");
  auto directory = run_import();
  EXPECT_EQ(directory.exit_code, 2) << directory.output;
  EXPECT_NE(directory.output.find("registry.json: is a directory"), std::string::npos) << directory.output;
}

// Every slice is checked with the node before the first is imported: conflicts with what the
// node holds, in any file, refuse the import whole and are all named. Among them, workloads
// dated before the newest the node holds and not on it (the node lists workloads in the order
// they came). Workloads the node has already (an import run again) are no such conflict.
TEST_F(ImportTest, ConflictsWithTheNodeAreFoundBeforeAnythingIsImported) {
  write_reference();
  ASSERT_EQ(run_import().exit_code, 0);
  auto own = admin_post("/api/workloads/time", json::object{{"workload_id", "own-1"}, {"orchestrator_id", "orch-a"},
                                                            {"artifact_hash", "h"}, {"duration_ms", 60000}});
  ASSERT_EQ(own.status, 200) << own.body;
  auto again = run_import();
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("workloads.json: 0 imported, 4 already there"), std::string::npos) << again.output;
  const std::string events_before = json::serialize(admin_get("/api/ledger/events?limit=1000"));

  // A new record; a workload dated before the node's own; a workload the node holds for
  // another orchestrator; a balance imported before with another amount.
  auto registry = parse_json(lpops::testing::read_file_bytes(ref_ + "/registry.json")).as_object();
  registry["orch-z"] = json::object{{"address", address_of(8)}};
  write("registry.json", registry);
  auto workloads = parse_json(lpops::testing::read_file_bytes(ref_ + "/workloads.json")).as_object();
  workloads["w0"] = json::object{{"orchestrator_id", "orch-z"}, {"artifact_hash", "h0"}, {"payout_amount_eth", "0.1"},
                                 {"status", "pending"}, {"submitted_at", "2025-01-15T00:00:00"}, {"credited", false}};
  workloads["w1"].as_object()["orchestrator_id"] = "orch-a";
  write("workloads.json", workloads);
  auto file_balances = parse_json(lpops::testing::read_file_bytes(ref_ + "/balances.json")).as_object();
  file_balances["orch-b"] = "3";
  write("balances.json", file_balances);
  auto refused = run_import();
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("workloads.json \"w0\": submitted_at 2025-01-15T00:00:00Z is older than"), std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("workloads.json \"w1\": the ledger holds this workload for orchestrator orch-b"), std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("balances.json \"orch-b\": a balance of 0.002 ETH was imported for this id before"),
            std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("3 entries conflict with what the node holds; nothing was imported"), std::string::npos)
      << refused.output;
  EXPECT_EQ(refused.output.find(" imported, "), std::string::npos) << refused.output;  // no file was sent
  EXPECT_EQ(client_->request("GET", "/api/orchestrators/orch-z", "", kAdmin).status, 404);  // nor the new record
  EXPECT_EQ(json::serialize(admin_get("/api/ledger/events?limit=1000")), events_before);

  // --check without conflicts: what the import would do, and nothing imported.
  workloads.erase("w0");
  workloads["w1"].as_object()["orchestrator_id"] = "orch-b";
  workloads["w9"] = json::object{{"orchestrator_id", "orch-z"}, {"payout_amount_eth", "0.1"}, {"status", "pending"},
                                 {"submitted_at", iso_now()}, {"credited", false}};
  write("workloads.json", workloads);
  file_balances["orch-b"] = "2E-3";
  file_balances["orch-z"] = "0.5";
  write("balances.json", file_balances);
  auto checked = run_import({"--check"});
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_NE(checked.output.find("registry.json: 1 to import, 3 already there"), std::string::npos) << checked.output;
  EXPECT_NE(checked.output.find("workloads.json: 1 to import, 4 already there"), std::string::npos) << checked.output;
  EXPECT_NE(checked.output.find("balances.json: 1 to import, 3 already there, 2 zero balances to skip"), std::string::npos)
      << checked.output;
  EXPECT_NE(checked.output.find("nothing was imported"), std::string::npos) << checked.output;
  EXPECT_EQ(client_->request("GET", "/api/orchestrators/orch-z", "", kAdmin).status, 404);
  EXPECT_EQ(json::serialize(admin_get("/api/ledger/events?limit=1000")), events_before);
  // Then the import itself.
  auto done = run_import();
  EXPECT_EQ(done.exit_code, 0) << done.output;
  EXPECT_NE(done.output.find("registry.json: 1 imported, 3 already there"), std::string::npos) << done.output;
  EXPECT_NE(done.output.find("workloads.json: 1 imported, 4 already there"), std::string::npos) << done.output;
  EXPECT_EQ(balances().at("orch-z"), "0.5");
}

// The check over HTTP: the same answers as the import, with "checked", and nothing changed; an
// orchestrator the node does not know counts as one the import's registry brings.
TEST_F(ImportTest, ACheckAnswersAsTheImportWouldAndChangesNothing) {
  register_orchestrator("orch-a", address_of(1));
  const json::object workload{{"orchestrator_id", "orch-new"}, {"payout_amount_eth", "1"}, {"status", "pending"},
                              {"submitted_at", iso_now()}};
  auto check = admin_post("/api/import/workloads?check=true", json::object{{"w-new", workload}});
  ASSERT_EQ(check.status, 200) << check.body;
  EXPECT_EQ(parse_json(check.body), parse_json(R"({"imported":1,"existing":0,"checked":true})"));
  EXPECT_EQ(admin_post("/api/import/workloads", json::object{{"w-new", workload}}).status, 409);  // orch-new is unknown
  auto registry = admin_post("/api/import/registry?check=1", json::object{{"orch-a", json::object{{"address", address_of(2)}}}});
  EXPECT_EQ(registry.status, 409) << registry.body;
  EXPECT_NE(registry.body.find("registered here with address"), std::string::npos) << registry.body;
  auto fresh = admin_post("/api/import/registry?check=true", json::object{{"orch-new", json::object{{"address", address_of(3)}}}});
  ASSERT_EQ(fresh.status, 200) << fresh.body;
  EXPECT_EQ(parse_json(fresh.body).at("checked"), json::value(true));
  EXPECT_EQ(client_->request("GET", "/api/orchestrators/orch-new", "", kAdmin).status, 404);
  auto balance = admin_post("/api/import/balances?check=true", json::object{{"orch-a", "1.5"}, {"orch-new", "2"}});
  ASSERT_EQ(balance.status, 200) << balance.body;
  EXPECT_EQ(parse_json(balance.body), parse_json(R"({"imported":2,"existing":0,"zero":0,"checked":true})"));
  EXPECT_TRUE(balances().empty() || balances().at("orch-a") == "0");
  EXPECT_EQ(admin_get("/api/ledger/events").at("events").as_array().size(), 0u);
  auto bad = admin_post("/api/import/balances?check=maybe", json::object{{"orch-a", "1.5"}});
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_NE(bad.body.find(R"("loc":["query","check"])"), std::string::npos) << bad.body;
}

// A slice the node finds too large goes again in smaller ones; an entry too large alone is named.
TEST(ImportSlices, ASliceTooLargeIsSplitAndAnEntryTooLargeIsNamed) {
  TempDir dir;
  NodeProcess node(dir.str() + "/data", {{"PAYMENTS_API_ADMIN_TOKEN", "secret"}, {"PAYMENTS_MAX_BODY_BYTES", "65536"}});
  ASSERT_TRUE(node.start()) << node.log();
  std::filesystem::create_directories(dir.str() + "/ref");
  json::object records;
  for (int i = 0; i < 40; ++i)
    records["o" + std::to_string(i)] =
        json::object{{"address", address_of(i)}, {"desired_pin", json::object{{"blob", std::string(8000, 'x')}}}};
  std::ofstream(dir.str() + "/ref/registry.json") << json::serialize(records);
  const std::vector<std::string> argv{lpops_binary(), "import", "--from", dir.str() + "/ref", "--url",
                                      "http://127.0.0.1:" + std::to_string(node.port()), "--env-file", "/dev/null"};
  auto r = run_command(argv, {{"PAYMENTS_API_ADMIN_TOKEN", "secret"}});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("registry.json: 40 imported"), std::string::npos) << r.output;
  records["big"] = json::object{{"address", address_of(99)}, {"desired_pin", json::object{{"blob", std::string(70000, 'x')}}}};
  std::ofstream(dir.str() + "/ref/registry.json") << json::serialize(records);
  auto big = run_command(argv, {{"PAYMENTS_API_ADMIN_TOKEN", "secret"}});
  EXPECT_EQ(big.exit_code, 1) << big.output;
  EXPECT_NE(big.output.find("entry \"big\" alone is larger than the node takes (PAYMENTS_MAX_BODY_BYTES"), std::string::npos)
      << big.output;
  EXPECT_EQ(node.terminate(), 0) << node.log();
}

// A node's answer to the check of an empty registry slice, the command's first request.
constexpr const char* kEmptyRegistryChecked = R"({"imported":0,"existing":0,"denylisted":[],"checked":true})";
constexpr const char* kOneRecordChecked = R"({"imported":1,"existing":0,"denylisted":[],"checked":true})";

// A node still recovering answers 503 "Starting": the command waits for it (up to --timeout).
TEST(ImportWhileStarting, TheCommandWaitsForTheNode) {
  std::atomic<int> starting{3};
  FakeHttpServer node([&](const FakeHttpServer::Request& r) -> FakeHttpServer::Response {
    if (starting.fetch_sub(1) > 0) return {503, R"({"detail":"Starting: the ledger is being recovered; retry shortly"})"};
    if (r.target == "/api/orchestrators") return {200, R"({"orchestrators":[{"orchestrator_id":"o1"}]})"};
    if (r.target == "/api/import/registry?check=true") return {200, kEmptyRegistryChecked};
    if (r.target == "/api/import/balances?check=true") return {200, R"({"imported":1,"existing":0,"zero":0,"checked":true})"};
    if (r.target == "/api/import/balances") return {200, R"({"imported":1,"existing":0,"zero":0})"};
    return {404, R"({"detail":"Not Found"})"};
  });
  TempDir dir;
  std::filesystem::create_directories(dir.str() + "/ref");
  std::ofstream(dir.str() + "/ref/balances.json") << R"({"o1": "1"})";
  auto r = run_command({lpops_binary(), "import", "--from", dir.str() + "/ref", "--url", node.url(), "--env-file", "/dev/null",
                        "--timeout", "10"},
                       {{"PAYMENTS_API_ADMIN_TOKEN", "secret"}});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("the node is starting"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("balances.json: 1 imported"), std::string::npos) << r.output;
  EXPECT_EQ(node.requests(), 7u);  // three refusals, the listing, the check of an empty slice, the slice's check, the slice
  // A node that stays in start-up past --timeout: the command gives up and says why.
  starting = 1000;
  auto gave_up = run_command({lpops_binary(), "import", "--from", dir.str() + "/ref", "--url", node.url(), "--env-file",
                              "/dev/null", "--timeout", "2"},
                             {{"PAYMENTS_API_ADMIN_TOKEN", "secret"}});
  EXPECT_EQ(gave_up.exit_code, 1) << gave_up.output;
  EXPECT_NE(gave_up.output.find("503"), std::string::npos) << gave_up.output;
}

// `lpops import` of a one-record registry.json to `url`, giving up after a second.
CommandResult import_one_record(const TempDir& dir, const std::string& url) {
  std::filesystem::create_directories(dir.str() + "/ref");
  std::ofstream(dir.str() + "/ref/registry.json") << R"({"o1": {"address": "0x)" << std::string(40, '1') << R"("}})";
  return run_command({lpops_binary(), "import", "--from", dir.str() + "/ref", "--url", url, "--env-file", "/dev/null", "--timeout", "1"},
                     {{"PAYMENTS_API_ADMIN_TOKEN", "secret"}});
}

// A node that gives no answer to a slice may have applied it: the command says so, and does
// not claim the slice changed nothing. No answer to a check stops the command before anything
// is imported.
TEST(ImportWithoutAnswer, TheLastSlicesOutcomeIsUnknown) {
  FakeHttpServer node([](const FakeHttpServer::Request& r) -> FakeHttpServer::Response {
    if (r.target == "/api/import/registry?check=true") return {200, kOneRecordChecked};
    return {0, ""};
  });
  TempDir dir;
  auto r = import_one_record(dir, node.url());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("gave no answer for registry.json entries 1-1, which it may have imported"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("changed nothing"), std::string::npos) << r.output;
  // No answer to a slice's check: nothing was imported (a check imports nothing).
  FakeHttpServer checks_unanswered([](const FakeHttpServer::Request& r) -> FakeHttpServer::Response {
    if (r.body == "{}") return {200, kEmptyRegistryChecked};
    return {0, ""};
  });
  TempDir third;
  auto unanswered = import_one_record(third, checks_unanswered.url());
  EXPECT_EQ(unanswered.exit_code, 1) << unanswered.output;
  EXPECT_NE(unanswered.output.find("stopped while checking registry.json entries 1-1 with the node; nothing was imported"),
            std::string::npos)
      << unanswered.output;
  EXPECT_EQ(unanswered.output.find("may have imported"), std::string::npos) << unanswered.output;
  // A node killed while it applies the slice: the connection ends unanswered and the attempts
  // after it are refused. The slice may have arrived (part of it may be durable): never
  // "nothing was sent".
  FakeHttpServer killed([](const FakeHttpServer::Request& r) -> FakeHttpServer::Response {
    if (r.target == "/api/import/registry?check=true") return {200, kOneRecordChecked};
    return {-1, ""};
  });
  TempDir fourth;
  auto cut = import_one_record(fourth, killed.url());
  EXPECT_EQ(cut.exit_code, 1) << cut.output;
  EXPECT_NE(cut.output.find("which it may have imported"), std::string::npos) << cut.output;
  EXPECT_EQ(cut.output.find("nothing was sent"), std::string::npos) << cut.output;
  FakeHttpServer silent([](const FakeHttpServer::Request&) -> FakeHttpServer::Response { return {200, "{}"}; }, true);
  TempDir other;
  auto unchecked = import_one_record(other, silent.url());
  EXPECT_EQ(unchecked.exit_code, 1) << unchecked.output;
  EXPECT_NE(unchecked.output.find("no answer within 1 s; nothing was imported"), std::string::npos) << unchecked.output;
  EXPECT_EQ(unchecked.output.find("may have imported"), std::string::npos) << unchecked.output;
}

// A node too busy for a listing now (503 with Retry-After) is asked again, as one starting is.
TEST(ImportWhileBusy, ABusyNodesListingIsAskedForAgain) {
  std::atomic<int> listings{0};
  FakeHttpServer node([&](const FakeHttpServer::Request& r) -> FakeHttpServer::Response {
    if (r.target == "/api/orchestrators") {
      if (listings++ == 0) return {503, R"({"detail":"Too many reads are queued; retry shortly"})"};
      return {200, R"({"orchestrators":[{"orchestrator_id":"o1"}]})"};
    }
    if (r.target.find("check=true") != std::string::npos) return {200, R"({"imported":1,"existing":0,"zero":0,"checked":true})"};
    return {200, R"({"imported":1,"existing":0,"zero":0})"};
  });
  TempDir dir;
  std::filesystem::create_directories(dir.str() + "/ref");
  std::ofstream(dir.str() + "/ref/balances.json") << R"({"o1": "1.5"})";
  auto r = run_command({lpops_binary(), "import", "--from", dir.str() + "/ref", "--url", node.url(), "--env-file", "/dev/null",
                        "--timeout", "10", "--ignore-tee-core-state"},
                       {{"PAYMENTS_API_ADMIN_TOKEN", "secret"}});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(listings.load(), 2) << r.output;
  EXPECT_NE(r.output.find("the node is busy (503: {\"detail\":\"Too many reads are queued; retry shortly\"}); asking again"), std::string::npos) << r.output;
}

// A file that changes between its reading and the first slice sent (a livepeer-ops still
// running, which replaces its files by renaming) stops the command before anything is sent.
TEST(ImportWhileWritten, AFileChangedSinceItWasReadStopsTheImport) {
  TempDir dir;
  const std::string registry = dir.str() + "/ref/registry.json";
  std::atomic<int> slices{0};
  FakeHttpServer node([&](const FakeHttpServer::Request& r) -> FakeHttpServer::Response {
    if (r.target == "/api/import/registry?check=true") {
      // Rewritten as livepeer-ops writes it: a new file renamed over the old one, same size.
      std::ifstream in(registry);
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::ofstream(registry + ".tmp") << text;
      std::filesystem::rename(registry + ".tmp", registry);
      return {200, kOneRecordChecked};
    }
    ++slices;
    return {200, R"({"imported":1,"existing":0,"denylisted":[]})"};
  });
  auto r = import_one_record(dir, node.url());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("registry.json changed since it was read: is livepeer-ops still running?"), std::string::npos) << r.output;
  EXPECT_EQ(slices.load(), 0) << r.output;
}

// A 200 whose body is no import answer (a proxy rewrote it): the slice was applied, and the
// command says so rather than that the slice changed nothing.
TEST(ImportWithoutAnswer, AnAppliedSliceWhoseAnswerDoesNotReadIsSaidApplied) {
  FakeHttpServer node([](const FakeHttpServer::Request& r) -> FakeHttpServer::Response {
    if (r.target == "/api/import/registry?check=true") return {200, kOneRecordChecked};
    return {200, "<html>ok</html>"};
  });
  TempDir dir;
  auto r = import_one_record(dir, node.url());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("the node applied registry.json entries 1-1 but its answer did not read"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("changed nothing"), std::string::npos) << r.output;
}

// A node without the check (an older version) imports what it is sent: the command stops at
// once and says so.
TEST(ImportWithoutCheck, AnOlderNodeIsStoppedAtTheFirstSlice) {
  FakeHttpServer node([](const FakeHttpServer::Request& r) -> FakeHttpServer::Response {
    if (r.target.starts_with("/api/import/registry")) return {200, R"({"imported":1,"existing":0,"denylisted":[]})"};
    return {404, R"({"detail":"Not Found"})"};
  });
  TempDir dir;
  auto r = import_one_record(dir, node.url());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("the node does not check imports (a version without ?check=true)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("nothing was imported"), std::string::npos) << r.output;
  EXPECT_EQ(node.requests(), 1u);  // the empty slice alone
  // A node that answers the empty slice as checked but then imports a slice asked to be
  // checked: stopped there, and said so without claiming nothing was imported.
  std::atomic<int> posts{0};
  FakeHttpServer half([&](const FakeHttpServer::Request& r) -> FakeHttpServer::Response {
    if (r.target.starts_with("/api/import/registry") && posts++ == 0)
      return {200, kEmptyRegistryChecked};
    if (r.target.starts_with("/api/import/registry")) return {200, R"({"imported":1,"existing":0,"denylisted":[]})"};
    return {404, R"({"detail":"Not Found"})"};
  });
  TempDir other;
  auto instead = import_one_record(other, half.url());
  EXPECT_EQ(instead.exit_code, 1) << instead.output;
  EXPECT_NE(instead.output.find("the node imported entries 1-1 instead of checking them"), std::string::npos) << instead.output;
  EXPECT_NE(instead.output.find("they stay imported"), std::string::npos) << instead.output;
  EXPECT_EQ(instead.output.find("nothing was imported"), std::string::npos) << instead.output;
}

// Nothing listening: no connection was made, so nothing was sent, and the command says so.
TEST(ImportWithoutAnswer, ANodeNotReachedGotNothing) {
  TempDir dir;
  auto r = import_one_record(dir, "http://127.0.0.1:" + std::to_string(free_loopback_port()));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("POST /api/import/registry?check=true: Connection refused; nothing was imported"), std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("may have imported"), std::string::npos) << r.output;
}

TEST(ImportWithoutAdminToken, RoutesAreNotThere) {
  TempDir dir;
  NodeProcess node(dir.str() + "/data");
  ASSERT_TRUE(node.start()) << node.log();
  HttpClient client("127.0.0.1", node.port());
  EXPECT_EQ(client.request("POST", "/api/import/registry", "{}", {}).status, 404);
  EXPECT_EQ(node.terminate(), 0) << node.log();
}

}  // namespace
}  // namespace lpops::testing
