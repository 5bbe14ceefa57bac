// /api/payouts: the ledger's two-phase payouts. An operator (or a payout process) reserves
// an amount, pays it, then posts the reservation with the transaction hash, or voids it when
// the payment provably failed. Each step is journaled and has its audit entry.
#include <strings.h>

#include <algorithm>

#include "domain/digest.hpp"
#include "net/api.hpp"

namespace lpops::net {
namespace {

bool payout_id_ok(std::string_view s) { return is_payout_id(s); }

bool tx_hash_ok(std::string_view s) {
  return s.size() == 66 && s[0] == '0' && s[1] == 'x' &&
         std::all_of(s.begin() + 2, s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

bool address_ok(std::string_view s) {
  return s.size() == 42 && s[0] == '0' && s[1] == 'x' &&
         std::all_of(s.begin() + 2, s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const char* kIdRule = "1-128 characters: letters, digits, '-', '_', '.', starting with a letter or digit";

void reserve(Call& call) {
  Validation v;
  BodyReader body(call.request, v);
  PayoutRequest r;
  // Any length: the id's rule (its value_error) says what a long one breaks.
  auto id = body.optional_string("payout_id", std::numeric_limits<std::size_t>::max());
  r.orchestrator_id = body.required_string("orchestrator_id", 1, kMaxOrchestratorIdChars);
  auto amount = body.eth_amount("amount_eth", false, true);
  auto recipient = body.optional_string("recipient", 64);
  r.notes = body.optional_string("notes", 1024);
  if (id && !payout_id_ok(*id)) {
    json::value in(*id);
    v.add("body", "payout_id", "value_error", std::string("Value error, payout_id must be ") + kIdRule, &in);
  }
  if (amount && (amount->negative || amount->is_zero()))
    v.add("body", "amount_eth", "value_error", "Value error, amount_eth must be positive", body.field("amount_eth"));
  if (recipient && !address_ok(*recipient)) {
    json::value in(*recipient);
    v.add("body", "recipient", "string_pattern_mismatch", "String should match pattern '^0x[a-fA-F0-9]{40}$'", &in);
  } else if (recipient && lower(*recipient) == "0x" + std::string(40, '0')) {
    // Paid there, the amount would be burnt.
    json::value in(*recipient);
    v.add("body", "recipient", "value_error", "Value error, recipient must not be the zero address", &in);
  }
  if (!v.ok()) return call.respond(v.response());
  // A recipient on the denylist is refused by the ledger (403), after a repeated id's answer:
  // a reservation made before the address was listed is still answered as it was.
  if (recipient) {
    const auto& denied = call.ctx->settings.address_denylist;
    r.recipient_denylisted = std::find(denied.begin(), denied.end(), lower(*recipient)) != denied.end();
  }
  // The id: payout_id, else the Idempotency-Key header, else one the ledger draws.
  if (const std::string* key = call.request.header("Idempotency-Key")) {
    const auto copies = std::count_if(call.request.headers.begin(), call.request.headers.end(),
                                      [](const Header& h) { return ::strcasecmp(h.name.c_str(), "Idempotency-Key") == 0; });
    if (copies > 1) return call.respond(detail_response(400, "Idempotency-Key must be sent once"));
    if (!payout_id_ok(*key)) return call.respond(detail_response(400, std::string("Idempotency-Key must be ") + kIdRule));
    if (id && *id != *key) return call.respond(detail_response(400, "payout_id and Idempotency-Key differ"));
    id = *key;
  }
  r.payout_id = id.value_or("");
  if (amount) r.amount = amount->magnitude;
  if (recipient) r.recipient = lower(*recipient);
  json::object canonical{{"orchestrator_id", r.orchestrator_id},
                         {"amount_wei", r.amount ? json::value(format_wei(*r.amount)) : json::value(nullptr)},
                         {"recipient", r.recipient ? json::value(*r.recipient) : json::value(nullptr)},
                         {"notes", r.notes ? json::value(*r.notes) : json::value(nullptr)}};
  r.request_digest = hex_lower(sha256(json::serialize(canonical)));
  caf::anon_send(call.ctx->ledger, actors::ReservePayout{std::move(r), call.reply()});
}

void post(Call& call) {
  Validation v;
  BodyReader body(call.request, v);
  auto tx_hash = body.required_string("tx_hash", 1, 66);
  auto block = body.integer("block_number", 0, std::numeric_limits<std::int64_t>::max(), false);
  if (v.ok() && !tx_hash_ok(tx_hash)) {
    json::value in(tx_hash);
    v.add("body", "tx_hash", "string_pattern_mismatch", "String should match pattern '^0x[a-fA-F0-9]{64}$'", &in);
  }
  if (!v.ok()) return call.respond(v.response());
  std::optional<std::uint64_t> block_number;
  if (block) block_number = static_cast<std::uint64_t>(*block);
  caf::anon_send(call.ctx->ledger, actors::PostPayout{call.params[0], lower(tx_hash), block_number, call.reply()});
}

void void_payout(Call& call) {
  Validation v;
  std::optional<std::string> reason;
  if (!call.request.body.empty()) {
    BodyReader body(call.request, v);
    reason = body.optional_string("reason", 1024);
  }
  if (!v.ok()) return call.respond(v.response());
  caf::anon_send(call.ctx->ledger, actors::VoidPayout{call.params[0], std::move(reason), call.reply()});
}

// A payout's view, and whether its recipient is on the node's denylist now: a payout reserved
// before its address was denylisted (at a restart with a longer list) is flagged, so that
// whoever sends payouts voids it rather than pays it.
json::object payout_view(const Payout& p, const std::vector<std::string>& denied) {
  json::object view = p.to_view();
  view["recipient_denylisted"] = std::find(denied.begin(), denied.end(), p.recipient) != denied.end();
  return view;
}

void list(Call& call) {
  Validation v;
  QueryReader q(call.query, v);
  PayoutFilter f;
  // An empty value is no filter, as on the other listings.
  // A long id matches nothing, as on the other listings; a long status is not one of the three.
  f.orchestrator_id = q.filter("orchestrator_id");
  f.status = q.filter("status");
  if (f.status && !is_payout_status(*f.status)) {
    const json::value in(*f.status);
    v.add("query", "status", "literal_error", "Input should be 'reserved', 'posted' or 'voided'", &in);
  }
  f.limit = static_cast<std::size_t>(q.integer("limit", 1, 1000).value_or(100));
  if (!v.ok()) return call.respond(v.response());
  caf::anon_send(call.ctx->ledger, actors::Query{[f, denied = call.ctx->settings.address_denylist](const Book& book) {
                                                   json::array rows;
                                                   for (const Payout* p : book.list_payouts(f)) rows.push_back(payout_view(*p, denied));
                                                   return std::pair{200, json::serialize(json::object{{"payouts", std::move(rows)}})};
                                                 },
                                                 call.reply()});
}

void get_one(Call& call) {
  caf::anon_send(call.ctx->ledger, actors::Query{[id = call.params[0], denied = call.ctx->settings.address_denylist](const Book& book) {
                                                   const Payout* p = book.payout(id);
                                                   if (!p) return std::pair{404, actors::detail_body("Payout not found")};
                                                   return std::pair{200, json::serialize(payout_view(*p, denied))};
                                                 },
                                                 call.reply()});
}

}  // namespace

const std::vector<Route>& payout_routes() {
  static const std::vector<Route> routes = {
      {"POST", "/api/payouts", Access::strict_admin, reserve, "Reserve a payout (a pending debit; Idempotency-Key or payout_id honoured)"},
      {"GET", "/api/payouts", Access::view, list, "Payouts, newest first"},
      {"GET", "/api/payouts/{payout_id}", Access::view, get_one, "One payout"},
      {"POST", "/api/payouts/{payout_id}/post", Access::strict_admin, post, "Post a reserved payout: it becomes a debit"},
      {"POST", "/api/payouts/{payout_id}/void", Access::strict_admin, void_payout, "Void a reserved payout: the reservation is released"},
  };
  return routes;
}

}  // namespace lpops::net
