#include "domain/payout.hpp"

#include "domain/json_fields.hpp"

namespace lpops {

bool is_payout_status(std::string_view status) { return status == "reserved" || status == "posted" || status == "voided"; }

json::object Payout::to_json() const {
  json::object o;
  o["payout_id"] = payout_id;
  o["orchestrator_id"] = orchestrator_id;
  o["recipient"] = recipient;
  o["amount_wei"] = format_wei(amount);
  o["status"] = status;
  o["notes"] = opt_value(notes);
  o["tx_hash"] = opt_value(tx_hash);
  o["block_number"] = block_number ? json::value(*block_number) : json::value(nullptr);
  o["void_reason"] = opt_value(void_reason);
  o["request_digest"] = request_digest;
  o["reserved_at"] = iso_utc(reserved_at, UtcSuffix::offset);
  o["settled_at"] = settled_at ? json::value(iso_utc(*settled_at, UtcSuffix::offset)) : json::value(nullptr);
  return o;
}

Result<Payout> Payout::from_json(const json::object& o) {
  Payout p;
  p.payout_id = get_string(o, "payout_id");
  p.orchestrator_id = get_string(o, "orchestrator_id");
  p.recipient = get_string(o, "recipient");
  if (p.payout_id.empty() || p.orchestrator_id.empty()) return Error{"payout without id"};
  auto amount = parse_wei(get_string(o, "amount_wei"));
  if (!amount) return Error{"payout amount_wei: " + amount.error()};
  p.amount = *amount;
  p.status = get_string(o, "status");
  if (!is_payout_status(p.status)) return Error{"payout with invalid status"};
  p.notes = get_opt_string(o, "notes");
  p.tx_hash = get_opt_string(o, "tx_hash");
  if (auto b = get_opt_int(o, "block_number")) p.block_number = static_cast<std::uint64_t>(*b);
  p.void_reason = get_opt_string(o, "void_reason");
  p.request_digest = get_string(o, "request_digest");
  auto reserved = parse_iso(get_string(o, "reserved_at"));
  if (!reserved) return Error{"payout without reserved_at"};
  p.reserved_at = *reserved;
  if (auto s = get_opt_string(o, "settled_at")) p.settled_at = parse_iso(*s);
  return p;
}

json::object Payout::to_view() const {
  json::object o;
  o["payout_id"] = payout_id;
  o["orchestrator_id"] = orchestrator_id;
  o["recipient"] = recipient;
  o["amount_eth"] = format_eth(amount);
  o["amount_wei"] = format_wei(amount);
  o["status"] = status;
  o["notes"] = opt_value(notes);
  o["tx_hash"] = opt_value(tx_hash);
  o["block_number"] = block_number ? json::value(*block_number) : json::value(nullptr);
  o["void_reason"] = opt_value(void_reason);
  o["reserved_at"] = iso_utc(reserved_at, UtcSuffix::z);
  o["settled_at"] = settled_at ? json::value(iso_utc(*settled_at, UtcSuffix::z)) : json::value(nullptr);
  return o;
}

}  // namespace lpops
