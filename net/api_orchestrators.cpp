// /api/orchestrators: registration, views, stats, health pushes, balances.
#include <array>
#include <limits>
#include <regex>

#include "actors/credential.hpp"
#include "domain/canonical_json.hpp"
#include "domain/json_fields.hpp"
#include "domain/python_text.hpp"
#include "net/api.hpp"

namespace lpops::net {
namespace {

ViewContext view_context(const Call& call) {
  const auto& s = call.ctx->settings;
  ViewContext v;
  v.now = now_micros();
  v.health_ttl_seconds = s.forwarder_health_ttl_seconds;
  v.credit_unit = s.credit_unit;
  v.redact_ips = !s.manager_ip_allowlist.empty() && !config::any_contains(s.manager_ip_allowlist, call.client_ip());
  return v;
}

void ask_ledger(Call& call, std::function<std::pair<int, std::string>(const Book&)> answer) {
  caf::anon_send(call.ctx->ledger, actors::Query{std::move(answer), call.reply()});
}

}  // namespace

Registration read_registration(BodyReader& body, Validation& v) {
  Registration r;
  r.orchestrator_id = body.required_string("orchestrator_id", 1, kMaxOrchestratorIdChars);
  if (r.orchestrator_id == kSystemOrchestratorId) {
    json::value in(r.orchestrator_id);
    v.add("body", "orchestrator_id", "value_error",
          std::string("Value error, orchestrator_id ") + kSystemOrchestratorId + " is reserved for the ledger's own entries", &in);
  }
  // The pattern alone bounds it, as in the reference: any other string, empty or long, is a
  // pattern mismatch, reported beside the other fields' errors.
  const std::size_t errors_before = v.error_count();
  r.address = body.required_string("address", 0, std::numeric_limits<std::size_t>::max());
  if (body.parsed() && v.error_count() == errors_before && !is_address(r.address)) {
    json::value in(r.address);
    v.add("body", "address", "string_pattern_mismatch", "String should match pattern '^0x[a-fA-F0-9]{40}$'", &in);
  }
  // The rest in the order the reference's model declares them (its 422 lists them so).
  r.capability = body.optional_string("capability", 128);
  if (auto email = body.optional_string("contact_email", 255)) {
    // The reference's rule: stripped as Python strips, blank is none, else an '@' somewhere,
    // not first, not last.
    std::string trimmed(python_strip(*email));
    if (!trimmed.empty() && (trimmed.find('@') == std::string::npos || trimmed.front() == '@' || trimmed.back() == '@')) {
      json::value in(*email);
      v.add("body", "contact_email", "value_error", "Value error, contact_email must include '@'", &in);
    } else if (!trimmed.empty()) {
      r.contact_email = trimmed;
    }
  }
  r.host_public_ip = body.optional_string("host_public_ip", 64);
  r.host_name = body.optional_string("host_name", 128);
  r.services_healthy = body.optional_bool("services_healthy");
  r.health_url = body.optional_string("health_url", 512);
  r.health_timeout = body.optional_number("health_timeout", 0.1, 60);
  r.monitored_services = body.optional_string_list("monitored_services", 25);
  r.min_service_uptime = body.optional_number("min_service_uptime", 0, 100);
  return r;
}

namespace {

void register_orchestrator(Call& call) {
  Validation v;
  BodyReader body(call.request, v);
  Registration r = read_registration(body, v);
  if (!v.ok()) return call.respond(v.response());
  caf::anon_send(call.ctx->registry, actors::Register{std::move(r), call.client_ip(), call.reply(), false, false, {}});
}

// The ledger gathers the records (shared) and accounts; the reader's thread writes them out
// (with 10,000 orchestrators, ~10 MB and a quarter of a second that credits would otherwise
// wait behind).
void list_orchestrators(Call& call) {
  answer_on_reader(call, [view = view_context(call)](const Book& book) -> RenderFn {
    return [rows = book.orchestrator_rows(), view] {
      json::array list;
      list.reserve(rows.size());
      for (const auto& row : rows) list.push_back(orchestrator_view(*row.record, row.account.balance(), view));
      return std::pair{200, python_json(json::object{{"orchestrators", std::move(list)}})};
    };
  });
}

void get_orchestrator(Call& call) {
  ask_ledger(call, [view = view_context(call), id = call.params[0]](const Book& book) {
    const auto* record = book.orchestrator_record(id);
    if (!record) return std::pair{404, actors::detail_body("Not found")};
    return std::pair{200, python_json(orchestrator_view(*record, book.balance(id), view))};
  });
}

// Asks the ledger: the request's orchestrator token must be live; `answer` gets its
// orchestrator id.
void ask_as_orchestrator(Call& call, std::function<std::pair<int, std::string>(const Book&, const std::string&)> answer) {
  ask_ledger(call, [hash = actors::credential_token_hash(call.orchestrator_token().value_or("")),
                    answer = std::move(answer)](const Book& book) {
    auto id = book.authenticate(hash, now_micros());
    if (!id) return std::pair{401, actors::detail_body("Orchestrator token required")};
    return answer(book, *id);
  });
}

}  // namespace

void refuse_after_orchestrator_auth(Call& call, Response refusal, bool operators_too) {
  if ((operators_too && call.is_operator()) || !call.orchestrator_token()) return call.respond(std::move(refusal));
  ask_as_orchestrator(call, [status = refusal.status, body = std::move(refusal.body)](const Book&, const std::string&) {
    return std::pair{status, body};
  });
}

namespace {

void bootstrap(Call& call) {
  const auto& s = call.ctx->settings;
  ask_as_orchestrator(call, [url = s.edge_config_url, token = s.edge_config_token](const Book&, const std::string& id) {
    return std::pair{200, json::serialize(json::object{
                              {"orchestrator_id", id}, {"edge_config_url", opt_value(url)}, {"edge_config_token", opt_value(token)}})};
  });
}

void me(Call& call) {
  ViewContext view = view_context(call);
  view.redact_ips = false;  // an orchestrator sees its own record whole
  ask_as_orchestrator(call, [view](const Book& book, const std::string& id) {
    const auto* record = book.orchestrator_record(id);
    if (!record) return std::pair{404, actors::detail_body("Not found")};
    return std::pair{200, python_json(orchestrator_view(*record, book.balance(id), view))};
  });
}

// ?days= (1..365, default 30); a bad one is answered here (after the orchestrator token is
// checked, for a route the token opens).
std::optional<std::int64_t> stats_days(Call& call, bool token_route) {
  Validation v;
  QueryReader q(call.query, v);
  std::int64_t days = q.integer("days", 1, 365).value_or(30);
  if (!v.ok()) {
    if (token_route) refuse_after_orchestrator_auth(call, v.response(), false);
    else call.respond(v.response());
    return std::nullopt;
  }
  return days;
}

std::function<std::pair<int, std::string>(const Book&, const std::string&)> stats_answer(const Call& call, std::int64_t days) {
  const auto& s = call.ctx->settings;
  return [days, credit_unit = s.credit_unit, session_rate = s.session_rate.text(), power_rate = s.power_rate.text(),
          strategy = s.payout_strategy](const Book& book, const std::string& id) {
    if (!book.knows_orchestrator(id)) return std::pair{404, actors::detail_body("Not found")};
    const std::int64_t today = utc_day(now_micros());
    const std::int64_t start = today - (days - 1);
    DayTotals total;
    std::map<std::int64_t, const DayTotals*> in_range;
    if (const auto* by_day = book.day_totals(id)) {
      for (auto it = by_day->lower_bound(start); it != by_day->end(); ++it) {
        in_range[it->first] = &it->second;
        for (auto [dst, src] : {std::pair{&total.credits, &it->second.credits}, {&total.payouts, &it->second.payouts},
                                {&total.session, &it->second.session}, {&total.workload, &it->second.workload},
                                {&total.adjustments, &it->second.adjustments}, {&total.net_delta, &it->second.net_delta}}) {
          dst->plus += src->plus;
          dst->minus += src->minus;
        }
      }
    }
    // The reference's fields in its order, then a *_wei twin of every *_eth amount.
    auto sums = [](const DayTotals& t) {
      return std::array<std::pair<const char*, const DayTotals::Sum*>, 6>{
          {{"credits", &t.credits}, {"payouts", &t.payouts}, {"session", &t.session}, {"workload", &t.workload},
           {"adjustments", &t.adjustments}, {"net_delta", &t.net_delta}}};
    };
    auto add = [&sums](json::object& o, const DayTotals& t, const std::string& prefix, const char* unit) {
      for (auto [name, sum] : sums(t))
        o[prefix + name + unit] = unit[1] == 'e' ? format_eth(sum->value()) : format_wei(sum->value());
    };
    json::array daily;
    for (std::int64_t d = start; d <= today; ++d) {
      auto it = in_range.find(d);
      DayTotals empty;
      const DayTotals& t = it == in_range.end() ? empty : *it->second;
      json::object day{{"date", day_text(d)}};
      add(day, t, "", "_eth");
      add(day, t, "", "_wei");
      daily.push_back(std::move(day));
    }
    json::object out;
    out["orchestrator_id"] = id;
    out["balance_eth"] = format_eth(book.balance(id));
    out["credit_unit"] = credit_unit;
    out["days"] = days;
    add(out, total, "total_", "_eth");
    out["daily"] = std::move(daily);
    out["session_credit_eth_per_minute"] = session_rate;
    out["passive_credit_eth_per_minute"] = power_rate;
    out["payout_strategy"] = strategy;
    out["balance_wei"] = format_wei(book.balance(id));
    add(out, total, "total_", "_wei");
    return std::pair{200, json::serialize(out)};
  };
}

void orchestrator_stats(Call& call) {
  auto days = stats_days(call, false);
  if (!days) return;
  ask_ledger(call, [id = call.params[0], answer = stats_answer(call, *days)](const Book& book) { return answer(book, id); });
}

void my_stats(Call& call) {
  auto days = stats_days(call, true);
  if (!days) return;
  ask_as_orchestrator(call, stats_answer(call, *days));
}

void push_health(Call& call) {
  Validation v;
  BodyReader body(call.request, v);
  std::string source = body.string_or("source", 64, "forwarder");
  auto data = body.optional_object("data", true);
  if (!v.ok()) return call.respond(v.response());
  // Each push is journaled with its orchestrator's record (and so is every later change of
  // that record): a report past kMaxHealthDataBytes would grow the journal by its size each
  // time. The reference, which overwrote one file, had no bound.
  if (const std::size_t size = json::serialize(*data).size(); size > kMaxHealthDataBytes)
    return call.respond(detail_response(413, "Health data is " + std::to_string(size) + " bytes as JSON; at most " +
                                                 std::to_string(kMaxHealthDataBytes) + " are taken"));
  caf::anon_send(call.ctx->registry, actors::HealthPush{call.params[0], std::move(source), std::move(*data), call.reply()});
}

void list_balances(Call& call) {
  answer_on_reader(call, [](const Book& book) -> RenderFn {
    return [orchestrators = book.orchestrator_rows()] {
      json::array rows;
      rows.reserve(orchestrators.size());
      for (const auto& o : orchestrators) {
        const Account& a = o.account;
        rows.push_back(json::object{{"orchestrator_id", o.id},
                                    {"balance_eth", format_eth(a.balance())},
                                    {"balance_wei", format_wei(a.balance())},
                                    {"available_eth", format_eth(a.available())},
                                    {"available_wei", format_wei(a.available())},
                                    {"pending_eth", format_eth(a.pending_debits)},
                                    {"pending_wei", format_wei(a.pending_debits)}});
      }
      return std::pair{200, json::serialize(json::object{{"balances", std::move(rows)}})};
    };
  });
}

}  // namespace

const std::vector<Route>& orchestrator_routes() {
  static const std::vector<Route> routes = {
      {"POST", "/api/orchestrators/register", Access::public_, register_orchestrator, "Register or refresh an orchestrator"},
      {"GET", "/api/orchestrators/bootstrap", Access::orchestrator, bootstrap, "Edge bootstrap (orchestrator token)"},
      {"GET", "/api/orchestrators/me", Access::orchestrator, me, "The caller's record (orchestrator token)"},
      {"GET", "/api/orchestrators/me/stats", Access::orchestrator, my_stats, "The caller's stats (orchestrator token)"},
      {"GET", "/api/orchestrators", Access::view, list_orchestrators, "List orchestrators"},
      {"GET", "/api/orchestrators/{orchestrator_id}", Access::view, get_orchestrator, "One orchestrator"},
      {"GET", "/api/orchestrators/{orchestrator_id}/stats", Access::view, orchestrator_stats, "Daily credit and payout totals"},
      {"POST", "/api/orchestrators/{orchestrator_id}/health", Access::admin, push_health, "Push a forwarder health snapshot"},
      {"GET", "/api/balances", Access::view, list_balances, "Balances of every orchestrator"},
  };
  return routes;
}

}  // namespace lpops::net
