// /api/workloads: creation, time credits, status changes, listings.
#include <limits>

#include "actors/reader.hpp"
#include "net/api.hpp"

namespace lpops::net {
namespace {

// The draft's fields, read in the order the reference's models declare them (its 422 lists the
// problems in that order): the ids, then (after duration_ms in a time credit) the references;
// notes come last but for payout_amount_eth.
void read_ids(BodyReader& body, WorkloadDraft& d) {
  d.workload_id = body.required_string("workload_id", 1, kMaxWorkloadIdChars);
  d.orchestrator_id = body.required_string("orchestrator_id", 1, kMaxOrchestratorIdChars);
}
void read_references(BodyReader& body, WorkloadDraft& d) {
  d.plan_id = body.optional_string("plan_id", 128);
  d.run_id = body.optional_string("run_id", 256);
  d.artifact_hash = body.optional_string("artifact_hash", 256);
  d.artifact_uri = body.optional_string("artifact_uri", 512);
}
void read_notes(BodyReader& body, WorkloadDraft& d) { d.notes = body.optional_string("notes", 1024); }

bool truthy(const std::optional<std::string>& s) { return s && !s->empty(); }

// Both creation bodies, as the reference's models check them once every field is valid: a
// workload names its artifact (a hash or a URI), time credits included.
void require_artifact(Validation& v, const WorkloadDraft& d, const BodyReader& body) {
  if (v.ok() && !truthy(d.artifact_hash) && !truthy(d.artifact_uri))
    v.add("body", "", "value_error", "Value error, artifact_hash or artifact_uri required", body.document());
}

void create_workload(Call& call) {
  Validation v;
  BodyReader body(call.request, v);
  WorkloadDraft d;
  read_ids(body, d);
  read_references(body, d);
  auto amount = body.eth_amount("payout_amount_eth", true);
  if (amount && (amount->negative || amount->is_zero())) {
    v.add("body", "payout_amount_eth", "greater_than", "Input should be greater than 0", body.field("payout_amount_eth"),
          {{"gt", 0}});
  } else if (amount && amount->magnitude >= (Wei(1) << 255)) {
    // Its credit would be refused at every PATCH (one change of a balance stays an int256, as
    // the audit log states it): refused now, not stored as a workload that can never be paid.
    v.add("body", "payout_amount_eth", "less_than",
          "Input should be less than 2^255 wei (a credit is one change of a balance, which stays within -2^255 to "
          "2^255-1 wei)",
          body.field("payout_amount_eth"));
  }
  read_notes(body, d);
  require_artifact(v, d, body);
  if (!v.ok()) return call.respond(v.response());
  d.payout_amount = amount->magnitude;
  caf::anon_send(call.ctx->ledger, actors::CreateWorkload{std::move(d), call.reply()});
}

void create_time_workload(Call& call) {
  Validation v;
  BodyReader body(call.request, v);
  WorkloadDraft d;
  read_ids(body, d);
  auto duration = body.positive_integer("duration_ms", static_cast<std::int64_t>(kMaxWorkloadDurationMs), true);
  read_references(body, d);
  read_notes(body, d);
  std::string status = body.string_or("status", 32, "verified");
  require_artifact(v, d, body);
  if (!v.ok()) return call.respond(v.response());
  caf::anon_send(call.ctx->ledger, actors::CreateTimeWorkload{std::move(d), static_cast<std::uint64_t>(*duration),
                                                              std::move(status), call.reply()});
}

void patch_workload(Call& call) {
  Validation v;
  BodyReader body(call.request, v);
  WorkloadPatch p;
  // No length limit of its own (the reference has none): one that is no status is that.
  p.status = body.optional_string("status", std::numeric_limits<std::size_t>::max());
  if (p.status && !is_workload_status(*p.status)) {
    json::value in(*p.status);
    v.add("body", "status", "value_error", "Value error, invalid workload status", &in);
  }
  p.notes = body.optional_string("notes", 1024);
  p.tx_hash = body.optional_string("tx_hash", 128);
  p.artifact_uri = body.optional_string("artifact_uri", 512);
  p.artifact_hash = body.optional_string("artifact_hash", 256);
  if (!v.ok()) return call.respond(v.response());
  caf::anon_send(call.ctx->ledger, actors::PatchWorkload{call.params[0], std::move(p), call.reply()});
}

constexpr std::size_t kNoLimit = std::numeric_limits<std::size_t>::max();

// since/until as the reference reads them (a final "Z" dropped, then Python 3.11's
// fromisoformat; naive means UTC). False for a value given that is no timestamp, the empty
// one included (400 "Invalid timestamp filter"); never a filter left out.
bool read_range(QueryReader& q, std::optional<UnixMicros>& since, std::optional<UnixMicros>& until) {
  for (auto [key, out] : {std::pair{"since", &since}, std::pair{"until", &until}}) {
    if (auto text = q.string(key, kNoLimit)) {
      *out = parse_iso(*text);
      if (!*out) return false;
    }
  }
  return true;
}

// An answer read from every workload: the ledger takes a frozen copy of them, and `answer`
// runs on the reader's thread once everything before the query is durable.
void on_reader(Call& call, std::function<std::pair<int, std::string>(const WorkloadSequence::Frozen&)> answer) {
  answer_on_reader(call, [answer = std::move(answer)](const Book& book) -> RenderFn {
    return [frozen = book.frozen_workloads(), answer] { return answer(frozen); };
  });
}

void list_workloads(Call& call) {
  Validation v;
  QueryReader q(call.query, v);
  WorkloadFilter f;
  f.orchestrator_id = q.filter("orchestrator_id");
  f.status = q.filter("status");
  if (auto limit = q.integer("limit", 1, 500)) f.limit = static_cast<std::size_t>(*limit);
  const bool range_ok = read_range(q, f.since, f.until);
  if (!v.ok()) return call.respond(v.response());
  // The reference's order: the timestamps, then the status.
  if (!range_ok) return call.respond(detail_response(400, "Invalid timestamp filter"));
  if (f.status && !is_workload_status(*f.status)) return call.respond(detail_response(400, "Invalid status filter"));
  // The ledger takes a frozen copy of its workloads (a reference per block: microseconds for
  // millions) and the reader picks and writes out the rows, once everything before the query
  // is durable: a listing of every workload (no limit, as in the reference; hundreds of MB for
  // millions) never holds up the credits behind it.
  on_reader(call, [f](const WorkloadSequence::Frozen& workloads) { return std::pair{200, workload_listing_json(workloads, f)}; });
}

void workload_summary(Call& call) {
  Validation v;
  QueryReader q(call.query, v);
  std::optional<UnixMicros> since, until;
  const bool range_ok = read_range(q, since, until);
  if (!v.ok()) return call.respond(v.response());
  if (!range_ok) return call.respond(detail_response(400, "Invalid timestamp filter"));
  // range_start / range_end echo the filters as given, as the reference does.
  auto as_given = [&q](const char* key) { return q.string(key, kNoLimit); };
  on_reader(call, [since, until, start = as_given("since"), end = as_given("until")](const WorkloadSequence::Frozen& workloads) {
    json::object out;
    out["range_start"] = start ? json::value(*start) : json::value(nullptr);
    out["range_end"] = end ? json::value(*end) : json::value(nullptr);
    out["orchestrators"] = workload_summary_rows(workloads, since, until);
    return std::pair{200, json::serialize(out)};
  });
}

}  // namespace

const std::vector<Route>& workload_routes() {
  static const std::vector<Route> routes = {
      {"POST", "/api/workloads", Access::admin, create_workload, "Record a workload (credited when verified)"},
      {"POST", "/api/workloads/time", Access::admin, create_time_workload, "Record and credit a time-based workload"},
      {"GET", "/api/workloads", Access::view, list_workloads, "List workloads, newest first"},
      {"GET", "/api/workloads/summary", Access::view, workload_summary, "Per-orchestrator workload totals"},
      {"PATCH", "/api/workloads/{workload_id}", Access::admin, patch_workload, "Change a workload; credits exactly once"},
  };
  return routes;
}

}  // namespace lpops::net
