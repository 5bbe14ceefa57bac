#include "domain/workload.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "domain/canonical_json.hpp"
#include "domain/json_fields.hpp"
#include "domain/python_text.hpp"

namespace lpops {

bool is_workload_status(std::string_view s) {
  return s == "pending" || s == "verified" || s == "paid" || s == "rejected";
}

bool status_credits(std::string_view s) { return s == "verified" || s == "paid"; }

namespace {
constexpr std::array<std::string_view, 4> kStatusNames{"pending", "verified", "paid", "rejected"};
}  // namespace

WorkloadStatus::WorkloadStatus(std::string_view name) {
  const auto it = std::find(kStatusNames.begin(), kStatusNames.end(), name);
  if (it == kStatusNames.end()) throw std::invalid_argument("not a workload status: " + std::string(name));
  index_ = static_cast<std::uint8_t>(it - kStatusNames.begin());
}

std::string_view WorkloadStatus::view() const noexcept { return kStatusNames[index_]; }

bool Workload::has_artifact() const {
  if (artifact_hash && !(*artifact_hash).empty()) return true;
  if (!artifact_uri) return false;
  // Lower-cased as Python's str.lower() does it (the Kelvin sign U+212A becomes a "k").
  const std::string uri = python_lower(*artifact_uri);
  for (std::string_view ext : {".webm", ".mkv", ".mp4", ".mov"})
    if (uri.size() >= ext.size() && uri.compare(uri.size() - ext.size(), ext.size(), ext) == 0) return true;
  return false;
}

// A time workload is due when its amount is above zero (as at creation: a zero credit is
// never recorded, so an empty PATCH of one changes nothing); another one when it has an
// artifact (the reference's rule).
bool Workload::due_credit() const {
  return !credited && status_credits(status) && (pricing ? payout_amount > 0 : has_artifact());
}

json::object Workload::to_view() const {
  json::object o;
  o.reserve(14);
  o["workload_id"] = workload_id;
  o["orchestrator_id"] = orchestrator_id;
  o["plan_id"] = opt_value(plan_id);
  o["run_id"] = opt_value(run_id);
  o["artifact_hash"] = opt_value(artifact_hash);
  o["artifact_uri"] = opt_value(artifact_uri);
  o["payout_amount_eth"] = format_eth(payout_amount);
  o["status"] = status.view();
  o["submitted_at"] = iso_utc(submitted_at, UtcSuffix::z);
  o["notes"] = opt_value(notes);
  o["tx_hash"] = opt_value(tx_hash);
  o["credited"] = credited;
  o["credited_at"] = credited_at ? json::value(iso_utc(*credited_at, UtcSuffix::z)) : json::value(nullptr);
  // The wei twin last, as in every other answer: the reference's fields keep their places.
  o["payout_amount_wei"] = format_wei(payout_amount);
  return o;
}

void Workload::append_view_json(std::string& out) const {
  // The members of to_view(), in its order, escaped as the serializer escapes (tested).
  auto key = [&out](std::string_view k) {
    if (out.back() != '{') out += ',';
    out += '"';
    out += k;
    out += "\":";
  };
  auto text = [&](std::string_view k, std::string_view v) {
    key(k);
    append_canonical_string(out, v);
  };
  auto optional = [&](std::string_view k, const OptionalText& v) {
    if (v) return text(k, *v);
    key(k);
    out += "null";
  };
  out += '{';
  text("workload_id", workload_id);
  text("orchestrator_id", orchestrator_id);
  optional("plan_id", plan_id);
  optional("run_id", run_id);
  optional("artifact_hash", artifact_hash);
  optional("artifact_uri", artifact_uri);
  text("payout_amount_eth", format_eth(payout_amount));
  text("status", status);
  text("submitted_at", IsoUtc(submitted_at, UtcSuffix::z).view());
  optional("notes", notes);
  optional("tx_hash", tx_hash);
  key("credited");
  out += credited ? "true" : "false";
  if (credited_at) text("credited_at", IsoUtc(*credited_at, UtcSuffix::z).view());
  else optional("credited_at", std::nullopt);
  text("payout_amount_wei", format_wei(payout_amount));
  out += '}';
}

json::object Workload::to_json() const {
  // Compact: absent optionals are left out and amounts are in wei only.
  json::object o;
  o.reserve(12);
  o["workload_id"] = workload_id;
  o["orchestrator_id"] = orchestrator_id;
  for (auto [key, value] : {std::pair{"plan_id", &plan_id}, std::pair{"run_id", &run_id},
                            std::pair{"artifact_hash", &artifact_hash}, std::pair{"artifact_uri", &artifact_uri},
                            std::pair{"notes", &notes}, std::pair{"tx_hash", &tx_hash}})
    if (*value) o[key] = **value;
  o["payout_amount_wei"] = format_wei(payout_amount);
  o["status"] = status.view();
  o["submitted_at"] = iso_utc(submitted_at, UtcSuffix::z);
  o["credited"] = credited;
  if (credited_at) o["credited_at"] = iso_utc(*credited_at, UtcSuffix::z);
  if (credited_elsewhere) o["credited_elsewhere"] = true;
  if (pricing) {
    json::object p;
    p.reserve(5);
    p["kind"] = "workload_time";
    p["duration_ms"] = pricing->duration_ms;
    p["credit_eth_per_minute"] = pricing->credit_eth_per_minute.view();
    p["credit_unit"] = pricing->credit_unit.view();
    p["computed_at"] = iso_utc(pricing->computed_at, UtcSuffix::z);
    o["pricing"] = std::move(p);
  }
  return o;
}

void Workload::append_json(std::string& out) const {
  auto member = [&out](std::string_view key, std::string_view text, bool quote) {
    if (out.back() != '{') out += ',';
    out += '"';
    out += key;  // keys are plain ASCII literals
    out += "\":";
    if (quote) append_canonical_string(out, text);  // the serializer's escaping (tested)
    else out += text;
  };
  out += '{';
  member("workload_id", workload_id, true);
  member("orchestrator_id", orchestrator_id, true);
  for (auto [key, value] : {std::pair{"plan_id", &plan_id}, std::pair{"run_id", &run_id},
                            std::pair{"artifact_hash", &artifact_hash}, std::pair{"artifact_uri", &artifact_uri},
                            std::pair{"notes", &notes}, std::pair{"tx_hash", &tx_hash}})
    if (*value) member(key, **value, true);
  member("payout_amount_wei", format_wei(payout_amount), true);
  member("status", status, true);
  member("submitted_at", IsoUtc(submitted_at, UtcSuffix::z).view(), true);
  member("credited", credited ? "true" : "false", false);
  if (credited_at) member("credited_at", IsoUtc(*credited_at, UtcSuffix::z).view(), true);
  if (credited_elsewhere) member("credited_elsewhere", "true", false);
  if (pricing) {
    member("pricing", "{", false);
    member("kind", "workload_time", true);
    member("duration_ms", std::to_string(pricing->duration_ms), false);
    member("credit_eth_per_minute", pricing->credit_eth_per_minute, true);
    member("credit_unit", pricing->credit_unit, true);
    member("computed_at", IsoUtc(pricing->computed_at, UtcSuffix::z).view(), true);
    out += '}';
  }
  out += '}';
}

namespace {

// Each member a stored workload may have, with the type it is written with; a time or an
// amount must also read back as its own text (checked in from_json). A misspelt member, or a
// mistyped one ("credited": "true" read as false), is damage, not a value to drop or default.
std::optional<std::string> misread_member(const json::object& o) {
  for (const auto& m : o) {
    const std::string_view k = m.key();
    const json::value& v = m.value();
    bool ok;
    if (k == "credited" || k == "credited_elsewhere") ok = v.is_bool();
    else if (k == "pricing") {
      ok = v.is_object();
      if (ok)
        for (const auto& p : v.get_object()) {
          const std::string_view pk = p.key();
          const json::value& pv = p.value();
          bool pok;
          if (pk == "kind") pok = pv.is_string() && pv.get_string() == "workload_time";
          else if (pk == "duration_ms") pok = pv.is_uint64() || (pv.is_int64() && pv.get_int64() >= 0);
          else if (pk == "credit_eth_per_minute" || pk == "credit_unit" || pk == "computed_at") pok = pv.is_string();
          else return "workload pricing with an unknown member '" + std::string(pk) + "'";
          if (!pok) return "workload pricing member '" + std::string(pk) + "' does not read as written";
        }
    } else if (k == "plan_id" || k == "run_id" || k == "artifact_hash" || k == "artifact_uri" || k == "notes" ||
               k == "tx_hash" || k == "credited_at")
      ok = v.is_string() || v.is_null();  // null: none, as the views write it
    else if (k == "workload_id" || k == "orchestrator_id" || k == "payout_amount_wei" || k == "status" ||
             k == "submitted_at" || k == "payout_amount_eth")  // _eth: the first version's records, the view's form
      ok = v.is_string();
    else return "workload with an unknown member '" + std::string(k) + "'";
    if (!ok) return "workload member '" + std::string(k) + "' does not read as written";
  }
  return std::nullopt;
}

bool reads_as(const json::object& o, std::string_view key, std::string_view written) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() && v->get_string() == written;
}

}  // namespace

Result<Workload> Workload::from_json(const json::object& o) {
  if (auto error = misread_member(o)) return Error{std::move(*error)};
  Workload w;
  w.workload_id = get_string(o, "workload_id");
  w.orchestrator_id = get_string(o, "orchestrator_id");
  if (w.workload_id.empty() || w.orchestrator_id.empty()) return Error{"workload without id"};
  w.plan_id = get_opt_string(o, "plan_id");
  w.run_id = get_opt_string(o, "run_id");
  w.artifact_hash = get_opt_string(o, "artifact_hash");
  w.artifact_uri = get_opt_string(o, "artifact_uri");
  w.notes = get_opt_string(o, "notes");
  w.tx_hash = get_opt_string(o, "tx_hash");
  auto amount = parse_wei(get_string(o, "payout_amount_wei"));
  if (!amount) return Error{"workload payout_amount_wei: " + amount.error()};
  w.payout_amount = *amount;
  if (!reads_as(o, "payout_amount_wei", format_wei(w.payout_amount)))
    return Error{"workload member 'payout_amount_wei' does not read as written"};
  if (o.contains("payout_amount_eth") && !reads_as(o, "payout_amount_eth", format_eth(w.payout_amount)))
    return Error{"workload member 'payout_amount_eth' does not agree with payout_amount_wei"};
  const std::string status = get_string(o, "status");
  if (!is_workload_status(status)) return Error{"workload with invalid status"};
  w.status = WorkloadStatus(status);
  auto submitted = parse_iso(get_string(o, "submitted_at"));
  if (!submitted) return Error{"workload without submitted_at"};
  w.submitted_at = *submitted;
  if (!reads_as(o, "submitted_at", IsoUtc(w.submitted_at, UtcSuffix::z).view()))
    return Error{"workload member 'submitted_at' does not read as written"};
  w.credited = get_bool(o, "credited");
  if (auto c = get_opt_string(o, "credited_at")) {
    w.credited_at = parse_iso(*c);
    if (!w.credited_at || !reads_as(o, "credited_at", IsoUtc(*w.credited_at, UtcSuffix::z).view()))
      return Error{"workload with an unreadable credited_at"};
  }
  w.credited_elsewhere = get_bool(o, "credited_elsewhere");
  if (auto it = o.find("pricing"); it != o.end() && it->value().is_object()) {
    const auto& p = it->value().get_object();
    WorkloadPricing pr;
    pr.duration_ms = static_cast<std::uint64_t>(get_opt_int(p, "duration_ms").value_or(0));
    pr.credit_eth_per_minute = get_string(p, "credit_eth_per_minute");
    pr.credit_unit = get_string(p, "credit_unit");
    const auto computed = parse_iso(get_string(p, "computed_at"));
    if (!computed) return Error{"workload pricing without a readable computed_at"};
    pr.computed_at = *computed;
    if (!reads_as(p, "computed_at", IsoUtc(pr.computed_at, UtcSuffix::z).view()))
      return Error{"workload pricing member 'computed_at' does not read as written"};
    w.pricing = std::move(pr);
  }
  return w;
}

}  // namespace lpops
