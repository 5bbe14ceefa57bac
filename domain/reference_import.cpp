#include "domain/reference_import.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "domain/clock.hpp"
#include "domain/json_parse.hpp"
#include "domain/rate.hpp"
#include "domain/orchestrator.hpp"

namespace lpops::reference_import {
namespace {

std::size_t code_points(std::string_view utf8) {
  std::size_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xC0) != 0x80;
  return n;
}

std::optional<Problem> check_id(std::string_view id, std::string_view what, std::size_t max_chars) {
  const std::size_t n = code_points(id);
  if (n < 1 || n > max_chars)
    return Problem{"", std::string(what) + " must be 1-" + std::to_string(max_chars) + " characters"};
  return std::nullopt;
}

// A string of at most `max_chars`, or null (absent is null too). A problem is added to
// `problems` (and nullopt returned).
std::optional<std::string> optional_text(const json::object& o, std::string_view key, std::size_t max_chars,
                                         Problems& problems) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  if (!it->value().is_string()) {
    problems.push_back({std::string(key), "must be a string or null"});
    return std::nullopt;
  }
  std::string_view s = it->value().get_string();
  if (code_points(s) > max_chars) {
    problems.push_back({std::string(key), "must be at most " + std::to_string(max_chars) + " characters"});
    return std::nullopt;
  }
  return std::string(s);
}

// `missing` is set when the field is absent or null (nothing added to `problems` then).
std::optional<UnixMicros> optional_time(const json::object& o, std::string_view key, Problems& problems,
                                        bool* missing = nullptr) {
  const std::size_t before = problems.size();
  auto text = optional_text(o, key, 64, problems);
  if (missing) *missing = !text && problems.size() == before;
  if (!text) return std::nullopt;
  auto t = parse_iso(*text);
  if (!t) problems.push_back({std::string(key), "must be an ISO 8601 timestamp"});
  return t;
}

// Fields the reference fills from what it is sent (a health push's IP, a session's edge, the
// services a registration names) and never checks: any length (the request's size bounds them).
constexpr std::size_t kMaxFreeText = std::numeric_limits<std::size_t>::max();
constexpr std::uint64_t kMaxCount = (std::uint64_t{1} << 53) - 1;  // counters advance by one here

// The registry record's fields and how each is checked.
enum class Kind { text, time, flag, count, number, list, object, scalar };
struct FieldRule {
  const char* key;
  Kind kind;
  std::size_t max_chars = 256;  // text, list items
  double min = 0, max = 0;      // number
  const char* range = "";       // number, as the message names it
};

const FieldRule kRegistryFields[] = {
    {"eligible_for_payments", Kind::flag},
    {"is_top_100", Kind::flag},
    {"denylisted", Kind::flag},
    {"cooldown_expires_at", Kind::time},
    {"first_seen", Kind::time},
    {"last_seen", Kind::time},
    {"registration_count", Kind::count},
    {"contact_email", Kind::text, 255},
    {"capability", Kind::text, 128},
    {"host_public_ip", Kind::text, 64},
    {"host_name", Kind::text, 128},
    {"last_seen_ip", Kind::text, kMaxFreeText},
    {"last_missed_all_services", Kind::scalar},
    {"last_healthy_at", Kind::time},
    {"last_cooldown_started_at", Kind::time},
    {"last_cooldown_cleared_at", Kind::time},
    // The single-orchestrator mode's registration holds ORCHESTRATOR_HEALTH_URL and _TIMEOUT as
    // the reference's settings took them (any URL, any timeout above 0), not the API's bounds.
    {"health_url", Kind::text, kMaxFreeText},
    {"health_timeout", Kind::number, 0, std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max(),
     "greater than 0"},
    {"monitored_services", Kind::list, kMaxFreeText},
    {"min_service_uptime", Kind::number, 0, 0, 100, "between 0 and 100"},
    {"last_contact_source", Kind::text, kMaxFreeText},
    {"last_session_upstream_addr", Kind::text, kMaxFreeText},
    {"last_session_seen_at", Kind::time},
    {"last_session_edge_id", Kind::text, kMaxFreeText},
    {"desired_pin", Kind::object},
    {"last_ops_upgrade", Kind::object},
    {"forwarder_health", Kind::object},
};

std::optional<Problem> check_field(const FieldRule& rule, const json::value& v) {
  const std::string key = rule.key;
  if (v.is_null()) return std::nullopt;
  switch (rule.kind) {
    case Kind::text:
      if (!v.is_string()) return Problem{key, "must be a string or null"};
      if (code_points(v.get_string()) > rule.max_chars)
        return Problem{key, "must be at most " + std::to_string(rule.max_chars) + " characters"};
      return std::nullopt;
    case Kind::time:
      if (!v.is_string() || !parse_iso(v.get_string())) return Problem{key, "must be an ISO 8601 timestamp or null"};
      return std::nullopt;
    case Kind::flag:
      if (!v.is_bool()) return Problem{key, "must be true or false"};
      return std::nullopt;
    case Kind::count:
      if (!(v.is_uint64() || (v.is_int64() && v.get_int64() >= 0)) || v.to_number<std::uint64_t>() > kMaxCount)
        return Problem{key, "must be a non-negative integer below 2^53"};
      return std::nullopt;
    case Kind::number: {
      if (!v.is_number() || v.is_bool()) return Problem{key, "must be a number or null"};
      const double d = v.to_number<double>();
      if (!std::isfinite(d) || d < rule.min || d > rule.max)
        return Problem{key, std::string("must be ") + rule.range};
      return std::nullopt;
    }
    case Kind::list: {
      if (!v.is_array()) return Problem{key, "must be a list of strings or null"};
      if (v.get_array().size() > 1000) return Problem{key, "must hold at most 1000 names"};
      for (const auto& item : v.get_array())
        if (!item.is_string() || code_points(item.get_string()) > rule.max_chars) return Problem{key, "must be a list of strings"};
      return std::nullopt;
    }
    case Kind::object:
      if (!v.is_object()) return Problem{key, "must be an object or null"};
      // A health report is journaled with every change of its record: bounded as a push's
      // data is (with room for the report's own fields around it).
      if (key == "forwarder_health" && json::serialize(v).size() > kMaxHealthDataBytes + 1024)
        return Problem{key, "must be at most " + std::to_string(kMaxHealthDataBytes + 1024) +
                                " bytes as JSON (a health push's data is at most " + std::to_string(kMaxHealthDataBytes) + ")"};
      return std::nullopt;
    case Kind::scalar:
      if (v.is_object() || v.is_array()) return Problem{key, "must be a string, number, boolean or null"};
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::variant<Amount, Problem> read_amount(const json::value& v) {
  Amount out;
  if (v.is_string()) out.given = std::string(v.get_string());
  else if (v.is_int64()) out.given = std::to_string(v.get_int64());
  else if (v.is_uint64()) out.given = std::to_string(v.get_uint64());
  else if (v.is_double())
    return Problem{"", "must be a decimal string, not a JSON number with a fraction, an exponent or past 64 bits (its digits "
                       "are not read exactly)"};
  else return Problem{"", "must be a decimal string"};
  auto parsed = parse_eth_toward_zero(out.given, &out.rounded);
  if (!parsed) return Problem{"", parsed.error()};
  out.value = *parsed;
  return out;
}

namespace {

// An entry whose id, or whose kind of value, is wrong: nothing else of it is read.
Problems only(Problem p) { return Problems{std::move(p)}; }

}  // namespace

std::variant<RegistryEntry, Problems> read_registry_entry(std::string_view key, const json::value& v) {
  if (auto p = check_id(key, "orchestrator_id", kMaxOrchestratorIdChars)) return only(std::move(*p));
  if (key == kSystemOrchestratorId) return only({"", std::string(kSystemOrchestratorId) + " is reserved for the ledger"});
  if (!v.is_object()) return only({"", "must be an object (a registry record)"});
  if (auto bad = first_non_finite(v)) return only({bad->first, "is not a finite number (no JSON text can hold it)"});
  const json::object& src = v.get_object();
  Problems problems;
  if (auto it = src.find("orchestrator_id"); it != src.end() && !(it->value().is_string() && it->value().get_string() == key))
    problems.push_back({"orchestrator_id", "must equal the record's key"});
  auto address = src.find("address");
  const bool address_ok =
      address != src.end() && address->value().is_string() && is_reference_address(address->value().get_string());
  if (!address_ok) problems.push_back({"address", "must be 0x followed by 40 hex digits"});
  for (const FieldRule& rule : kRegistryFields)
    if (auto it = src.find(rule.key); it != src.end())
      if (auto p = check_field(rule, it->value())) problems.push_back(std::move(*p));
  if (!problems.empty()) return problems;

  RegistryEntry out;
  out.orchestrator_id = std::string(key);
  out.address = lower_ascii(std::string(address->value().get_string()));
  Registration skeleton;
  skeleton.orchestrator_id = out.orchestrator_id;
  skeleton.address = std::string(address->value().get_string());
  out.record = new_orchestrator_record(skeleton, 0);
  out.record["first_seen"] = nullptr;  // as the file has it (below), not a time made up here
  for (const FieldRule& rule : kRegistryFields) {
    auto it = src.find(rule.key);
    // The reference reads a missing or null top-set or eligibility flag as false (its loader's
    // `bool(record.get(key, False))`, and bool(None)): such a record is not eligible there.
    const bool read_as_false = rule.key == std::string_view("is_top_100") || rule.key == std::string_view("eligible_for_payments");
    if (read_as_false && (it == src.end() || it->value().is_null())) {
      out.record[rule.key] = false;
      continue;
    }
    if (it == src.end()) continue;
    // Another flag or a count stored as null keeps the default a new record has.
    if (it->value().is_null() && (rule.kind == Kind::flag || rule.kind == Kind::count)) continue;
    out.record[rule.key] = it->value();
  }
  for (const auto& kv : src) {
    if (kv.key() == "orchestrator_id" || kv.key() == "address") continue;
    if (!out.record.contains(kv.key())) out.ignored_fields.emplace_back(kv.key());
  }
  // A denylisted record is never eligible, whatever the file says.
  if (out.record.at("denylisted").as_bool()) out.record["eligible_for_payments"] = false;
  return out;
}

namespace {

// A workload's `pricing` (an object, checked by the caller), against the payout amount when
// that amount was read (`amount`). Problems are named as fields of pricing.
std::optional<WorkloadPricing> read_pricing(const json::object& p, const std::optional<Wei>& amount,
                                            UnixMicros submitted_at, Problems& problems) {
  Problems own;
  WorkloadPricing pricing;
  auto ms = p.find("duration_ms");
  const bool ms_ok = ms != p.end() && (ms->value().is_int64() || ms->value().is_uint64()) &&
                     !(ms->value().is_int64() && ms->value().get_int64() < 0) &&
                     ms->value().to_number<std::uint64_t>() <= kMaxWorkloadDurationMs;
  if (ms_ok) pricing.duration_ms = ms->value().to_number<std::uint64_t>();
  else own.push_back({"duration_ms", "must be an integer from 0 to " + std::to_string(kMaxWorkloadDurationMs)});
  const std::size_t rate_problems = own.size();
  auto rate = optional_text(p, "credit_eth_per_minute", 128, own);
  const bool rate_read = own.size() == rate_problems;
  auto unit = optional_text(p, "credit_unit", 32, own);
  auto computed = optional_time(p, "computed_at", own);
  for (auto& x : own) problems.push_back({"pricing", x.field + " " + x.message});
  auto parsed_rate = Rate::parse_eth_per_minute(rate.value_or(""));
  if (!parsed_rate && rate_read) problems.push_back({"pricing", "credit_eth_per_minute: " + parsed_rate.error()});
  if (!own.empty() || !parsed_rate) return std::nullopt;
  // The amount is what the pricing says (the reference computed it with 28 significant
  // digits; whole wei here, so one wei either way).
  if (amount) {
    const auto expected = parsed_rate->checked_credit_for(pricing.duration_ms);
    if (!expected || (*expected > *amount ? *expected - *amount : *amount - *expected) > 1) {
      problems.push_back({"payout_amount_eth", "is not pricing.duration_ms × pricing.credit_eth_per_minute / 60000 (" +
                                                   (expected ? format_eth(*expected) : std::string("too large")) + " ETH)"});
      return std::nullopt;
    }
  }
  pricing.credit_eth_per_minute = parsed_rate->text();
  pricing.credit_unit = unit.value_or("eth");
  pricing.computed_at = computed.value_or(submitted_at);
  return pricing;
}

}  // namespace

std::variant<WorkloadEntry, Problems> read_workload_entry(std::string_view key, const json::value& v) {
  if (auto p = check_id(key, "workload_id", kMaxWorkloadIdChars)) return only(std::move(*p));
  if (!v.is_object()) return only({"", "must be an object (a stored workload)"});
  if (auto bad = first_non_finite(v)) return only({bad->first, "is not a finite number (no JSON text can hold it)"});
  const json::object& src = v.get_object();
  Problems problems;
  if (auto it = src.find("workload_id"); it != src.end() && !(it->value().is_string() && it->value().get_string() == key))
    problems.push_back({"workload_id", "must equal the workload's key"});
  WorkloadEntry out;
  Workload& w = out.workload;
  w.workload_id = std::string(key);
  {
    const std::size_t before = problems.size();
    auto orchestrator = optional_text(src, "orchestrator_id", kMaxOrchestratorIdChars, problems);
    if (orchestrator && !orchestrator->empty()) w.orchestrator_id = *orchestrator;
    else if (problems.size() == before) problems.push_back({"orchestrator_id", "is required (1-128 characters)"});
  }
  w.plan_id = optional_text(src, "plan_id", 128, problems);
  w.run_id = optional_text(src, "run_id", 256, problems);
  w.artifact_hash = optional_text(src, "artifact_hash", 256, problems);
  w.artifact_uri = optional_text(src, "artifact_uri", 512, problems);
  w.notes = optional_text(src, "notes", 1024, problems);
  w.tx_hash = optional_text(src, "tx_hash", 128, problems);

  std::optional<Wei> amount;
  if (auto it = src.find("payout_amount_eth"); it == src.end() || it->value().is_null()) {
    problems.push_back({"payout_amount_eth", "is required"});
  } else {
    auto read = read_amount(it->value());
    if (auto* p = std::get_if<Problem>(&read)) {
      problems.push_back({"payout_amount_eth", p->message});
    } else {
      out.amount = std::get<Amount>(std::move(read));
      if (out.amount.value.negative) problems.push_back({"payout_amount_eth", "must not be negative"});
      else amount = out.amount.value.magnitude;
    }
  }

  {
    const std::size_t before = problems.size();
    auto status = optional_text(src, "status", 32, problems);
    if (status && is_workload_status(*status)) w.status = WorkloadStatus(*status);
    else if (problems.size() == before) problems.push_back({"status", "must be pending, verified, paid or rejected"});
  }
  bool missing = false;
  auto submitted = optional_time(src, "submitted_at", problems, &missing);
  if (missing) problems.push_back({"submitted_at", "is required (an ISO 8601 timestamp)"});
  if (submitted) w.submitted_at = *submitted;
  if (auto it = src.find("credited"); it != src.end() && !it->value().is_null()) {
    if (it->value().is_bool()) w.credited = it->value().get_bool();
    else problems.push_back({"credited", "must be true or false"});
  }
  w.credited_elsewhere = w.credited;
  w.credited_at = optional_time(src, "credited_at", problems);

  if (auto it = src.find("pricing"); it != src.end() && !it->value().is_null()) {
    if (!it->value().is_object()) problems.push_back({"pricing", "must be an object or null"});
    else if (auto pricing = read_pricing(it->value().get_object(), amount, w.submitted_at, problems))
      w.pricing = std::move(*pricing);
  }
  if (!problems.empty()) return problems;
  w.payout_amount = *amount;
  return out;
}

std::variant<BalanceEntry, Problems> read_balance_entry(std::string_view key, const json::value& v) {
  if (auto p = check_id(key, "orchestrator_id", kMaxOrchestratorIdChars)) return only(std::move(*p));
  if (key == kSystemOrchestratorId) return only({"", std::string(kSystemOrchestratorId) + " is reserved for the ledger"});
  auto read = read_amount(v);
  if (auto* p = std::get_if<Problem>(&read)) return only(std::move(*p));
  return BalanceEntry{std::string(key), std::get<Amount>(std::move(read))};
}

std::variant<PendingPayoutEntry, Problems> read_pending_payout_entry(std::string_view key, const json::value& v) {
  if (auto p = check_id(key, "orchestrator_id", kMaxOrchestratorIdChars)) return only(std::move(*p));
  if (!v.is_object()) return only({"", "must be an object (a payout record)"});
  const auto& src = v.get_object();
  PendingPayoutEntry out;
  out.orchestrator_id = std::string(key);
  Problems problems;
  const auto text = [&](const char* field) -> std::optional<std::string> {
    const auto* f = src.if_contains(field);
    if (!f || f->is_null()) return std::nullopt;
    if (!f->is_string()) {
      problems.push_back({field, "must be a string"});
      return std::nullopt;
    }
    return std::string(f->get_string());
  };
  // With or without 0x: web3 v7's HexBytes.hex() leaves it out, so the reference stored both.
  const auto tx = text("tx_hash");
  std::string_view digits;
  if (tx) digits = tx->starts_with("0x") ? std::string_view(*tx).substr(2) : std::string_view(*tx);
  const bool hex64 = digits.size() == 64 && std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
  if (tx && !tx->empty() && !hex64) problems.push_back({"tx_hash", "must be 64 hex digits, with or without 0x"});
  if (hex64) out.tx_hash = "0x" + lower_ascii(std::string(digits));
  // No transaction: dropped by the reference unpaid, nothing else matters. A hash that is not
  // one is no such record: the reference looks it up and keeps the payout pending.
  if (out.tx_hash.empty()) {
    if (!problems.empty()) return problems;
    return out;
  }
  if (const auto recipient = text("recipient"); recipient && is_reference_address(*recipient))
    out.recipient = lower_ascii(*recipient);
  else
    problems.push_back({"recipient", "must be 0x followed by 40 hex digits"});
  if (const auto* amount = src.if_contains("amount_eth"); !amount) {
    problems.push_back({"amount_eth", "is required"});
  } else {
    auto read = read_amount(*amount);
    if (auto* p = std::get_if<Problem>(&read)) {
      p->field = "amount_eth";
      problems.push_back(std::move(*p));
    } else {
      out.amount = std::get<Amount>(std::move(read));
      if (out.amount.value.negative || out.amount.value.is_zero())
        problems.push_back({"amount_eth", "must be more than 0 wei"});
    }
  }
  out.strategy = text("strategy").value_or("");
  out.submitted_at = text("submitted_at").value_or("");
  if (const auto* b = src.if_contains("batch"); b && b->is_bool()) out.batch = b->get_bool();
  if (!problems.empty()) return problems;
  return out;
}

namespace {

bool json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The end of the string token starting at `i` (a quote): the index after its closing quote,
// or npos.
std::size_t string_end(std::string_view text, std::size_t i) {
  for (++i; i < text.size(); ++i) {
    if (text[i] == '\\') ++i;
    else if (text[i] == '"') return i + 1;
  }
  return std::string_view::npos;
}

}  // namespace

std::optional<std::vector<Member>> split_object(std::string_view text, const json::parse_options& options,
                                                std::size_t& big_integers) {
  std::size_t i = 0;
  auto skip = [&] {
    while (i < text.size() && json_space(text[i])) ++i;
  };
  skip();
  if (i == text.size() || text[i] != '{') return std::nullopt;
  ++i;
  std::vector<Member> out;
  std::string wrapped;
  std::unordered_set<std::string> seen;
  skip();
  if (i < text.size() && text[i] == '}') {
    ++i;
  } else {
    for (;;) {
      skip();
      if (i == text.size() || text[i] != '"') return std::nullopt;
      const std::size_t key_end = string_end(text, i);
      if (key_end == std::string_view::npos) return std::nullopt;
      boost::system::error_code ec;
      const json::value key = json::parse(text.substr(i, key_end - i), ec);
      if (ec || !key.is_string()) return std::nullopt;
      i = key_end;
      skip();
      if (i == text.size() || text[i] != ':') return std::nullopt;
      ++i;
      // The value runs to the ',' or '}' at this level, outside strings.
      const std::size_t value_start = i;
      int depth = 0;
      for (; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '"') {
          const std::size_t end = string_end(text, i);
          if (end == std::string_view::npos) return std::nullopt;
          i = end - 1;
        } else if (c == '{' || c == '[') {
          ++depth;
        } else if (c == '}' || c == ']') {
          if (depth == 0) break;
          --depth;
        } else if (c == ',' && depth == 0) {
          break;
        }
      }
      // The value ends at the object's ',' or '}'; a ']' there closes nothing.
      if (i == text.size() || text[i] == ']') return std::nullopt;
      // Read inside a one-element array, which stands where the file's object stood: the
      // depth limit and the count of nested big integers see the levels they see in the file.
      wrapped.assign("[");
      wrapped.append(text.substr(value_start, i - value_start));
      wrapped.push_back(']');
      JsonNumberNotes notes;
      const json::value value = parse_json(wrapped, ec, options, &notes);
      if (ec || !value.is_array() || value.get_array().size() != 1) return std::nullopt;
      big_integers += notes.nested_big_integers;
      std::string name(key.get_string());
      if (!seen.insert(name).second) return std::nullopt;
      const json::value& v = value.get_array()[0];
      out.push_back({std::move(name), json::serialize(v), first_non_finite(v) ? std::optional<json::value>(v) : std::nullopt,
                     notes.nested_big_integers});
      if (text[i] == '}') {
        ++i;
        break;
      }
      ++i;  // the ','
    }
  }
  skip();
  if (i != text.size()) return std::nullopt;
  return out;
}

std::string balance_event_id(std::string_view orchestrator_id) { return "import:" + std::string(orchestrator_id); }

std::string balance_import_key(std::string_view orchestrator_id) { return "import " + std::string(orchestrator_id); }

std::string balance_digest(const SignedWei& amount) { return "import:" + format_wei(amount); }

}  // namespace lpops::reference_import
