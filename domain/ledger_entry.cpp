#include "domain/ledger_entry.hpp"

#include "domain/canonical_json.hpp"
#include "domain/json_fields.hpp"

namespace lpops {
namespace {

Result<SignedWei> parse_signed_wei(std::string_view text) {
  bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  auto magnitude = parse_wei(text);
  if (!magnitude) return Error{magnitude.error()};
  return SignedWei{negative && *magnitude != 0, *magnitude};
}

}  // namespace

json::object LedgerEntry::to_json() const {
  json::object o;
  o.reserve(7);
  o["event_id"] = event_id;
  o["orchestrator_id"] = orchestrator_id;
  o["delta_wei"] = format_wei(delta);
  o["balance_wei"] = format_wei(balance_after);
  o["reason"] = reason;
  if (!metadata.empty()) o["metadata"] = metadata;
  o["at"] = iso_utc(at, UtcSuffix::offset);
  return o;
}

void LedgerEntry::append_json(std::string& out) const {
  out += "{\"event_id\":";
  append_canonical_string(out, event_id);
  out += ",\"orchestrator_id\":";
  append_canonical_string(out, orchestrator_id);
  out += ",\"delta_wei\":\"";
  out += format_wei(delta);
  out += "\",\"balance_wei\":\"";
  out += format_wei(balance_after);
  out += "\",\"reason\":";
  append_canonical_string(out, reason);
  if (!metadata.empty()) {
    out += ",\"metadata\":";
    append_serialized(out, metadata);
  }
  out += ",\"at\":\"";
  out += IsoUtc(at, UtcSuffix::offset).view();
  out += "\"}";
}

Result<LedgerEntry> LedgerEntry::from_json(const json::object& o) {
  LedgerEntry e;
  e.event_id = get_string(o, "event_id");
  e.orchestrator_id = get_string(o, "orchestrator_id");
  if (e.event_id.empty() || e.orchestrator_id.empty()) return Error{"ledger entry without event_id/orchestrator_id"};
  auto delta = parse_signed_wei(get_string(o, "delta_wei"));
  if (!delta) return Error{"ledger entry delta_wei: " + delta.error()};
  auto balance = parse_signed_wei(get_string(o, "balance_wei"));
  if (!balance) return Error{"ledger entry balance_wei: " + balance.error()};
  auto at = parse_iso(get_string(o, "at"));
  if (!at) return Error{"ledger entry without a valid time"};
  e.delta = *delta;
  e.balance_after = *balance;
  e.reason = get_string(o, "reason");
  if (auto it = o.find("metadata"); it != o.end() && it->value().is_object()) e.metadata = it->value().get_object();
  e.at = *at;
  return e;
}

json::object LedgerEntry::to_event_view() const {
  json::object o;
  o.reserve(13);
  o["timestamp"] = iso_utc(at, UtcSuffix::offset);
  // A posted payout is the reference's `set_balance`, whose amount is the new balance (delta
  // stays the change); everything else, debits included, is a `credit` of its delta.
  const bool set_balance = reason == "payout" && event_id.starts_with("payout:");
  const SignedWei& amount = set_balance ? balance_after : delta;
  o["event"] = set_balance ? "set_balance" : "credit";
  o["orchestrator_id"] = orchestrator_id;
  o["amount"] = format_eth(amount);
  o["balance"] = format_eth(balance_after);
  o["delta"] = format_eth(delta);
  o["reason"] = reason.empty() ? json::value(nullptr) : json::value(reason);
  o["metadata"] = metadata.empty() ? json::value(nullptr) : json::value(metadata);
  o["event_id"] = event_id;
  o["amount_wei"] = format_wei(amount);
  o["balance_wei"] = format_wei(balance_after);
  o["delta_wei"] = format_wei(delta);
  return o;
}

}  // namespace lpops
