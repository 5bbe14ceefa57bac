#include "domain/payout.hpp"

#include "domain/json_fields.hpp"

#include <cctype>

namespace lpops {

bool is_payout_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxPayoutIdChars || !std::isalnum(static_cast<unsigned char>(id[0]))) return false;
  for (unsigned char c : id)
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

bool is_payout_status(std::string_view status) { return status == "reserved" || status == "posted" || status == "voided"; }

namespace {

// The stored form (view = false: wei only, "+00:00" times, the request digest) or the API
// form (view = true: ETH and wei, "Z" times).
json::object payout_fields(const Payout& p, bool view) {
  const UtcSuffix suffix = view ? UtcSuffix::z : UtcSuffix::offset;
  json::object o;
  o["payout_id"] = p.payout_id;
  o["orchestrator_id"] = p.orchestrator_id;
  o["recipient"] = p.recipient;
  if (view) o["amount_eth"] = format_eth(p.amount);
  o["amount_wei"] = format_wei(p.amount);
  o["status"] = p.status;
  o["notes"] = opt_value(p.notes);
  o["tx_hash"] = opt_value(p.tx_hash);
  o["block_number"] = p.block_number ? json::value(*p.block_number) : json::value(nullptr);
  o["void_reason"] = opt_value(p.void_reason);
  if (!view) o["request_digest"] = p.request_digest;
  o["reserved_at"] = iso_utc(p.reserved_at, suffix);
  o["settled_at"] = p.settled_at ? json::value(iso_utc(*p.settled_at, suffix)) : json::value(nullptr);
  return o;
}

}  // namespace

json::object Payout::to_json() const { return payout_fields(*this, false); }

json::object Payout::to_view() const { return payout_fields(*this, true); }

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
  if (auto s = get_opt_string(o, "settled_at")) {
    p.settled_at = parse_iso(*s);
    if (!p.settled_at) return Error{"payout with an unreadable settled_at"};
  }
  // Every member given is one the payout has, read as it is written: a misspelt or mistyped
  // one (a block number as text) is damage, not a value to drop. (A member left out reads as
  // its default, as records of older versions may leave one out.)
  const json::object written = p.to_json();
  for (const auto& member : o) {
    const auto* as_written = written.if_contains(member.key());
    if (!as_written) return Error{"payout with an unknown member '" + std::string(member.key()) + "'"};
    if (*as_written != member.value()) return Error{"payout member '" + std::string(member.key()) + "' does not read as written"};
  }
  return p;
}

}  // namespace lpops
