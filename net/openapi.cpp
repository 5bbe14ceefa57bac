// The OpenAPI 3.1 description, built from the route tables plus the schemas below.
#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "domain/version.hpp"
#include "net/api.hpp"

namespace lpops::net {
namespace {

// The routes answered on the reader's thread (answer_on_reader, the ledger's events): bounded by
// PAYMENTS_MAX_QUEUED_READS.
bool reads_on_reader(std::string_view pattern) {
  return pattern == "/api/orchestrators" || pattern == "/api/balances" || pattern == "/api/workloads" ||
         pattern == "/api/workloads/summary" || pattern == "/api/ledger/events";
}

json::object str(std::size_t max = 0, std::size_t min = 0) {
  json::object s{{"type", "string"}};
  if (max) s["maxLength"] = max;
  if (min) s["minLength"] = min;
  return s;
}
json::object nullable(json::object s) { return json::object{{"anyOf", json::array{s, json::object{{"type", "null"}}}}}; }
json::object ref(const char* name) { return json::object{{"$ref", std::string("#/components/schemas/") + name}}; }
json::object eth() {
  return json::object{{"type", "string"}, {"pattern", "^-?[0-9]+(\\.[0-9]+)?$"}, {"description", "exact decimal ETH"}};
}
json::object wei() { return json::object{{"type", "string"}, {"pattern", "^-?[0-9]+$"}, {"description", "wei"}}; }
json::object obj(std::initializer_list<std::pair<const char*, json::object>> props, std::initializer_list<const char*> required = {}) {
  json::object p;
  for (auto& [k, v] : props) p[k] = v;
  json::array req;
  for (auto* r : required) req.push_back(json::value(r));
  json::object o{{"type", "object"}, {"properties", std::move(p)}};
  if (!req.empty()) o["required"] = std::move(req);
  return o;
}
json::object array_of(json::object items) { return json::object{{"type", "array"}, {"items", std::move(items)}}; }
// An answer that always carries every field it describes: each is required.
void complete(json::object& schema) {
  json::array all;
  for (const auto& kv : schema.at("properties").as_object()) all.push_back(json::value(kv.key()));
  schema["required"] = std::move(all);
}

// domain/payout.cpp, is_payout_id.
constexpr const char* kPayoutIdPattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$";

json::object schemas() {
  json::object s;
  s["ValidationError"] = obj({{"type", str()},
                              {"loc", array_of(json::object{{"type", json::array{"string", "integer"}}})},
                              {"msg", str()}, {"input", json::object{{"description", "the value given (null when none)"}}},
                              {"ctx", json::object{{"type", "object"},
                                                   {"description", "the values the message names (a bound, a pattern, "
                                                                   "the allowed values), as pydantic gives them"}}}},
                             {"type", "loc", "msg"});
  s["Error"] = obj({{"detail", json::object{{"anyOf", json::array{str(), array_of(ref("ValidationError"))}},
                                            {"description", "a message, or (422) pydantic's list of validation errors"}}}},
                   {"detail"});
  s["ImportConflict"] = obj({{"detail", str()},
                             {"conflicts", array_of(obj({{"id", str()}, {"detail", str()}}, {"id", "detail"}))}},
                            {"detail", "conflicts"});
  s["Registration"] = obj({{"orchestrator_id", [] {
                             auto id = str(128, 1);
                             id["description"] = "__system__ is reserved";
                             return id;
                           }()},
                           {"address", json::object{{"type", "string"}, {"pattern", "^0x[a-fA-F0-9]{40}$"}}},
                           {"capability", str(128)},
                           {"contact_email", [] {
                              auto e = str(255);
                              e["description"] = "trimmed; blank is none; else it must hold an '@', neither first nor last";
                              return e;
                            }()},
                           {"host_public_ip", str(64)},
                           {"host_name", str(128)}, {"health_url", str(512)},
                           {"services_healthy", json::object{{"type", "boolean"}}},
                           {"health_timeout", json::object{{"type", "number"}, {"minimum", 0.1}, {"maximum", 60}}},
                           {"min_service_uptime", json::object{{"type", "number"}, {"minimum", 0}, {"maximum", 100}}},
                           {"monitored_services", json::object{{"type", "array"}, {"items", str()}, {"description", "at most 25 names once blank items are dropped"}}}},
                          {"orchestrator_id", "address"});
  s["RegistrationResult"] = obj({{"orchestrator_id", str()}, {"address", str()}, {"balance_eth", eth()},
                                 {"eligible_for_payments", json::object{{"type", "boolean"}}},
                                 {"is_top_100", json::object{{"type", "boolean"}}}, {"denylisted", json::object{{"type", "boolean"}}},
                                 {"registration_count", json::object{{"type", "integer"}}},
                                 {"cooldown_expires_at", nullable(str())}, {"message", str()}, {"balance_wei", wei()}});
  const auto boolean = json::object{{"type", "boolean"}};
  const auto integer = json::object{{"type", "integer"}};
  const auto number = json::object{{"type", "number"}};
  json::object orchestrator = obj(
      {{"orchestrator_id", str()}, {"address", str()}, {"balance_eth", eth()}, {"credit_unit", str()},
       {"eligible_for_payments", boolean}, {"is_top_100", boolean}, {"denylisted", boolean},
       {"cooldown_expires_at", nullable(str())}, {"cooldown_active", boolean}, {"first_seen", nullable(str())},
       {"last_seen", nullable(str())}, {"registration_count", integer}, {"contact_email", nullable(str())},
       {"capability", nullable(str())}, {"host_public_ip", nullable(str())}, {"host_name", nullable(str())},
       {"last_seen_ip", nullable(str())}, {"last_missed_all_services",
        json::object{{"type", json::array{"string", "number", "boolean", "null"}},
                     {"description", "a time; an imported record's value as the reference stored it"}}}, {"last_healthy_at", nullable(str())},
       {"last_cooldown_started_at", nullable(str())}, {"last_cooldown_cleared_at", nullable(str())},
       {"health_url", nullable(str())}, {"health_timeout", nullable(number)}, {"monitored_services", nullable(array_of(str()))},
       {"min_service_uptime", nullable(number)}, {"last_contact_source", nullable(str())},
       {"last_session_upstream_addr", nullable(str())}, {"last_session_seen_at", nullable(str())},
       {"last_session_edge_id", nullable(str())}, {"desired_pin", json::object{}}, {"last_ops_upgrade", json::object{}},
       {"active", boolean}, {"active_reason", nullable(str())}, {"in_use", boolean}, {"active_sessions", integer},
       {"active_activity_leases", integer}, {"balance_wei", wei()}},
      {"orchestrator_id", "address", "balance_eth", "eligible_for_payments", "is_top_100", "denylisted", "registration_count",
       "balance_wei"});
  orchestrator["description"] =
      "The registry record with derived fields, in the reference's order, plus balance_wei. With PAYMENTS_MANAGER_IP_ALLOWLIST "
      "set, callers outside it get host_public_ip, last_seen_ip, health_url, last_session_upstream_addr and last_session_edge_id "
      "as null.";
  s["Orchestrator"] = std::move(orchestrator);
  // Stats: the reference's fields, then a *_wei twin of every amount.
  const char* sums[] = {"credits", "payouts", "session", "workload", "adjustments", "net_delta"};
  json::object day{{"date", json::object{{"type", "string"}, {"format", "date"}}}};
  json::object stats{{"orchestrator_id", str()}, {"balance_eth", eth()}, {"balance_wei", wei()}, {"credit_unit", str()},
                     {"days", json::object{{"type", "integer"}, {"minimum", 1}, {"maximum", 365}}},
                     {"session_credit_eth_per_minute", str()}, {"passive_credit_eth_per_minute", str()}, {"payout_strategy", str()}};
  for (const char* sum : sums) {
    day[std::string(sum) + "_eth"] = eth();
    day[std::string(sum) + "_wei"] = wei();
    stats["total_" + std::string(sum) + "_eth"] = eth();
    stats["total_" + std::string(sum) + "_wei"] = wei();
  }
  json::object day_schema{{"type", "object"}, {"properties", std::move(day)}};
  complete(day_schema);
  stats["daily"] = array_of(std::move(day_schema));
  s["OrchestratorStats"] = json::object{{"type", "object"}, {"properties", std::move(stats)}};
  s["WorkloadSummary"] = obj(
      {{"range_start", nullable(str())}, {"range_end", nullable(str())},
       {"orchestrators", array_of([&] {
          auto row = obj({{"orchestrator_id", str()}, {"workloads", integer}, {"earned_eth", eth()}, {"pending_eth", eth()},
                          {"earned_wei", wei()}, {"pending_wei", wei()}});
          complete(row);
          return row;
        }())}});
  s["HealthPush"] = obj({{"source", str(64)}, {"data", json::object{{"type", "object"}}}}, {"data"});
  s["Workload"] = obj({{"workload_id", str()}, {"orchestrator_id", str()}, {"plan_id", nullable(str())},
                       {"run_id", nullable(str())}, {"artifact_hash", nullable(str())}, {"artifact_uri", nullable(str())},
                       {"payout_amount_eth", eth()},
                       {"status", json::object{{"enum", json::array{"pending", "verified", "paid", "rejected"}}}},
                       {"submitted_at", str()}, {"notes", nullable(str())}, {"tx_hash", nullable(str())},
                       {"credited", json::object{{"type", "boolean"}}}, {"credited_at", nullable(str())},
                       {"payout_amount_wei", wei()}});
  s["WorkloadCreate"] = obj({{"workload_id", str(255, 1)}, {"orchestrator_id", str(128, 1)}, {"plan_id", str(128)},
                             {"run_id", str(256)}, {"artifact_hash", str(256)}, {"artifact_uri", str(512)},
                             {"notes", str(1024)},
                             {"payout_amount_eth", json::object{{"type", json::array{"string", "number"}},
                                                                {"description", "decimal ETH, greater than 0"}}}},
                            {"workload_id", "orchestrator_id", "payout_amount_eth"});
  s["WorkloadCreate"].as_object()["description"] = "artifact_hash or artifact_uri is required (non-empty).";
  s["WorkloadTimeCreate"] = obj({{"workload_id", str(255, 1)}, {"orchestrator_id", str(128, 1)}, {"plan_id", str(128)},
                                 {"run_id", str(256)}, {"artifact_hash", str(256)}, {"artifact_uri", str(512)},
                                 {"notes", str(1024)},
                                 {"duration_ms", json::object{{"type", "integer"}, {"exclusiveMinimum", 0}, {"maximum", 86400000}}},
                                 {"status", json::object{{"enum", json::array{"pending", "verified", "paid", "rejected"}},
                                                         {"description", "another value of at most 32 characters is a 400 Invalid workload status, as in the reference; a longer one is a 422"}}}},
                                {"workload_id", "orchestrator_id", "duration_ms"});
  s["WorkloadTimeCreate"].as_object()["description"] =
      "artifact_hash or artifact_uri is required (non-empty); status defaults to verified and may not be null.";
  s["WorkloadPatch"] = obj({{"status", json::object{{"enum", json::array{"pending", "verified", "paid", "rejected", nullptr}}}},
                            {"notes", str(1024)}, {"tx_hash", str(128)}, {"artifact_uri", str(512)},
                            {"artifact_hash", str(256)}});
  s["Adjustment"] = obj({{"orchestrator_id", str(128, 1)}, {"amount_eth", json::object{{"type", json::array{"string", "number"}}, {"description", "signed, non-zero, at most 18 decimals"}}},
                         {"reason", str(256)}, {"reference_workload_id", str(256)}, {"notes", str(1024)},
                         {"force", json::object{{"type", "boolean"}, {"description", "allow the balance to go below zero"}}}},
                        {"orchestrator_id", "amount_eth"});
  s["AdjustmentResult"] = obj({{"orchestrator_id", str()}, {"balance_eth", eth()}, {"delta_eth", eth()}, {"reason", str()},
                               {"reference_workload_id", nullable(str())}, {"notes", nullable(str())}, {"event_id", str()},
                               {"balance_wei", wei()}, {"delta_wei", wei()}});
  s["LedgerEvent"] = obj({{"timestamp", str()}, {"event", str()}, {"orchestrator_id", str()}, {"amount", eth()},
                          {"balance", eth()}, {"delta", eth()}, {"reason", nullable(str())},
                          {"metadata", json::object{{"type", json::array{"object", "null"}}}}, {"event_id", str()},
                          {"amount_wei", wei()}, {"balance_wei", wei()}, {"delta_wei", wei()}});
  const auto address = json::object{{"type", "string"}, {"pattern", "^0x[a-fA-F0-9]{40}$"}};
  const auto hash = json::object{{"type", "string"}, {"pattern", "^0x[0-9a-f]{64}$"}};
  s["CredentialNonce"] = obj({{"nonce", hash}, {"expires_at", json::object{{"type", "integer"}, {"description", "unix seconds"}}},
                              {"owner_address", str()}, {"contract_address", str()}},
                             {"nonce", "expires_at", "owner_address", "contract_address"});
  s["CredentialTokenRequest"] = json::object{
      {"type", "object"},
      {"description", "The delegate's EIP-191 signature over keccak256(abi.encodePacked(\"payments-orchestrator-credential:auth:v1\", "
                      "orchestrator_id, owner_address, delegate_address, bytes32 nonce, uint256 expires_at)). expires_at must lie "
                      "between now and now + the nonce TTL; the nonce must have been issued for this orchestrator."},
      {"properties", json::object{{"delegate_address", address},
                                  {"nonce", json::object{{"type", "string"},
                                                         {"description", "the nonce as issued: 64 hex digits, 0x optional, any case; "
                                                                         "whitespace around it is ignored (64 characters that are "
                                                                         "no hex digits are a 401, as no nonce of the node's)"}}},
                                  {"expires_at", json::object{{"type", "integer"}, {"exclusiveMinimum", 0},
                                                              {"description", "unix seconds; one past 64 bits is outside the "
                                                                              "window (401)"}}},
                                  {"signature", json::object{{"type", "string"},
                                                             {"description", "0x and 65 bytes in hex (r, s, v: v 27 or 28, 0 or 1, "
                                                                             "or 35 and above in the chain-id form); whitespace "
                                                                             "around it is ignored"}}}}},
      {"required", json::array{"delegate_address", "nonce", "expires_at", "signature"}}};
  s["CredentialToken"] = obj({{"token_id", str()}, {"token", json::object{{"type", "string"}, {"description", "send as Authorization: Bearer <token> or X-Orchestrator-Token"}}},
                              {"expires_at", str()}},
                             {"token_id", "token", "expires_at"});
  s["Payout"] = obj({{"payout_id", str()}, {"orchestrator_id", str()}, {"recipient", str()}, {"amount_eth", eth()},
                     {"amount_wei", wei()}, {"status", json::object{{"enum", json::array{"reserved", "posted", "voided"}}}},
                     {"notes", nullable(str())}, {"tx_hash", nullable(str())},
                     {"block_number", json::object{{"type", json::array{"integer", "null"}}}}, {"void_reason", nullable(str())},
                     {"reserved_at", str()}, {"settled_at", nullable(str())},
                     {"recipient_denylisted",
                      json::object{{"type", "boolean"},
                                   {"description", "in GET views: the recipient is on PAYMENTS_ADDRESS_DENYLIST now (a payout "
                                                   "reserved before; void it rather than pay it)"}}}},
                    {"payout_id", "orchestrator_id", "recipient", "amount_eth", "amount_wei", "status", "notes", "tx_hash",
                     "block_number", "void_reason", "reserved_at", "settled_at"});
  s["PayoutReserve"] = json::object{
      {"type", "object"},
      {"description", "Reserves amount_eth (default: the whole available balance) for the orchestrator's registered address "
                      "(or recipient). The id is payout_id, else the Idempotency-Key header, else drawn; the same id with the "
                      "same request answers again, with another request 409."},
      {"properties", json::object{{"payout_id", json::object{{"type", "string"}, {"pattern", kPayoutIdPattern}}},
                                  {"orchestrator_id", str(128, 1)},
                                  {"amount_eth", json::object{{"type", json::array{"string", "integer"}},
                                                              {"description", "positive, at most 18 decimals; a JSON number with a "
                                                                              "fraction or an exponent is refused (send a string)"}}},
                                  {"recipient", json::object{{"type", "string"}, {"pattern", "^0x[a-fA-F0-9]{40}$"},
                                                             {"description", "not the zero address"}}},
                                  {"notes", str(1024)}}},
      {"required", json::array{"orchestrator_id"}}};
  // The reference's files, a slice per request (domain/reference_import.hpp).
  auto keyed = [](const char* what, json::object entry) {
    return json::object{{"type", "object"},
                        {"description", std::string(what) + " At most 1000 entries per request; one bad entry is a 422 and "
                                                            "nothing is imported; a conflict with the ledger is a 409 "
                                                            "listing every one (\"conflicts\": [{id, detail}]), nothing "
                                                            "imported; entries already there are counted as existing."},
                        {"additionalProperties", std::move(entry)}};
  };
  s["ImportRegistry"] = keyed("registry.json: orchestrator id -> the reference's record (address required; known fields "
                              "kept, others dropped and named in ignored_fields).",
                              obj({{"address", address}}, {"address"}));
  s["ImportWorkloads"] = keyed("workloads.json: workload id -> the reference's stored workload. Stored as it is, never "
                               "credited again; imported oldest first, before the node takes new workloads.",
                               obj({{"orchestrator_id", str(128, 1)}, {"payout_amount_eth", json::object{{"type", json::array{"string", "integer"}}}},
                                    {"status", json::object{{"enum", json::array{"pending", "verified", "paid", "rejected"}}}},
                                    {"submitted_at", str()}, {"credited", boolean}, {"credited_at", nullable(str())}},
                                   {"orchestrator_id", "payout_amount_eth", "status", "submitted_at"}));
  s["ImportBalances"] = keyed("balances.json: orchestrator id -> decimal ETH. One ledger entry each (reason import, "
                              "event id import:<id>); an amount finer than 1 wei is cut toward zero and listed in rounded.",
                              json::object{{"type", json::array{"string", "integer"}}});
  s["PayoutPost"] = obj({{"tx_hash", json::object{{"type", "string"}, {"pattern", "^0x[a-fA-F0-9]{64}$"}}},
                         {"block_number", json::object{{"type", "integer"}, {"minimum", 0}}}},
                        {"tx_hash"});
  s["PayoutVoid"] = obj({{"reason", str(1024)}});
  s["LedgerLeaf"] = json::object{
      {"type", "object"},
      {"description", "The orchestrator's leaf in the ledger tree: keccak256(abi.encode(\"payments-tee-core:ledger:v1\", bytes32 orch_hash, "
                      "address recipient, int256 balance_wei)), leaves sorted by orch_hash = keccak256(orchestrator_id), RFC 6962 tree "
                      "with keccak (leaf node keccak(0x00 ‖ leaf_hash))."},
      {"properties", json::object{{"ledger_root", hash}, {"leaf_index", json::object{{"type", "integer"}}},
                                  {"tree_size", json::object{{"type", "integer"}}},
                                  {"entry", obj({{"orchestrator_id", str()}, {"recipient", str()}, {"balance_eth", eth()},
                                                 {"balance_wei", wei()}, {"orch_hash", hash}, {"leaf_hash", hash}},
                                                {"orchestrator_id", "recipient", "balance_eth", "balance_wei", "orch_hash", "leaf_hash"})},
                                  {"proof", json::object{{"type", "array"}, {"items", hash}, {"description", "ledger-proof only; bottom-up"}}}}},
      {"required", json::array{"ledger_root", "leaf_index", "tree_size", "entry"}}};
  // Requests: an optional field sent as null counts as not sent (as the reference's models read
  // it), but for a health push's source and a time workload's status (a default, no null).
  for (const char* name : {"Registration", "WorkloadCreate", "WorkloadTimeCreate", "WorkloadPatch", "Adjustment", "PayoutReserve",
                           "PayoutPost", "PayoutVoid"}) {
    auto& schema = s.at(name).as_object();
    std::set<std::string> required;
    if (const auto* r = schema.if_contains("required"))
      for (const auto& v : r->as_array()) required.insert(std::string(v.as_string()));
    for (auto& kv : schema.at("properties").as_object()) {
      if (required.count(std::string(kv.key()))) continue;
      if (std::string_view(name) == "WorkloadTimeCreate" && kv.key() == "status") continue;
      auto& prop = kv.value().as_object();
      if (prop.contains("enum")) {
        auto& values = prop["enum"].as_array();
        if (std::find(values.begin(), values.end(), json::value(nullptr)) == values.end()) values.push_back(nullptr);
      } else {
        kv.value() = nullable(prop);
      }
    }
  }
  // Answers carry every field of these (an absent value is null, never left out, as the
  // reference writes them), so every field is required.
  // (Payout lists its own: recipient_denylisted is in GET views only.)
  for (const char* name : {"RegistrationResult", "Orchestrator", "OrchestratorStats", "Workload", "AdjustmentResult", "LedgerEvent",
                           "WorkloadSummary"})
    complete(s.at(name).as_object());
  return s;
}

struct Param {
  const char* name;
  json::object schema;
  bool required = false;
};

json::object qstr() { return json::object{{"type", "string"}}; }
json::object qstr(std::size_t min_chars, std::size_t max_chars) {
  return json::object{{"type", "string"}, {"minLength", min_chars}, {"maxLength", max_chars}};
}
// The reference's address pattern, in any case (a mixed-case spelling need not be EIP-55).
json::object qaddress() { return json::object{{"type", "string"}, {"pattern", "^0x[a-fA-F0-9]{40}$"}}; }
// An integer query parameter and the range the node accepts (422 outside it).
json::object qint(std::int64_t min, std::optional<std::int64_t> max = std::nullopt, std::optional<std::int64_t> fallback = std::nullopt) {
  json::object o{{"type", "integer"}, {"minimum", min}};
  if (max) o["maximum"] = *max;
  if (fallback) o["default"] = *fallback;
  return o;
}

struct Io {
  const char* request = nullptr;
  json::object response;
  std::vector<Param> query;
  std::vector<std::pair<const char*, json::object>> headers = {};  // optional headers: name, schema
};

std::map<std::string, Io> io_table() {
  std::map<std::string, Io> t;
  // Empty is no filter; another value than these is 400 `Invalid status filter`.
  const json::object time_filter{{"type", "string"},
                                 {"description", "an ISO 8601 date or time as Python 3.11's datetime.fromisoformat reads it (a final Z "
                                                 "allowed; without a zone, UTC; within years 1-9999 in UTC); anything else is 400 Invalid timestamp filter"}};
  const json::object workload_status_filter{{"enum", json::array{"", "pending", "verified", "paid", "rejected"}},
                                            {"description", "empty is no filter; another value is a 400 Invalid status filter"}};
  t["POST /api/orchestrators/register"] = {"Registration", ref("RegistrationResult"), {}};
  t["GET /api/orchestrators"] = {nullptr, obj({{"orchestrators", array_of(ref("Orchestrator"))}}), {}};
  t["GET /api/orchestrators/{orchestrator_id}"] = {nullptr, ref("Orchestrator"), {}};
  t["GET /api/orchestrators/{orchestrator_id}/stats"] = {nullptr, ref("OrchestratorStats"), {{"days", qint(1, 365, 30)}}};
  t["POST /api/orchestrators/{orchestrator_id}/health"] = {"HealthPush", obj({{"ok", json::object{{"type", "boolean"}}}}), {}};
  t["POST /api/orchestrators/{orchestrator_id}/credential/nonce"] = {nullptr, ref("CredentialNonce"), {}};
  t["POST /api/orchestrators/{orchestrator_id}/credential/token"] = {"CredentialTokenRequest", ref("CredentialToken"), {}};
  t["DELETE /api/orchestrators/{orchestrator_id}/credential/tokens"] = {
      nullptr, obj({{"orchestrator_id", str()}, {"revoked", json::object{{"type", "integer"}}}}, {"orchestrator_id", "revoked"}), {}};
  t["GET /api/orchestrators/me"] = {nullptr, ref("Orchestrator"), {}};
  t["GET /api/orchestrators/me/stats"] = {nullptr, ref("OrchestratorStats"), {{"days", qint(1, 365, 30)}}};
  t["GET /api/orchestrators/bootstrap"] = {nullptr, obj({{"orchestrator_id", str()}, {"edge_config_url", nullable(str())},
                                                        {"edge_config_token", nullable(str())}},
                                                       {"orchestrator_id", "edge_config_url", "edge_config_token"}), {}};
  t["GET /api/transparency/tee-core/ledger-entry"] = {nullptr, ref("LedgerLeaf"), {{"orchestrator_id", qstr(1, 128)}}};
  t["GET /api/transparency/tee-core/ledger-proof"] = {nullptr, ref("LedgerLeaf"), {{"orchestrator_id", qstr(1, 128)}}};
  t["POST /api/payouts"] = {"PayoutReserve", ref("Payout"), {},
                            {{"Idempotency-Key", json::object{{"type", "string"}, {"pattern", kPayoutIdPattern},
                                                              {"description", "the payout id when payout_id is not given"}}}}};
  t["GET /api/payouts"] = {nullptr, obj({{"payouts", array_of(ref("Payout"))}}),
                           {{"orchestrator_id", json::object{{"type", "string"}, {"description", "empty is no filter; an id no orchestrator has matches nothing"}}},
                            {"status", json::object{{"enum", json::array{"", "reserved", "posted", "voided"}}, {"description", "empty is no filter"}}},
                            {"limit", qint(1, 1000, 100)}}};
  t["GET /api/payouts/{payout_id}"] = {nullptr, ref("Payout"), {}};
  t["POST /api/payouts/{payout_id}/post"] = {"PayoutPost", ref("Payout"), {}};
  t["POST /api/payouts/{payout_id}/void"] = {"PayoutVoid", ref("Payout"), {}};
  t["GET /api/balances"] = {nullptr, obj({{"balances", array_of(obj({{"orchestrator_id", str()}, {"balance_eth", eth()}, {"balance_wei", wei()}, {"available_eth", eth()}, {"available_wei", wei()}, {"pending_eth", eth()}, {"pending_wei", wei()}}))}}), {}};
  t["POST /api/workloads"] = {"WorkloadCreate", ref("Workload"), {}};
  t["POST /api/workloads/time"] = {"WorkloadTimeCreate", ref("Workload"), {}};
  t["GET /api/workloads"] = {nullptr, obj({{"workloads", array_of(ref("Workload"))}}),
                             {{"orchestrator_id", qstr()}, {"status", workload_status_filter}, {"since", time_filter}, {"until", time_filter}, {"limit", qint(1, 500)}}};
  t["GET /api/workloads/summary"] = {nullptr, ref("WorkloadSummary"), {{"since", time_filter}, {"until", time_filter}}};
  t["PATCH /api/workloads/{workload_id}"] = {"WorkloadPatch", ref("Workload"), {}};
  t["POST /api/ledger/adjustments"] = {
      "Adjustment", ref("AdjustmentResult"), {},
      {{"Idempotency-Key", json::object{{"type", "string"}, {"pattern", "^[!-~]{1,128}$"},
                                        {"description", "a repeat answers the first response; a request with another effect under it is 409"}}}}};
  {
    const auto count = json::object{{"type", "integer"}};
    // rounded, kept_as_here and ignored_fields are left out when empty; checked only on a check.
    const auto checked = json::object{{"type", "boolean"}, {"const", true}};
    const auto check = json::object{{"type", "boolean"}, {"default", false},
                                    {"description", "answer what the import would (the same 200, with checked, or the same 409) "
                                                    "and change nothing; an orchestrator the node does not know counts as one "
                                                    "the same import registers"}};
    const auto rounded = array_of(obj({{"id", str()}, {"given", str()}, {"imported_eth", eth()}}, {"id", "given", "imported_eth"}));
    t["POST /api/import/registry"] = {"ImportRegistry", obj({{"imported", count}, {"existing", count},
                                                             {"denylisted", array_of(str())}, {"ignored_fields", array_of(str())},
                                                             {"checked", checked}},
                                                            {"imported", "existing", "denylisted"}), {{"check", check}}};
    t["POST /api/import/workloads"] = {"ImportWorkloads", obj({{"imported", count}, {"existing", count}, {"rounded", rounded},
                                                               {"kept_as_here", array_of(str())}, {"checked", checked}},
                                                              {"imported", "existing"}), {{"check", check}}};
    t["POST /api/import/balances"] = {"ImportBalances", obj({{"imported", count}, {"existing", count}, {"zero", count},
                                                             {"rounded", rounded}, {"checked", checked}},
                                                            {"imported", "existing", "zero"}), {{"check", check}}};
  }
  t["GET /api/ledger/events"] = {nullptr, obj({{"events", array_of(ref("LedgerEvent"))}}), {{"orchestrator_id", qstr()}, {"limit", qint(1, 1000, 200)}}};
  const auto hash = json::object{{"type", "string"}, {"pattern", "^0x[0-9a-f]{64}$"}};
  json::object checkpoint = obj({{"schema", str()}, {"audit_address", str()}, {"chain_id", json::object{{"type", "integer"}}},
                                 {"contract_address", str()}, {"seq", json::object{{"type", "integer"}}}, {"head_hash", hash},
                                 {"chain_head_hash", hash}, {"merkle_root", hash}, {"message_hash", hash}, {"signature", str()},
                                 {"timestamp", str()}});
  complete(checkpoint);
  // An audit entry (payments-tee-core:audit:v1); signer and signature only with
  // PAYMENTS_AUDIT_SIGN_ENTRIES. entry_hash = keccak256 of the canonical entry without
  // entry_hash, signer and signature.
  json::object entry = obj({{"schema", str()}, {"seq", json::object{{"type", "integer"}}}, {"prev_hash", hash},
                            {"timestamp", str()}, {"kind", str()}, {"event_id", str()}, {"orchestrator_id", str()},
                            {"recipient", str()}, {"delta_wei", wei()}, {"balance_wei", wei()}, {"reason", str()},
                            {"metadata", json::object{{"type", "object"}}}, {"entry_hash", hash},
                            {"signer", str()}, {"signature", str()}},
                           {"schema", "seq", "prev_hash", "timestamp", "kind", "event_id", "orchestrator_id", "recipient",
                            "delta_wei", "balance_wei", "entry_hash"});
  json::object wrapper = obj({{"audit_entry", entry}, {"journal_seq", json::object{{"type", "integer"}}},
                              {"received_at", str()}, {"schema", str()}, {"source", str()}});
  complete(wrapper);
  const std::string base = "GET /api/transparency/tee-core";
  t[base + "/audit/status"] = {nullptr, obj({{"audit_address", str()}, {"audit_seq", json::object{{"type", "integer"}}},
                                             {"audit_head_hash", hash}, {"audit_merkle_root", hash},
                                             {"audit_checkpoint_head_hash", hash},
                                             {"audit_checkpoint_seq", json::object{{"type", "integer"}}}}), {}};
  t[base + "/audit/checkpoint"] = {nullptr, checkpoint, {{"chain_id", qint(1)}, {"contract_address", qaddress()}}};
  t[base + "/audit/checkpoints"] = {nullptr, obj({{"checkpoints", array_of(checkpoint)}}), {{"limit", qint(1, 1000, 100)}, {"before_seq", qint(1)}}};
  t[base + "/audit/proof"] = {nullptr, obj({{"checkpoint", checkpoint}, {"audit_entry", entry},
                                            {"leaf_index", json::object{{"type", "integer"}}},
                                            {"tree_size", json::object{{"type", "integer"}}}, {"proof", array_of(hash)}}),
                              {{"event_id", qstr(1, 1024), true}, {"chain_id", qint(1)}, {"contract_address", qaddress()}}};
  t[base + "/audit/consistency"] = {nullptr, obj({{"first", json::object{{"type", "integer"}}}, {"second", json::object{{"type", "integer"}}},
                                                  {"first_root", hash}, {"second_root", hash}, {"proof", array_of(hash)}}),
                                    {{"first", qint(0), true}, {"second", qint(0), true}}};
  t[base + "/log"] = {nullptr, obj({{"entries", array_of(wrapper)}}),
                      {{"orchestrator_id", qstr()}, {"since_seq", qint(0, std::nullopt, 0)}, {"limit", qint(1, 1000, 200)}, {"order", json::object{{"enum", json::array{"asc", "desc"}}, {"default", "desc"}}}}};
  t[base + "/receipt"] = {nullptr, wrapper, {{"event_id", qstr(1, 1024), true}}};
  t["GET /healthz"] = {nullptr, obj({{"status", json::object{{"const", "ok"}}}}), {}};
  // The reference's signer and TEE-core routes. This node has a local signer or none, and no
  // TEE core: the signer's attestation route answers 404 without a signer, else 400 for a nonce
  // that is not hex, else 404; the core's answers 404 whatever the nonce.
  t["GET /api/tee/status"] = {nullptr, obj({{"mode", json::object{{"enum", json::array{"local", "none"}}}},
                                            {"address", nullable(str())},
                                            {"attestation_available", json::object{{"type", "boolean"}}}}), {}};
  const json::object nonce{{"type", "string"},
                           {"description", "hex as Python's bytes.fromhex reads it (an even length; a lower-case 0x prefix optional); blank "
                                           "is no nonce; other text is 400 where there is a signer (without one, 404 first)"}};
  const json::object core_nonce{{"type", "string"}, {"description", "not read: this node has no TEE core (404)"}};
  const json::object attestation = obj({{"address", str()}, {"document_b64", str()}, {"nonce_hex", nullable(str())}});
  t["GET /api/tee/attestation"] = {nullptr, attestation, {{"nonce", nonce}}};
  t["GET /api/tee/core/attestation"] = {nullptr, attestation, {{"nonce", core_nonce}}};
  // Lists and short answers that always carry every field.
  for (const std::string& key : std::vector<std::string>{"GET /api/orchestrators", "POST /api/orchestrators/{orchestrator_id}/health", "GET /api/payouts",
                                "GET /api/balances", "GET /api/workloads", "GET /api/ledger/events", "GET /healthz", "GET /api/tee/status",
                                "GET /api/tee/attestation", "GET /api/tee/core/attestation",
                                base + "/audit/checkpoints", base + "/log", base + "/audit/status", base + "/audit/proof",
                                base + "/audit/consistency"})
    complete(t.at(key).response);
  complete(t.at("GET /api/balances").response.at("properties").at("balances").at("items").as_object());
  t["GET /readyz"] = {nullptr, obj({{"status", json::object{{"enum", json::array{"ready", "starting", "draining"}}}},
                                    {"storage", str()}, {"rank_check", str()}, {"orchestrator_credentials", str()},
                                    {"transparency_index", json::object{{"enum", json::array{"starting", "loading", "ready"}}}}}),
                      {}};
  return t;
}

// The errors a route can answer, each with what it means there.
std::vector<std::pair<std::string, std::string>> error_responses(const Route& r, const Io* io) {
  const std::string_view pattern = r.pattern, method = r.method;
  const bool api = pattern.starts_with("/api/");
  const bool writes = method != "GET";
  // A path parameter is input a write checks (its body against it); a read's is only looked up.
  const bool has_input = (io && (io->request || !io->query.empty() || !io->headers.empty())) ||
                         (writes && pattern.find('{') != std::string_view::npos);
  // Routes that answer a list (possibly empty) rather than one thing that may not exist.
  const bool listing = pattern == "/api/orchestrators" || pattern == "/api/balances" || pattern == "/api/ledger/events" ||
                       (method == "GET" && (pattern == "/api/workloads" || pattern == "/api/workloads/summary" ||
                                            pattern == "/api/payouts" || pattern == "/api/transparency/tee-core/log" ||
                                            pattern == "/api/transparency/tee-core/audit/checkpoints" ||
                                            pattern == "/api/transparency/tee-core/audit/status" || pattern == "/api/tee/status"));
  const bool rate_limited = r.access == Access::public_ && api;
  std::vector<std::pair<std::string, std::string>> out;
  const bool time_filtered = method == "GET" && (pattern == "/api/workloads" || pattern == "/api/workloads/summary");
  out.emplace_back("400", pattern == "/api/ledger/adjustments"
                              ? "A malformed request, or an Idempotency-Key sent twice or not 1-128 printable ASCII characters"
                          : pattern == "/api/workloads/time"
                              ? "A malformed request, or a status that is no workload status (Invalid workload status)"
                          : writes ? "A malformed request or JSON body, or a value the reference also answers with 400"
                          : time_filtered ? "A malformed request, or a since/until that is no ISO 8601 time (Invalid timestamp filter)"
                                          : "A malformed request");
  if (r.access != Access::public_)
    out.emplace_back("401", r.access == Access::orchestrator ? "Orchestrator token required"
                            : r.access == Access::orchestrator_or_operator
                                ? "An orchestrator token, or the admin or a viewer token, required"
                                : "Admin (or, to read, viewer) token required");
  else if (pattern == "/api/orchestrators/{orchestrator_id}/credential/token")
    out.emplace_back("401", "Credential expired, or a nonce or signature that is not valid (Invalid credential nonce, "
                            "Invalid credential signature)");
  if (surface_of(pattern) != Surface::either || pattern == "/api/orchestrators/register")
    out.emplace_back("403", pattern == "/api/orchestrators/register"
                                ? "Address denylisted, not among the top orchestrators, or the route is not on this host's surface"
                            : pattern == "/api/payouts" && method == "POST"
                                ? "The orchestrator or the recipient is denylisted, or the route is not on this host's surface"
                                : "The route is not available on this host's surface (PAYMENTS_ENFORCE_SPLIT_SURFACES)");
  // Writes that change a balance by an amount they compute or are given.
  const bool credits = writes && (pattern == "/api/workloads" || pattern == "/api/workloads/time" ||
                                  pattern == "/api/workloads/{workload_id}" || pattern == "/api/ledger/adjustments");
  // Routes with nothing of their own to find: a registration, the bootstrap listing.
  const bool finds_nothing = pattern == "/api/orchestrators/register" || pattern == "/api/orchestrators/bootstrap";
  if (api && (!listing || r.access == Access::strict_admin) && !finds_nothing) out.emplace_back("404", "Not found");
  out.emplace_back("408", "The request did not arrive within PAYMENTS_HTTP_TIMEOUT_SECONDS");
  // Writes that cannot conflict: a workload's changes (any status change is taken, none undoes
  // a credit), a health push, revoking tokens.
  const bool conflict_free = (method == "PATCH" && pattern == "/api/workloads/{workload_id}") ||
                             pattern == "/api/orchestrators/{orchestrator_id}/health" ||
                             pattern == "/api/orchestrators/{orchestrator_id}/credential/tokens";
  if (writes && !conflict_free)
    out.emplace_back("409", "Conflicts with the ledger's state (an existing id, an address owned by another, a balance)");
  else if (pattern == "/api/transparency/tee-core/audit/proof")
    out.emplace_back("409", "The entry is newer than the latest checkpoint: retry after the next one");
  out.emplace_back("413", pattern == "/api/orchestrators/{orchestrator_id}/health"
                             ? "Body larger than PAYMENTS_MAX_BODY_BYTES, or data past 65,536 bytes as JSON"
                             : "Body larger than PAYMENTS_MAX_BODY_BYTES");
  out.emplace_back("414", "Request target too long");
  if (io && io->request) out.emplace_back("415", "A Content-Encoding other than identity, or a charset other than UTF-8");
  // The attestation routes' one input, the nonce, is a 400 `nonce must be hex`, as in the reference.
  if (has_input && !pattern.starts_with("/api/tee/"))
    out.emplace_back("422", credits ? "Validation error (pydantic's list of errors), or an amount the account cannot hold "
                                      "(past 2^256-1 wei, or a balance past ±2^255 wei: a detail string)"
                                    : "Validation error (pydantic's list of errors)");
  if (rate_limited || pattern == "/api/orchestrators/register") out.emplace_back("429", "Rate limited");
  out.emplace_back("431", "Request header fields too large");
  if (pattern == "/api/ledger/events")
    out.emplace_back("500", "The listing reached a damaged journal record (never a list with a gap); the node stops to be restored");
  return out;
}

std::string build() {
  auto io = io_table();
  json::object paths;
  for (const Route* r : all_routes()) {
    std::string method = r->method;
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    json::object op;
    op["summary"] = r->summary;
    json::array params;
    std::string_view pattern = r->pattern;
    for (std::size_t pos = pattern.find('{'); pos != std::string_view::npos; pos = pattern.find('{', pos + 1)) {
      auto end = pattern.find('}', pos);
      params.push_back(json::object{{"name", pattern.substr(pos + 1, end - pos - 1)}, {"in", "path"}, {"required", true},
                                    {"schema", str()}});
    }
    json::object ok{{"description", "OK"}};
    auto it = io.find(std::string(r->method) + " " + r->pattern);
    if (it != io.end()) {
      for (const Param& p : it->second.query)
        params.push_back(json::object{{"name", p.name}, {"in", "query"}, {"required", p.required},
                                      {"schema", p.schema}});
      for (const auto& [name, schema] : it->second.headers)
        params.push_back(json::object{{"name", name}, {"in", "header"}, {"schema", schema}});
      if (it->second.request)
        op["requestBody"] = json::object{{"required", std::string_view(it->second.request) != "PayoutVoid"},
                                         {"content", json::object{{"application/json", json::object{{"schema", ref(it->second.request)}}}}}};
      ok["content"] = json::object{{"application/json", json::object{{"schema", it->second.response}}}};
    }
    if (!params.empty()) op["parameters"] = std::move(params);
    json::object responses{{"200", ok}};
    json::object error{{"content", json::object{{"application/json", json::object{{"schema", ref("Error")}}}}}};
    for (const auto& [code, why] : error_responses(*r, it != io.end() ? &it->second : nullptr)) {
      json::object e = error;
      if (code == "409" && std::string_view(r->pattern).starts_with("/api/import/"))
        e["content"] = json::object{{"application/json", json::object{{"schema", ref("ImportConflict")}}}};
      e["description"] = why;
      responses[code] = std::move(e);
    }
    if (!r->before_ready) {
      json::object e = error;
      e["description"] = std::string_view(r->pattern).find("/credential/") != std::string_view::npos
                             ? "Starting (retry after the Retry-After seconds), no credential contract configured, or the chain "
                               "node cannot be asked right now"
                         : std::string_view(r->pattern) == "/api/orchestrators/register"
                             ? "Starting: the ledger is being recovered (retry after the Retry-After seconds); or the rank "
                               "check could not read the top orchestrators (Unable to validate orchestrator rank at this time)"
                         : std::string_view(r->pattern).ends_with("/audit/proof") || std::string_view(r->pattern).ends_with("/receipt")
                             ? "Starting: the ledger is being recovered, or the audit log's event index loaded; retry after "
                               "the Retry-After seconds"
                             : "Starting: the ledger is being recovered; retry after the Retry-After seconds";
      // Any answer over 64 KiB (a listing) counts against PAYMENTS_MAX_SENDING_BODY_BYTES.
      if (std::string_view(r->method) == "GET")
        e["description"] = std::string(e["description"].as_string()) +
                           "; or, for a large answer, too many large answers are being sent at once (Too many large answers "
                           "are being sent; retry shortly)" +
                           std::string(reads_on_reader(r->pattern) ? "; or too many reads are queued for the reader's thread "
                                                                     "(Too many reads are queued; retry shortly)"
                                                                   : "");
      e["headers"] = json::object{{"Retry-After", json::object{{"schema", json::object{{"type", "integer"}}}}}};
      responses["503"] = std::move(e);
    }
    if (std::string_view(r->pattern) == "/readyz" && it != io.end()) {
      responses["503"] = json::object{
          {"description", "Not ready: starting (the ledger is being recovered) or draining (stopping)"},
          {"content", json::object{{"application/json", json::object{{"schema", it->second.response}}}}}};
    }
    if (r->access == Access::strict_admin) {
      json::object e = error;
      e["description"] = "404: no admin token is configured (PAYMENTS_API_ADMIN_TOKEN unset), or not found";
      responses["404"] = std::move(e);
    }
    op["responses"] = std::move(responses);
    if (r->access == Access::view || r->access == Access::admin || r->access == Access::strict_admin)
      op["security"] = json::array{json::object{{"adminToken", json::array{}}}};
    else if (r->access == Access::orchestrator)
      op["security"] = json::array{json::object{{"orchestratorBearer", json::array{}}}, json::object{{"orchestratorToken", json::array{}}}};
    else if (r->access == Access::orchestrator_or_operator)
      op["security"] = json::array{json::object{{"orchestratorBearer", json::array{}}}, json::object{{"orchestratorToken", json::array{}}},
                                   json::object{{"adminToken", json::array{}}}};
    json::value& entry = paths[r->pattern];
    if (!entry.is_object()) entry = json::object{};
    entry.as_object()[method] = std::move(op);
  }
  json::object doc;
  doc["openapi"] = "3.1.0";
  doc["info"] = json::object{{"title", "lpops"}, {"version", kVersion},
                             {"description",
                              "Livepeer operations backend; compatible with the livepeer-ops API. Request schemas give "
                              "the types a client should send. As the reference's validation (pydantic, lax mode) does, "
                              "the node also takes their lax forms: an integer field a whole number written 3.0 or as "
                              "text (\"3\", \" +3 \"), never a boolean; a number field numeric text or a boolean; a "
                              "boolean field 0 or 1, or true/false, yes/no, on/off, t/f, y/n, 1/0 as text in any case. "
                              "Responses always carry the types given."}};
  doc["paths"] = std::move(paths);
  doc["components"] = json::object{
      {"schemas", schemas()},
      {"securitySchemes", json::object{{"adminToken", json::object{{"type", "apiKey"}, {"in", "header"}, {"name", "X-Admin-Token"}}},
                                       {"orchestratorBearer", json::object{{"type", "http"}, {"scheme", "bearer"}}},
                                       {"orchestratorToken", json::object{{"type", "apiKey"}, {"in", "header"}, {"name", "X-Orchestrator-Token"}}}}}};
  return json::serialize(doc);
}

}  // namespace

const std::string& openapi_document() {
  static const std::string doc = build();
  return doc;
}

}  // namespace lpops::net
