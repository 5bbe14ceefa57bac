// /api/ledger: adjustments and the event listing.
#include <strings.h>

#include <algorithm>

#include "actors/reader.hpp"
#include "domain/digest.hpp"
#include "net/api.hpp"

namespace lpops::net {
namespace {

constexpr std::size_t kMaxIdempotencyKeyChars = 128;

bool printable_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

void post_adjustment(Call& call) {
  Validation v;
  BodyReader body(call.request, v);
  AdjustmentRequest r;
  r.orchestrator_id = body.required_string("orchestrator_id", 1, kMaxOrchestratorIdChars);
  auto amount = body.eth_amount("amount_eth", true);
  r.reason = body.optional_string("reason", 256);
  if (r.reason && r.reason->empty()) r.reason.reset();
  r.reference_workload_id = body.optional_string("reference_workload_id", 256);
  r.notes = body.optional_string("notes", 1024);
  r.force = body.optional_bool("force").value_or(false);
  // The reference's model checks this once every field is valid (a model validator): the
  // error names the body, not the field.
  if (v.ok() && amount && amount->is_zero())
    v.add("body", "", "value_error", "Value error, amount_eth must be non-zero", body.document());
  if (!v.ok()) return call.respond(v.response());
  r.amount = *amount;
  if (const std::string* key = call.request.header("Idempotency-Key")) {
    const auto copies = std::count_if(call.request.headers.begin(), call.request.headers.end(), [](const Header& h) {
      return ::strcasecmp(h.name.c_str(), "Idempotency-Key") == 0;
    });
    if (copies > 1) return call.respond(detail_response(400, "Idempotency-Key must be sent once"));
    if (key->empty() || key->size() > kMaxIdempotencyKeyChars || !printable_ascii(*key))
      return call.respond(detail_response(400, "Idempotency-Key must be 1-128 printable ASCII characters"));
    r.idempotency_key = *key;
  }
  // A repeated key matches a request with the same effect: "reason" left out, empty or
  // "adjustment" is one reason, and "force" changes nothing on a credit. Earlier versions hashed
  // the fields as sent; that digest goes along too, so a key stored then still matches a repeat
  // of its request.
  const auto digest = [&r](const std::optional<std::string>& reason, bool force) {
    json::object canonical{{"orchestrator_id", r.orchestrator_id}, {"amount_wei", format_wei(r.amount)},
                           {"reason", reason ? json::value(*reason) : json::value(nullptr)},
                           {"reference_workload_id", r.reference_workload_id ? json::value(*r.reference_workload_id) : json::value(nullptr)},
                           {"notes", r.notes ? json::value(*r.notes) : json::value(nullptr)},
                           {"force", force}};
    return hex_lower(sha256(json::serialize(canonical)));
  };
  const bool default_reason = !r.reason || *r.reason == "adjustment";
  r.request_digest = digest(default_reason ? std::nullopt : r.reason, r.force && r.amount.negative);
  if (std::string as_sent = digest(r.reason, r.force); as_sent != r.request_digest) r.digest_as_sent = std::move(as_sent);
  caf::anon_send(call.ctx->ledger, actors::Adjust{std::move(r), call.reply()});
}

void list_events(Call& call) {
  Validation v;
  QueryReader q(call.query, v);
  auto id = q.filter("orchestrator_id");
  std::size_t limit = static_cast<std::size_t>(q.integer("limit", 1, 1000).value_or(200));
  if (!v.ok()) return call.respond(v.response());
  // The ledger names the journal records; the reader actor loads them from storage once
  // they are durable (the ledger's answer waits for the commit in flight), so a page holds
  // `limit` entries when there are that many.
  auto reader = call.ctx->reader;
  auto placed = reply_with_reader_place(call);
  if (!placed) return;
  auto reply = std::move(*placed);
  auto seqs = std::make_shared<std::vector<std::uint64_t>>();
  caf::anon_send(call.ctx->ledger,
                 actors::Query{[id, limit, seqs](const Book& book) {
                                 *seqs = book.entry_seqs(id, limit);
                                 return std::pair{0, std::string{}};  // answered by the reader
                               },
                               // Status 0: on to the reader. Anything else (the ledger's 500
                               // when the query failed) goes to the client.
                               [reader, reply, seqs](int status, std::string body) {
                                 if (status != 0) return reply(status, std::move(body));
                                 caf::anon_send(reader, actors::ReadLedgerEvents{std::move(*seqs), reply});
                               }});
}

}  // namespace

const std::vector<Route>& ledger_routes() {
  static const std::vector<Route> routes = {
      {"POST", "/api/ledger/adjustments", Access::admin, post_adjustment, "Credit or debit an orchestrator (Idempotency-Key honoured)"},
      {"GET", "/api/ledger/events", Access::view, list_events, "Ledger entries, newest first"},
  };
  return routes;
}

}  // namespace lpops::net
