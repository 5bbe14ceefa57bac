// Every write endpoint: malformed or hostile input gets a clear 4xx and changes nothing.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "tests/integration/fixture.hpp"
#include "tests/support/anvil_process.hpp"

namespace lpops::testing {
namespace {

const std::vector<std::pair<std::string, std::string>> kAdmin{{"X-Admin-Token", "admin-secret"}};

class BadInputTest : public NodeTest {
 protected:
  void SetUp() override {
    // The public audit status is read after every request (state()): its rate limit set out of reach.
    start_node({{"PAYMENTS_API_ADMIN_TOKEN", "admin-secret"}, {"PAYMENTS_VIEWER_TOKENS", "viewer-1"}, {"PAYMENTS_MAX_BODY_BYTES", "65536"},
                {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "1000000"}, {"PAYMENTS_PUBLIC_RATE_BURST", "1000000"}});
    register_orchestrator("o1", address_of(1));
    ASSERT_EQ(client_->request("POST", "/api/workloads/time",
                               json::serialize(json::object{{"workload_id", "seed"}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"duration_ms", 60000}}),
                               kAdmin).status, 200);
    baseline_ = state();
  }

  // Everything a bad request could have touched.
  std::string state() {
    std::string s;
    for (const char* t : {"/api/orchestrators", "/api/workloads", "/api/balances", "/api/ledger/events"}) {
      auto r = client_->request("GET", t, "", kAdmin);
      EXPECT_EQ(r.status, 200) << t;
      s += r.body;
    }
    // The audit log's length: a refused request that still wrote a ledger entry shows here
    // even when no listing does.
    auto status = client_->request("GET", "/api/transparency/tee-core/audit/status", "", kAdmin);
    EXPECT_EQ(status.status, 200) << status.body;
    if (status.status == 200) s += "audit_seq=" + json::serialize(json::parse(status.body).at("audit_seq"));
    // Volatile view fields (activity windows) do not change within a test run.
    return s;
  }

  void expect_rejected(const std::string& method, const std::string& target, const std::string& body, int status,
                       const std::vector<std::pair<std::string, std::string>>& headers = kAdmin) {
    auto r = client_->request(method, target, body, headers);
    EXPECT_EQ(r.status, status) << method << " " << target << " " << body.substr(0, 120) << " -> " << r.body.substr(0, 300);
    auto detail = parse_json(r.body);
    EXPECT_TRUE(detail.is_object() && detail.as_object().contains("detail")) << r.body.substr(0, 300);
  }

  std::string baseline_;
};

const std::vector<std::string> kWriteTargets = {"/api/orchestrators/register", "/api/workloads", "/api/workloads/time",
                                                "/api/ledger/adjustments", "/api/orchestrators/o1/health",
                                                "/api/import/registry", "/api/import/workloads", "/api/import/balances"};

TEST_F(BadInputTest, MalformedJsonAndNonObjects) {
  for (const auto& t : kWriteTargets) {
    for (const char* body : {"{", "not json", "[]", "\"text\"", "42", "null", "{\"a\":1,}", ""})
      expect_rejected("POST", t, body, 422);
  }
  for (const char* body : {"{", "[]"}) expect_rejected("PATCH", "/api/workloads/seed", body, 422);
  EXPECT_EQ(state(), baseline_);
}

// A key named twice (parsers disagree on which copy counts) and an amount whose JSON number a
// double does not hold as written: refused on every write endpoint, nothing changed.
TEST_F(BadInputTest, RepeatedKeysAndAmountsNotHeldExactly) {
  for (const auto& t : kWriteTargets)
    expect_rejected("POST", t, R"({"orchestrator_id":"nope","orchestrator_id":"o1","amount_eth":"1"})", 422);
  expect_rejected("PATCH", "/api/workloads/seed", R"({"status":"paid","status":"verified"})", 422);
  for (const char* amount : {"1.000000000000000001", "0.123456789012345678", "1e-999999999"}) {
    expect_rejected("POST", "/api/ledger/adjustments", std::string(R"({"orchestrator_id":"o1","amount_eth":)") + amount + "}", 422);
    expect_rejected("POST", "/api/workloads",
                    std::string(R"({"workload_id":"x1","orchestrator_id":"o1","artifact_hash":"h","payout_amount_eth":)") + amount + "}",
                    422);
  }
  auto dup = client_->request("POST", "/api/ledger/adjustments", R"({"orchestrator_id":"nope","amount_eth":"1","orchestrator_id":"o1"})",
                              kAdmin);
  EXPECT_NE(dup.body.find("\"orchestrator_id\\\" twice"), std::string::npos) << dup.body;
  auto inexact = client_->request("POST", "/api/ledger/adjustments", R"({"orchestrator_id":"o1","amount_eth":1.000000000000000001})", kAdmin);
  EXPECT_NE(inexact.body.find("send \\\"amount_eth\\\" as a string"), std::string::npos) << inexact.body;
  EXPECT_EQ(state(), baseline_);
  // A number a double holds as written is taken, as the reference takes it.
  auto exact = client_->request("POST", "/api/ledger/adjustments", R"({"orchestrator_id":"o1","amount_eth":0.25})", kAdmin);
  EXPECT_EQ(exact.status, 200) << exact.body;
  EXPECT_NE(exact.body.find("\"delta_eth\":\"0.25\""), std::string::npos) << exact.body;
}

TEST_F(BadInputTest, InvalidUtf8) {
  std::string bad = "{\"orchestrator_id\":\"o\xff\xfe\",\"address\":\"" + address_of(9) + "\"}";
  for (const auto& t : kWriteTargets) expect_rejected("POST", t, bad, 422);
  expect_rejected("PATCH", "/api/workloads/seed", "{\"notes\":\"\xc3\x28\"}", 422);
  EXPECT_EQ(state(), baseline_);
}

// Valid requests to every write endpoint, mutated at random (fixed seed): fields dropped, set
// to values of every JSON type and of hostile sizes, unknown fields added, keys repeated,
// bytes flipped, inserted or cut. Every answer is a 2xx or a 4xx JSON error; a 4xx changes
// nothing; and what was accepted is all there after a restart.
TEST_F(BadInputTest, MutatedRequestsAreRefusedWithoutEffectOrKeptAcrossARestart) {
  std::mt19937_64 rng(20261206);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  const json::array values = {
      nullptr, true, false, 0, -1, 1, 60000, 1.5, -0.0, 1e300, json::value(std::uint64_t{18446744073709551615ull}),
      "", "0", "-1", "0.5", "1e-18", "1e400", "NaN", "x", std::string(300, 'y'), std::string("nul\0byte", 8), "\xc3\xa9\xe2\x82\xac",
      "0x" + std::string(40, 'a'), "pending", "verified", "paid", "rejected", json::array{}, json::array{"a", 1},
      json::object{}, json::object{{"k", json::object{{"k", 1}}}}};
  int unique = 0;
  // The seeds: a valid request to each write endpoint (ids kept unique, so that some succeed).
  auto seed = [&](std::size_t which, std::string& method, std::string& target) -> json::object {
    const std::string n = std::to_string(++unique);
    switch (which) {
      case 0:
        method = "POST", target = "/api/workloads/time";
        return {{"workload_id", "t" + n}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"duration_ms", 60000}};
      case 1:
        method = "POST", target = "/api/workloads";
        return {{"workload_id", "p" + n}, {"orchestrator_id", "o1"}, {"artifact_uri", "s3://a"},
                {"payout_amount_eth", "0.5"}, {"status", "verified"}, {"notes", "n"}};
      case 2:
        method = "PATCH", target = "/api/workloads/p" + std::to_string(1 + pick(unique));
        return {{"status", "paid"}, {"tx_hash", "0xabc"}, {"notes", "patched"}};
      case 3:
        method = "POST", target = "/api/ledger/adjustments";
        return {{"orchestrator_id", "o1"}, {"amount_eth", "0.1"}, {"reason", "bonus"}, {"notes", "x"}};
      case 4:
        method = "POST", target = "/api/orchestrators/register";
        return {{"orchestrator_id", "o1"}, {"address", address_of(1)}, {"health_url", "http://127.0.0.1:9/h"},
                {"monitored_services", json::array{"transcoder"}}, {"contact_email", "a@b.co"}};
      default:
        method = "POST", target = "/api/orchestrators/o1/health";
        return {{"source", "fw"}, {"data", json::object{{"summary", json::object{{"services_up", 2}}}}}};
    }
  };
  int accepted = 0, refused = 0;
  std::string before = state();
  for (int i = 0; i < 1500; ++i) {
    std::string method, target;
    json::object body = seed(pick(6), method, target);
    const int steps = 1 + static_cast<int>(pick(3));
    for (int k = 0; k < steps; ++k) {
      std::vector<std::string> keys;
      for (const auto& kv : body) keys.emplace_back(kv.key());
      switch (pick(3)) {
        case 0:
          if (!keys.empty()) body.erase(keys[pick(keys.size())]);
          break;
        case 1:
          if (!keys.empty()) body[keys[pick(keys.size())]] = values[pick(values.size())];
          break;
        default:
          body["unknown_" + std::to_string(pick(3))] = values[pick(values.size())];
          break;
      }
    }
    std::string text = json::serialize(body);
    switch (pick(4)) {  // and now and then the text itself
      case 0: {
        const std::size_t at = pick(text.size());
        const char* tokens[] = {"\"", "\\", "{", "}", ",", ":", "\xff", "\xc3", "]", "0", "-"};
        text.insert(at, tokens[pick(std::size(tokens))]);
        break;
      }
      case 1:
        if (!text.empty()) text[pick(text.size())] ^= static_cast<char>(1u << pick(8));
        break;
      case 2:
        if (body.size() > 0) text.insert(text.size() - 1, "," + text.substr(1, text.find(',') == std::string::npos ? text.size() - 2 : text.find(',') - 1));
        break;
      default:
        break;
    }
    const auto r = client_->request(method, target, text, kAdmin);
    const json::value answer = parse_json(r.body);
    ASSERT_TRUE((r.status >= 200 && r.status < 300) || (r.status >= 400 && r.status < 500))
        << method << " " << target << " " << text << " -> " << r.status << " " << r.body.substr(0, 300);
    ASSERT_TRUE(answer.is_object()) << method << " " << target << " " << text << " -> " << r.body.substr(0, 300);
    const std::string after = state();
    if (r.status >= 400) {
      ++refused;
      EXPECT_TRUE(answer.as_object().contains("detail")) << text << " -> " << r.body.substr(0, 300);
      ASSERT_EQ(after, before) << method << " " << target << " " << text << " -> " << r.status << " changed the node's state";
    } else {
      ++accepted;
    }
    before = after;
  }
  // Both outcomes were exercised.
  std::printf("mutated requests: %d accepted, %d refused\n", accepted, refused);
  EXPECT_GT(accepted, 80);
  EXPECT_GT(refused, 400);
  restart_node({{"PAYMENTS_API_ADMIN_TOKEN", "admin-secret"}, {"PAYMENTS_VIEWER_TOKENS", "viewer-1"}, {"PAYMENTS_MAX_BODY_BYTES", "65536"},
                {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "1000000"}, {"PAYMENTS_PUBLIC_RATE_BURST", "1000000"}});
  EXPECT_EQ(state(), before);
}

// Whole requests mutated byte by byte (request line, headers, framing and body): each gets an
// HTTP answer below 500, with a JSON detail when it is an error, or, when what arrived is not
// a request the node can answer, the connection closed; no refusal changes anything, and the
// node goes on serving.
TEST_F(BadInputTest, MutatedRawRequestsAreAnsweredOrClosedWithoutEffect) {
  std::mt19937_64 rng(202612061);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  auto request = [](const std::string& method, const std::string& target, const std::string& body) {
    return method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Admin-Token: admin-secret\r\n" +
           "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body;
  };
  const std::vector<std::string> seeds = {
      request("POST", "/api/workloads/time", R"({"workload_id":"raw","orchestrator_id":"o1","artifact_hash":"h","duration_ms":60000})"),
      request("POST", "/api/ledger/adjustments", R"({"orchestrator_id":"o1","amount_eth":"0.1","reason":"bonus"})"),
      request("PATCH", "/api/workloads/seed", R"({"notes":"n"})"),
      request("POST", "/api/orchestrators/register", R"({"orchestrator_id":"o1","address":")" + address_of(1) + R"("})"),
      request("GET", "/api/workloads?limit=5&orchestrator_id=o1", ""),
  };
  const std::string tokens[] = {"\r\n", "\n", ":", " ", "\t", std::string(1, '\0'), "\x80", "\xff",
                          "Transfer-Encoding: chunked\r\n", "Content-Length: 5\r\n", "Content-Length: -1\r\n",
                          "Expect: 100-continue\r\n", "%", "%zz", "/../", "?", "#", "HTTP/1.0", "0\r\n\r\n", "{", "\""};
  int answered = 0, closed = 0;
  std::string before = state();
  for (int i = 0; i < 1500; ++i) {
    std::string bytes = seeds[pick(seeds.size())];
    const int steps = 1 + static_cast<int>(pick(3));
    for (int k = 0; k < steps; ++k) {
      const std::size_t at = pick(bytes.size() + 1);
      switch (pick(5)) {
        case 0:
          if (at < bytes.size()) bytes[at] ^= static_cast<char>(1u << pick(8));
          break;
        case 1:
          bytes.insert(at, tokens[pick(std::size(tokens))]);
          break;
        case 2:
          if (at < bytes.size()) bytes.erase(at, 1 + pick(6));
          break;
        case 3: {  // a header line repeated
          const std::size_t line = bytes.find("\r\n", at);
          const std::size_t start = bytes.rfind("\r\n", at == 0 ? 0 : at - 1);
          if (line != std::string::npos && start != std::string::npos && start < line)
            bytes.insert(line, bytes.substr(start, line - start));
          break;
        }
        default:
          if (at < bytes.size()) bytes.resize(at);  // cut short
          break;
      }
    }
    const std::string out = client_->raw_exchange(bytes, true);
    const std::string shown = bytes.substr(0, 200);
    // Every answer on the connection (the bytes after a request whose framing still reads
    // are the next request): a status line, a status below 500, a JSON detail on an error.
    bool any_2xx = false;
    if (out.empty()) ++closed;
    else ++answered;
    for (std::size_t at = 0; at < out.size();) {
      ASSERT_EQ(out.compare(at, 9, "HTTP/1.1 "), 0) << shown << " -> " << out.substr(at, 200);
      const int status = std::atoi(out.c_str() + at + 9);
      ASSERT_TRUE(status >= 100 && status < 500) << shown << " -> " << out.substr(at, 300);
      any_2xx = any_2xx || (status >= 200 && status < 300);
      const std::size_t head_end = out.find("\r\n\r\n", at);
      ASSERT_NE(head_end, std::string::npos) << out.substr(at, 300);
      const std::string head = out.substr(at, head_end - at);
      const std::size_t length_at = head.find("\r\nContent-Length: ");
      const std::size_t length = length_at == std::string::npos ? 0 : std::strtoul(head.c_str() + length_at + 18, nullptr, 10);
      const std::string body = out.substr(head_end + 4, length);
      if (status >= 400) {
        const json::value detail = parse_json(body);
        EXPECT_TRUE(detail.is_object() && detail.as_object().contains("detail")) << shown << " -> " << out.substr(at, 300);
      }
      at = head_end + 4 + length;
    }
    const std::string after = state();
    if (!any_2xx) {
      ASSERT_EQ(after, before) << shown << " -> " << out.substr(0, 200) << " changed the node's state";
    }
    before = after;
  }
  std::printf("mutated raw requests: %d answered, %d closed unanswered\n", answered, closed);
  EXPECT_GT(answered, 800);
  EXPECT_EQ(client_->request("GET", "/readyz").status, 200);
}

TEST_F(BadInputTest, OversizeBodiesAre413) {
  std::string huge = "{\"notes\":\"" + std::string(70000, 'x') + "\"}";
  for (const auto& t : kWriteTargets) {
    expect_rejected("POST", t, huge, 413);
    client_ = std::make_unique<HttpClient>("127.0.0.1", node_->port());  // the server closes after a 413
  }
  EXPECT_EQ(state(), baseline_);
}

// A body within the size limit whose JSON grows as the node writes it (1e15 is written
// 1000000000000000.0) past what a journal record holds is 413, and the node goes on (such a
// record used to stop it).
TEST(BadInputLimits, BodiesThatWouldGrowPastARecordAre413) {
  TempDir dir;
  NodeProcess node(dir.str() + "/data", {{"PAYMENTS_MAX_BODY_BYTES", "3145728"}});
  ASSERT_TRUE(node.start()) << node.log();
  HttpClient client("127.0.0.1", node.port());
  ASSERT_EQ(client.request("POST", "/api/orchestrators/register",
                           json::serialize(json::object{{"orchestrator_id", "o1"}, {"address", address_of(1)}}), {})
                .status,
            200);
  // (Measured whatever the route: here a registration, whose unknown fields are ignored.)
  const std::string head = "{\"orchestrator_id\":\"o1\",\"address\":\"" + address_of(1) + "\",";
  std::string body = head + "\"samples\":[1e15";
  while (body.size() < (3u << 20) - 64) body += ",1e15";
  body += "]}";
  auto r = client.request("POST", "/api/orchestrators/register", body, {});
  EXPECT_EQ(r.status, 413) << r.body.substr(0, 300);
  EXPECT_NE(r.body.find("too large to record"), std::string::npos) << r.body.substr(0, 300);
  HttpClient again("127.0.0.1", node.port());
  EXPECT_EQ(again.request("GET", "/api/orchestrators/o1", "", {}).status, 200);
  // A large body that stays small as written is taken.
  std::string fine = head + "\"blob\":\"" + std::string((2u << 20), 'x') + "\"}";
  EXPECT_EQ(again.request("POST", "/api/orchestrators/register", fine, {}).status, 200);
  EXPECT_EQ(node.terminate(), 0) << node.log();
  // Out of the settings' range: 3 MiB is the most.
  NodeProcess too_big(dir.str() + "/data", {{"PAYMENTS_MAX_BODY_BYTES", "3145729"}});
  EXPECT_FALSE(too_big.start(std::chrono::seconds(10)));
  EXPECT_NE(too_big.log().find("PAYMENTS_MAX_BODY_BYTES"), std::string::npos) << too_big.log();
}

TEST_F(BadInputTest, WrongTypesAndLimits) {
  auto reg = [](json::object o) { return json::serialize(o); };
  const std::string a9 = address_of(9);
  // Registration.
  expect_rejected("POST", "/api/orchestrators/register", reg({{"orchestrator_id", 5}, {"address", a9}}), 422);
  expect_rejected("POST", "/api/orchestrators/register", reg({{"orchestrator_id", std::string(129, 'x')}, {"address", a9}}), 422);
  expect_rejected("POST", "/api/orchestrators/register", reg({{"orchestrator_id", ""}, {"address", a9}}), 422);
  expect_rejected("POST", "/api/orchestrators/register", reg({{"orchestrator_id", "n"}, {"address", "0xZZ" + std::string(38, '0')}}), 422);
  expect_rejected("POST", "/api/orchestrators/register", reg({{"orchestrator_id", "n"}, {"address", "0x1234"}}), 422);
  expect_rejected("POST", "/api/orchestrators/register", reg({{"orchestrator_id", "n"}}), 422);
  expect_rejected("POST", "/api/orchestrators/register", reg({{"orchestrator_id", "n"}, {"address", a9}, {"health_timeout", 61}}), 422);
  expect_rejected("POST", "/api/orchestrators/register", reg({{"orchestrator_id", "n"}, {"address", a9}, {"contact_email", "nobody"}}), 422);
  for (json::value not_bool : {json::value("maybe"), json::value(2), json::value(0.5), json::value(json::array{}),
                                json::value(std::uint64_t{1} << 63), json::value(~std::uint64_t{0}), json::value(-1)})
    expect_rejected("POST", "/api/orchestrators/register", reg({{"orchestrator_id", "n"}, {"address", a9}, {"services_healthy", not_bool}}), 422);
  json::array many;
  for (int i = 0; i < 26; ++i) many.push_back(json::value("svc" + std::to_string(i)));
  expect_rejected("POST", "/api/orchestrators/register", reg({{"orchestrator_id", "n"}, {"address", a9}, {"monitored_services", many}}), 422);
  // Time workloads: zero, negative, huge, fractional, string durations.
  for (json::value d : {json::value(0), json::value(-5), json::value(86400001), json::value(1e30), json::value(1.5),
                        json::value("abc"), json::value(nullptr), json::value(std::uint64_t{18446744073709551615ull})})
    expect_rejected("POST", "/api/workloads/time",
                    reg({{"workload_id", "w"}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"duration_ms", d}}), 422);
  // Numbers next to a limit are read exactly (correctly rounded), not rounded onto it.
  for (const std::string d : {"0.9999999999999999", "1000.0000000000001"})
    expect_rejected("POST", "/api/workloads/time",
                    R"({"workload_id":"w","orchestrator_id":"o1","artifact_hash":"h","duration_ms":)" + d + "}", 422);
  expect_rejected("POST", "/api/orchestrators/register",
                  R"({"orchestrator_id":"n","address":")" + a9 + R"(","health_timeout":0.09999999999999999})", 422);
  expect_rejected("POST", "/api/orchestrators/register",
                  R"({"orchestrator_id":"n","address":")" + a9 + R"(","min_service_uptime":100.00000000000001})", 422);
  expect_rejected("POST", "/api/workloads/time", reg({{"workload_id", std::string(256, 'w')}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"duration_ms", 5}}), 422);
  expect_rejected("POST", "/api/workloads/time", reg({{"workload_id", "w"}, {"orchestrator_id", "ghost"}, {"artifact_hash", "h"}, {"duration_ms", 5}}), 404);
  expect_rejected("POST", "/api/workloads/time", reg({{"workload_id", "seed"}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"duration_ms", 5}}), 409);
  // A time credit names its artifact too (the reference's model checks it); its status has a
  // default but no null.
  for (json::object no_artifact : {json::object{}, json::object{{"artifact_hash", ""}, {"artifact_uri", nullptr}}}) {
    json::object body{{"workload_id", "w"}, {"orchestrator_id", "o1"}, {"duration_ms", 5}};
    for (auto& kv : no_artifact) body[kv.key()] = kv.value();
    auto r = client_->request("POST", "/api/workloads/time", reg(body), kAdmin);
    EXPECT_EQ(r.status, 422);
    EXPECT_NE(r.body.find("artifact_hash or artifact_uri required"), std::string::npos) << r.body;
  }
  expect_rejected("POST", "/api/workloads/time",
                  reg({{"workload_id", "w"}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"duration_ms", 5}, {"status", nullptr}}), 422);
  expect_rejected("POST", "/api/workloads/time", reg({{"workload_id", nullptr}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"duration_ms", 5}}), 422);
  // A boolean is no duration (pydantic would read true as 1 ms).
  expect_rejected("POST", "/api/workloads/time", reg({{"workload_id", "w"}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"duration_ms", true}}), 422);
  // Workloads with amounts.
  for (json::value amount : {json::value("-1"), json::value("0"), json::value("1e999"), json::value("0.0000000000000000001"),
                             json::value("abc"), json::value(true), json::value("1" + std::string(90, '0'))})
    expect_rejected("POST", "/api/workloads",
                    reg({{"workload_id", "w"}, {"orchestrator_id", "o1"}, {"payout_amount_eth", amount}, {"artifact_hash", "h"}}), 422);
  expect_rejected("POST", "/api/workloads", reg({{"workload_id", "w"}, {"orchestrator_id", "o1"}, {"payout_amount_eth", "1"}}), 422);
  // PATCH.
  expect_rejected("PATCH", "/api/workloads/seed", reg({{"status", "done"}}), 422);
  expect_rejected("PATCH", "/api/workloads/seed", reg({{"tx_hash", std::string(129, 'f')}}), 422);
  expect_rejected("PATCH", "/api/workloads/ghost", reg({{"status", "paid"}}), 404);
  // Adjustments.
  expect_rejected("POST", "/api/ledger/adjustments", reg({{"orchestrator_id", "o1"}, {"amount_eth", "0"}}), 422);
  expect_rejected("POST", "/api/ledger/adjustments", reg({{"orchestrator_id", "o1"}, {"amount_eth", "-0"}}), 422);
  expect_rejected("POST", "/api/ledger/adjustments", reg({{"orchestrator_id", "o1"}, {"amount_eth", "NaN"}}), 422);
  expect_rejected("POST", "/api/ledger/adjustments", reg({{"orchestrator_id", "o1"}}), 422);
  expect_rejected("POST", "/api/ledger/adjustments",
                  reg({{"orchestrator_id", "o1"}, {"amount_eth", "-1"}, {"force", std::uint64_t{1} << 63}}), 422);
  expect_rejected("POST", "/api/ledger/adjustments", reg({{"orchestrator_id", "o1"}, {"amount_eth", "1"}, {"notes", std::string(1025, 'n')}}), 422);
  expect_rejected("POST", "/api/ledger/adjustments", reg({{"orchestrator_id", "ghost"}, {"amount_eth", "1"}}), 404);
  expect_rejected("POST", "/api/ledger/adjustments", reg({{"orchestrator_id", "o1"}, {"amount_eth", "-5"}}), 409);
  auto bad_key = kAdmin;
  bad_key.emplace_back("Idempotency-Key", std::string(200, 'k'));
  expect_rejected("POST", "/api/ledger/adjustments", reg({{"orchestrator_id", "o1"}, {"amount_eth", "1"}}), 400, bad_key);
  auto two_keys = kAdmin;
  two_keys.emplace_back("Idempotency-Key", "k1");
  two_keys.emplace_back("Idempotency-Key", "k2");
  expect_rejected("POST", "/api/ledger/adjustments", reg({{"orchestrator_id", "o1"}, {"amount_eth", "1"}}), 400, two_keys);
  // Health.
  expect_rejected("POST", "/api/orchestrators/o1/health", reg({{"data", "up"}}), 422);
  expect_rejected("POST", "/api/orchestrators/o1/health", reg({{"source", std::string(65, 's')}, {"data", json::object{}}}), 422);
  // Past 65,536 bytes as JSON (here 65,537): every push is journaled, so its size is bounded.
  expect_rejected("POST", "/api/orchestrators/o1/health", reg({{"data", json::object{{"pad", std::string(65'536 - 9, 'x')}}}}), 413);
  EXPECT_EQ(state(), baseline_);
}

// Every failing field is named, with pydantic's type for it: an address is bounded by its
// pattern alone, and a duration by gt=0.
TEST_F(BadInputTest, EveryFailingFieldIsNamed) {
  auto types = [&](const std::string& target, const std::string& body) {
    auto r = client_->request("POST", target, body, kAdmin);
    EXPECT_EQ(r.status, 422) << r.body;
    std::vector<std::string> out;
    const auto doc = parse_json(r.body);
    for (const auto& e : doc.at("detail").as_array())
      out.push_back(std::string(e.at("loc").as_array().back().as_string()) + ":" + std::string(e.at("type").as_string()));
    return out;
  };
  EXPECT_EQ(types("/api/orchestrators/register", R"({"orchestrator_id":"","address":"0xZZ","contact_email":"x"})"),
            (std::vector<std::string>{"orchestrator_id:string_too_short", "address:string_pattern_mismatch", "contact_email:value_error"}));
  for (const std::string& address : std::vector<std::string>{"", "0x" + std::string(41, '1'), std::string(300, 'a')})
    EXPECT_EQ(types("/api/orchestrators/register", R"({"orchestrator_id":"n","address":")" + address + R"("})"),
              (std::vector<std::string>{"address:string_pattern_mismatch"}));
  EXPECT_EQ(types("/api/orchestrators/register", R"({"orchestrator_id":"n","address":5})"),
            (std::vector<std::string>{"address:string_type"}));
  // Number fields out of range: pydantic's ge / le errors (NaN fails ge).
  auto ranges = client_->request("POST", "/api/orchestrators/register",
                                 R"({"orchestrator_id":"n","address":"0x)" + std::string(40, '9') +
                                     R"(","health_timeout":0.05,"min_service_uptime":"101"})",
                                 kAdmin);
  ASSERT_EQ(ranges.status, 422) << ranges.body;
  EXPECT_EQ(parse_json(ranges.body).at("detail"), parse_json(R"([
    {"type":"greater_than_equal","loc":["body","health_timeout"],"msg":"Input should be greater than or equal to 0.1","input":0.05,"ctx":{"ge":0.1}},
    {"type":"less_than_equal","loc":["body","min_service_uptime"],"msg":"Input should be less than or equal to 100","input":"101","ctx":{"le":100.0}}])"))
      << ranges.body;
  // A float field's bound is a float in the context, as pydantic gives it (`100.0`, not `100`).
  EXPECT_NE(ranges.body.find(R"("ctx":{"le":100.0})"), std::string::npos) << ranges.body;
  auto not_finite = client_->request("POST", "/api/orchestrators/register",
                                     R"({"orchestrator_id":"n","address":"0x)" + std::string(40, '9') + R"(","health_timeout":"nan"})",
                                     kAdmin);
  ASSERT_EQ(not_finite.status, 422) << not_finite.body;
  EXPECT_NE(not_finite.body.find(R"("type":"less_than_equal")"), std::string::npos) << not_finite.body;  // pydantic 2.13: le first
  // A list's bad items, each with its index, as pydantic reports them.
  auto items = client_->request("POST", "/api/orchestrators/register",
                                R"({"orchestrator_id":"n","address":"0x)" + std::string(40, '9') +
                                    R"(","monitored_services":["a",1,null," ",")" + std::string(300, 's') + R"("]})",
                                kAdmin);
  ASSERT_EQ(items.status, 422) << items.body;
  const auto items_doc = parse_json(items.body);
  EXPECT_EQ(items_doc.at("detail"), parse_json(R"([
    {"type":"string_type","loc":["body","monitored_services",1],"msg":"Input should be a valid string","input":1},
    {"type":"string_type","loc":["body","monitored_services",2],"msg":"Input should be a valid string","input":null}])"))
      << items.body;
  // More than 25 services once blanks are dropped: the reference's own check, in its words.
  std::string services;
  for (int i = 0; i < 26; ++i) services += std::string(i ? "," : "") + "\"svc" + std::to_string(i) + "\"";
  auto many = client_->request("POST", "/api/orchestrators/register",
                               R"({"orchestrator_id":"n","address":"0x)" + std::string(40, '9') + R"(","monitored_services":[)" + services + "]}",
                               kAdmin);
  ASSERT_EQ(many.status, 422) << many.body;
  const auto many_doc = parse_json(many.body);
  const auto& many_error = many_doc.at("detail").at(0);
  EXPECT_EQ(many_error.at("type").as_string(), "value_error") << many.body;
  EXPECT_EQ(many_error.at("msg").as_string(), "Value error, monitored_services limit is 25 entries") << many.body;
  EXPECT_EQ(many_error.at("loc"), parse_json(R"(["body","monitored_services"])")) << many.body;
  auto zero = client_->request("POST", "/api/workloads/time",
                               R"({"workload_id":"w","orchestrator_id":"o1","artifact_hash":"h","duration_ms":0})", kAdmin);
  ASSERT_EQ(zero.status, 422) << zero.body;
  const auto zero_doc = parse_json(zero.body);
  const auto& error = zero_doc.at("detail").as_array().at(0);
  EXPECT_EQ(error.at("type").as_string(), "greater_than") << zero.body;
  EXPECT_EQ(error.at("msg").as_string(), "Input should be greater than 0") << zero.body;
  EXPECT_EQ(state(), baseline_);
}

TEST_F(BadInputTest, CreditsPastTheLargestAmountAre422sAndTheNodeGoesOn) {
  // One credit is one change of a balance, which stays below 2^255 wei (the audit log states
  // it as an int256): a workload of 2^255 wei or more could never be credited, so it is
  // refused at creation instead of stored pending for good.
  auto create = [&](const std::string& id, const std::string& eth) {
    return client_->request("POST", "/api/workloads",
                            json::serialize(json::object{{"workload_id", id}, {"orchestrator_id", "o1"},
                                                         {"payout_amount_eth", eth}, {"artifact_hash", "h-" + id}}),
                            kAdmin);
  };
  for (const std::string too_much : {"115792089237316195423570985008687907853269984665640564039457.584007913129639935",  // 2^256-1 wei
                                     "57896044618658097711785492504343953926634992332820282019728.792003956564819968"}) {  // 2^255
    auto refused = create("huge-0", too_much);
    EXPECT_EQ(refused.status, 422) << refused.body;
    EXPECT_NE(refused.body.find("less than 2^255 wei"), std::string::npos) << refused.body;
  }
  EXPECT_EQ(state(), baseline_);
  // 2^255-1 wei, the largest one change: accepted on a pending workload, but crediting it on
  // top of o1's balance would overflow the account.
  const std::string largest = "57896044618658097711785492504343953926634992332820282019728.792003956564819967";
  ASSERT_EQ(create("huge-1", largest).status, 200);
  const std::string before = state();
  expect_rejected("PATCH", "/api/workloads/huge-1", json::serialize(json::object{{"status", "verified"}}), 422);
  EXPECT_EQ(state(), before);
  // Pending totals wider than 256 bits are still summed exactly.
  ASSERT_EQ(create("huge-2", largest).status, 200);
  ASSERT_EQ(create("huge-3", largest).status, 200);
  auto summary = client_->request("GET", "/api/workloads/summary", "", kAdmin);
  ASSERT_EQ(summary.status, 200) << summary.body;
  const json::value parsed = parse_json(summary.body);
  const auto& row = parsed.at("orchestrators").as_array().at(0).as_object();
  EXPECT_EQ(row.at("pending_wei").as_string(), "173688133855974293135356477513031861779904976998460846059186376011869694459901");
  // The ledger still answers writes.
  auto next = client_->request("POST", "/api/workloads/time",
                               json::serialize(json::object{{"workload_id", "after"}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"duration_ms", 60000}}),
                               kAdmin);
  EXPECT_EQ(next.status, 200) << next.body;
}

TEST_F(BadInputTest, BodiesThatAreNotDeclaredJsonAreRejected) {
  // A browser sends text/plain and form posts cross-site without a preflight: they never write.
  const std::string valid = json::serialize(json::object{{"workload_id", "typed"}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"duration_ms", 60000}});
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                           "application/jsonp", "text/json"}) {
    auto headers = kAdmin;
    headers.emplace_back("Content-Type", type);
    expect_rejected("POST", "/api/workloads/time", valid, 422, headers);
    expect_rejected("POST", "/api/ledger/adjustments", R"({"orchestrator_id":"o1","amount_eth":"1"})", 422, headers);
    expect_rejected("POST", "/api/orchestrators/register", R"({"orchestrator_id":"n","address":")" + address_of(9) + "\"}", 422,
                    headers);
  }
  EXPECT_EQ(state(), baseline_);
  // JSON media types, with parameters and in any case, are accepted.
  for (const char* type : {"application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"}) {
    auto headers = kAdmin;
    headers.emplace_back("Content-Type", type);
    auto r = client_->request("PATCH", "/api/workloads/seed", R"({"notes":"typed"})", headers);
    EXPECT_EQ(r.status, 200) << type << " -> " << r.body;
  }
}

TEST_F(BadInputTest, NumbersBeyondADoubleAreRejectedWithValidJsonErrors) {
  // 1e400 parses as an infinity, which no JSON text can hold: stored, it would make the
  // journal record unreadable at the next start. Every write endpoint refuses it, anywhere.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/api/orchestrators/o1/health", R"({"source":"forwarder","data":{"services_healthy":true,"x":1e400}})"},
      {"/api/orchestrators/o1/health", R"({"data":{"list":[1,2,-1e999]}})"},
      {"/api/orchestrators/register", R"({"orchestrator_id":"n","address":")" + address_of(9) + R"(","health_timeout":1e400})"},
      {"/api/workloads", R"({"workload_id":"w","orchestrator_id":"o1","payout_amount_eth":1e400,"artifact_hash":"h"})"},
      {"/api/workloads/time", R"({"workload_id":"w","orchestrator_id":"o1","artifact_hash":"h","duration_ms":1e400})"},
      {"/api/ledger/adjustments", R"({"orchestrator_id":"o1","amount_eth":"1","notes":"n","extra":[1e400]})"}};
  json::array locs;
  for (const auto& [target, body] : cases) {
    auto r = client_->request("POST", target, body, kAdmin);
    EXPECT_EQ(r.status, 422) << target << " " << body << " -> " << r.body;
    EXPECT_EQ(r.body.find(":Infinity"), std::string::npos) << r.body;  // echoed as a string, never a bare token
    EXPECT_EQ(r.body.find(":-Infinity"), std::string::npos) << r.body;
    // With its sign.
    const bool negative = body.find("-1e") != std::string::npos;
    EXPECT_NE(r.body.find(negative ? ":\"-Infinity\"" : ":\"Infinity\""), std::string::npos) << r.body;
    boost::system::error_code ec;
    auto doc = json::parse(r.body, ec);
    ASSERT_FALSE(ec) << "not JSON: " << r.body;
    EXPECT_EQ(doc.at("detail").as_array().at(0).at("type").as_string(), "finite_number") << r.body;
    locs.push_back(doc.at("detail").as_array().at(0).at("loc"));
  }
  // Where it is: one segment per key or list position, as every other error's loc.
  EXPECT_EQ(json::serialize(locs), R"([["body","data","x"],["body","data","list",2],["body","health_timeout"],)"
                                   R"(["body","payout_amount_eth"],["body","duration_ms"],["body","extra",0]])");
  expect_rejected("PATCH", "/api/workloads/seed", R"({"notes":"n","x":1e400})", 422);
  EXPECT_EQ(state(), baseline_);
}

// Text that Decimal() reads as an infinity or a NaN is pydantic's finite_number, as in the
// reference; a near miss is a text that is no decimal.
TEST_F(BadInputTest, NonFiniteAmountTextIsAFiniteNumberError) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"/api/ledger/adjustments", R"({"orchestrator_id":"o1","amount_eth":"NaN"})", "finite_number"},
      {"/api/ledger/adjustments", R"({"orchestrator_id":"o1","amount_eth":" -Infinity\t"})", "finite_number"},
      {"/api/ledger/adjustments", R"({"orchestrator_id":"o1","amount_eth":"sNaN1_2"})", "finite_number"},
      {"/api/workloads", R"({"workload_id":"w","orchestrator_id":"o1","payout_amount_eth":"+inf","artifact_hash":"h"})", "finite_number"},
      {"/api/ledger/adjustments", R"({"orchestrator_id":"o1","amount_eth":"infinit"})", "decimal_parsing"},
      {"/api/ledger/adjustments", R"({"orchestrator_id":"o1","amount_eth":"nan+"})", "decimal_parsing"}};
  for (const auto& [target, body, type] : cases) {
    auto r = client_->request("POST", target, body, kAdmin);
    ASSERT_EQ(r.status, 422) << body << " -> " << r.body;
    const auto doc = json::parse(r.body);
    EXPECT_EQ(doc.at("detail").as_array().at(0).at("type").as_string(), type) << body << " -> " << r.body;
  }
  EXPECT_EQ(state(), baseline_);
}

// An integer past 64 bits inside free-form data (a health report, a workload's metadata) would
// be stored as a rounded float: every write endpoint refuses it with a 422, and nothing changes.
TEST_F(BadInputTest, NestedIntegersPast64BitsAreRejected) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/api/orchestrators/o1/health", R"({"data":{"summary":{"services_up":18446744073709551616}}})"},
      {"/api/orchestrators/o1/health", R"({"data":{"list":[1,-9223372036854775809]}})"},
      {"/api/ledger/adjustments", R"({"orchestrator_id":"o1","amount_eth":"1","notes":"n","extra":[123456789012345678901234567890]})"}};
  for (const auto& [target, body] : cases) {
    auto r = client_->request("POST", target, body, kAdmin);
    EXPECT_EQ(r.status, 422) << target << " " << body << " -> " << r.body;
    boost::system::error_code ec;
    auto doc = json::parse(r.body, ec);
    ASSERT_FALSE(ec) << "not JSON: " << r.body;
    EXPECT_EQ(doc.at("detail").as_array().at(0).at("type").as_string(), "int_parsing_size") << r.body;
  }
  expect_rejected("PATCH", "/api/workloads/seed", R"({"notes":"n","metadata":{"n":99999999999999999999}})", 422);
  EXPECT_EQ(state(), baseline_);
  // 64 bits still fit, and a float of any size is stored as the float it is.
  auto fine = client_->request("POST", "/api/orchestrators/o1/health",
                               R"({"data":{"summary":{"services_up":18446744073709551615},"big":1e30}})", kAdmin);
  EXPECT_EQ(fine.status, 200) << fine.body;
}

TEST_F(BadInputTest, AuthIsRequired) {
  const std::string body = json::serialize(json::object{{"workload_id", "x"}, {"orchestrator_id", "o1"}, {"artifact_hash", "h"}, {"duration_ms", 5}});
  expect_rejected("POST", "/api/workloads/time", body, 401, {});
  expect_rejected("POST", "/api/workloads/time", body, 401, {{"X-Admin-Token", "viewer-1"}});
  expect_rejected("POST", "/api/ledger/adjustments", "{}", 401, {{"X-Admin-Token", "wrong"}});
  expect_rejected("GET", "/api/workloads", "", 401, {});
  auto viewer = client_->request("GET", "/api/workloads", "", {{"X-Admin-Token", "viewer-1"}});
  EXPECT_EQ(viewer.status, 200);
  auto r = client_->request("GET", "/api/balances", "", {});
  EXPECT_EQ(parse_json(r.body).at("detail").as_string(), "Viewer token required");
  EXPECT_EQ(state(), baseline_);
}

TEST(Startup, BadSettingStopsStartupNamingTheVariable) {
  TempDir dir;
  NodeProcess node(dir.str() + "/data", {{"PAYMENTS_WORKLOAD_TIME_CREDIT_ETH_PER_MINUTE", "lots"}});
  EXPECT_FALSE(node.start());
  EXPECT_NE(node.log().find("PAYMENTS_WORKLOAD_TIME_CREDIT_ETH_PER_MINUTE"), std::string::npos) << node.log();
}

TEST(Startup, SigtermExitsZeroAndBootstrapRegisters) {
  TempDir dir;
  NodeProcess node(dir.str() + "/data",
                   {{"PAYMENTS_BOOTSTRAP_ORCHESTRATORS",
                     "[{\"orchestrator_id\":\"boot-1\",\"address\":\"" + address_of(7) + "\"},{\"orchestrator_id\":\"bad\",\"address\":\"nope\"},"
                     // Ids compared as Python's str.lower() compares them: "\u00e9cole" repeats "\u00c9COLE".
                     "{\"orchestrator_id\":\"\\u00c9COLE\",\"address\":\"" + address_of(8) + "\"},"
                     "{\"orchestrator_id\":\"\\u00e9cole\",\"address\":\"" + address_of(9) + "\"},"
                     // A skipped entry claims neither its id nor its address: b1's next entry registers.
                     "{\"orchestrator_id\":\"b1\",\"address\":\"" + address_of(7) + "\"},"
                     "{\"orchestrator_id\":\"b1\",\"address\":\"" + address_of(9) + "\"},"
                     // With the rank check skipped, a new record is in the top set: an entry's own
                     // is_top_100 is not read, as in the reference.
                     "{\"orchestrator_id\":\"t0\",\"address\":\"" + address_of(10) + "\",\"metadata\":{\"is_top_100\":false},"
                     "\"is_top_100\":false}]"}});
  ASSERT_TRUE(node.start()) << node.log();
  HttpClient client("127.0.0.1", node.port());
  auto list = parse_json(client.request("GET", "/api/orchestrators").body);
  std::set<std::string> ids;
  for (const auto& o : list.at("orchestrators").as_array()) ids.insert(std::string(o.at("orchestrator_id").as_string()));
  EXPECT_EQ(ids, (std::set<std::string>{"boot-1", "\xc3\x89" "COLE", "b1", "t0"})) << list;
  for (const auto& o : list.at("orchestrators").as_array()) {
    EXPECT_TRUE(o.at("is_top_100").as_bool()) << o;
    EXPECT_TRUE(o.at("eligible_for_payments").as_bool()) << o;
  }
  // Each skipped entry is named by its place and why, in words; then how many were skipped.
  const std::string log = node.log();
  EXPECT_NE(log.find("bootstrap: skipping entry 2 of PAYMENTS_BOOTSTRAP_ORCHESTRATORS: address: "), std::string::npos) << log;
  EXPECT_NE(log.find("bootstrap: skipping entry 4 of PAYMENTS_BOOTSTRAP_ORCHESTRATORS: orchestrator \xc3\xa9" "cole "
                     "is named by an earlier entry"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("bootstrap: skipping entry 5 of PAYMENTS_BOOTSTRAP_ORCHESTRATORS: address " + address_of(7) +
                     " is named by an earlier entry"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("bootstrap: 3 of 7 entries skipped (each named above); the other 4 are registered"), std::string::npos) << log;
  EXPECT_TRUE(std::filesystem::exists(node.port_file()));
  EXPECT_EQ(node.terminate(), 0) << node.log();
  EXPECT_FALSE(std::filesystem::exists(node.port_file()));  // nothing serves on that port any more
}

// One entry is an object with both orchestrator_id and address, as the reference tells it from an
// id -> entry map; a map may name an orchestrator "address".
TEST(Startup, BootstrapTellsOneEntryFromAMapAsTheReferenceDoes) {
  TempDir dir;
  NodeProcess node(dir.str() + "/data",
                   {{"PAYMENTS_BOOTSTRAP_ORCHESTRATORS", "{\"address\":{\"address\":\"" + address_of(7) + "\"},\"m1\":{\"address\":\"" +
                                                             address_of(8) + "\"}}"}});
  ASSERT_TRUE(node.start()) << node.log();
  HttpClient client("127.0.0.1", node.port());
  const auto listed = client.request("GET", "/api/orchestrators");
  ASSERT_EQ(listed.status, 200) << listed.body;
  const auto doc = parse_json(listed.body);
  std::set<std::string> ids;
  for (const auto& o : doc.at("orchestrators").as_array())
    ids.insert(std::string(o.at("orchestrator_id").as_string()));
  EXPECT_EQ(ids, (std::set<std::string>{"address", "m1"}));
  EXPECT_EQ(node.terminate(), 0);
  NodeProcess one(dir.str() + "/one",
                  {{"PAYMENTS_BOOTSTRAP_ORCHESTRATORS", "{\"orchestrator_id\":\"solo\",\"address\":\"" + address_of(9) + "\"}"}});
  ASSERT_TRUE(one.start()) << one.log();
  HttpClient solo("127.0.0.1", one.port());
  EXPECT_EQ(solo.request("GET", "/api/orchestrators/solo").status, 200);
  EXPECT_EQ(one.terminate(), 0);
}

// A stop signal under load: every request sent on a connection the node left open is answered
// (200, or 503 "Shutting down" with a close), never met by a closed connection, where the client
// could not tell whether its write was applied; and every 200 is there after a restart.
TEST(Startup, SigtermAnswersEveryRequestOnAConnectionLeftOpen) {
  TempDir dir;
  std::mt19937 rng(20261205);
  for (int cycle = 0; cycle < 12; ++cycle) {
    const std::string data = dir.str() + "/data-" + std::to_string(cycle);
    const std::map<std::string, std::string> env = {
        {"PAYMENTS_BOOTSTRAP_ORCHESTRATORS", "[{\"orchestrator_id\":\"o1\",\"address\":\"" + address_of(1) + "\"}]"}};
    NodeProcess node(data, env);
    ASSERT_TRUE(node.start()) << node.log();
    std::atomic<int> acknowledged{0}, refused{0};
    std::mutex problems_mutex;
    std::vector<std::string> problems;
    std::vector<std::thread> clients;
    for (int t = 0; t < 8; ++t)
      clients.emplace_back([&, t] {
        HttpClient client("127.0.0.1", node.port());
        for (int i = 0; i < 1'000'000; ++i) {
          const std::string id = "w-" + std::to_string(t) + "-" + std::to_string(i);
          auto r = client.request("POST", "/api/workloads/time",
                                  R"({"workload_id":")" + id + R"(","orchestrator_id":"o1","artifact_hash":"h","duration_ms":1000})");
          const bool closing = r.header("Connection") == "close";
          if (r.status == 200) ++acknowledged;
          else if (r.status == 503 && closing) ++refused;
          else {
            std::lock_guard lock(problems_mutex);
            problems.push_back(id + ": " + std::to_string(r.status) + " " + r.body);
            return;
          }
          if (closing) return;  // the node said this connection ends here
        }
      });
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 300));
    const int code = node.terminate();
    for (auto& c : clients) c.join();
    EXPECT_EQ(code, 0) << node.log();
    EXPECT_TRUE(problems.empty()) << "cycle " << cycle << ": " << problems.size() << " unanswered, first " << problems.front();
    EXPECT_GT(acknowledged.load(), 0);
    NodeProcess again(data, env);
    ASSERT_TRUE(again.start()) << again.log();
    HttpClient check("127.0.0.1", again.port());
    const auto listed = parse_json(check.request("GET", "/api/workloads").body);
    EXPECT_EQ(listed.at("workloads").as_array().size(), static_cast<std::size_t>(acknowledged.load())) << "cycle " << cycle;
    EXPECT_EQ(again.terminate(), 0);
  }
}

// The node's open HTTP connections (lpops_http_open_connections), as a kept-alive probe
// connection asks: its own is among them.
int open_connections(HttpClient& probe) {
  const auto r = probe.request("GET", "/metrics");
  const std::string name = "\nlpops_http_open_connections ";
  const auto at = r.body.find(name);
  return at == std::string::npos ? -1 : std::stoi(r.body.substr(at + name.size()));
}

// Waits (bounded) until the node holds `n` connections beside the probe's (at most `n` when
// `at_most`), read so on two polls in a row.
void wait_for_open_connections(HttpClient& probe, int n, bool at_most = false) {
  int in_a_row = 0;
  for (int i = 0; i < 1000; ++i) {
    const int open = open_connections(probe) - 1;
    in_a_row = (at_most ? open <= n : open >= n) ? in_a_row + 1 : 0;
    if (in_a_row == 2) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "the node did not come to " << n << " other open connections";
}

std::thread half_sent_credit(std::uint16_t port, std::string& answer);

// half_sent_credit, started once the node holds no other connection and returned once it has
// accepted this one.
std::thread half_sent_credit_accepted(std::uint16_t port, std::string& answer) {
  HttpClient probe("127.0.0.1", port);
  wait_for_open_connections(probe, 0, true);
  std::thread client = half_sent_credit(port, answer);
  wait_for_open_connections(probe, 1);
  return client;
}

// A time credit for o1 whose header and first 20 bytes of body are sent, the rest never; the
// answer (once the node gives one) lands in `answer` before the thread ends.
std::thread half_sent_credit(std::uint16_t port, std::string& answer) {
  return std::thread([port, &answer] {
    const std::string body = R"({"workload_id":"late","orchestrator_id":"o1","artifact_hash":"h","duration_ms":1000})";
    HttpClient c("127.0.0.1", port);
    answer = c.raw_exchange("POST /api/workloads/time HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 20));
  });
}

// A request still arriving when the drain's time is up has had nothing applied: it is
// answered 503 "Shutting down" (its client knows to send it again), not closed unanswered.
TEST(Startup, ARequestStillArrivingWhenTheDrainEndsIsAnswered503) {
  TempDir dir;
  const std::map<std::string, std::string> env = {
      {"PAYMENTS_BOOTSTRAP_ORCHESTRATORS", "[{\"orchestrator_id\":\"o1\",\"address\":\"" + address_of(1) + "\"}]"},
      {"PAYMENTS_SHUTDOWN_DRAIN_SECONDS", "1"}};
  NodeProcess node(dir.str() + "/data", env);
  ASSERT_TRUE(node.start()) << node.log();
  std::string answer;
  std::thread client = half_sent_credit_accepted(node.port(), answer);
  const auto begun = std::chrono::steady_clock::now();
  EXPECT_EQ(node.terminate(), 0) << node.log();
  client.join();
  EXPECT_GE(std::chrono::steady_clock::now() - begun, std::chrono::milliseconds(900));  // the drain waited for it
  EXPECT_EQ(answer.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << answer;
  EXPECT_NE(answer.find("{\"detail\":\"Shutting down\"}"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Retry-After: 1\r\n"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Connection: close\r\n"), std::string::npos) << answer;
  EXPECT_EQ(node.log().find("closed unanswered"), std::string::npos) << node.log();
  NodeProcess again(dir.str() + "/data", env);
  ASSERT_TRUE(again.start()) << again.log();
  HttpClient check("127.0.0.1", again.port());
  const auto listed = parse_json(check.request("GET", "/api/workloads").body);
  EXPECT_TRUE(listed.at("workloads").as_array().empty()) << json::serialize(listed);
  EXPECT_EQ(again.terminate(), 0);
}

// A second stop signal ends the drain at once: with 30 s to drain and a request half sent,
// the node stops within moments of the second SIGTERM, answers that request 503, says why,
// and exits 0; what it had acknowledged before is there after a restart.
TEST(Startup, ASecondStopSignalEndsTheDrainAtOnce) {
  TempDir dir;
  const std::map<std::string, std::string> env = {
      {"PAYMENTS_BOOTSTRAP_ORCHESTRATORS", "[{\"orchestrator_id\":\"o1\",\"address\":\"" + address_of(1) + "\"}]"},
      {"PAYMENTS_SHUTDOWN_DRAIN_SECONDS", "30"}};
  NodeProcess node(dir.str() + "/data", env);
  ASSERT_TRUE(node.start()) << node.log();
  {
    HttpClient c("127.0.0.1", node.port());
    ASSERT_EQ(c.request("POST", "/api/workloads/time", R"({"workload_id":"kept","orchestrator_id":"o1","artifact_hash":"h","duration_ms":1000})",
                        {{"Content-Type", "application/json"}})
                  .status,
              200);
  }
  std::string answer;
  std::thread client = half_sent_credit_accepted(node.port(), answer);
  ASSERT_EQ(::kill(node.pid(), SIGTERM), 0);
  // The drain waits for the request still arriving.
  EXPECT_EQ(node.wait_exit(std::chrono::milliseconds(700)), -1000) << node.log();
  const auto second = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(node.pid(), SIGTERM), 0);
  EXPECT_EQ(node.wait_exit(std::chrono::seconds(10)), 0) << node.log();
  EXPECT_LT(std::chrono::steady_clock::now() - second, std::chrono::seconds(5));
  client.join();
  EXPECT_EQ(answer.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << answer;
  const std::string log = node.log();
  EXPECT_NE(log.find("received SIGTERM again: stopping without waiting for the requests in flight"), std::string::npos) << log;
  EXPECT_EQ(log.find("closed unanswered"), std::string::npos) << log;  // none was in a handler
  NodeProcess again(dir.str() + "/data", env);
  ASSERT_TRUE(again.start()) << again.log();
  HttpClient check("127.0.0.1", again.port());
  const auto listed = parse_json(check.request("GET", "/api/workloads").body);
  ASSERT_EQ(listed.at("workloads").as_array().size(), 1u) << json::serialize(listed);
  EXPECT_EQ(listed.at("workloads").at(0).at("workload_id"), json::value("kept"));
  EXPECT_EQ(again.terminate(), 0);
}

TEST(Startup, AJournalBehindItsAuditLogStopsStartup) {
  // Audit entries are written only after their journal records are durable: a journal that
  // ends before them lost acknowledged records, and serving on would reset those balances.
  TempDir dir;
  const std::string data = dir.str() + "/data";
  {
    NodeProcess node(data, {{"PAYMENTS_BOOTSTRAP_ORCHESTRATORS", "[{\"orchestrator_id\":\"o1\",\"address\":\"" + address_of(1) + "\"}]"}});
    ASSERT_TRUE(node.start()) << node.log();
    HttpClient client("127.0.0.1", node.port());
    for (int i = 0; i < 3; ++i)
      ASSERT_EQ(client.request("POST", "/api/workloads/time",
                               R"({"workload_id":"w)" + std::to_string(i) + R"(","orchestrator_id":"o1","artifact_hash":"h","duration_ms":60000})")
                    .status,
                200);
    EXPECT_EQ(node.terminate(), 0) << node.log();
  }
  std::filesystem::remove(data + "/journal.jsonl");
  {
    // The clean stop's mark says where the journal ended: refused on that first.
    NodeProcess marked(data, {});
    EXPECT_FALSE(marked.start());
    EXPECT_NE(marked.log().find("journal.jsonl ends at record 0 (byte 0), but the node stopped cleanly with record 5"),
              std::string::npos)
        << marked.log();
  }
  // Without it (as after a crash), the audit log shows the loss.
  std::filesystem::remove(data + "/clean-stop.json");
  NodeProcess again(data, {});
  EXPECT_FALSE(again.start());
  EXPECT_NE(again.log().find("the journal ends at record 0 but the audit log describes records up to"), std::string::npos)
      << again.log();
  // The way out it offers names the files to move, and keeps the signing key.
  EXPECT_NE(again.log().find("move audit.jsonl, audit.index, audit.orchestrators and checkpoints.jsonl aside (keep audit.key"),
            std::string::npos)
      << again.log();
  // The empty journal the refused start made is taken back; the key and the log stay.
  EXPECT_FALSE(std::filesystem::exists(data + "/journal.jsonl"));
  EXPECT_TRUE(std::filesystem::exists(data + "/audit.key"));
  EXPECT_TRUE(std::filesystem::exists(data + "/audit.jsonl"));
}

// A journal (and snapshot) copied in from another data directory: the newest audit entry
// must describe the journal record it names even when a signed checkpoint covers it, so the
// node refuses to start, and refuses before appending anything built from that journal (a
// refused start leaves the log as it was, and this node's own journal starts again).
TEST(Startup, AJournalFromAnotherDataDirectoryStopsStartupAndLeavesTheLogAlone) {
  TempDir dir;
  const std::string a = dir.str() + "/a", b = dir.str() + "/b";
  const std::map<std::string, std::string> env = {
      {"PAYMENTS_BOOTSTRAP_ORCHESTRATORS", "[{\"orchestrator_id\":\"o1\",\"address\":\"" + address_of(1) + "\"}]"},
      {"PAYMENTS_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "1"},
      {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "100000"},  // the status is polled below
      {"PAYMENTS_PUBLIC_RATE_BURST", "100000"}};
  auto run = [&](const std::string& data, int credits, int duration_ms) {
    NodeProcess node(data, env);
    ASSERT_TRUE(node.start()) << node.log();
    HttpClient client("127.0.0.1", node.port());
    for (int i = 0; i < credits; ++i)
      ASSERT_EQ(client.request("POST", "/api/workloads/time",
                               R"({"workload_id":"w)" + std::to_string(i) + R"(","orchestrator_id":"o1","artifact_hash":"h","duration_ms":)" +
                                   std::to_string(duration_ms) + "}")
                    .status,
                200);
    // Until a signed checkpoint covers the whole log.
    for (int i = 0; i < 500; ++i) {
      auto status = parse_json(client.request("GET", "/api/transparency/tee-core/audit/status").body);
      if (status.at("audit_seq") == status.at("audit_checkpoint_seq")) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(node.terminate(), 0) << node.log();
  };
  run(a, 3, 60000);
  run(b, 8, 1000);
  const auto log_before = read_all(a + "/audit.jsonl");
  const auto journal_a = read_all(a + "/journal.jsonl");
  std::filesystem::copy_file(b + "/journal.jsonl", a + "/journal.jsonl", std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove(a + "/snapshot.json");
  {
    NodeProcess node(a, env);
    EXPECT_FALSE(node.start());
    EXPECT_NE(node.log().find("is not the one the node stopped cleanly at (clean-stop.json)"), std::string::npos) << node.log();
  }
  // Without the clean stop's mark, the audit log shows it.
  std::filesystem::remove(a + "/clean-stop.json");
  {
    NodeProcess node(a, env);
    EXPECT_FALSE(node.start());
    EXPECT_NE(node.log().find("the journal is not the one this log was written from"), std::string::npos) << node.log();
  }
  EXPECT_EQ(read_all(a + "/audit.jsonl"), log_before);
  {
    std::ofstream(a + "/journal.jsonl", std::ios::binary | std::ios::trunc) << journal_a;
  }
  NodeProcess again(a, env);
  ASSERT_TRUE(again.start()) << again.log();
  HttpClient client("127.0.0.1", again.port());
  EXPECT_EQ(parse_json(client.request("GET", "/api/balances").body).at("balances").at(0).at("balance_wei").as_string(),
            "16060788000000");  // 3 minutes at the default rate: A's own
  EXPECT_EQ(again.terminate(), 0) << again.log();
}

// PAYMENTS_BOOTSTRAP_SKIP_RANK_VALIDATION=false puts bootstrap entries through the rank check
// as registrations are: with the pool unreadable, none is registered (nor reported top 100
// without a check). By default they skip it, as in the reference.
TEST(Startup, BootstrapEntriesTakeTheRankCheckWhenTheyMayNotSkipIt) {
  const std::map<std::string, std::string> base = {
      {"TOP_CONTRACT_ADDRESS", "0x2222222222222222222222222222222222222222"},
      {"ETH_RPC_URL", "http://127.0.0.1:" + std::to_string(free_loopback_port())},  // nothing listens there
      {"PAYMENTS_BOOTSTRAP_ORCHESTRATORS", "[{\"orchestrator_id\":\"boot-1\",\"address\":\"" + address_of(3) + "\"}]"}};
  for (const bool skip : {false, true}) {
    TempDir dir;
    auto env = base;
    env["PAYMENTS_BOOTSTRAP_SKIP_RANK_VALIDATION"] = skip ? "true" : "false";
    NodeProcess node(dir.str() + "/data", env);
    ASSERT_TRUE(node.start()) << node.log();
    HttpClient client("127.0.0.1", node.port());
    const auto list = parse_json(client.request("GET", "/api/orchestrators").body).at("orchestrators").as_array();
    EXPECT_EQ(list.size(), skip ? 1u : 0u) << skip << ": " << node.log();
    if (!skip) {
      EXPECT_NE(node.log().find("bootstrap: boot-1 refused (503)"), std::string::npos) << node.log();
    }
    EXPECT_EQ(node.terminate(), 0) << node.log();
  }
}

// PAYMENTS_SINGLE_ORCHESTRATOR_MODE registers ORCHESTRATOR_ID at every start, before the
// bootstrap entries and without the rank check (which refuses the bootstrap entry here: the
// pool cannot be read), with the fields the reference gives it.
TEST(Startup, SingleOrchestratorModeRegistersItselfWithoutTheRankCheck) {
  TempDir dir;
  const std::map<std::string, std::string> env = {
      {"TOP_CONTRACT_ADDRESS", "0x2222222222222222222222222222222222222222"},
      {"ETH_RPC_URL", "http://127.0.0.1:" + std::to_string(free_loopback_port())},  // nothing listens there
      {"PAYMENTS_BOOTSTRAP_SKIP_RANK_VALIDATION", "false"},
      {"PAYMENTS_BOOTSTRAP_ORCHESTRATORS", "[{\"orchestrator_id\":\"boot-1\",\"address\":\"" + address_of(3) + "\"}]"},
      {"PAYMENTS_MANAGER_IP_ALLOWLIST", "127.0.0.1"},
      {"PAYMENTS_SINGLE_ORCHESTRATOR_MODE", "true"},
      {"ORCHESTRATOR_ID", "solo"},
      {"ORCHESTRATOR_ADDRESS", address_of(4)},
      {"ORCHESTRATOR_HEALTH_URL", "http://127.0.0.1:9090/health"},
      {"ORCHESTRATOR_HEALTH_TIMEOUT", "2.5"},
      {"MONITORED_SERVICES", "game, signaling"}};
  // Starts a node on `data` with `settings`, hands its record of "solo" (and the node) to
  // `check`, and stops it.
  const auto with_solo = [](const std::string& data, const std::map<std::string, std::string>& settings,
                            const std::function<void(NodeProcess&, HttpClient&, const json::value&)>& check) {
    NodeProcess node(data, settings);
    ASSERT_TRUE(node.start()) << node.log();
    HttpClient client("127.0.0.1", node.port());
    auto r = client.request("GET", "/api/orchestrators/solo");
    ASSERT_EQ(r.status, 200) << r.body << node.log();
    check(node, client, parse_json(r.body));
    EXPECT_EQ(node.terminate(), 0) << node.log();
  };
  for (int start = 1; start <= 2; ++start)
    with_solo(dir.str() + "/data", env, [&](NodeProcess& node, HttpClient& client, const json::value& solo) {
      EXPECT_EQ(solo.at("address").as_string(), address_of(4));
      EXPECT_EQ(solo.at("registration_count").as_int64(), start);
      EXPECT_EQ(solo.at("health_url").as_string(), "http://127.0.0.1:9090/health");
      EXPECT_EQ(solo.at("health_timeout").as_double(), 2.5);
      EXPECT_EQ(solo.at("min_service_uptime").as_double(), 80.0);
      EXPECT_EQ(json::serialize(solo.at("monitored_services")), R"(["game","signaling"])");
      EXPECT_EQ(client.request("GET", "/api/orchestrators/boot-1").status, 404);
      EXPECT_NE(node.log().find("bootstrap: boot-1 refused (503)"), std::string::npos) << node.log();
    });
  // The URL and the services as the settings hold them, without the API's bounds (512
  // characters, 25 services), as the reference registers itself.
  auto large = env;
  large["ORCHESTRATOR_HEALTH_URL"] = "http://127.0.0.1:9090/" + std::string(600, 'p');
  std::string services;
  for (int i = 0; i < 30; ++i) services += (i ? "," : "") + std::string("svc") + std::to_string(i);
  large["MONITORED_SERVICES"] = services;
  with_solo(dir.str() + "/large", large, [&](NodeProcess&, HttpClient&, const json::value& solo) {
    EXPECT_EQ(solo.at("health_url").as_string(), large["ORCHESTRATOR_HEALTH_URL"]);
    EXPECT_EQ(solo.at("monitored_services").as_array().size(), 30u);
  });
  // Without the id or the address the mode cannot work: start-up stops and says so.
  auto missing = env;
  missing.erase("ORCHESTRATOR_ADDRESS");
  NodeProcess refused(dir.str() + "/other", missing);
  EXPECT_FALSE(refused.start());
  EXPECT_NE(refused.log().find("PAYMENTS_SINGLE_ORCHESTRATOR_MODE"), std::string::npos) << refused.log();
  EXPECT_NE(refused.log().find("ORCHESTRATOR_ADDRESS is unset"), std::string::npos) << refused.log();
}

// The reference's files in the data directory are not read: start-up says so, naming them,
// rather than serving as if their balances did not exist.
TEST(Startup, TheReferencesOwnFilesInTheDataDirectoryAreNamed) {
  TempDir dir;
  std::filesystem::create_directories(dir.str() + "/data");
  std::ofstream(dir.str() + "/data/balances.json") << R"({"old1": "0.0010"})";
  std::ofstream(dir.str() + "/data/registry.json") << R"({"old1": {"orchestrator_id": "old1"}})";
  NodeProcess node(dir.str() + "/data", {});
  ASSERT_TRUE(node.start()) << node.log();
  EXPECT_NE(node.log().find("holds livepeer-ops files (balances.json, registry.json): lpops keeps its own journal"),
            std::string::npos)
      << node.log();
  EXPECT_EQ(node.terminate(), 0) << node.log();
}

TEST(Startup, ADirectoryWhereAFileIsExpectedStopsStartupWithAMessage) {
  TempDir dir;
  NodeProcess node(dir.str() + "/data", {{"PAYMENTS_BOOTSTRAP_ORCHESTRATORS_PATH", dir.str()}});
  EXPECT_FALSE(node.start());
  EXPECT_NE(node.log().find("PAYMENTS_BOOTSTRAP_ORCHESTRATORS_PATH"), std::string::npos) << node.log();
}

// Each error carries pydantic's `ctx` where pydantic gives one: the bound (an int for an integer
// field, a float for a float field, FastAPI's int for a Decimal's), the length, the pattern, the
// allowed values, a ValueError as FastAPI encodes it ({}), the JSON parser's reason. Each
// expected context is what pydantic 2.13 gives for the reference's model of the route.
TEST_F(BadInputTest, ErrorsCarryPydanticContext) {
  auto ctx_of = [&](const std::string& method, const std::string& target, const std::string& body) {
    auto r = client_->request(method, target, body, kAdmin);
    EXPECT_EQ(r.status, 422) << target << " " << body << ": " << r.body;
    json::array out;
    const auto doc = parse_json(r.body);
    for (const auto& e : doc.at("detail").as_array()) {
      const auto* ctx = e.as_object().if_contains("ctx");
      out.push_back(json::array{e.at("type"), ctx ? *ctx : json::value(nullptr)});
    }
    return out;
  };
  const std::string address = "0x" + std::string(40, '9');
  EXPECT_EQ(ctx_of("POST", "/api/orchestrators/register",
                   R"({"orchestrator_id":"","address":"0xZZ","capability":")" + std::string(129, 'c') +
                       R"(","contact_email":"x","health_timeout":61,"min_service_uptime":-1})"),
            parse_json(R"([["string_too_short",{"min_length":1}],
                           ["string_pattern_mismatch",{"pattern":"^0x[a-fA-F0-9]{40}$"}],
                           ["string_too_long",{"max_length":128}],
                           ["value_error",{"error":{}}],
                           ["less_than_equal",{"le":60.0}],
                           ["greater_than_equal",{"ge":0.0}]])"));
  EXPECT_EQ(ctx_of("POST", "/api/workloads",
                   R"({"workload_id":"w","orchestrator_id":"o1","artifact_hash":"h","payout_amount_eth":"0"})"),
            parse_json(R"([["greater_than",{"gt":0}]])"));
  EXPECT_EQ(ctx_of("POST", "/api/workloads", R"({"workload_id":"w","orchestrator_id":"o1","payout_amount_eth":"1"})"),
            parse_json(R"([["value_error",{"error":{}}]])"));
  EXPECT_EQ(ctx_of("POST", "/api/workloads/time", R"({"workload_id":"w","orchestrator_id":"o1","artifact_hash":"h","duration_ms":0})"),
            parse_json(R"([["greater_than",{"gt":0}]])"));
  EXPECT_EQ(ctx_of("POST", "/api/workloads/time",
                   R"({"workload_id":"w","orchestrator_id":"o1","artifact_hash":"h","duration_ms":86400001})"),
            parse_json(R"([["less_than_equal",{"le":86400000}]])"));
  EXPECT_EQ(ctx_of("GET", "/api/ledger/events?limit=0", ""), parse_json(R"([["greater_than_equal",{"ge":1}]])"));
  EXPECT_EQ(ctx_of("GET", "/api/orchestrators/o1/stats?days=366", ""), parse_json(R"([["less_than_equal",{"le":365}]])"));
  EXPECT_EQ(ctx_of("GET", "/api/payouts?status=sent", ""),
            parse_json(R"([["literal_error",{"expected":"'reserved', 'posted' or 'voided'"}]])"));
  // Types whose pydantic error has no context carry none.
  EXPECT_EQ(ctx_of("POST", "/api/workloads/time", R"({"workload_id":"w","orchestrator_id":"o1","artifact_hash":"h","duration_ms":"x"})"),
            parse_json(R"([["int_parsing",null]])"));
  EXPECT_EQ(ctx_of("POST", "/api/orchestrators/register", R"({"orchestrator_id":"n"})"),
            parse_json(R"([["missing",null]])"));
  // Malformed JSON: the framework's input {} and the parser's reason.
  auto bad = client_->request("POST", "/api/workloads/time", R"({"workload_id":)", kAdmin);
  ASSERT_EQ(bad.status, 422) << bad.body;
  const auto doc = parse_json(bad.body);
  const auto& e = doc.at("detail").at(0);
  EXPECT_EQ(e.at("type"), "json_invalid");
  EXPECT_EQ(e.at("input"), json::object{});
  EXPECT_FALSE(e.at("ctx").at("error").as_string().empty()) << bad.body;
  EXPECT_NE(std::string(e.at("msg").as_string()).find(std::string(e.at("ctx").at("error").as_string())), std::string::npos)
      << bad.body;
}

}  // namespace
}  // namespace lpops::testing
