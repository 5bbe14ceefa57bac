#include "domain/effect.hpp"

#include "domain/canonical_json.hpp"
#include "domain/json_fields.hpp"

namespace lpops {
namespace {
constexpr std::string_view kOrchestrator = "orchestrator";
constexpr std::string_view kWorkload = "workload";
constexpr std::string_view kAdjustment = "adjustment";
constexpr std::string_view kPolicy = "policy";
constexpr std::string_view kCredential = "credential";
constexpr std::string_view kPayout = "payout";

std::string_view type_name(Effect::Type type) {
  switch (type) {
    case Effect::Type::orchestrator: return kOrchestrator;
    case Effect::Type::workload: return kWorkload;
    case Effect::Type::policy: return kPolicy;
    case Effect::Type::credential: return kCredential;
    case Effect::Type::payout: return kPayout;
    case Effect::Type::adjustment: break;
  }
  return kAdjustment;
}
json::object credential_json(const CredentialNote& c) {
  json::array dropped;
  for (const auto& h : c.dropped) dropped.push_back(json::string(h));
  json::object o;
  o["orchestrator_id"] = c.orchestrator_id;
  o["token_id"] = opt_value(c.token_id);
  o["token_hash"] = opt_value(c.token_hash);
  o["expires_at"] = c.expires_at;
  o["dropped"] = std::move(dropped);
  return o;
}

}  // namespace

json::object Effect::to_json() const {
  json::object o;
  o.reserve(6);  // one allocation, no rehash while filling
  o["type"] = type_name(type);
  o["at"] = iso_utc(at, UtcSuffix::offset);
  if (orchestrator) o["orchestrator"] = *orchestrator;
  if (workload) o["workload"] = workload->to_json();
  if (entry) o["entry"] = entry->to_json();
  if (adjustment) {
    json::object a;
    a.reserve(4);
    a["reference_workload_id"] = opt_value(adjustment->reference_workload_id);
    a["notes"] = opt_value(adjustment->notes);
    if (adjustment->idempotency_key) {
      a["idempotency_key"] = *adjustment->idempotency_key;
      a["request_digest"] = adjustment->request_digest.value_or("");
    }
    o["adjustment"] = std::move(a);
  }
  if (credential) o["credential"] = credential_json(*credential);
  if (payout) o["payout"] = payout->to_json();
  return o;
}

void Effect::append_json(std::string& out) const {
  out += "{\"type\":\"";
  out += type_name(type);
  out += "\",\"at\":\"";
  out += IsoUtc(at, UtcSuffix::offset).view();  // digits and punctuation only
  out += '"';
  if (orchestrator) {
    out += ",\"orchestrator\":";
    append_serialized(out, *orchestrator);
  }
  if (workload) {
    out += ",\"workload\":";
    workload->append_json(out);
  }
  if (entry) {
    out += ",\"entry\":";
    entry->append_json(out);
  }
  if (adjustment) {
    auto optional = [&out](std::string_view key, const std::optional<std::string>& v) {
      out += key;
      if (v) append_canonical_string(out, *v);
      else out += "null";
    };
    optional(",\"adjustment\":{\"reference_workload_id\":", adjustment->reference_workload_id);
    optional(",\"notes\":", adjustment->notes);
    if (adjustment->idempotency_key) {
      out += ",\"idempotency_key\":";
      append_canonical_string(out, *adjustment->idempotency_key);
      out += ",\"request_digest\":";
      append_canonical_string(out, adjustment->request_digest.value_or(""));
    }
    out += '}';
  }
  if (credential) {
    out += ",\"credential\":";
    out += json::serialize(credential_json(*credential));
  }
  if (payout) {
    out += ",\"payout\":";
    out += json::serialize(payout->to_json());
  }
  out += '}';
}

Result<Effect> Effect::from_json(const json::object& o) {
  Effect e;
  const std::string type = get_string(o, "type");
  if (type == kOrchestrator) e.type = Type::orchestrator;
  else if (type == kWorkload) e.type = Type::workload;
  else if (type == kAdjustment) e.type = Type::adjustment;
  else if (type == kPolicy) e.type = Type::policy;
  else if (type == kCredential) e.type = Type::credential;
  else if (type == kPayout) e.type = Type::payout;
  else return Error{"unknown effect type '" + type + "'"};
  // Every effect is written with its time: one that does not read is a damaged record.
  const auto at = parse_iso(get_string(o, "at"));
  if (!at) return Error{"effect without a readable time (at)"};
  e.at = *at;
  if (auto it = o.find("orchestrator"); it != o.end()) {
    if (!it->value().is_object()) return Error{"orchestrator effect without a record"};
    e.orchestrator = std::make_shared<const json::object>(it->value().get_object());
  }
  if (auto it = o.find("workload"); it != o.end()) {
    if (!it->value().is_object()) return Error{"workload effect without a workload"};
    auto w = Workload::from_json(it->value().get_object());
    if (!w) return Error{w.error()};
    e.workload = std::make_shared<const Workload>(std::move(w).value());
  }
  if (auto it = o.find("entry"); it != o.end()) {
    if (!it->value().is_object()) return Error{"effect with a malformed entry"};
    auto entry = LedgerEntry::from_json(it->value().get_object());
    if (!entry) return Error{entry.error()};
    e.entry = std::move(entry).value();
  }
  if (auto it = o.find("adjustment"); it != o.end() && it->value().is_object()) {
    const auto& a = it->value().get_object();
    e.adjustment = AdjustmentNote{get_opt_string(a, "reference_workload_id"), get_opt_string(a, "notes"),
                                  get_opt_string(a, "idempotency_key"), get_opt_string(a, "request_digest")};
  }
  if (auto it = o.find("payout"); it != o.end()) {
    if (!it->value().is_object()) return Error{"payout effect without a payout"};
    auto p = Payout::from_json(it->value().get_object());
    if (!p) return Error{p.error()};
    e.payout = std::make_shared<const Payout>(std::move(p).value());
  }
  if (auto it = o.find("credential"); it != o.end()) {
    if (!it->value().is_object()) return Error{"credential effect with a malformed note"};
    const auto& c = it->value().get_object();
    CredentialNote note{get_string(c, "orchestrator_id"), get_opt_string(c, "token_id"), get_opt_string(c, "token_hash"),
                        get_opt_int(c, "expires_at").value_or(0), {}};
    if (const auto* d = c.if_contains("dropped"); d && d->is_array())
      for (const auto& h : d->get_array())
        if (h.is_string()) note.dropped.emplace_back(h.get_string());
    e.credential = std::move(note);
  }
  return e;
}

}  // namespace lpops
