// /api/transparency/tee-core: the public, unauthenticated view of the audit log. Stored
// entries and checkpoints are served byte for byte; each proof is computed from the stored
// Merkle subtrees in O(log n). Rate-limited per IP (PAYMENTS_PUBLIC_RATE_BURST per 10 s and
// PAYMENTS_PUBLIC_RATE_PER_MINUTE per minute).
#include "chain/audit_format.hpp"
#include "chain/hex.hpp"
#include "domain/json_parse.hpp"
#include "domain/python_text.hpp"
#include "net/api.hpp"

namespace lpops::net {
namespace {

// Longer than any event id the node writes (workload_time:<255-character id> is 269).
constexpr std::size_t kMaxEventIdChars = 1024;

bool limited(Call& call) { return public_rate_limited(call); }

Response raw_json(std::string body) {
  Response r;
  r.body = std::move(body);
  return r;
}

std::string hashes_json(const std::vector<chain::Hash256>& hashes) {
  std::string out = "[";
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    if (i) out += ',';
    out += '"' + chain::to_hex(hashes[i]) + '"';
  }
  return out + "]";
}

// The chain id and contract a checkpoint is asked for (the reference's query parameters),
// by default the configured ones. chain_id must be ≥ 1 and contract_address an address.
struct Binding {
  std::uint64_t chain_id;
  chain::Address contract;
};

Binding binding_query(QueryReader& q, Validation& v, const actors::CheckpointBook& book) {
  Binding b{book.chain_id(), book.contract()};
  if (auto id = q.integer("chain_id", 1, std::numeric_limits<std::int64_t>::max())) b.chain_id = static_cast<std::uint64_t>(*id);
  // Any length (the request line bounds it): a long value fails the pattern, as a short one does.
  // Read stripped, as the reference's core reads it (`str(...).strip() or` its default): blank
  // is no contract given.
  const auto given = q.string("contract_address", std::numeric_limits<std::size_t>::max());
  const std::string_view text = given ? python_strip(*given) : std::string_view();
  if (given && !text.empty()) {
    // The reference's pattern, any case: a mixed-case spelling that is not EIP-55 still names
    // its 20 bytes, as a registration's address does.
    const bool hex_form = text.size() == 42 && text.substr(0, 2) == "0x" &&
                          text.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string_view::npos;
    if (auto a = hex_form ? chain::parse_address(lower_ascii(std::string(text))) : Result<chain::Address>(Error{"pattern"})) {
      b.contract = *a;
    } else {
      const json::value input(*given);
      v.add("query", "contract_address", "string_pattern_mismatch", "String should match pattern '^0x[a-fA-F0-9]{40}$'", &input);
    }
  }
  return b;
}

// The required event_id query parameter (1..kMaxEventIdChars characters) and, for a proof,
// the checkpoint binding; answers 422 itself when either is malformed.
std::optional<std::pair<std::string, Binding>> event_query(Call& call, bool with_binding) {
  Validation v;
  QueryReader q(call.query, v);
  auto event_id = q.string("event_id", kMaxEventIdChars);
  if (!q.has("event_id")) v.add("query", "event_id", "missing", "Field required");
  else if (event_id && event_id->empty()) {
    const json::value in("");
    v.add("query", "event_id", "string_too_short", "String should have at least 1 character", &in,
          {{"min_length", 1}});
  }
  Binding binding{call.ctx->checkpoints->chain_id(), call.ctx->checkpoints->contract()};
  if (with_binding) binding = binding_query(q, v, *call.ctx->checkpoints);
  if (!v.ok()) {
    call.respond(v.response());
    return std::nullopt;
  }
  return std::pair{std::move(*event_id), binding};
}

void status(Call& call) {
  if (limited(call)) return;
  const auto s = call.ctx->audit->status();
  json::object out{{"audit_address", chain::to_lower_hex(call.ctx->checkpoints->audit_address())},
                   {"audit_seq", s.seq},
                   {"audit_head_hash", chain::to_hex(s.head)},
                   {"audit_merkle_root", chain::to_hex(s.root)},
                   // As the reference's core gives it: the head a checkpoint of this state commits to.
                   {"audit_checkpoint_head_hash", chain::to_hex(chain::audit::checkpoint_head(s.head, s.root))}};
  // The size the latest signed checkpoint covers (0: none yet).
  if (auto latest = call.ctx->checkpoints->latest()) out["audit_checkpoint_seq"] = parse_json(*latest).as_object().at("seq");
  else out["audit_checkpoint_seq"] = 0;
  call.respond(json_response(200, out));
}

void checkpoint(Call& call) {
  if (limited(call)) return;
  Validation v;
  QueryReader q(call.query, v);
  const Binding binding = binding_query(q, v, *call.ctx->checkpoints);
  if (!v.ok()) return call.respond(v.response());
  auto latest = call.ctx->checkpoints->latest();
  if (!latest) return call.respond(detail_response(404, "No checkpoint yet"));
  call.respond(raw_json(call.ctx->checkpoints->rebound(*latest, binding.chain_id, binding.contract)));
}

void checkpoints(Call& call) {
  if (limited(call)) return;
  Validation v;
  QueryReader q(call.query, v);
  const auto limit = static_cast<std::size_t>(q.integer("limit", 1, 1000).value_or(100));
  // Paging back: the checkpoints below before_seq (absent: from the newest).
  const auto before = q.position("before_seq", 1);
  if (!v.ok()) return call.respond(v.response());
  std::string body = "{\"checkpoints\":[";
  bool first = true;
  for (const auto& line : call.ctx->checkpoints->history(
           limit, before ? static_cast<std::uint64_t>(*before) : std::numeric_limits<std::uint64_t>::max())) {
    if (!first) body += ',';
    first = false;
    body += line;
  }
  call.respond(raw_json(body + "]}"));
}

// Just after start-up the entries taken from the index may still be being sorted by event: a
// lookup then is answered 503 rather than hold an HTTP thread until they are.
bool events_loading(Call& call) {
  if (call.ctx->audit->events_indexed()) return false;
  Response r = detail_response(503, "Starting: the audit log's event index is being loaded; retry shortly");
  r.headers.push_back({"Retry-After", "1"});
  call.respond(std::move(r));
  return true;
}

void proof(Call& call) {
  if (limited(call)) return;
  auto query = event_query(call, true);
  if (!query) return;
  const auto& [event_id, binding] = *query;
  if (events_loading(call)) return;
  auto& log = *call.ctx->audit;
  auto seq = log.seq_of(event_id);
  if (!seq) return call.respond(detail_response(404, "Receipt not found"));
  auto cp = call.ctx->checkpoints->covering(*seq);
  if (!cp) return call.respond(detail_response(409, "The entry is newer than the latest checkpoint; retry after the next one"));
  auto path = log.inclusion_proof(*seq, cp->first);
  auto line = log.line(*seq);
  if (!path || !line) return call.respond(detail_response(500, "Proof unavailable"));
  // The reference's member order: checkpoint, audit_entry, leaf_index, tree_size, proof.
  const std::string body = "{\"checkpoint\":" + call.ctx->checkpoints->rebound(cp->second, binding.chain_id, binding.contract) +
                           ",\"audit_entry\":" + std::string(storage::audit_entry_text(*line)) + ",\"leaf_index\":" +
                           std::to_string(*seq - 1) + ",\"tree_size\":" + std::to_string(cp->first) +
                           ",\"proof\":" + hashes_json(*path) + "}";
  call.respond(raw_json(body));
}

void consistency(Call& call) {
  if (limited(call)) return;
  Validation v;
  QueryReader q(call.query, v);
  auto first = q.position("first", 0);
  auto second = q.position("second", 0);
  if (!q.has("first")) v.add("query", "first", "missing", "Field required");
  if (!q.has("second")) v.add("query", "second", "missing", "Field required");
  if (!v.ok()) return call.respond(v.response());
  if (*first > *second) return call.respond(detail_response(400, "first must not exceed second"));
  auto& log = *call.ctx->audit;
  auto path = log.consistency_proof(static_cast<std::uint64_t>(*first), static_cast<std::uint64_t>(*second));
  if (!path) return call.respond(detail_response(404, path.error()));
  const std::string body = "{\"first\":" + std::to_string(*first) + ",\"first_root\":\"" +
                           chain::to_hex(log.root_at(static_cast<std::uint64_t>(*first)).value()) +
                           "\",\"proof\":" + hashes_json(*path) + ",\"second\":" + std::to_string(*second) +
                           ",\"second_root\":\"" + chain::to_hex(log.root_at(static_cast<std::uint64_t>(*second)).value()) + "\"}";
  call.respond(raw_json(body));
}

void log_page(Call& call) {
  if (limited(call)) return;
  Validation v;
  QueryReader q(call.query, v);
  // Any length, as the reference takes it (the request line bounds it): an id longer than any
  // orchestrator's can name none, so its page is empty.
  // Empty is no filter, as in the reference.
  const auto orchestrator = q.string("orchestrator_id", std::numeric_limits<std::size_t>::max());
  const bool filtered = orchestrator && !orchestrator->empty();
  const bool no_such = orchestrator && code_points(*orchestrator) > kMaxOrchestratorIdChars;
  const auto since = q.position("since_seq", 0).value_or(0);
  const auto limit = q.integer("limit", 1, 1000).value_or(200);
  auto order = q.string("order", std::numeric_limits<std::size_t>::max()).value_or("desc");  // a Literal: any other text is its error
  if (order != "asc" && order != "desc") {
    const json::value in(order);
    v.add("query", "order", "literal_error", "Input should be 'asc' or 'desc'", &in);
  }
  if (!v.ok()) return call.respond(v.response());
  auto& log = *call.ctx->audit;
  std::string body = "{\"entries\":[";
  bool first = true;
  if (no_such) return call.respond(raw_json(body + "]}"));
  for (auto seq : log.seqs(filtered ? orchestrator : std::nullopt, static_cast<std::uint64_t>(since), static_cast<std::size_t>(limit), order == "desc")) {
    auto line = log.line(seq);
    if (!line) continue;
    if (!first) body += ',';
    first = false;
    body += *line;
  }
  call.respond(raw_json(body + "]}"));
}

void receipt(Call& call) {
  if (limited(call)) return;
  auto query = event_query(call, false);  // the reference's receipt takes event_id alone
  if (!query) return;
  if (events_loading(call)) return;
  // Looked up stripped, as the reference's receipt looks it up (its proof does not strip).
  auto seq = call.ctx->audit->seq_of(std::string(python_strip(query->first)));
  auto line = seq ? call.ctx->audit->line(*seq) : std::nullopt;
  if (!line) return call.respond(detail_response(404, "Receipt not found"));
  call.respond(raw_json(*line));
}

}  // namespace

const std::vector<Route>& transparency_routes() {
  static const std::vector<Route> routes = {
      {"GET", "/api/transparency/tee-core/audit/status", Access::public_, status, "Audit log size, head, Merkle root, latest checkpoint"},
      {"GET", "/api/transparency/tee-core/audit/checkpoint", Access::public_, checkpoint, "The latest signed checkpoint"},
      {"GET", "/api/transparency/tee-core/audit/checkpoints", Access::public_, checkpoints, "Signed checkpoints, newest first"},
      {"GET", "/api/transparency/tee-core/audit/proof", Access::public_, proof,
       "An entry with its inclusion proof against the latest checkpoint"},
      {"GET", "/api/transparency/tee-core/audit/consistency", Access::public_, consistency,
       "Consistency proof between two tree sizes (RFC 6962)"},
      {"GET", "/api/transparency/tee-core/log", Access::public_, log_page, "Audit log entries, verbatim"},
      {"GET", "/api/transparency/tee-core/receipt", Access::public_, receipt, "The audit entry of one event, verbatim"},
  };
  return routes;
}

}  // namespace lpops::net
