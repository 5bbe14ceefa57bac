#include "domain/orchestrator.hpp"

#include <algorithm>
#include <cctype>

#include "domain/json_fields.hpp"

namespace lpops {
namespace {

constexpr std::int64_t kMicros = 1'000'000;

const char* const kRecordKeys[] = {
    "orchestrator_id", "address", "eligible_for_payments", "is_top_100", "denylisted", "cooldown_expires_at",
    "first_seen", "last_seen", "registration_count", "contact_email", "capability", "host_public_ip", "host_name",
    "last_seen_ip", "last_missed_all_services", "last_healthy_at", "last_cooldown_started_at",
    "last_cooldown_cleared_at", "health_url", "health_timeout", "monitored_services", "min_service_uptime",
    "last_contact_source", "last_session_upstream_addr", "last_session_seen_at", "last_session_edge_id",
    "desired_pin", "last_ops_upgrade", "forwarder_health"};

std::string stamp(UnixMicros t) { return iso_utc(t, UtcSuffix::offset); }

bool truthy(const std::optional<std::string>& s) { return s && !s->empty(); }

std::optional<UnixMicros> time_field(const json::object& o, std::string_view key) {
  auto s = get_opt_string(o, key);
  return s ? parse_iso(*s) : std::nullopt;
}

bool cooldown_active(const json::object& rec, UnixMicros now) {
  auto until = time_field(rec, "cooldown_expires_at");
  return until && *until > now;
}

// `data.summary.services_up` "is an int > 0", as Python tests it (isinstance(v, int) and
// v > 0): true is an int there, and so is an integer of any size; a float is not.
bool services_up(const json::object& data) {
  auto summary = data.find("summary");
  if (summary == data.end() || !summary->value().is_object()) return false;
  auto up = summary->value().get_object().find("services_up");
  if (up == summary->value().get_object().end()) return false;
  const json::value& v = up->value();
  return (v.is_bool() && v.get_bool()) || (v.is_int64() && v.get_int64() > 0) || (v.is_uint64() && v.get_uint64() > 0);
}

// Whether a fresh push reports services up; nullopt when there is no fresh push.
// `from_now`: a push dated ahead of the clock (after the clock stepped back) is not fresh. The
// reference tests eligibility so (0 <= age <= TTL) but a view's activity with age <= TTL alone.
std::optional<bool> fresh_push_up(const json::object& rec, UnixMicros now, std::int64_t ttl_seconds, bool from_now) {
  auto it = rec.find("forwarder_health");
  if (it == rec.end() || !it->value().is_object()) return std::nullopt;
  const auto& fh = it->value().get_object();
  auto reported = time_field(fh, "reported_at");
  if (!reported || (from_now && now < *reported) || now - *reported > ttl_seconds * kMicros) return std::nullopt;
  auto data = fh.find("data");
  return data != fh.end() && data->value().is_object() && services_up(data->value().get_object());
}

}  // namespace

bool is_reference_address(std::string_view s) {
  if (s.size() != 42 || s[0] != '0' || s[1] != 'x') return false;
  for (char c : s.substr(2))
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string lower_ascii(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

json::object new_orchestrator_record(const Registration& r, UnixMicros now) {
  json::object rec;
  for (const char* key : kRecordKeys) rec[key] = nullptr;
  rec["orchestrator_id"] = r.orchestrator_id;
  rec["address"] = r.address;
  rec["eligible_for_payments"] = true;
  rec["is_top_100"] = true;
  rec["denylisted"] = false;
  rec["first_seen"] = stamp(now);
  rec["registration_count"] = 0;
  return rec;
}

void merge_registration(json::object& rec, const Registration& r, const std::string& peer_ip, bool is_top,
                        UnixMicros now) {
  rec["registration_count"] = get_opt_int(rec, "registration_count").value_or(0) + 1;
  // The same address (the registry compared it without case), as last spelled, as the
  // reference stores it.
  rec["address"] = r.address;
  for (auto [key, value] : {std::pair{"capability", &r.capability}, std::pair{"contact_email", &r.contact_email},
                            std::pair{"host_public_ip", &r.host_public_ip}, std::pair{"host_name", &r.host_name},
                            std::pair{"health_url", &r.health_url}})
    if (truthy(*value)) rec[key] = **value;
  if (r.monitored_services && !r.monitored_services->empty()) {
    json::array a;
    for (const auto& s : *r.monitored_services) a.push_back(json::value(s));
    rec["monitored_services"] = std::move(a);
  }
  if (r.health_timeout) rec["health_timeout"] = *r.health_timeout;
  if (r.min_service_uptime) rec["min_service_uptime"] = *r.min_service_uptime;
  if (!peer_ip.empty()) rec["last_seen_ip"] = peer_ip;
  else if (truthy(r.host_public_ip)) rec["last_seen_ip"] = *r.host_public_ip;
  rec["last_seen"] = stamp(now);
  rec["is_top_100"] = is_top;
  if (!cooldown_active(rec, now)) rec["cooldown_expires_at"] = nullptr;
  if (r.services_healthy && *r.services_healthy) rec["last_healthy_at"] = stamp(now);
  rec["eligible_for_payments"] = !get_bool(rec, "denylisted") && !cooldown_active(rec, now) && is_top;
}

void mark_denylisted(json::object& rec, std::optional<UnixMicros> contact) {
  rec["denylisted"] = true;
  rec["eligible_for_payments"] = false;
  if (contact) rec["last_seen"] = stamp(*contact);
}

void apply_health_push(json::object& rec, const std::string& source, const json::object& data, UnixMicros now) {
  rec["forwarder_health"] = json::object{{"source", source}, {"reported_at", stamp(now)}, {"data", data}};
  if (services_up(data)) {
    rec["last_seen"] = stamp(now);
    rec["last_contact_source"] = source;
    // As the reference: last_healthy_at comes from a registration's services_healthy only.
    if (auto ip = get_opt_string(data, "ip"); truthy(ip)) rec["last_seen_ip"] = *ip;
  }
}

bool is_eligible(const json::object& rec, const EligibilityContext& ctx) {
  if (get_bool(rec, "denylisted") || cooldown_active(rec, ctx.now) || !get_bool(rec, "is_top_100", true)) return false;
  auto up = fresh_push_up(rec, ctx.now, ctx.health_ttl_seconds, true);
  return !up || *up;
}

json::object orchestrator_view(const json::object& rec, const SignedWei& balance, const ViewContext& ctx) {
  json::object v;
  auto copy = [&](const char* key) {
    auto it = rec.find(key);
    v[key] = it == rec.end() ? json::value(nullptr) : it->value();
  };
  copy("orchestrator_id");
  copy("address");
  v["balance_eth"] = format_eth(balance);
  v["credit_unit"] = ctx.credit_unit;
  v["eligible_for_payments"] = is_eligible(rec, {ctx.now, ctx.health_ttl_seconds});
  for (const char* key : {"is_top_100", "denylisted", "cooldown_expires_at"}) copy(key);
  v["cooldown_active"] = cooldown_active(rec, ctx.now);
  for (const char* key : kRecordKeys) {
    std::string_view k = key;
    if (k == "forwarder_health" || v.contains(k)) continue;
    copy(key);
  }
  if (ctx.redact_ips)
    for (const char* key : {"host_public_ip", "last_seen_ip", "health_url", "last_session_upstream_addr",
                            "last_session_edge_id"})
      v[key] = nullptr;

  // Activity: no sessions or leases exist yet, so a fresh push or recent contact decides.
  std::optional<std::string> reason;
  bool active = false;
  if (auto up = fresh_push_up(rec, ctx.now, ctx.health_ttl_seconds, false)) {
    reason = "forwarder_health";
    active = *up;
  } else if (auto seen = time_field(rec, "last_seen");
             seen && ctx.now - *seen <= std::max<std::int64_t>(ctx.health_ttl_seconds, 300) * kMicros) {
    reason = "recent_contact";
    active = true;
  }
  v["active"] = active;
  v["active_reason"] = reason ? json::value(*reason) : json::value(nullptr);
  v["in_use"] = false;
  v["active_sessions"] = 0;
  v["active_activity_leases"] = 0;
  v["balance_wei"] = format_wei(balance);
  return v;
}

}  // namespace lpops
