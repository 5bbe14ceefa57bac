// /api/import: the reference service's data files, a slice per request (`lpops import`).
// Each body is an object keyed by id, as the file is; every entry is read and checked
// before anything is sent on, and one bad entry makes the request a 422 that changes
// nothing. Running an import again skips what is already there. `?check=true` answers what
// the import would (the same 200 with "checked": true, or the same 409) and changes nothing;
// an orchestrator the node does not know then counts as one the import's registry brings.
#include <algorithm>
#include <variant>

#include "domain/reference_import.hpp"
#include "net/api.hpp"

namespace lpops::net {
namespace {

namespace ri = reference_import;

void add_problem(Validation& v, std::string_view key, const ri::Problem& p, const json::value& input) {
  json::array loc{json::value("body"), json::value(key)};
  if (!p.field.empty()) loc.push_back(json::value(p.field));
  const json::value* shown = &input;
  if (!p.field.empty() && input.is_object())
    if (const auto* field = input.get_object().if_contains(p.field)) shown = field;
  v.add_at(std::move(loc), "value_error", "Value error, " + (p.field.empty() ? std::string{} : p.field + " ") + p.message,
           shown);
}

// Reads every entry of the body (an object of at most kMaxEntriesPerRequest entries) with
// `read` (key, value -> Entry or Problems) and hands each good one to `take`; every problem
// goes into `v`. False when the request is to be refused (v.response()).
template <class Entry, class Read, class Take>
bool read_entries(const Request& request, Validation& v, Read read, Take take) {
  BodyReader body(request, v);
  if (!body.parsed()) return false;
  const json::object& entries = body.object();
  if (entries.size() > ri::kMaxEntriesPerRequest) {
    v.add("body", "", "too_long",
          "At most " + std::to_string(ri::kMaxEntriesPerRequest) + " entries per request (send the file in slices)",
          nullptr,
          {{"field_type", "Dictionary"},
           {"max_length", ri::kMaxEntriesPerRequest},
           {"actual_length", entries.size()}});
    return false;
  }
  for (const auto& kv : entries) {
    auto result = read(kv.key(), kv.value());
    if (auto* problems = std::get_if<ri::Problems>(&result))
      for (const auto& p : *problems) add_problem(v, kv.key(), p, kv.value());
    else take(kv.key(), std::get<Entry>(result));
  }
  return v.ok();
}

// The `check` query parameter; false when absent.
bool check_only(Call& call, Validation& v) {
  QueryReader q(call.query, v);
  return q.boolean("check").value_or(false);
}

void import_registry(Call& call) {
  Validation v;
  const bool check = check_only(call, v);
  std::vector<json::object> records;
  std::vector<std::string> ignored;
  const bool ok = read_entries<ri::RegistryEntry>(call.request, v, ri::read_registry_entry, [&](std::string_view, ri::RegistryEntry& entry) {
    for (auto& f : entry.ignored_fields)
      if (std::find(ignored.begin(), ignored.end(), f) == ignored.end()) ignored.push_back(std::move(f));
    records.push_back(std::move(entry.record));
  });
  if (!ok) return call.respond(v.response());
  std::sort(ignored.begin(), ignored.end());
  caf::anon_send(call.ctx->registry, actors::ImportOrchestrators{std::move(records), std::move(ignored), call.reply(), check});
}

void import_workloads(Call& call) {
  Validation v;
  const bool check = check_only(call, v);
  std::vector<actors::ImportWorkload> workloads;
  const bool ok = read_entries<ri::WorkloadEntry>(call.request, v, ri::read_workload_entry, [&](std::string_view, ri::WorkloadEntry& entry) {
    workloads.push_back(actors::ImportWorkload{std::move(entry.workload), std::move(entry.amount.given), entry.amount.rounded});
  });
  if (!ok) return call.respond(v.response());
  // Oldest first, as listings need them (ties keep the file's order).
  std::stable_sort(workloads.begin(), workloads.end(), [](const actors::ImportWorkload& a, const actors::ImportWorkload& b) {
    return a.workload.submitted_at < b.workload.submitted_at;
  });
  caf::anon_send(call.ctx->ledger, actors::ImportWorkloads{std::move(workloads), call.reply(), check});
}

void import_balances(Call& call) {
  Validation v;
  const bool check = check_only(call, v);
  std::vector<actors::ImportBalance> balances;
  const bool ok = read_entries<ri::BalanceEntry>(call.request, v, ri::read_balance_entry, [&](std::string_view, ri::BalanceEntry& entry) {
    balances.push_back(actors::ImportBalance{std::move(entry.orchestrator_id), entry.amount.value, std::move(entry.amount.given),
                                             entry.amount.rounded});
  });
  if (!ok) return call.respond(v.response());
  caf::anon_send(call.ctx->ledger, actors::ImportBalances{std::move(balances), call.reply(), check});
}

}  // namespace

const std::vector<Route>& import_routes() {
  static const std::vector<Route> routes = {
      {"POST", "/api/import/registry", Access::strict_admin, import_registry,
       "Import records of the reference's registry.json (an object keyed by orchestrator id; at most 1000 per request)"},
      {"POST", "/api/import/workloads", Access::strict_admin, import_workloads,
       "Import workloads of the reference's workloads.json, without crediting them again (at most 1000 per request)"},
      {"POST", "/api/import/balances", Access::strict_admin, import_balances,
       "Import the reference's balances.json: one ledger entry per orchestrator, reason import (at most 1000 per request)"},
  };
  return routes;
}

}  // namespace lpops::net
