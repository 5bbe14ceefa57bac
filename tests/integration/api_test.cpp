#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include "tests/integration/fixture.hpp"
#include "tests/support/openapi_check.hpp"

namespace lpops::testing {
namespace {

class ApiTest : public NodeTest {
 protected:
  void SetUp() override { start_node(); }
  // n time credits of 1 s each to `orchestrator`, workload ids prefix0, prefix1, ...
  void credit_seconds(const std::string& prefix, int n, const std::string& orchestrator = "o1") {
    for (int i = 0; i < n; ++i)
      ASSERT_EQ(post("/api/workloads/time", json::object{{"workload_id", prefix + std::to_string(i)}, {"orchestrator_id", orchestrator},
                                                         {"artifact_hash", "h"}, {"duration_ms", 1000}})
                    .status,
                200);
  }
};

TEST_F(ApiTest, HealthReadyAndMetrics) {
  EXPECT_EQ(get("/healthz").status, 200);
  // HEAD, as load balancers probe: the GET's status and headers, no body; the connection
  // stays usable for the next request.
  for (const char* probe : {"/healthz", "/readyz"}) {
    auto head = client_->request("HEAD", probe, "");
    EXPECT_EQ(head.status, 200) << probe;
    EXPECT_EQ(head.header("Content-Length"), std::to_string(get(probe).body.size())) << probe;
    EXPECT_TRUE(head.body.empty());
  }
  EXPECT_EQ(client_->request("HEAD", "/api/workloads/time", "").status, 405);
  auto ready = get_json("/readyz");
  EXPECT_EQ(ready.at("status").as_string(), "ready");
  // The audit log's event index is sorted on a thread of its own after recovery; an empty log's
  // is soon ready, and the field says so (bounded wait).
  for (int i = 0; i < 500 && ready.at("transparency_index").as_string() != "ready"; ++i) {
    EXPECT_EQ(ready.at("transparency_index").as_string(), "loading") << ready;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ready = get_json("/readyz");
  }
  EXPECT_EQ(ready.at("transparency_index").as_string(), "ready") << ready;
  EXPECT_NE(std::string(ready.at("rank_check").as_string()).find("disabled: no source"), std::string::npos) << ready;
  // Public: what the store is, not where on the machine.
  EXPECT_EQ(std::string(ready.at("storage").as_string()).rfind("json files", 0), 0u) << ready;
  EXPECT_EQ(std::string(ready.at("storage").as_string()).find(dir_.str()), std::string::npos) << ready;
  // With the journal's mode, as the start-up log names it once recovery opened the journal.
  const bool direct = node_->log().find("(journal: direct I/O)") != std::string::npos;
  EXPECT_EQ(std::string(ready.at("storage").as_string()).find("(journal: direct I/O)") != std::string::npos, direct) << ready;
  auto metrics = get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("lpops_actor_messages_total"), std::string::npos);
  EXPECT_NE(metrics.body.find("lpops_http_requests_total"), std::string::npos);
  EXPECT_NE(metrics.body.find("lpops_journal_queued_records"), std::string::npos);
  EXPECT_NE(metrics.body.find("lpops_journal_batch_records"), std::string::npos);
  // Every actor kind has its series before its first actor starts (none registered yet here).
  EXPECT_NE(metrics.body.find("\nlpops_actor_messages_total{actor=\"orchestrator\"} 0\n"), std::string::npos) << metrics.body;
}

// Every actor kind is measured, requests the server refuses before any route are counted, and
// an idle node shows no backlog.
// One series' value in the Prometheus text, if the series is there.
std::optional<double> metric_value(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST_F(ApiTest, MetricsCoverEveryActorAndEveryAnswer) {
  register_orchestrator("o1", address_of(1));
  credit_seconds("m", 5);
  ASSERT_EQ(get("/api/ledger/events").status, 200);  // the reader actor
  EXPECT_EQ(raw("POST", "/api/ledger/adjustments", std::string(2 << 20, 'x')).status, 413);
  EXPECT_EQ(raw("GET", "/" + std::string(20000, 'p'), "").status, 414);
  std::string text;
  for (int i = 0; i < 200; ++i) {  // the auditor's first message can trail the answers a little
    text = get("/metrics").body;
    if (metric_value(text, R"(lpops_actor_messages_total{actor="auditor"})").value_or(0) >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (const char* kind : {"auditor", "reader", "ledger", "journal.sync", "registry", "orchestrator"})
    EXPECT_GE(metric_value(text, std::string(R"(lpops_actor_messages_total{actor=")") + kind + "\"}").value_or(0), 1) << kind << "\n" << text;
  EXPECT_EQ(metric_value(text, R"(lpops_http_requests_total{route="unrouted",status="413"})"), 1.0) << text;
  EXPECT_EQ(metric_value(text, R"(lpops_http_requests_total{route="unrouted",status="414"})"), 1.0) << text;
  EXPECT_EQ(text.find(R"(lpops_http_request_seconds_count{route="unrouted")"), std::string::npos) << text;  // no latency known
  EXPECT_EQ(metric_value(text, "lpops_journal_queued_records"), 0.0) << text;
  EXPECT_EQ(metric_value(text, R"(lpops_build_info{version="0.1.0"})"), 1.0) << text;
  EXPECT_EQ(metric_value(text, "lpops_audit_entries"), 6.0) << text;  // the policy entry and 5 credits
  EXPECT_LE(metric_value(text, "lpops_audit_signed_entries").value_or(-1), 6.0) << text;
  EXPECT_EQ(metric_value(text, R"(lpops_snapshots_total{outcome="failed"})"), 0.0) << text;
  for (const char* file : {"snapshot", "audit_log", "checkpoints"})
    EXPECT_EQ(metric_value(text, std::string(R"(lpops_storage_errors_total{file=")") + file + R"("})"), 0.0) << text;
  EXPECT_GE(metric_value(text, "lpops_http_open_connections").value_or(0), 1.0) << text;  // this one
  EXPECT_GE(metric_value(text, "lpops_http_requests_in_flight").value_or(0), 1.0) << text;  // the /metrics request
}

// A snapshot written shows in the metrics: how many, when the last one was, how long it took.
TEST_F(ApiTest, SnapshotsShowInTheMetrics) {
  restart_node({{"PAYMENTS_SNAPSHOT_EVERY_RECORDS", "100"}});
  register_orchestrator("o1", address_of(1));
  credit_seconds("s", 120);
  std::string text;
  for (int i = 0; i < 500; ++i) {  // written off the request path
    text = get("/metrics").body;
    if (metric_value(text, R"(lpops_snapshots_total{outcome="written"})").value_or(0) >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(metric_value(text, R"(lpops_snapshots_total{outcome="written"})").value_or(0), 1.0) << text;
  EXPECT_GT(metric_value(text, "lpops_snapshot_last_written_timestamp_seconds").value_or(0), 1.7e9) << text;
  EXPECT_GT(metric_value(text, "lpops_snapshot_seconds").value_or(0), 0.0) << text;
}

TEST_F(ApiTest, FloatsAreWrittenAsTheReferenceWritesThem) {
  // Python's json.dumps: 5.0 and 50.0, where a plain serialiser writes 5E0 and 5E1.
  auto r = post("/api/orchestrators/register", json::object{{"orchestrator_id", "f1"}, {"address", address_of(7)},
                                                             {"health_timeout", 5}, {"min_service_uptime", 50.5}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto one = get("/api/orchestrators/f1");
  ASSERT_EQ(one.status, 200);
  EXPECT_NE(one.body.find("\"health_timeout\":5.0"), std::string::npos) << one.body;
  EXPECT_NE(one.body.find("\"min_service_uptime\":50.5"), std::string::npos) << one.body;
  EXPECT_EQ(one.body.find("E0"), std::string::npos) << one.body;
  auto bad = post("/api/workloads/time", json::object{{"workload_id", "x"}, {"orchestrator_id", "f1"}, {"artifact_hash", "h"}, {"duration_ms", 86400000.5}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("\"input\":86400000.5"), std::string::npos) << bad.body;
}

TEST_F(ApiTest, UnknownRouteAndWrongMethod) {
  auto r = get("/api/nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(parse_json(r.body).at("detail").as_string(), "Not Found");
  auto m = raw("DELETE", "/api/workloads", "");
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(parse_json(m.body).at("detail").as_string(), "Method Not Allowed");
  EXPECT_EQ(m.header("Allow"), "POST, GET, HEAD");  // RFC 9110 §15.5.6: the path's methods
  EXPECT_EQ(raw("PUT", "/api/workloads/time", "").header("Allow"), "POST, PATCH");  // also /api/workloads/{workload_id}
}

// The reference's framework parses a body before its route checks the admin token, so a
// malformed body sent whole got 422 without a token; here the token is checked first: 401,
// whatever the body is, and nothing is said about it.
TEST_F(ApiTest, AnAdminRouteChecksTheTokenBeforeTheBody) {
  restart_node({{"PAYMENTS_API_ADMIN_TOKEN", "secret"}});
  for (const std::string body : {"{", "not json", "{\"orchestrator_id\":", "[1,2"}) {
    for (const auto& token : std::vector<std::vector<std::pair<std::string, std::string>>>{{}, {{"X-Admin-Token", "wrong"}}}) {
      auto r = raw("POST", "/api/ledger/adjustments", body, token);
      EXPECT_EQ(r.status, 401) << body << ": " << r.body;
      EXPECT_EQ(parse_json(r.body).at("detail").as_string(), "Admin token required") << r.body;
    }
    // With the token, the body is read: 422.
    EXPECT_EQ(raw("POST", "/api/ledger/adjustments", body, {{"X-Admin-Token", "secret"}}).status, 422) << body;
  }
}

// The summary's totals by what happened to each workload: earned = credited, pending =
// neither credited nor rejected (the reference summed every status into earned_eth and all
// but `paid` into pending_eth).
// A registration's problems are listed in the order the reference's model declares its fields.
TEST_F(ApiTest, RegistrationProblemsComeInTheReferencesFieldOrder) {
  const auto r = post("/api/orchestrators/register", json::object{{"orchestrator_id", "o9"},
                                                                  {"address", address_of(9)},
                                                                  {"health_url", 5},
                                                                  {"host_name", 2},
                                                                  {"host_public_ip", 1},
                                                                  {"contact_email", "x"},
                                                                  {"min_service_uptime", -1},
                                                                  {"monitored_services", 3}});
  ASSERT_EQ(r.status, 422) << r.body;
  std::vector<std::string> fields;
  const auto doc = parse_json(r.body);
  for (const auto& d : doc.at("detail").as_array()) fields.push_back(std::string(d.at("loc").as_array().back().as_string()));
  EXPECT_EQ(fields, (std::vector<std::string>{"contact_email", "host_public_ip", "host_name", "health_url", "monitored_services",
                                              "min_service_uptime"}))
      << r.body;
}

// As the reference's models: problems are listed in the order its fields are declared; a PATCH
// status has no length limit of its own (one that is no status is that); an artifact URI's
// extension is lower-cased as Python lower-cases it (the Kelvin sign is a "k").
TEST_F(ApiTest, WorkloadBodiesAreReadAsTheReferencesModelsReadThem) {
  register_orchestrator("o1", address_of(1));
  auto locations = [](const HttpResult& r) {
    std::vector<std::string> out;
    const auto doc = parse_json(r.body);
    for (const auto& d : doc.at("detail").as_array()) out.push_back(std::string(d.at("loc").as_array().back().as_string()));
    return out;
  };
  const auto created = post("/api/workloads", json::object{{"workload_id", "w"}, {"orchestrator_id", "o1"}, {"notes", 5}});
  ASSERT_EQ(created.status, 422) << created.body;
  EXPECT_EQ(locations(created), (std::vector<std::string>{"payout_amount_eth", "notes"})) << created.body;
  const auto timed = post("/api/workloads/time", json::object{{"workload_id", "w"}, {"orchestrator_id", "o1"}, {"plan_id", 5}});
  ASSERT_EQ(timed.status, 422) << timed.body;
  EXPECT_EQ(locations(timed), (std::vector<std::string>{"duration_ms", "plan_id"})) << timed.body;

  ASSERT_EQ(post("/api/workloads", json::object{{"workload_id", "kelvin"}, {"orchestrator_id", "o1"}, {"payout_amount_eth", "0.001"},
                                                 {"artifact_uri", "clip.M\u212aV"}})
                .status,
            200);
  const auto long_status = raw("PATCH", "/api/workloads/kelvin", R"({"status":"verified-but-much-longer-than-32-characters"})");
  ASSERT_EQ(long_status.status, 422) << long_status.body;
  const auto detail = parse_json(long_status.body).at("detail").at(0);
  EXPECT_EQ(detail.at("type").as_string(), "value_error") << long_status.body;
  EXPECT_EQ(detail.at("msg").as_string(), "Value error, invalid workload status") << long_status.body;
  const auto verified = raw("PATCH", "/api/workloads/kelvin", R"({"status":"verified"})");
  ASSERT_EQ(verified.status, 200) << verified.body;
  EXPECT_TRUE(parse_json(verified.body).at("credited").as_bool()) << verified.body;
}

TEST_F(ApiTest, TheSummaryEarnsCreditedWorkloadsAndHoldsTheRestButRejectedAsPending) {
  register_orchestrator("o1", address_of(1));
  // Five workloads of 0.001 ETH, then each taken to its status.
  const std::pair<const char*, const char*> cases[] = {
      {"verified", "verified"}, {"paid", "paid"}, {"no-video", "verified"}, {"pending", nullptr}, {"rejected", "rejected"}};
  for (const auto& [id, status] : cases) {
    json::object body{{"workload_id", id}, {"orchestrator_id", "o1"}, {"payout_amount_eth", "0.001"}};
    // An artifact_uri that names no video is no artifact: verified, yet not credited.
    if (std::string(id) == "no-video") body["artifact_uri"] = "https://example.com/a.txt";
    else body["artifact_hash"] = "h";
    auto created = post("/api/workloads", body);
    ASSERT_EQ(created.status, 200) << id << ": " << created.body;
    if (!status) continue;
    auto changed = raw("PATCH", std::string("/api/workloads/") + id, json::serialize(json::object{{"status", status}}));
    ASSERT_EQ(changed.status, 200) << id << ": " << changed.body;
  }
  std::map<std::string, bool> credited;
  const auto listed = get_json("/api/workloads");
  for (const auto& w : listed.at("workloads").as_array())
    credited[std::string(w.at("workload_id").as_string())] = w.at("credited").as_bool();
  EXPECT_EQ(credited, (std::map<std::string, bool>{{"verified", true}, {"paid", true}, {"no-video", false},
                                                   {"pending", false}, {"rejected", false}}));
  const auto rows = get_json("/api/workloads/summary").at("orchestrators").as_array();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("workloads").as_int64(), 5);
  EXPECT_EQ(rows[0].at("earned_eth").as_string(), "0.002");  // verified and paid
  EXPECT_EQ(rows[0].at("earned_wei").as_string(), "2000000000000000");
  EXPECT_EQ(rows[0].at("pending_eth").as_string(), "0.002");  // no-video and pending
  EXPECT_EQ(rows[0].at("pending_wei").as_string(), "2000000000000000");
}

// Headers whose meaning depends on there being one are refused when sent twice (a
// credential header on any route, Idempotency-Key); an Idempotency-Key is 1-128 visible ASCII
// characters.
TEST_F(ApiTest, CredentialAndIdempotencyHeadersAreCheckedAsDocumented) {
  register_orchestrator("o1", address_of(1));
  for (const char* name : {"X-Admin-Token", "Authorization", "X-Orchestrator-Token"})
    for (const char* target : {"/api/balances", "/api/orchestrators", "/api/workloads/summary"}) {
      auto r = raw("GET", target, "", {{name, "a"}, {name, "a"}});
      EXPECT_EQ(r.status, 400) << name << " " << target;
      EXPECT_EQ(parse_json(r.body).at("detail").as_string(), std::string(name) + " must be sent once") << r.body;
    }
  const auto adjust = [&](const std::string& key) {
    return raw("POST", "/api/ledger/adjustments", R"({"orchestrator_id":"o1","amount_eth":"1"})", {{"Idempotency-Key", key}});
  };
  for (const std::string& bad : {std::string("a b"), std::string("tab\tkey"), std::string("caf\xc3\xa9"), std::string(129, 'k')}) {
    auto r = adjust(bad);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_EQ(parse_json(r.body).at("detail").as_string(), "Idempotency-Key must be 1-128 printable ASCII characters") << r.body;
  }
  EXPECT_EQ(adjust(std::string(128, 'k')).status, 200);
  EXPECT_EQ(adjust("!~{}:key/1").status, 200);
  // Only the two accepted adjustments were made.
  EXPECT_EQ(get_json("/api/ledger/events").at("events").as_array().size(), 2u);
}

// An amount string is at most 128 characters, however valid: 128 zeros and a 1 is refused,
// one zero fewer is the amount 1.
TEST_F(ApiTest, AnAmountStringPast128CharactersIsRefused) {
  register_orchestrator("o1", address_of(1));
  const auto adjust = [&](const std::string& amount) {
    return post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", amount}});
  };
  auto refused = adjust(std::string(128, '0') + "1");
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("amount is too long"), std::string::npos) << refused.body;
  auto taken = adjust(std::string(127, '0') + "1");
  ASSERT_EQ(taken.status, 200) << taken.body;
  EXPECT_EQ(get_json("/api/orchestrators/o1").at("balance_eth").as_string(), "1");
}

// Requests no route takes are counted under one label, not under their paths (which a client
// chooses: one series each would grow without end).
TEST_F(ApiTest, MetricsCountRequestsNoRouteTakesAsUnmatched) {
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get("/api/nothing-" + std::to_string(i)).status, 404);
  EXPECT_EQ(raw("DELETE", "/api/workloads", "").status, 405);
  const std::string text = get("/metrics").body;
  EXPECT_EQ(metric_value(text, R"(lpops_http_requests_total{route="unmatched",status="404"})"), 3.0) << text;
  EXPECT_EQ(metric_value(text, R"(lpops_http_requests_total{route="unmatched",status="405"})"), 1.0) << text;
  EXPECT_EQ(text.find("nothing-"), std::string::npos);
}

// A request that is refused whatever its body (no such route, wrong method, no token, a
// feature not configured) is answered as soon as its header is in, with a close: a client
// that announces a body and holds it back gets its answer now and holds none of the node's
// body budget meanwhile.
TEST_F(ApiTest, RefusalsThatDoNotDependOnTheBodyComeBeforeIt) {
  restart_node({{"PAYMENTS_API_ADMIN_TOKEN", "secret"}, {"PAYMENTS_HTTP_TIMEOUT_SECONDS", "60"}});
  const std::pair<std::string, std::string> cases[] = {
      {"POST /api/ledger/adjustments", "HTTP/1.1 401"},
      {"POST /api/nothing", "HTTP/1.1 404"},
      {"PUT /api/workloads/time", "HTTP/1.1 405"},
      // No credential contract configured here: 503 whatever the body.
      {"POST /api/orchestrators/o1/credential/token", "HTTP/1.1 503"},
  };
  for (const auto& [line, status] : cases) {
    const auto started = std::chrono::steady_clock::now();
    const std::string r =
        client_->raw_exchange(line + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{");
    EXPECT_EQ(r.substr(0, 12), status) << line << ": " << r;
    EXPECT_NE(r.find("Connection: close"), std::string::npos) << r;
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5)) << line;
  }
  // With the token the same request waits for its body, and is read whole.
  auto ok = raw("POST", "/api/ledger/adjustments", R"({"orchestrator_id":"none","amount_eth":"1"})",
                {{"X-Admin-Token", "secret"}, {"Content-Type", "application/json"}});
  EXPECT_EQ(ok.status, 404) << ok.body;  // the body was read: the orchestrator is unknown
  // Answers from the header are counted, not timed: a 0 s sample would pull the route's
  // latency down. The route's one timed answer is the 404.
  const std::string text = get("/metrics").body;
  EXPECT_EQ(metric_value(text, R"(lpops_http_requests_total{route="POST /api/ledger/adjustments",status="401"})"), 1.0) << text;
  EXPECT_FALSE(metric_value(text, R"(lpops_http_request_seconds_count{route="POST /api/ledger/adjustments",status="401"})")) << text;
  EXPECT_EQ(metric_value(text, R"(lpops_http_request_seconds_count{route="POST /api/ledger/adjustments",status="404"})"), 1.0) << text;
}

// Bytes in a URL that are not UTF-8 are read as U+FFFD (as the reference reads them), so
// every answer stays valid JSON text.
TEST_F(ApiTest, UrlBytesThatAreNotUtf8ComeBackAsValidJson) {
  for (const char* target : {"/api/ledger/events?limit=%FF%FE", "/api/orchestrators/%FF%C3", "/api/workloads/summary?since=%FF"}) {
    auto r = get(target);
    EXPECT_GE(r.status, 400) << target;
    boost::system::error_code ec;
    json::parse(r.body, ec);
    EXPECT_FALSE(ec) << target << ": " << r.body;
  }
}

TEST_F(ApiTest, OpenApiDescribesEveryRoute) {
  auto doc = get_json("/openapi.json");
  const auto& paths = doc.at("paths").as_object();
  for (const char* p : {"/api/orchestrators/register", "/api/orchestrators", "/api/orchestrators/{orchestrator_id}",
                        "/api/orchestrators/{orchestrator_id}/stats", "/api/orchestrators/{orchestrator_id}/health",
                        "/api/workloads", "/api/workloads/time", "/api/workloads/summary",
                        "/api/workloads/{workload_id}", "/api/ledger/adjustments", "/api/ledger/events",
                        "/api/balances", "/healthz", "/readyz", "/metrics"})
    EXPECT_TRUE(paths.contains(p)) << p;
  EXPECT_TRUE(paths.at("/api/workloads/time").at("post").as_object().contains("requestBody"));
  // Routes that need the ledger answer 503 while the node starts; liveness never does.
  EXPECT_TRUE(paths.at("/api/workloads/time").at("post").at("responses").as_object().contains("503"));
  EXPECT_FALSE(paths.at("/healthz").at("get").at("responses").as_object().contains("503"));
  EXPECT_TRUE(paths.at("/api/workloads").at("get").at("responses").as_object().contains("414"));
  EXPECT_TRUE(paths.at("/readyz").at("get").at("responses").as_object().contains("503"));
  // Each route lists the errors it can answer, not every error of the API.
  auto answers = [&](const char* path, const char* method, const char* code) {
    return paths.at(path).at(method).at("responses").as_object().contains(code);
  };
  for (const char* code : {"401", "403", "404", "409", "422", "429"}) EXPECT_FALSE(answers("/healthz", "get", code)) << code;
  EXPECT_TRUE(answers("/api/workloads/time", "post", "401"));
  EXPECT_TRUE(answers("/api/workloads/time", "post", "409"));
  EXPECT_TRUE(answers("/api/workloads/time", "post", "422"));
  EXPECT_FALSE(answers("/api/workloads/time", "post", "429"));
  EXPECT_FALSE(answers("/api/workloads", "get", "409"));
  EXPECT_FALSE(answers("/api/balances", "get", "404"));
  EXPECT_TRUE(answers("/api/orchestrators/{orchestrator_id}", "get", "404"));
  EXPECT_TRUE(answers("/api/orchestrators/register", "post", "429"));
  EXPECT_TRUE(answers("/api/orchestrators/register", "post", "403"));
  EXPECT_FALSE(answers("/api/orchestrators/register", "post", "401"));
  EXPECT_TRUE(answers("/api/transparency/tee-core/audit/proof", "get", "409"));  // newer than the latest checkpoint
  // Writes that cannot conflict, and routes with nothing of their own to find.
  EXPECT_FALSE(answers("/api/workloads/{workload_id}", "patch", "409"));
  EXPECT_TRUE(answers("/api/workloads/{workload_id}", "patch", "404"));
  EXPECT_FALSE(answers("/api/orchestrators/{orchestrator_id}/health", "post", "409"));
  EXPECT_FALSE(answers("/api/orchestrators/register", "post", "404"));
  EXPECT_TRUE(answers("/api/orchestrators/register", "post", "409"));
  const auto& register_503 = paths.at("/api/orchestrators/register").at("post").at("responses").at("503").at("description");
  EXPECT_NE(register_503.as_string().find("Unable to validate orchestrator rank"), std::string::npos) << register_503;
  const auto& adjustment_400 = paths.at("/api/ledger/adjustments").at("post").at("responses").at("400").at("description");
  EXPECT_NE(adjustment_400.as_string().find("Idempotency-Key"), std::string::npos) << adjustment_400;
  EXPECT_EQ(paths.at("/api/import/balances").at("post").at("responses").at("409").at("content").at("application/json").at("schema"),
            json::value(json::object{{"$ref", "#/components/schemas/ImportConflict"}}));
  // An optional request field may be null (it then counts as not sent); a required one may not.
  const auto& registration = doc.at("components").at("schemas").at("Registration").at("properties");
  EXPECT_EQ(registration.at("capability").at("anyOf").at(1), json::value(json::object{{"type", "null"}}));
  EXPECT_EQ(registration.at("orchestrator_id").at("type"), json::value("string"));
  // A time workload's status has a default and no null (the node refuses null).
  const auto& status_values = doc.at("components").at("schemas").at("WorkloadTimeCreate").at("properties").at("status").at("enum").as_array();
  EXPECT_EQ(std::find(status_values.begin(), status_values.end(), json::value(nullptr)), status_values.end()) << status_values;
  EXPECT_EQ(post("/api/workloads/time", json::object{{"workload_id", "n"}, {"orchestrator_id", "o"}, {"artifact_hash", "h"},
                                                    {"duration_ms", 5}, {"status", nullptr}}).status,
            422);
  // Query parameters carry the bounds the node enforces.
  auto param = [&](const char* path, const char* name) -> json::value {
    for (const auto& p : paths.at(path).at("get").at("parameters").as_array())
      if (p.at("name") == name) return p.at("schema");
    return nullptr;
  };
  EXPECT_EQ(param("/api/transparency/tee-core/receipt", "event_id").at("maxLength"), json::value(1024));
  EXPECT_EQ(param("/api/transparency/tee-core/audit/proof", "contract_address").at("pattern"), json::value("^0x[a-fA-F0-9]{40}$"));
  // A payout listing's orchestrator_id has no bound: a longer one matches nothing.
  EXPECT_FALSE(param("/api/payouts", "orchestrator_id").as_object().contains("maxLength"));
  EXPECT_EQ(get("/api/transparency/tee-core/receipt?event_id=" + std::string(1025, 'e')).status, 422);
  // A 422 answer is the list the schema describes.
  const auto refused = post("/api/workloads/time", json::object{{"workload_id", ""}});
  ASSERT_EQ(refused.status, 422);
  const auto validation = doc.at("components").at("schemas").at("ValidationError");
  const auto refusal = parse_json(refused.body);
  for (const auto& e : refusal.at("detail").as_array())
    for (const auto& name : validation.at("required").as_array()) EXPECT_TRUE(e.as_object().contains(name.as_string())) << e;
  // Defaults of query parameters.
  auto default_of = [&](const char* path, const char* name) {
    for (const auto& p : paths.at(path).at("get").at("parameters").as_array())
      if (p.at("name").as_string() == name) return p.at("schema").as_object().contains("default") ? p.at("schema").at("default") : json::value();
    return json::value();
  };
  EXPECT_EQ(default_of("/api/ledger/events", "limit"), json::value(200));
  EXPECT_EQ(default_of("/api/orchestrators/{orchestrator_id}/stats", "days"), json::value(30));
  // Required query parameters say so.
  auto required = [&](const char* path, const char* name) {
    for (const auto& p : paths.at(path).at("get").at("parameters").as_array())
      if (p.at("name").as_string() == name) return p.at("required").as_bool();
    ADD_FAILURE() << path << " has no parameter " << name;
    return false;
  };
  EXPECT_TRUE(required("/api/transparency/tee-core/audit/consistency", "first"));
  EXPECT_TRUE(required("/api/transparency/tee-core/audit/proof", "event_id"));
  EXPECT_TRUE(required("/api/transparency/tee-core/receipt", "event_id"));
  EXPECT_FALSE(required("/api/workloads", "limit"));
  // Every field a real answer has is described, and every field a schema requires is there.
  auto registered = post("/api/orchestrators/register", json::object{{"orchestrator_id", "o1"}, {"address", address_of(1)}});
  ASSERT_EQ(registered.status, 200);
  auto credited = post("/api/workloads/time", json::object{{"workload_id", "w"}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"},
                                                          {"duration_ms", 60000}});
  ASSERT_EQ(credited.status, 200);
  auto adjusted = post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "-0.000001"}});
  ASSERT_EQ(adjusted.status, 200) << adjusted.body;
  const auto& schemas = doc.at("components").at("schemas");
  // Fields an answer has that its schema does not describe, and fields the schema requires
  // that the answer lacks.
  const auto undocumented = schema_mismatch;
  EXPECT_EQ(undocumented(get_json("/api/orchestrators/o1"), schemas.at("Orchestrator")), "");
  EXPECT_EQ(undocumented(parse_json(registered.body), schemas.at("RegistrationResult")), "");
  EXPECT_EQ(undocumented(parse_json(credited.body), schemas.at("Workload")), "");
  EXPECT_EQ(undocumented(get_json("/api/workloads").at("workloads").at(0), schemas.at("Workload")), "");
  EXPECT_EQ(undocumented(parse_json(adjusted.body), schemas.at("AdjustmentResult")), "");
  const auto events = get_json("/api/ledger/events");
  ASSERT_EQ(events.at("events").as_array().size(), 2u);
  for (const auto& e : events.at("events").as_array()) EXPECT_EQ(undocumented(e, schemas.at("LedgerEvent")), "");
  auto stats = get_json("/api/orchestrators/o1/stats?days=2");
  EXPECT_EQ(undocumented(stats, schemas.at("OrchestratorStats")), "");
  EXPECT_EQ(undocumented(stats.at("daily").at(0), schemas.at("OrchestratorStats").at("properties").at("daily").at("items")), "");
  EXPECT_EQ(stats.at("total_credits_wei").as_string(), "5353596000000");  // every *_eth has its *_wei
  EXPECT_EQ(stats.at("daily").at(1).at("credits_wei").as_string(), "5353596000000");
  // Lists and short answers carry every field their schemas describe.
  auto answer_schema = [&](const char* path, const char* method) {
    return paths.at(path).at(method).at("responses").at("200").at("content").at("application/json").at("schema");
  };
  for (const char* path : {"/api/orchestrators", "/api/balances", "/api/workloads", "/api/ledger/events", "/healthz"})
    EXPECT_EQ(undocumented(get_json(path), answer_schema(path, "get")), "") << path;
  const auto balance_rows = get_json("/api/balances");
  ASSERT_FALSE(balance_rows.at("balances").as_array().empty());
  EXPECT_EQ(undocumented(balance_rows.at("balances").at(0), answer_schema("/api/balances", "get").at("properties").at("balances").at("items")), "");
  EXPECT_TRUE(answer_schema("/api/balances", "get").as_object().contains("required"));
  auto summary = get_json("/api/workloads/summary");
  EXPECT_EQ(undocumented(summary, schemas.at("WorkloadSummary")), "");
  EXPECT_EQ(undocumented(summary.at("orchestrators").at(0),
                         schemas.at("WorkloadSummary").at("properties").at("orchestrators").at("items")),
            "");
  // /docs names each route's access as the node enforces it.
  auto page = get("/docs").body;
  EXPECT_NE(page.find("<code>/api/orchestrators/me</code></td><td>orchestrator token<"), std::string::npos) << page;
  EXPECT_NE(page.find("<code>/api/payouts</code></td><td>admin (404 while no admin token is set)<"), std::string::npos) << page;
  EXPECT_FALSE(doc.as_object().contains("servers"));
  // Mounted under a prefix by a proxy: the document says where to call, and /docs links there.
  restart_node({{"PAYMENTS_API_ROOT_PATH", "/payments"}});
  auto mounted = get_json("/openapi.json");
  EXPECT_EQ(mounted.at("servers").at(0).at("url").as_string(), "/payments");
  EXPECT_EQ(mounted.at("paths"), doc.at("paths"));
  EXPECT_NE(get("/docs").body.find("href=\"/payments/openapi.json\""), std::string::npos);
}

TEST_F(ApiTest, SettingsUsedOnlyLaterStillStopStartUp) {
  ASSERT_EQ(node_->terminate(), 0);
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"ETH_RPC_URL", "localhost:8545"}, {"PAYMENTS_API_ROOT_PATH", "payments/"},
           {"PAYMENTS_TRUSTED_PROXY_CIDRS", "10.1.2.3/33"}, {"PAYMENT_PRIVATE_KEY", "0x" + std::string(64, '0')}}) {
    auto r = run_command({lpops_binary(), "serve", "--data-dir", dir_.str() + "/data", "--host", "127.0.0.1", "--port", "0"},
                         {{name, value}}, std::chrono::seconds(30));
    EXPECT_EQ(r.exit_code, 2) << name << ": " << r.output;
    EXPECT_NE(r.output.find(name), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("invalid settings:"), std::string::npos) << r.output;
  }
  // A listen address that is no IP and resolves to nothing; an audit key path that is a directory.
  auto host = run_command({lpops_binary(), "serve", "--data-dir", dir_.str() + "/data", "--port", "0"},
                          {{"PAYMENTS_API_HOST", "999.1.1.1"}}, std::chrono::seconds(30));
  EXPECT_EQ(host.exit_code, 2) << host.output;
  EXPECT_NE(host.output.find("PAYMENTS_API_HOST"), std::string::npos) << host.output;
  auto key = run_command({lpops_binary(), "serve", "--data-dir", dir_.str() + "/data", "--host", "127.0.0.1", "--port", "0"},
                         {{"PAYMENTS_AUDIT_KEY_PATH", dir_.str()}}, std::chrono::seconds(30));
  EXPECT_EQ(key.exit_code, 2) << key.output;
  EXPECT_NE(key.output.find("is not a regular file"), std::string::npos) << key.output;
  EXPECT_NE(key.output.find("invalid settings:\nPAYMENTS_AUDIT_KEY_PATH"), std::string::npos) << key.output;
}

TEST_F(ApiTest, RegisterListGetAndRefresh) {
  auto r = post("/api/orchestrators/register",
                json::object{{"orchestrator_id", "orch-a"}, {"address", "0xAbCdEf0000000000000000000000000000000001"},
                             {"capability", "video"}, {"contact_email", " ops@example.com "}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = parse_json(r.body);
  EXPECT_EQ(body.at("message").as_string(), "Registered orchestrator");
  EXPECT_EQ(body.at("balance_eth").as_string(), "0");
  EXPECT_EQ(body.at("registration_count").as_int64(), 1);
  EXPECT_EQ(body.at("address").as_string(), "0xAbCdEf0000000000000000000000000000000001");
  auto first = get_json("/api/orchestrators/orch-a");
  EXPECT_EQ(first.at("first_seen"), first.at("last_seen"));  // one time for one registration, as the reference

  auto again = post("/api/orchestrators/register",
                    json::object{{"orchestrator_id", "orch-a"}, {"address", "0xabcdef0000000000000000000000000000000001"}});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(parse_json(again.body).at("message").as_string(), "Registration refreshed");

  auto list = get_json("/api/orchestrators");
  ASSERT_EQ(list.at("orchestrators").as_array().size(), 1u);
  auto one = get_json("/api/orchestrators/orch-a");
  EXPECT_EQ(one.at("capability").as_string(), "video");
  EXPECT_EQ(one.at("contact_email").as_string(), "ops@example.com");
  EXPECT_EQ(one.at("registration_count").as_int64(), 2);
  EXPECT_EQ(one.at("last_seen_ip").as_string(), "127.0.0.1");
  EXPECT_FALSE(one.as_object().contains("forwarder_health"));
  EXPECT_EQ(get("/api/orchestrators/nobody").status, 404);
  // A registration is no "contact source" (sessions, leases and health pushes are); one does
  // not replace the source a health push set.
  EXPECT_TRUE(one.at("last_contact_source").is_null());
  ASSERT_EQ(post("/api/orchestrators/orch-a/health", json::object{{"source", "fw"}, {"data", json::object{{"summary", json::object{{"services_up", 2}}}}}}).status, 200);
  ASSERT_EQ(post("/api/orchestrators/register", json::object{{"orchestrator_id", "orch-a"}, {"address", address_of(0xabcdef)}}).status, 409);
  ASSERT_EQ(post("/api/orchestrators/register",
                 json::object{{"orchestrator_id", "orch-a"}, {"address", "0xabcdef0000000000000000000000000000000001"}})
                .status,
            200);
  EXPECT_EQ(get_json("/api/orchestrators/orch-a").at("last_contact_source").as_string(), "fw");
  // A health push's source has a default and no null.
  EXPECT_EQ(post("/api/orchestrators/orch-a/health", json::object{{"source", nullptr}, {"data", json::object{}}}).status, 422);
  // Data up to 65,536 bytes as JSON is taken (each push is journaled with the record).
  EXPECT_EQ(post("/api/orchestrators/orch-a/health", json::object{{"data", json::object{{"pad", std::string(65'536 - 10, 'x')}}}}).status,
            200);
}

// The reference's field rules: contact_email stripped as Python strips (Unicode spaces too),
// blank is none, and an '@' neither first nor last; monitored_services items stripped the
// same way, blanks dropped, no length limit of their own; a boolean is a number (1.0).
TEST_F(ApiTest, RegistrationFieldsAreReadAsTheReferenceReadsThem) {
  auto reg = [&](json::object extra) {
    json::object body{{"orchestrator_id", "f"}, {"address", address_of(7)}};
    for (auto& kv : extra) body[kv.key()] = kv.value();
    return post("/api/orchestrators/register", body);
  };
  for (const char* bad : {"a@b@", "@a@b", "ab", "@"}) EXPECT_EQ(reg({{"contact_email", bad}}).status, 422) << bad;
  ASSERT_EQ(reg({{"contact_email", "\u00a0 a@b.example\u3000"}, {"health_timeout", true},
                 {"monitored_services", json::array{"\u00a0", "\u000b", " svc-a\u2003", std::string(300, 's')}}})
                .status,
            200);
  auto view = get_json("/api/orchestrators/f");
  EXPECT_EQ(view.at("contact_email").as_string(), "a@b.example");
  EXPECT_EQ(view.at("health_timeout").as_double(), 1.0);
  ASSERT_EQ(view.at("monitored_services").as_array().size(), 2u);
  EXPECT_EQ(view.at("monitored_services").at(0).as_string(), "svc-a");
  EXPECT_EQ(reg({{"health_timeout", false}}).status, 422);  // 0.0, under the 0.1 minimum
}

TEST_F(ApiTest, AddressConflictsAre409) {
  register_orchestrator("a", address_of(1));
  auto taken = post("/api/orchestrators/register", json::object{{"orchestrator_id", "b"}, {"address", address_of(1)}});
  EXPECT_EQ(taken.status, 409);
  EXPECT_EQ(parse_json(taken.body).at("detail").as_string(), "Address already registered to a different orchestrator");
  auto changed = post("/api/orchestrators/register", json::object{{"orchestrator_id", "a"}, {"address", address_of(2)}});
  EXPECT_EQ(changed.status, 409);
  EXPECT_EQ(parse_json(changed.body).at("detail").as_string(),
            "Existing orchestrator attempted to change address; this is not allowed");
}

// Addresses match by pattern and compare without case, as in the reference: a mixed-case
// spelling that is not EIP-55 still names its 20 bytes (audit entries credit them, not the
// zero address), and a refresh stores the spelling it was sent with.
TEST_F(ApiTest, AnAddressInAnyCaseNamesItsBytesAndKeepsItsLatestSpelling) {
  const std::string mixed = "0xAbabababababababababababababababababab12";  // not EIP-55
  const std::string upper = "0xABABABABABABABABABABABABABABABABABABAB12";
  register_orchestrator("o1", mixed);
  EXPECT_EQ(get_json("/api/orchestrators/o1").at("address").as_string(), mixed);
  ASSERT_EQ(post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "1"}}).status, 200);
  auto entry = get_json("/api/transparency/tee-core/log?orchestrator_id=o1").at("entries").as_array().at(0).at("audit_entry");
  std::string lower = mixed;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(entry.at("recipient").as_string(), lower) << entry;
  register_orchestrator("o1", upper);
  EXPECT_EQ(get_json("/api/orchestrators/o1").at("address").as_string(), upper);
  EXPECT_EQ(post("/api/orchestrators/register", json::object{{"orchestrator_id", "o2"}, {"address", upper}}).status, 409);
}

TEST_F(ApiTest, RegistrationRateLimitIs429) {
  int limited = 0;
  for (int i = 0; i < 8; ++i) {
    auto r = post("/api/orchestrators/register", json::object{{"orchestrator_id", "rl"}, {"address", address_of(5)}});
    if (r.status == 429) {
      ++limited;
      EXPECT_EQ(parse_json(r.body).at("detail").as_string(), "Too many registration attempts; slow down");
    } else {
      EXPECT_EQ(r.status, 200);
    }
  }
  EXPECT_EQ(limited, 3);  // 5 per 10 s pass
}

TEST_F(ApiTest, TimeWorkloadCreditsExactlyAndOnce) {
  register_orchestrator("o1", address_of(1));
  auto r = post("/api/workloads/time", json::object{{"workload_id", "w1"}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"duration_ms", 90000}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto w = parse_json(r.body);
  EXPECT_EQ(w.at("payout_amount_eth").as_string(), "0.000008030394");
  EXPECT_EQ(w.at("status").as_string(), "verified");
  EXPECT_TRUE(w.at("credited").as_bool());
  auto dup = post("/api/workloads/time", json::object{{"workload_id", "w1"}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"duration_ms", 90000}});
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(parse_json(dup.body).at("detail").as_string(), "Workload already exists");
  EXPECT_EQ(get_json("/api/orchestrators/o1").at("balance_eth").as_string(), "0.000008030394");
  auto unknown = post("/api/workloads/time", json::object{{"workload_id", "w2"}, {"orchestrator_id", "zz"}, {"artifact_hash", "h"}, {"duration_ms", 1}});
  EXPECT_EQ(unknown.status, 404);
  auto status = post("/api/workloads/time",
                     json::object{{"workload_id", "w3"}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"duration_ms", 1}, {"status", "weird"}});
  EXPECT_EQ(status.status, 400);
  EXPECT_EQ(parse_json(status.body).at("detail").as_string(), "Invalid workload status");
}

// A path with a trailing slash (or an encoded one, %2F) is never routed to the route without
// it: the answer is the reference's 307 to that path, and nothing changes.
TEST_F(ApiTest, TrailingSlashesRedirectAndNeverActOnAnotherId) {
  register_orchestrator("o1", address_of(1));
  for (const char* id : {"zz", "zz/"})
    ASSERT_EQ(post("/api/workloads", json::object{{"workload_id", id}, {"orchestrator_id", "o1"}, {"payout_amount_eth", "1"},
                                                  {"artifact_hash", "h"}})
                  .status,
              200);
  for (const char* target : {"/api/workloads/zz%2F", "/api/workloads/zz/", "/api/workloads/zz//"}) {
    auto r = raw("PATCH", target, R"({"status":"verified"})");
    EXPECT_EQ(r.status, 307) << target << " " << r.body;
    EXPECT_EQ(r.header("Location"), "/api/workloads/zz") << target;
    EXPECT_EQ(r.header("Content-Type"), "") << target;  // no body, no type
  }
  EXPECT_EQ(get_json("/api/orchestrators/o1").at("balance_eth").as_string(), "0");  // neither was verified
  auto listing = get("/api/workloads/?limit=1&orchestrator_id=o1");
  EXPECT_EQ(listing.status, 307);
  EXPECT_EQ(listing.header("Location"), "/api/workloads?limit=1&orchestrator_id=o1");
  auto spaced = raw("PATCH", "/api/workloads/a%20%C3%A9/", "{}");
  EXPECT_EQ(spaced.status, 307);
  EXPECT_EQ(spaced.header("Location"), "/api/workloads/a%20%C3%A9");
  // Decoded characters that would change what the path names go back escaped.
  for (const auto& [target, location] : std::vector<std::pair<std::string, std::string>>{
           {"/api/workloads/a%3Fb/", "/api/workloads/a%3Fb"},
           {"/api/workloads/a%23b/", "/api/workloads/a%23b"},
           {"/api/workloads/%2541/", "/api/workloads/%2541"}}) {
    auto r = raw("PATCH", target, "{}");
    EXPECT_EQ(r.status, 307) << target;
    EXPECT_EQ(r.header("Location"), location) << target;
  }
  // An id holding '/' is addressed with it escaped (the reference could never reach one).
  auto absent = raw("PATCH", "/api/workloads/a%2Fb", "{}");
  EXPECT_EQ(absent.status, 404);
  EXPECT_EQ(parse_json(absent.body).at("detail").as_string(), "Workload not found");
  ASSERT_EQ(post("/api/workloads", json::object{{"workload_id", "a/b"}, {"orchestrator_id", "o1"}, {"payout_amount_eth", "2"},
                                                {"artifact_hash", "h"}})
                .status,
            200);
  auto patched = raw("PATCH", "/api/workloads/a%2fb", R"({"status":"verified"})");
  EXPECT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(parse_json(patched.body).at("workload_id").as_string(), "a/b");
  EXPECT_EQ(get_json("/api/orchestrators/o1").at("balance_eth").as_string(), "2");
  auto wrong_method = raw("POST", "/api/workloads/a%2Fb", "{}");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.header("Allow"), "PATCH");
  EXPECT_EQ(get("/nothing/").status, 404);
  EXPECT_EQ(get("/healthz/").header("Location"), "/healthz");
  EXPECT_EQ(get("/healthz").status, 200);
}

TEST_F(ApiTest, PatchCreditsOnceAndSurvivesRestart) {
  register_orchestrator("o1", address_of(1));
  auto created = post("/api/workloads", json::object{{"workload_id", "job-1"}, {"orchestrator_id", "o1"},
                                                     {"payout_amount_eth", "0.0025"}, {"artifact_uri", "s3://x/a.webm"}});
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_FALSE(parse_json(created.body).at("credited").as_bool());
  for (const char* status : {"verified", "paid", "verified"}) {
    auto p = raw("PATCH", "/api/workloads/job-1", json::serialize(json::object{{"status", status}}));
    ASSERT_EQ(p.status, 200) << p.body;
  }
  EXPECT_EQ(get_json("/api/orchestrators/o1").at("balance_eth").as_string(), "0.0025");
  restart_node();
  auto after = raw("PATCH", "/api/workloads/job-1", json::serialize(json::object{{"status", "verified"}}));
  ASSERT_EQ(after.status, 200);
  EXPECT_TRUE(parse_json(after.body).at("credited").as_bool());
  EXPECT_EQ(get_json("/api/orchestrators/o1").at("balance_eth").as_string(), "0.0025");
  EXPECT_EQ(raw("PATCH", "/api/workloads/nope", "{}").status, 404);
  auto events = get_json("/api/ledger/events?orchestrator_id=o1");
  ASSERT_EQ(events.at("events").as_array().size(), 1u);
  EXPECT_EQ(events.at("events").as_array()[0].at("reason").as_string(), "workload");
}

TEST_F(ApiTest, WorkloadListingFiltersAndSummary) {
  register_orchestrator("o1", address_of(1));
  register_orchestrator("o2", address_of(2));
  for (int i = 0; i < 6; ++i)
    ASSERT_EQ(post("/api/workloads/time", json::object{{"workload_id", "w" + std::to_string(i)},
                                                       {"orchestrator_id", i % 2 ? "o1" : "o2"}, {"artifact_hash", "h"}, {"duration_ms", 60000},
                                                       {"status", i < 4 ? "verified" : "pending"}})
                  .status,
              200);
  auto all = get_json("/api/workloads");
  ASSERT_EQ(all.at("workloads").as_array().size(), 6u);
  EXPECT_EQ(all.at("workloads").as_array()[0].at("workload_id").as_string(), "w5");  // newest first
  EXPECT_EQ(get_json("/api/workloads?orchestrator_id=o1").at("workloads").as_array().size(), 3u);
  EXPECT_EQ(get_json("/api/workloads?status=pending").at("workloads").as_array().size(), 2u);
  EXPECT_EQ(get_json("/api/workloads?limit=2").at("workloads").as_array().size(), 2u);
  EXPECT_EQ(get("/api/workloads?status=bogus").status, 400);
  EXPECT_EQ(get("/api/workloads?since=yesterday").status, 400);
  EXPECT_EQ(get("/api/workloads?limit=0").status, 422);
  EXPECT_EQ(get_json("/api/workloads?since=2000-01-01T00:00:00Z").at("workloads").as_array().size(), 6u);
  EXPECT_EQ(get_json("/api/workloads?until=2000-01-01").at("workloads").as_array().size(), 0u);
  auto summary = get_json("/api/workloads/summary");
  const auto& rows = summary.at("orchestrators").as_array();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("orchestrator_id").as_string(), "o1");
  EXPECT_EQ(rows[0].at("workloads").as_int64(), 3);
  EXPECT_TRUE(summary.at("range_start").is_null());
  // The range is echoed as given (the reference's contract), not reformatted.
  auto ranged = get_json("/api/workloads/summary?since=2000-01-01T00:00:00.5Z");
  EXPECT_EQ(ranged.at("range_start").as_string(), "2000-01-01T00:00:00.5Z");
  EXPECT_TRUE(ranged.at("range_end").is_null());
  EXPECT_EQ(ranged.at("orchestrators").as_array().size(), 2u);

  // A stray '%', '[' or '|' elsewhere in the query is text: the filters and the limit still
  // apply (the whole query used to be dropped, listing everything).
  EXPECT_EQ(get_json("/api/workloads?orchestrator_id=o1&x=%").at("workloads").as_array().size(), 3u);
  EXPECT_EQ(get_json("/api/workloads?orchestrator_id=o1&x=%zz&limit=1").at("workloads").as_array().size(), 1u);
  EXPECT_EQ(get_json("/api/ledger/events?orchestrator_id=o2&x=a[1]|{}").at("events").as_array().size(), 2u);
  EXPECT_EQ(get("/api/workloads?status=bogus&x=%").status, 400);
  EXPECT_EQ(get("/api/orchestrators/o1/stats?days=0&x=%").status, 422);
  EXPECT_EQ(get_json("/api/orchestrators/o1/stats?days=%2B3").at("days").as_int64(), 3);
  EXPECT_EQ(get_json("/api/workloads?limit=1&limit=3").at("workloads").as_array().size(), 3u);  // the last one
  // since/until: fromisoformat's forms; a date that does not exist is 400; never dropped.
  const std::string far = "2099-01-01T00:00:00." + std::string(60, '0');
  EXPECT_EQ(get_json("/api/workloads?since=" + far).at("workloads").as_array().size(), 0u);
  EXPECT_EQ(get_json("/api/workloads/summary?since=" + far).at("range_start").as_string(), far);
  EXPECT_EQ(get_json("/api/workloads?until=2000-01-01T10").at("workloads").as_array().size(), 0u);
  EXPECT_EQ(get("/api/workloads?since=2026-02-31").status, 400);
  EXPECT_EQ(get("/api/workloads?since=2026-01-01T00:00:60").status, 400);
  // A fraction of any length is a timestamp to fromisoformat: no length limit of our own.
  const std::string huge = "2099-01-01T00:00:00." + std::string(300, '0');
  EXPECT_EQ(get_json("/api/workloads?since=" + huge).at("workloads").as_array().size(), 0u);
  EXPECT_EQ(get_json("/api/workloads/summary?until=" + huge).at("range_end").as_string(), huge);
  // The basic and week forms; a lower-case zone letter is none.
  EXPECT_EQ(get_json("/api/workloads?since=20000101").at("workloads").as_array().size(), 6u);
  EXPECT_EQ(get_json("/api/workloads?until=2000-W01-1T10").at("workloads").as_array().size(), 0u);
  EXPECT_EQ(get("/api/workloads?since=2026-12-03T12:38:14z").status, 400);
  EXPECT_EQ(get("/api/workloads?since=").status, 400);  // the reference parses the empty value too
  // A zone that takes the time past 9999 in UTC; the same time within the range is a filter.
  EXPECT_EQ(get("/api/workloads?until=9999-12-31T23:59:59-03:00").status, 400);
  EXPECT_EQ(get_json("/api/workloads?until=9999-12-31T23:59:59%2B03:00").at("workloads").as_array().size(), 6u);
  // An empty filter is no filter, as the reference tests them (`if status:`); a filter value
  // has no length limit of its own (a long id matches nothing; a long status is no status).
  EXPECT_EQ(get_json("/api/workloads?status=").at("workloads").as_array().size(), 6u);
  EXPECT_EQ(get_json("/api/workloads?orchestrator_id=").at("workloads").as_array().size(), 6u);
  EXPECT_EQ(get_json("/api/workloads?orchestrator_id=" + std::string(200, 'o')).at("workloads").as_array().size(), 0u);
  auto long_status = get("/api/workloads?status=" + std::string(40, 'v'));
  EXPECT_EQ(long_status.status, 400);
  EXPECT_EQ(parse_json(long_status.body).at("detail").as_string(), "Invalid status filter");
  EXPECT_EQ(get_json("/api/ledger/events?orchestrator_id=").at("events").as_array().size(), 4u);
  EXPECT_EQ(get_json("/api/ledger/events?orchestrator_id=" + std::string(200, 'o')).at("events").as_array().size(), 0u);
  // The reference reads the timestamps before the status.
  auto both = get("/api/workloads?status=bogus&since=garbage");
  EXPECT_EQ(both.status, 400);
  EXPECT_EQ(parse_json(both.body).at("detail").as_string(), "Invalid timestamp filter");
}

// An amount sent as a JSON number is its exact shortest decimal, as Python reads the number
// (0.09999999999999999 is not 0.1), whatever its digits.
TEST_F(ApiTest, AmountsSentAsNumbersAreReadExactly) {
  register_orchestrator("o1", address_of(1));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"0.09999999999999999", "99999999999999990"},
      {"0.021672980046384814", "21672980046384814"},
      {"100.00000000000001", "100000000000000010000"},
  };
  for (const auto& [number, wei] : cases) {
    auto r = raw("POST", "/api/ledger/adjustments", R"({"orchestrator_id":"o1","amount_eth":)" + number + "}");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(parse_json(r.body).at("delta_wei").as_string(), wei) << number;
  }
}

TEST_F(ApiTest, AdjustmentsIdempotencyAndNegativeGuard) {
  register_orchestrator("o1", address_of(1));
  std::vector<std::pair<std::string, std::string>> key{{"Idempotency-Key", "adj-1"}};
  auto first = post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "1.5"}}, key);
  ASSERT_EQ(first.status, 200) << first.body;
  auto body = parse_json(first.body);
  EXPECT_EQ(body.at("balance_eth").as_string(), "1.5");
  EXPECT_EQ(body.at("event_id").as_string(), "adjustment:adj-1");
  auto repeat = post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "1.5"}}, key);
  EXPECT_EQ(repeat.status, 200);
  EXPECT_EQ(repeat.body, first.body);
  auto reuse = post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "2"}}, key);
  EXPECT_EQ(reuse.status, 409);
  // The key is taken whatever the new request names: an unknown orchestrator too.
  auto elsewhere = post("/api/ledger/adjustments", json::object{{"orchestrator_id", "nope"}, {"amount_eth", "1.5"}}, key);
  EXPECT_EQ(elsewhere.status, 409) << elsewhere.body;
  EXPECT_EQ(parse_json(elsewhere.body).at("detail").as_string(), "Idempotency-Key was already used with a different request");
  // A zero amount: the reference's model-level check, so the error names the whole body.
  for (const char* zero : {"0", "-0", "0e5"}) {
    const json::object zero_body{{"orchestrator_id", "o1"}, {"amount_eth", zero}};
    auto z = post("/api/ledger/adjustments", zero_body);
    ASSERT_EQ(z.status, 422) << z.body;
    const auto doc = parse_json(z.body);
    const auto& item = doc.at("detail").as_array().at(0);
    EXPECT_EQ(item.at("loc"), json::array{"body"}) << z.body;
    EXPECT_EQ(item.at("input"), json::value(zero_body)) << z.body;
    EXPECT_EQ(item.at("msg").as_string(), "Value error, amount_eth must be non-zero");
  }
  auto below = post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "-2"}});
  EXPECT_EQ(below.status, 409);
  // A refused request records nothing under its key: the same key, sent again once the
  // balance allows it, makes the adjustment (once).
  std::vector<std::pair<std::string, std::string>> retry{{"Idempotency-Key", "adj-retry"}};
  auto refused = post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "-2"}}, retry);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("negative"), std::string::npos) << refused.body;
  auto top_up = post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "1"}});
  ASSERT_EQ(top_up.status, 200) << top_up.body;
  auto retried = post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "-2"}}, retry);
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(parse_json(retried.body).at("balance_eth").as_string(), "0.5");
  EXPECT_EQ(post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "-2"}}, retry).body,
            retried.body);
  // Booleans are read as the reference reads them: "false", "no", 0 mean false.
  for (json::value no : {json::value("false"), json::value("No"), json::value(0)}) {
    auto not_forced = post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "-2"}, {"force", no}});
    EXPECT_EQ(not_forced.status, 409) << not_forced.body;
  }
  auto forced = post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", -2}, {"force", "yes"}});
  ASSERT_EQ(forced.status, 200) << forced.body;
  EXPECT_EQ(parse_json(forced.body).at("balance_eth").as_string(), "-1.5");
  auto zero = post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "0"}});
  EXPECT_EQ(zero.status, 422);
  // Metadata as the reference builds it (only the fields given non-empty), and "forced" only
  // where force overrode the balance check.
  auto plain = post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "1"}, {"force", true},
                                                            {"notes", ""}, {"reference_workload_id", ""}, {"reason", ""}});
  ASSERT_EQ(plain.status, 200) << plain.body;
  auto listed = get_json("/api/ledger/events?limit=10").at("events").as_array();
  ASSERT_EQ(listed.size(), 5u);
  EXPECT_TRUE(listed[0].at("metadata").is_null()) << json::serialize(listed[0]);
  EXPECT_EQ(listed[0].at("reason").as_string(), "adjustment");
  EXPECT_EQ(listed[1].at("metadata").at("forced"), json::value(true)) << json::serialize(listed[1]);
  restart_node();
  auto after = post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "1.5"}}, key);
  EXPECT_EQ(after.body, first.body);
  auto balances = get_json("/api/balances");
  EXPECT_EQ(balances.at("balances").as_array()[0].at("balance_eth").as_string(), "-0.5");
  auto events = get_json("/api/ledger/events?limit=10");
  EXPECT_EQ(events.at("events").as_array().size(), 5u);
}

TEST_F(ApiTest, AnIdempotencyKeyMatchesARequestWithTheSameEffect) {
  register_orchestrator("o1", address_of(1));
  std::vector<std::pair<std::string, std::string>> key{{"Idempotency-Key", "credit-1"}};
  auto first = post("/api/ledger/adjustments",
                    json::object{{"orchestrator_id", "o1"}, {"amount_eth", "1"}, {"reason", "adjustment"}, {"force", true}}, key);
  ASSERT_EQ(first.status, 200) << first.body;
  // The default reason spelt out, left out or empty is one reason; force means nothing on a credit.
  for (const json::object& same : {json::object{{"orchestrator_id", "o1"}, {"amount_eth", "1"}},
                                    json::object{{"orchestrator_id", "o1"}, {"amount_eth", 1}, {"reason", ""}},
                                    json::object{{"orchestrator_id", "o1"}, {"amount_eth", "1.000"}, {"force", false}}}) {
    auto repeat = post("/api/ledger/adjustments", same, key);
    EXPECT_EQ(repeat.status, 200) << json::serialize(same) << " " << repeat.body;
    EXPECT_EQ(repeat.body, first.body) << json::serialize(same);
  }
  auto other_reason = post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "1"}, {"reason", "bonus"}}, key);
  EXPECT_EQ(other_reason.status, 409) << other_reason.body;
  // On a debit, force is part of the request.
  std::vector<std::pair<std::string, std::string>> debit{{"Idempotency-Key", "debit-1"}};
  ASSERT_EQ(post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "-0.5"}}, debit).status, 200);
  auto forced = post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "-0.5"}, {"force", true}}, debit);
  EXPECT_EQ(forced.status, 409) << forced.body;
  restart_node();
  auto after = post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "1"}}, key);
  EXPECT_EQ(after.body, first.body);
  EXPECT_EQ(get_json("/api/balances").at("balances").as_array()[0].at("balance_eth").as_string(), "0.5");
  EXPECT_EQ(get_json("/api/ledger/events?limit=10").at("events").as_array().size(), 2u);
}

// Each kind of ledger change in the bucket docs/api.md gives it: a plain workload's credit in
// `workload`, a debit (negative) in `adjustments`, a debit whose reason is `payout` in
// `payouts` (as the amount paid out), a credit with a reason of its own only in `credits`.
TEST_F(ApiTest, StatsPutEachKindOfChangeInItsBucket) {
  register_orchestrator("o1", address_of(1));
  ASSERT_EQ(post("/api/workloads", json::object{{"workload_id", "plain"}, {"orchestrator_id", "o1"}, {"payout_amount_eth", "0.004"},
                                               {"artifact_hash", "h"}}).status, 200);
  ASSERT_EQ(raw("PATCH", "/api/workloads/plain", R"({"status":"verified"})").status, 200);  // credited, reason "workload"
  const auto adjust = [&](const char* amount, const char* reason) {
    json::object body{{"orchestrator_id", "o1"}, {"amount_eth", amount}};
    if (reason) body["reason"] = reason;
    auto r = post("/api/ledger/adjustments", body);
    ASSERT_EQ(r.status, 200) << amount << ": " << r.body;
  };
  adjust("1", nullptr);       // reason "adjustment"
  adjust("0.02", "bonus");    // a reason of its own: credits only
  adjust("-0.3", nullptr);    // a debit: negative in adjustments
  adjust("-0.1", "payout");   // a debit given the reason "payout": in payouts
  const auto stats = get_json("/api/orchestrators/o1/stats?days=1");
  const auto& today = stats.at("daily").as_array().at(0);
  for (const auto& [totals, prefix] : {std::pair<json::value, std::string>{stats, "total_"}, {today, ""}}) {
    const auto field = [&](const char* name) { return std::string(totals.at(prefix + name + "_eth").as_string()); };
    EXPECT_EQ(field("credits"), "1.024") << totals;
    EXPECT_EQ(field("workload"), "0.004") << totals;
    EXPECT_EQ(field("session"), "0") << totals;
    EXPECT_EQ(field("adjustments"), "0.7") << totals;  // 1 - 0.3
    EXPECT_EQ(field("payouts"), "0.1") << totals;  // paid out: counted as a positive amount, as in the reference
    EXPECT_EQ(field("net_delta"), "0.624") << totals;
    EXPECT_EQ(std::string(totals.at(prefix + "net_delta_wei").as_string()), "624000000000000000") << totals;
  }
  EXPECT_EQ(stats.at("balance_eth").as_string(), "0.624");
}

// An adjustment's event metadata is the reference's: reference_workload_id and notes, each
// only when given non-empty, and null when neither is.
TEST_F(ApiTest, AnAdjustmentsMetadataHoldsWhatWasGivenNonEmpty) {
  register_orchestrator("o1", address_of(1));
  const std::pair<json::object, std::string> cases[] = {
      {{{"reference_workload_id", "w-7"}, {"notes", "make-good"}}, R"({"reference_workload_id":"w-7","notes":"make-good"})"},
      {{{"reference_workload_id", "w-8"}, {"notes", ""}}, R"({"reference_workload_id":"w-8"})"},
      {{{"reference_workload_id", ""}, {"notes", "only notes"}}, R"({"notes":"only notes"})"},
      {{{"reference_workload_id", ""}, {"notes", ""}}, "null"},
      {{}, "null"},
  };
  for (const auto& [extra, metadata] : cases) {
    json::object body{{"orchestrator_id", "o1"}, {"amount_eth", "0.01"}};
    for (const auto& kv : extra) body[kv.key()] = kv.value();
    auto r = post("/api/ledger/adjustments", body);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto event_id = parse_json(r.body).at("event_id");
    const auto events = get_json("/api/ledger/events");
    int found = 0;
    for (const auto& e : events.at("events").as_array()) {
      if (e.at("event_id") != event_id) continue;
      ++found;
      EXPECT_EQ(e.at("metadata"), parse_json(metadata)) << json::serialize(body) << " -> " << e;
    }
    EXPECT_EQ(found, 1) << event_id;
  }
}

// Artifact URIs of every video type the credit rule names count as artifacts, in any case;
// another extension does not.
TEST_F(ApiTest, EveryVideoTypeOfTheCreditRuleCountsAsAnArtifact) {
  register_orchestrator("o1", address_of(1));
  const std::pair<const char*, bool> cases[] = {{"a.webm", true}, {"a.MKV", true}, {"a.mp4", true},  {"a.Mov", true},
                                                {"a.avi", false}, {"mkv", false},   {"a.mov/", false}};
  int i = 0;
  for (const auto& [file, credits] : cases) {
    const std::string id = "w" + std::to_string(i++);
    ASSERT_EQ(post("/api/workloads", json::object{{"workload_id", id}, {"orchestrator_id", "o1"}, {"payout_amount_eth", "0.001"},
                                                 {"artifact_uri", std::string("https://example.com/") + file}}).status, 200);
    auto r = raw("PATCH", "/api/workloads/" + id, R"({"status":"verified"})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(parse_json(r.body).at("credited").as_bool(), credits) << file << ": " << r.body;
  }
}

TEST_F(ApiTest, StatsBucketsByDay) {
  register_orchestrator("o1", address_of(1));
  ASSERT_EQ(post("/api/workloads/time", json::object{{"workload_id", "w"}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"duration_ms", 60000}}).status, 200);
  ASSERT_EQ(post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "0.001"}}).status, 200);
  auto stats = get_json("/api/orchestrators/o1/stats?days=3");
  EXPECT_EQ(stats.at("days").as_int64(), 3);
  EXPECT_EQ(stats.at("daily").as_array().size(), 3u);
  EXPECT_EQ(stats.at("total_credits_eth").as_string(), "0.001005353596");
  EXPECT_EQ(stats.at("total_adjustments_eth").as_string(), "0.001");
  EXPECT_EQ(stats.at("total_workload_eth").as_string(), "0");
  EXPECT_EQ(get("/api/orchestrators/o1/stats?days=0").status, 422);
  EXPECT_EQ(get("/api/orchestrators/none/stats").status, 404);
  // An adjustment counts as one whatever its reason, "import" too (only a balance brought over
  // by lpops import counts in net_delta alone).
  ASSERT_EQ(post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "2"}, {"reason", "import"}}).status, 200);
  stats = get_json("/api/orchestrators/o1/stats?days=3");
  EXPECT_EQ(stats.at("total_credits_eth").as_string(), "2.001005353596");
  EXPECT_EQ(stats.at("total_net_delta_eth").as_string(), "2.001005353596");
}

// Rates are written as exact decimals whatever form their setting has (docs/api.md, Money):
// the reference echoed the setting's own text ("0.0010", "1E-7").
TEST_F(ApiTest, RatesAreWrittenNormalisedWhateverTheSettingsForm) {
  restart_node({{"PAYMENTS_SESSION_CREDIT_ETH_PER_MINUTE", "0.0010"},
                {"PAYMENTS_POWER_CREDIT_ETH_PER_MINUTE", "1E-7"},
                {"PAYMENTS_WORKLOAD_TIME_CREDIT_ETH_PER_MINUTE", "+0.50"}});
  register_orchestrator("o1", address_of(1));
  const auto stats = get_json("/api/orchestrators/o1/stats?days=1");
  EXPECT_EQ(stats.at("session_credit_eth_per_minute"), json::value("0.001")) << json::serialize(stats);
  EXPECT_EQ(stats.at("passive_credit_eth_per_minute"), json::value("0.0000001")) << json::serialize(stats);
  auto r = post("/api/workloads/time", json::object{{"workload_id", "w"}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"duration_ms", 90000}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse_json(r.body).at("payout_amount_eth"), json::value("0.75")) << r.body;
  // The credit's ledger entry holds the pricing (stored with the workload as well).
  const auto events = get_json("/api/ledger/events?orchestrator_id=o1");
  ASSERT_EQ(events.at("events").as_array().size(), 1u) << json::serialize(events);
  const json::value metadata = events.at("events").at(0).at("metadata");
  EXPECT_EQ(metadata.at("credit_eth_per_minute"), json::value("0.5")) << json::serialize(metadata);
  EXPECT_EQ(metadata.at("duration_ms"), json::value("90000")) << json::serialize(metadata);
  // A rate whose setting is zero in another form is "0".
  restart_node({{"PAYMENTS_SESSION_CREDIT_ETH_PER_MINUTE", "0E+3"}, {"PAYMENTS_POWER_CREDIT_ETH_PER_MINUTE", "0.000"}});
  const auto zero = get_json("/api/orchestrators/o1/stats?days=1");
  EXPECT_EQ(zero.at("session_credit_eth_per_minute"), json::value("0")) << json::serialize(zero);
  EXPECT_EQ(zero.at("passive_credit_eth_per_minute"), json::value("0")) << json::serialize(zero);
}

// The reference's signer and TEE-core routes, for a node with no payout key and then with one:
// the status says which signer there is; there is no attestation document and no TEE core, so
// those routes answer the reference's 404s (the signer's once its nonce is checked).
TEST_F(ApiTest, TeeRoutesSayThereIsNoEnclave) {
  restart_node({{"PAYMENTS_API_ADMIN_TOKEN", "secret"}, {"PAYMENTS_VIEWER_TOKENS", "viewer"}, {"PAYMENTS_PUBLIC_RATE_BURST", "1000"},
                {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "1000"}});
  const std::vector<std::pair<std::string, std::string>> viewer{{"X-Admin-Token", "viewer"}};
  auto status = get("/api/tee/status", viewer);
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(status.body, R"({"mode":"none","address":null,"attestation_available":false})");
  EXPECT_EQ(get("/api/tee/status").status, 401);
  EXPECT_EQ(get("/api/tee/core/status").status, 401);
  auto core = get("/api/tee/core/status", viewer);
  EXPECT_EQ(core.status, 404);
  EXPECT_EQ(core.body, R"({"detail":"TEE core unavailable"})");
  struct Case {
    std::string query;
    int status;
  };
  // The reference's nonce: stripped, a lower-case 0x optional, an even number of characters
  // that bytes.fromhex reads (hex pairs, ASCII whitespace before a pair).
  const std::vector<Case> cases{{"", 404}, {"?nonce=", 404}, {"?nonce=%20%20", 404}, {"?nonce=abCD01", 404},
                                {"?nonce=0xabcd", 404}, {"?nonce=%20%200xab%09", 404}, {"?nonce=0x", 404},
                                {"?nonce=ab%20%20cd", 404}, {"?nonce=ab%09%0Acd", 404},
                                {"?nonce=abc", 400}, {"?nonce=0Xab", 400}, {"?nonce=zz", 400}, {"?nonce=ab%20cd", 400},
                                {"?nonce=a%20%20bcd", 400}, {"?nonce=%C3%A9", 400}};
  // Public. Without a payout key there is no signer, and no TEE core ever: both answer so
  // before the nonce is read, as in the reference.
  for (const Case& c : cases) {
    auto signer = get("/api/tee/attestation" + c.query);
    EXPECT_EQ(signer.status, 404) << c.query << " " << signer.body;
    EXPECT_EQ(signer.body, R"({"detail":"TEE signer unavailable"})") << c.query;
    auto enclave = get("/api/tee/core/attestation" + c.query);
    EXPECT_EQ(enclave.status, 404) << c.query << " " << enclave.body;
    EXPECT_EQ(enclave.body, R"({"detail":"TEE core unavailable"})") << c.query;
  }
  // With a payout key, the signer is local: its address, and still no attestation document.
  restart_node({{"PAYMENTS_API_ADMIN_TOKEN", "secret"}, {"PAYMENTS_PUBLIC_RATE_BURST", "1000"}, {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "1000"},
                {"PAYMENT_PRIVATE_KEY", "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"}});
  EXPECT_EQ(get("/api/tee/status", {{"X-Admin-Token", "secret"}}).body,
            R"({"mode":"local","address":"0x2c7536E3605D9C16a7a3D7b1898e529396a65c23","attestation_available":false})");
  for (const Case& c : cases) {
    auto signer = get("/api/tee/attestation" + c.query);
    EXPECT_EQ(signer.status, c.status) << c.query << " " << signer.body;
    EXPECT_EQ(signer.body, c.status == 400 ? R"({"detail":"nonce must be hex"})" : R"({"detail":"TEE attestation document unavailable"})")
        << c.query;
    EXPECT_EQ(get("/api/tee/core/attestation" + c.query).body, R"({"detail":"TEE core unavailable"})") << c.query;
  }
  EXPECT_EQ(get("/api/tee/core/attestation").body, R"({"detail":"TEE core unavailable"})");
}

// Split surfaces (as the reference splits them): with enforcement on, the edge host answers no ops route
// and the ops host no edge route, before anything else is checked; other hosts and the routes
// of neither surface pass. Hosts compare without case, port or trailing dot.
TEST_F(ApiTest, SplitSurfacesKeepOpsRoutesOffTheEdgeHostAndEdgeRoutesOffTheOpsHost) {
  restart_node({{"PAYMENTS_API_ADMIN_TOKEN", "secret"}, {"PAYMENTS_ENFORCE_SPLIT_SURFACES", "true"},
                {"PAYMENTS_PUBLIC_EDGE_HOST", "edge.example"}, {"PAYMENTS_PUBLIC_OPS_HOST", "ops.example:8443"},
                {"PAYMENTS_TRUSTED_PROXY_CIDRS", "127.0.0.1/32"}, {"PAYMENTS_HTTP_TIMEOUT_SECONDS", "60"}});
  auto ask = [&](const std::string& line, const std::string& host, const std::string& fields = "", const std::string& body = "") {
    return client_->raw_exchange(line + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n" + fields +
                                 "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  };
  const std::string token = "X-Admin-Token: secret\r\n";
  const std::string edge = "Route is not available on EDGE surface", ops = "Route is not available on OPS surface";
  struct Case {
    std::string line, host, fields, status, detail;
  };
  const Case cases[] = {
      {"GET /api/workloads", "edge.example", token, "HTTP/1.1 403", edge},
      {"GET /api/workloads", "EDGE.example.:8080", token, "HTTP/1.1 403", edge},
      {"POST /api/ledger/adjustments", "edge.example", "", "HTTP/1.1 403", edge},  // before the 401
      {"GET /api/workloads/a/b/c", "edge.example", token, "HTTP/1.1 403", edge},  // before the 404
      {"GET /api/orchestrators/metro-1", "edge.example", token, "HTTP/1.1 403", edge},  // an id, not /me
      {"GET /api/orchestrators", "edge.example", token, "HTTP/1.1 403", edge},
      {"GET /api/balances", "edge.example", token, "HTTP/1.1 403", edge},
      {"GET /api/payouts", "edge.example", token, "HTTP/1.1 403", edge},
      {"POST /api/orchestrators/register", "ops.example", "", "HTTP/1.1 403", ops},
      {"GET /api/orchestrators/me", "ops.example", "", "HTTP/1.1 403", ops},
      {"POST /api/orchestrators/o1/credential/nonce", "ops.example", "", "HTTP/1.1 403", ops},
      {"GET /api/transparency/tee-core/audit/status", "ops.example", "", "HTTP/1.1 403", ops},
      {"GET /api/tee/attestation", "ops.example", "", "HTTP/1.1 403", ops},
      {"GET /api/tee/core/attestation?nonce=zz", "ops.example", "", "HTTP/1.1 403", ops},  // before the 404
      // An empty port is a port too (RFC 3986).
      {"GET /api/balances", "edge.example:", token, "HTTP/1.1 403", edge},
      {"POST /api/orchestrators/register", "ops.example:", "", "HTTP/1.1 403", ops},
      // A host that names no host could be read as either surface: refused.
      {"GET /api/balances", "\"edge.example\"", token, "HTTP/1.1 400", "Invalid Host header"},
      {"GET /api/balances", "edge.example/", token, "HTTP/1.1 400", "Invalid Host header"},
      // A target in absolute form names the host; Host is ignored (RFC 9112 §3.2.2).
      {"GET http://edge.example/api/balances", "ops.example", token, "HTTP/1.1 403", edge},
      {"GET http://user@ops.example:8443/api/orchestrators/me", "edge.example", "", "HTTP/1.1 403", ops},
      {"GET http://ops.example/api/workloads", "edge.example", token, "HTTP/1.1 200", ""},
      // ... and one that names no host, or that another parser could read differently, is refused.
      {"GET http:///api/balances", "edge.example", token, "HTTP/1.1 400", "Invalid Host header"},
      {"GET http://edge.example\\@ops.example/api/balances", "edge.example", token, "HTTP/1.1 400", "Invalid Host header"},
      // Through a trusted proxy the forwarded host counts.
      {"GET /api/workloads", "ops.example", token + "X-Forwarded-Host: edge.example, ops.example\r\n", "HTTP/1.1 403", edge},
      {"GET /api/workloads", "ops.example", token + "X-Forwarded-Host: edge.example:\r\n", "HTTP/1.1 403", edge},
      {"GET /api/workloads", "ops.example", token + "X-Forwarded-Host: edge.example/\r\n", "HTTP/1.1 400",
       "Invalid Host header"},
      // Passing: each surface on its own host, other hosts, routes of neither surface.
      {"GET /api/workloads", "ops.example", token, "HTTP/1.1 200", ""},
      {"GET /api/orchestrators/metro-1", "ops.example", token, "HTTP/1.1 404", "Not found"},
      // An orchestrator named "register" or "bootstrap" has its stats and health on the ops
      // surface, as every other's; only the routes of those names are edge routes.
      {"GET /api/orchestrators/register/stats", "ops.example", token, "HTTP/1.1 404", "Not found"},
      {"POST /api/orchestrators/bootstrap/health", "ops.example", token, "HTTP/1.1 422", ""},
      {"GET /api/orchestrators/bootstrap/stats", "edge.example", token, "HTTP/1.1 403", edge},
      {"GET /api/workloads", "other.example", token, "HTTP/1.1 200", ""},
      {"GET /api/transparency/tee-core/audit/status", "edge.example", "", "HTTP/1.1 200", ""},
      {"GET /healthz", "edge.example", "", "HTTP/1.1 200", ""},
      {"GET /api/tee/attestation", "edge.example", "", "HTTP/1.1 404", "TEE signer unavailable"},
      {"GET /api/tee/status", "edge.example", token, "HTTP/1.1 200", ""},  // of neither surface, as in the reference
      {"GET /api/tee/status", "ops.example", token, "HTTP/1.1 200", ""},
      {"GET /healthz", "ops.example", "", "HTTP/1.1 200", ""},
      {"GET /openapi.json", "edge.example", "", "HTTP/1.1 200", ""},
  };
  for (const auto& c : cases) {
    const std::string r = ask(c.line, c.host, c.fields);
    EXPECT_EQ(r.substr(0, 12), c.status) << c.line << " on " << c.host << ": " << r;
    if (!c.detail.empty()) {
      EXPECT_NE(r.find("{\"detail\":\"" + c.detail + "\"}"), std::string::npos) << c.line << ": " << r;
    }
  }
  const std::string registered = ask("POST /api/orchestrators/register", "edge.example", "",
                                     R"({"orchestrator_id":"o1","address":")" + address_of(1) + R"("})");
  EXPECT_EQ(registered.substr(0, 12), "HTTP/1.1 200") << registered;
  // A body held back changes nothing: the refusal comes from the header.
  const auto started = std::chrono::steady_clock::now();
  const std::string held = client_->raw_exchange(
      "POST /api/workloads/time HTTP/1.1\r\nHost: edge.example\r\nX-Admin-Token: secret\r\nContent-Type: application/json\r\n"
      "Content-Length: 100000\r\n\r\n{");
  EXPECT_EQ(held.substr(0, 12), "HTTP/1.1 403") << held;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

// A body nests up to 128 levels (deeper is a 422, changing nothing); what was accepted is
// read back after a restart, though the journal wraps it in levels of its own (a health
// report nested 30 levels deep once made the journal unreadable at the next start).
TEST_F(ApiTest, DeeplyNestedDataIsAcceptedToALimitAndSurvivesARestart) {
  register_orchestrator("o1", address_of(1));
  auto nested = [](int levels) {
    json::value v = json::object{};
    for (int i = 1; i < levels; ++i) v = json::object{{"k", v}};
    return v;
  };
  // The body itself is one level, "data" one more, "deep" the rest. The report says no
  // service is up, so the orchestrator is ineligible while it is fresh: read back after the
  // restart, it still is.
  const json::object deepest{{"summary", json::object{{"services_up", 0}}}, {"deep", nested(126)}};
  ASSERT_EQ(post("/api/orchestrators/o1/health", json::object{{"data", deepest}}).status, 200);
  auto too_deep = post("/api/orchestrators/o1/health",
                       json::object{{"data", json::object{{"summary", json::object{{"services_up", 3}}}, {"deep", nested(127)}}}});
  EXPECT_EQ(too_deep.status, 422) << too_deep.body;
  EXPECT_NE(too_deep.body.find("too deep"), std::string::npos) << too_deep.body;
  ASSERT_EQ(post("/api/workloads/time", json::object{{"workload_id", "w"}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"},
                                                    {"duration_ms", 60000}})
                .status,
            200);
  const auto before = get_json("/api/orchestrators/o1");
  EXPECT_FALSE(before.at("eligible_for_payments").as_bool());
  restart_node();
  const auto after = get_json("/api/orchestrators/o1");
  EXPECT_FALSE(after.at("eligible_for_payments").as_bool()) << after;
  EXPECT_EQ(after.at("balance_wei"), before.at("balance_wei"));
  EXPECT_EQ(after.at("balance_wei").as_string(), "5353596000000");
}

TEST_F(ApiTest, HealthPushDrivesEligibility) {
  register_orchestrator("o1", address_of(1));
  EXPECT_TRUE(get_json("/api/orchestrators/o1").at("eligible_for_payments").as_bool());
  auto down = post("/api/orchestrators/o1/health", json::object{{"data", json::object{{"summary", json::object{{"services_up", 0}}}}}});
  ASSERT_EQ(down.status, 200) << down.body;
  EXPECT_EQ(down.body, "{\"ok\":true}");
  auto view = get_json("/api/orchestrators/o1");
  EXPECT_FALSE(view.at("eligible_for_payments").as_bool());
  EXPECT_EQ(view.at("active_reason").as_string(), "forwarder_health");
  // A registration meanwhile answers with the same eligibility as the view.
  auto again = post("/api/orchestrators/register", json::object{{"orchestrator_id", "o1"}, {"address", address_of(1)}});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_FALSE(parse_json(again.body).at("eligible_for_payments").as_bool()) << again.body;
  ASSERT_EQ(post("/api/orchestrators/o1/health",
                 json::object{{"source", "fw"}, {"data", json::object{{"ip", "10.0.0.9"}, {"summary", json::object{{"services_up", 3}}}}}})
                .status,
            200);
  view = get_json("/api/orchestrators/o1");
  EXPECT_TRUE(view.at("eligible_for_payments").as_bool());
  EXPECT_EQ(view.at("last_seen_ip").as_string(), "10.0.0.9");
  EXPECT_TRUE(view.at("last_healthy_at").is_null());  // the reference's push leaves it alone
  EXPECT_EQ(view.at("last_contact_source").as_string(), "fw");
  EXPECT_EQ(post("/api/orchestrators/ghost/health", json::object{{"data", json::object{}}}).status, 404);
  EXPECT_EQ(post("/api/orchestrators/o1/health", json::object{{"source", "fw"}}).status, 422);
  // "An int > 0" as Python tests it: true and integers past 64 bits count, a float or a
  // numeric string does not.
  for (const auto& [up, counts] : std::vector<std::pair<json::value, bool>>{{json::value(true), true},
                                                                            {json::value(~std::uint64_t{0}), true},
                                                                            {json::value(std::uint64_t{1} << 63), true},
                                                                            {json::value(false), false},
                                                                            {json::value(2.0), false},
                                                                            {json::value("2"), false},
                                                                            {json::value(-1), false}}) {
    ASSERT_EQ(post("/api/orchestrators/o1/health", json::object{{"data", json::object{{"summary", json::object{{"services_up", up}}}}}}).status,
              200);
    EXPECT_EQ(get_json("/api/orchestrators/o1").at("eligible_for_payments").as_bool(), counts) << json::serialize(up);
    EXPECT_EQ(get_json("/api/orchestrators/o1").at("active").as_bool(), counts) << json::serialize(up);
  }
}

// Reads answered on the reader's thread (listings, summaries, ledger events) wait in a bounded
// queue (PAYMENTS_MAX_QUEUED_READS), each holding what the ledger gathered for it: past the
// bound a read is answered 503 with Retry-After at once, and its place comes back with the
// answer. Eight listings of 10,000 orchestrators at once (each written in a quarter of a
// second or more), with one place: the first taken is answered, others are refused.
TEST(QueuedReads, AReadPastTheQueuedBoundIs503AndThePlaceComesBack) {
  TempDir dir;
  {
    json::array entries;
    for (int i = 0; i < 10'000; ++i) {
      char address[43];
      std::snprintf(address, sizeof address, "0x%040x", i + 1);
      entries.push_back(json::object{{"orchestrator_id", "o" + std::to_string(i)}, {"address", address}});
    }
    std::ofstream(dir.str() + "/orchestrators.json") << json::serialize(entries);
  }
  NodeProcess node(dir.str() + "/data", {{"PAYMENTS_MAX_QUEUED_READS", "1"},
                                         {"PAYMENTS_BOOTSTRAP_ORCHESTRATORS_PATH", dir.str() + "/orchestrators.json"}});
  ASSERT_TRUE(node.start()) << node.log();
  auto listing = [&] { return HttpClient("127.0.0.1", node.port(), std::chrono::seconds(120)).request("GET", "/api/orchestrators"); };
  const HttpResult whole = listing();
  ASSERT_EQ(whole.status, 200) << whole.body;
  ASSERT_EQ(parse_json(whole.body).at("orchestrators").as_array().size(), 10'000u);
  std::vector<HttpResult> answers(8);
  std::vector<std::thread> clients;
  for (auto& answer : answers) clients.emplace_back([&answer, &listing] { answer = listing(); });
  for (auto& client : clients) client.join();
  std::size_t answered = 0;
  const HttpResult* refused = nullptr;
  for (const auto& answer : answers) {
    EXPECT_TRUE(answer.status == 200 || answer.status == 503) << answer.status << " " << answer.body;
    if (answer.status == 200) ++answered;
    if (answer.status == 503) refused = &answer;
  }
  EXPECT_GE(answered, 1u);
  ASSERT_NE(refused, nullptr) << "no listing was refused";
  EXPECT_EQ(parse_json(refused->body).at("detail"), "Too many reads are queued; retry shortly");
  EXPECT_EQ(refused->header("Retry-After"), "1");
  // The places came back: one read after another is answered, of every kind on the reader.
  for (const char* target : {"/api/orchestrators", "/api/balances", "/api/workloads", "/api/workloads/summary", "/api/ledger/events"})
    EXPECT_EQ(HttpClient("127.0.0.1", node.port(), std::chrono::seconds(120)).request("GET", target).status, 200) << target;
}

}  // namespace
}  // namespace lpops::testing
