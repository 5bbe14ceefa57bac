// Two-phase payouts over HTTP: reserve, post, void; the available balance in /api/balances;
// one audit entry per step, provable and passing `lpops verify`; bad input and conflicts
// leave the ledger as it was; everything survives a restart.
#include <set>

#include "tests/integration/fixture.hpp"

namespace lpops::testing {
namespace {

const char* kAdmin = "admin-secret";
const std::string kTx = "0x" + std::string(64, 'c');

class PayoutTest : public NodeTest {
 protected:
  void SetUp() override {
    start_node({{"PAYMENTS_API_ADMIN_TOKEN", kAdmin},
                {"PAYMENTS_ADDRESS_DENYLIST", "0x000000000000000000000000000000000000dEaD"},
                {"PAYMENTS_AUDIT_CHECKPOINT_EVERY_ENTRIES", "1"},
                {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", "100000"},
                {"PAYMENTS_PUBLIC_RATE_BURST", "100000"}});
    register_orchestrator("o1", "0x1111111111111111111111111111111111111111");
    ASSERT_EQ(admin("POST", "/api/ledger/adjustments", R"({"orchestrator_id":"o1","amount_eth":"1.5"})").status, 200);
  }
  HttpResult admin(const std::string& method, const std::string& target, const std::string& body = "",
                   std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("X-Admin-Token", kAdmin);
    return raw(method, target, body, headers);
  }
  json::object balance_row() {
    auto rows = parse_json(admin("GET", "/api/balances").body).at("balances").as_array();
    for (const auto& r : rows)
      if (r.at("orchestrator_id").as_string() == "o1") return r.as_object();
    return {};
  }
  std::string audit_seq() { return json::serialize(get_json("/api/transparency/tee-core/audit/status").at("audit_seq")); }
};

// A debit is checked against the available balance (credits - posted - pending), not the
// balance: what a payout has reserved cannot be adjusted away without "force".
TEST_F(PayoutTest, ADebitCannotSpendWhatAPayoutReserved) {
  ASSERT_EQ(admin("POST", "/api/payouts", R"({"payout_id":"p1","orchestrator_id":"o1","amount_eth":"1"})").status, 200);
  const auto debit = [&](const std::string& amount, bool force) {
    return admin("POST", "/api/ledger/adjustments",
                 json::serialize(json::object{{"orchestrator_id", "o1"}, {"amount_eth", amount}, {"force", force}}));
  };
  auto refused = debit("-0.6", false);  // the balance is 1.5, but only 0.5 is available
  EXPECT_EQ(refused.status, 409) << refused.body;
  auto row = balance_row();
  EXPECT_EQ(row.at("balance_eth").as_string(), "1.5");
  EXPECT_EQ(row.at("available_eth").as_string(), "0.5");
  ASSERT_EQ(debit("-0.5", false).status, 200);  // all that is available
  EXPECT_EQ(debit("-0.000000000000000001", false).status, 409);
  // Not even forced while the payout holds it: posted later, the same wei would leave twice.
  auto spent = debit("-0.000000000000000001", true);
  EXPECT_EQ(spent.status, 409) << spent.body;
  EXPECT_EQ(parse_json(spent.body).at("detail").as_string(),
            "Adjustment would spend what payouts reserved (available 0 ETH, 1 ETH reserved): post or void them first");
  row = balance_row();
  EXPECT_EQ(row.at("balance_eth").as_string(), "1");
  EXPECT_EQ(row.at("pending_eth").as_string(), "1");
  ASSERT_EQ(admin("POST", "/api/payouts/p1/void", "{}").status, 200);
  auto forced = debit("-1.000000000000000001", true);  // nothing reserved now: below zero, forced
  ASSERT_EQ(forced.status, 200) << forced.body;
  row = balance_row();
  EXPECT_EQ(row.at("balance_eth").as_string(), "-0.000000000000000001");
  EXPECT_EQ(row.at("available_eth").as_string(), "-0.000000000000000001");
  EXPECT_EQ(row.at("pending_eth").as_string(), "0");
  const auto events = parse_json(admin("GET", "/api/ledger/events").body).at("events").as_array();
  ASSERT_FALSE(events.empty());
  std::size_t forced_events = 0;
  for (const auto& e : events)
    if (e.as_object().contains("metadata") && e.at("metadata").is_object() && e.at("metadata").as_object().contains("forced"))
      ++forced_events;
  EXPECT_EQ(forced_events, 1u);  // the forced debit, and only it
}

// A reservation made before its recipient was denylisted is answered again as it was when its
// request is repeated (a retry after a lost answer); a new payout to that recipient is 403.
TEST_F(PayoutTest, ARepeatedReservationIsAnsweredAfterItsRecipientIsDenylisted) {
  const std::string request =
      R"({"payout_id":"p1","orchestrator_id":"o1","amount_eth":"0.5","recipient":"0x2222222222222222222222222222222222222222"})";
  auto first = admin("POST", "/api/payouts", request);
  ASSERT_EQ(first.status, 200) << first.body;
  auto flagged = [&] {
    const auto one = admin("GET", "/api/payouts/p1", "");
    const auto listed = admin("GET", "/api/payouts?orchestrator_id=o1", "");
    EXPECT_EQ(one.status, 200) << one.body;
    const bool in_one = parse_json(one.body).at("recipient_denylisted").as_bool();
    EXPECT_EQ(parse_json(listed.body).at("payouts").at(0).at("recipient_denylisted").as_bool(), in_one) << listed.body;
    return in_one;
  };
  EXPECT_FALSE(flagged());
  restart_node({{"PAYMENTS_API_ADMIN_TOKEN", kAdmin},
                {"PAYMENTS_ADDRESS_DENYLIST", "0x2222222222222222222222222222222222222222"}});
  // Views flag it, so whoever sends payouts voids it rather than pays it.
  EXPECT_TRUE(flagged());
  auto again = admin("POST", "/api/payouts", request);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(parse_json(again.body), parse_json(first.body));
  auto other = admin("POST", "/api/payouts",
                     R"({"payout_id":"p2","orchestrator_id":"o1","amount_eth":"0.5","recipient":"0x2222222222222222222222222222222222222222"})");
  EXPECT_EQ(other.status, 403) << other.body;
  EXPECT_EQ(parse_json(other.body).at("detail").as_string(), "Recipient address is denylisted");
}

TEST_F(PayoutTest, ReservePostAndVoidAreJournaledAuditedAndProvable) {
  auto reserved = admin("POST", "/api/payouts", R"({"payout_id":"p1","orchestrator_id":"o1","amount_eth":"0.5"})");
  ASSERT_EQ(reserved.status, 200) << reserved.body;
  auto p = parse_json(reserved.body).as_object();
  EXPECT_EQ(p.at("status").as_string(), "reserved");
  EXPECT_EQ(p.at("amount_wei").as_string(), "500000000000000000");
  EXPECT_EQ(p.at("recipient").as_string(), "0x1111111111111111111111111111111111111111");
  auto row = balance_row();
  EXPECT_EQ(row.at("balance_eth").as_string(), "1.5");
  EXPECT_EQ(row.at("available_eth").as_string(), "1");
  EXPECT_EQ(row.at("pending_eth").as_string(), "0.5");

  // Bad input and conflicts: 4xx and nothing changes (no new audit entry).
  const std::string seq_before = audit_seq();
  EXPECT_EQ(admin("POST", "/api/payouts", R"({"orchestrator_id":"o1","amount_eth":"5"})").status, 409);
  EXPECT_EQ(admin("POST", "/api/payouts", R"({"orchestrator_id":"o1","amount_eth":"-1"})").status, 422);
  EXPECT_EQ(admin("POST", "/api/payouts", R"({"orchestrator_id":"o1","amount_eth":"0.1","payout_id":"bad id"})").status, 422);
  // An id of any length past 128 breaks the id's rule, which the error states.
  for (const std::size_t n : {129u, 130u, 300u}) {
    auto long_id = admin("POST", "/api/payouts",
                         R"({"orchestrator_id":"o1","amount_eth":"0.1","payout_id":")" + std::string(n, 'p') + R"("})");
    EXPECT_EQ(long_id.status, 422) << long_id.body;
    EXPECT_NE(long_id.body.find(R"("type":"value_error","loc":["body","payout_id"],"msg":"Value error, payout_id must be 1-128 characters)"),
              std::string::npos)
        << n << ": " << long_id.body;
  }
  EXPECT_EQ(admin("POST", "/api/payouts", R"({"orchestrator_id":"o1","recipient":"0x12"})").status, 422);
  EXPECT_EQ(admin("POST", "/api/payouts", R"({"orchestrator_id":"o1","amount_eth":0.123456789012345678})").status, 422);
  EXPECT_EQ(admin("POST", "/api/payouts", R"({"orchestrator_id":"o1","amount_eth":"0.1","payout_id":"p1:void"})").status, 422);
  EXPECT_EQ(admin("POST", "/api/payouts", R"({"orchestrator_id":"o1","amount_eth":"0.1"})", {{"X-Admin-Token", "other"}}).status, 400);
  EXPECT_EQ(admin("POST", "/api/payouts", R"({"orchestrator_id":"nobody","amount_eth":"0.1"})").status, 404);
  // A recipient that would burn the amount, or that is on the denylist (any case), is refused.
  auto zero = admin("POST", "/api/payouts", R"({"orchestrator_id":"o1","amount_eth":"0.1","recipient":"0x0000000000000000000000000000000000000000"})");
  EXPECT_EQ(zero.status, 422) << zero.body;
  EXPECT_NE(zero.body.find("recipient must not be the zero address"), std::string::npos) << zero.body;
  auto denied = admin("POST", "/api/payouts", R"({"orchestrator_id":"o1","amount_eth":"0.1","recipient":"0x000000000000000000000000000000000000DEAD"})");
  EXPECT_EQ(denied.status, 403) << denied.body;
  EXPECT_EQ(parse_json(denied.body).at("detail").as_string(), "Recipient address is denylisted");
  EXPECT_EQ(admin("POST", "/api/payouts", R"({"payout_id":"p1","orchestrator_id":"o1","amount_eth":"0.25"})").status, 409);
  EXPECT_EQ(admin("POST", "/api/payouts/p1/post", R"({"tx_hash":"0x12"})").status, 422);
  EXPECT_EQ(admin("POST", "/api/payouts/nope/post", R"({"tx_hash":")" + kTx + R"("})").status, 404);
  EXPECT_EQ(raw("POST", "/api/payouts", R"({"orchestrator_id":"o1"})").status, 401);  // no admin token
  EXPECT_EQ(audit_seq(), seq_before);
  // The same request again answers again, with no new entry.
  auto again = admin("POST", "/api/payouts", R"({"payout_id":"p1","orchestrator_id":"o1","amount_eth":"0.5"})");
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(audit_seq(), seq_before);

  auto posted = admin("POST", "/api/payouts/p1/post", R"({"tx_hash":")" + kTx + R"(","block_number":77})");
  ASSERT_EQ(posted.status, 200) << posted.body;
  EXPECT_EQ(parse_json(posted.body).at("status").as_string(), "posted");
  // Each answer has exactly the fields the API description requires of a payout.
  {
    const auto doc = parse_json(raw("GET", "/openapi.json", "").body);
    std::set<std::string> required, reserved_fields, posted_fields;
    for (const auto& f : doc.at("components").at("schemas").at("Payout").at("required").as_array()) required.insert(std::string(f.as_string()));
    for (const auto& kv : p) reserved_fields.insert(std::string(kv.key()));
    const auto posted_answer = parse_json(posted.body);
    for (const auto& kv : posted_answer.as_object()) posted_fields.insert(std::string(kv.key()));
    EXPECT_EQ(reserved_fields, required);
    EXPECT_EQ(posted_fields, required);
  }
  row = balance_row();
  EXPECT_EQ(row.at("balance_eth").as_string(), "1");
  EXPECT_EQ(row.at("available_eth").as_string(), "1");
  EXPECT_EQ(row.at("pending_eth").as_string(), "0");
  EXPECT_EQ(admin("POST", "/api/payouts/p1/void", "").status, 409);

  // The whole available balance (Idempotency-Key as the id), then voided.
  auto all = admin("POST", "/api/payouts", R"({"orchestrator_id":"o1"})", {{"Idempotency-Key", "p2"}});
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(parse_json(all.body).at("amount_eth").as_string(), "1");
  EXPECT_EQ(balance_row().at("available_eth").as_string(), "0");
  auto voided = admin("POST", "/api/payouts/p2/void", R"({"reason":"transaction dropped"})");
  ASSERT_EQ(voided.status, 200) << voided.body;
  EXPECT_EQ(parse_json(voided.body).at("void_reason").as_string(), "transaction dropped");
  EXPECT_EQ(balance_row().at("available_eth").as_string(), "1");

  // Listing and stats.
  auto list = parse_json(admin("GET", "/api/payouts?orchestrator_id=o1").body).at("payouts").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].at("payout_id").as_string(), "p2");
  EXPECT_EQ(admin("GET", "/api/payouts?status=lost").status, 422);
  // A status of any length that is none of the three is the same literal_error; an id longer
  // than any matches nothing, as on the other listings.
  auto long_status = admin("GET", "/api/payouts?status=" + std::string(40, 'r'));
  EXPECT_EQ(long_status.status, 422);
  EXPECT_NE(long_status.body.find(R"("type":"literal_error")"), std::string::npos) << long_status.body;
  auto long_id = admin("GET", "/api/payouts?orchestrator_id=" + std::string(200, 'o'));
  ASSERT_EQ(long_id.status, 200) << long_id.body;
  EXPECT_TRUE(parse_json(long_id.body).at("payouts").as_array().empty());
  // An empty value filters nothing, as on the other listings.
  auto unfiltered = parse_json(admin("GET", "/api/payouts?orchestrator_id=&status=").body).at("payouts").as_array();
  EXPECT_EQ(unfiltered.size(), parse_json(admin("GET", "/api/payouts").body).at("payouts").as_array().size());
  EXPECT_EQ(unfiltered.size(), 2u);
  EXPECT_EQ(parse_json(admin("GET", "/api/payouts/p1").body).at("tx_hash").as_string(), kTx);
  auto stats = parse_json(admin("GET", "/api/orchestrators/o1/stats?days=1").body);
  EXPECT_EQ(stats.at("total_payouts_eth").as_string(), "0.5");
  // The ledger events: the posted payout is the reference's set_balance (amount = the new
  // balance, delta = the change); the reserve and void steps change nothing.
  std::map<std::string, json::object> events;
  const auto listed = parse_json(admin("GET", "/api/ledger/events?limit=1000").body);
  for (const auto& e : listed.at("events").as_array()) events[std::string(e.at("event_id").as_string())] = e.as_object();
  ASSERT_TRUE(events.count("payout:p1")) << listed;
  const auto& paid = events.at("payout:p1");
  EXPECT_EQ(paid.at("event").as_string(), "set_balance");
  EXPECT_EQ(paid.at("reason").as_string(), "payout");
  EXPECT_EQ(paid.at("amount").as_string(), "1");
  EXPECT_EQ(paid.at("balance").as_string(), "1");
  EXPECT_EQ(paid.at("delta").as_string(), "-0.5");
  EXPECT_EQ(paid.at("amount_wei").as_string(), "1000000000000000000");
  EXPECT_EQ(paid.at("delta_wei").as_string(), "-500000000000000000");
  for (const char* step : {"payout:p1:reserve", "payout:p2:reserve", "payout:p2:void"}) {
    ASSERT_TRUE(events.count(step)) << step;
    EXPECT_EQ(events.at(step).at("event").as_string(), "credit") << step;
    EXPECT_EQ(events.at(step).at("delta").as_string(), "0") << step;
  }

  // One audit entry per step, each provable against a signed checkpoint.
  const std::vector<std::pair<std::string, std::string>> steps = {
      {"payout:p1:reserve", "payout_reserve"}, {"payout:p1", "payout_debit"}, {"payout:p2:reserve", "payout_reserve"},
      {"payout:p2:void", "payout_void"}};
  wait_for_checkpoint(parse_json(audit_seq()).as_int64());
  for (const auto& [event_id, kind] : steps) {
    auto receipt = get_json("/api/transparency/tee-core/receipt?event_id=" + event_id);
    const auto& entry = receipt.at("audit_entry");
    EXPECT_EQ(entry.at("kind").as_string(), kind) << event_id;
    EXPECT_EQ(entry.at("orchestrator_id").as_string(), "o1");
    EXPECT_EQ(entry.at("recipient").as_string(), "0x1111111111111111111111111111111111111111");
    EXPECT_EQ(entry.at("delta_wei").as_string(), kind == "payout_debit" ? "-500000000000000000" : "0") << event_id;
    auto proof = get("/api/transparency/tee-core/audit/proof?event_id=" + event_id);
    EXPECT_EQ(proof.status, 200) << proof.body;
  }
  auto verified = run_command({lpops_binary(), "verify", "--url", "http://127.0.0.1:" + std::to_string(node_->port()),
                               "--event-id", "payout:p1", "--json"});
  EXPECT_EQ(verified.exit_code, 0) << verified.output;

  // Durable: the same after a restart, and in a replay of the journal alone (node stopped).
  ASSERT_EQ(admin("POST", "/api/payouts", R"({"payout_id":"p3","orchestrator_id":"o1","amount_eth":"0.25"})").status, 200);
  ASSERT_EQ(node_->terminate(), 0) << node_->log();
  auto replay = run_command({lpops_binary(), "replay", "--data-dir", dir_.str() + "/data", "--json"});
  ASSERT_EQ(replay.exit_code, 0) << replay.output;
  const auto replayed = parse_json(replay.output.substr(replay.output.find('{'))).at("balances").at("o1");
  EXPECT_EQ(replayed.at("balance_wei").as_string(), "1000000000000000000");
  EXPECT_EQ(replayed.at("pending_wei").as_string(), "250000000000000000");
  EXPECT_EQ(replayed.at("available_wei").as_string(), "750000000000000000");
  start_node({{"PAYMENTS_API_ADMIN_TOKEN", kAdmin}});
  ASSERT_EQ(admin("POST", "/api/payouts/p3/void", "").status, 200);

  row = balance_row();
  EXPECT_EQ(row.at("balance_eth").as_string(), "1");
  EXPECT_EQ(row.at("available_eth").as_string(), "1");
  EXPECT_EQ(parse_json(admin("GET", "/api/payouts/p2").body).at("status").as_string(), "voided");
  EXPECT_EQ(admin("POST", "/api/payouts/p2/post", R"({"tx_hash":")" + kTx + R"("})").status, 409);
  EXPECT_EQ(node_->terminate(), 0) << node_->log();
}

}  // namespace
}  // namespace lpops::testing
