#pragma once
// The HTTP API: routing, auth, and the handlers that turn requests into actor messages.
// Handlers never block: they send a message whose reply completes the Responder.
#include <caf/all.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "actors/checkpoints.hpp"
#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "config/settings.hpp"
#include "domain/sliding_window.hpp"
#include "net/body.hpp"
#include "net/http_types.hpp"
#include "storage/audit_log.hpp"
#include "storage/record_store.hpp"

namespace lpops::net {

struct ApiContext {
  config::Settings settings;
  caf::actor ledger, registry, reader;
  caf::actor credential;  // unset: no credential contract configured
  std::shared_ptr<actors::Metrics> metrics;
  std::string storage_description;
  std::string recovered_storage_description;  // with the journal's mode; set before `ready`
  std::shared_ptr<storage::AuditLog> audit;
  std::shared_ptr<actors::CheckpointBook> checkpoints;
  std::optional<std::string> signer_address;  // EIP-55, when a payout key is configured
  std::mutex public_limit_mutex;  // the public (transparency) routes' per-IP limits
  std::unique_ptr<SlidingWindow> public_burst, public_minute;
  // Reads waiting for the reader's thread or being written there (settings.max_queued_reads):
  // each holds what the ledger gathered for it until its answer is given (invariant 6).
  std::shared_ptr<std::atomic<std::size_t>> queued_reads = std::make_shared<std::atomic<std::size_t>>(0);
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
  // The server's open connections and requests in flight, for /metrics (set once the server
  // exists; it refers to the server, which is stopped before the context goes).
  std::function<std::pair<std::size_t, std::size_t>()> connection_counts;
};

Handler make_api_handler(std::shared_ptr<ApiContext> ctx);
// The answers make_api_handler would give whatever the body (404, 307, 405, 503 while
// recovering, 400/401/404 for credentials), for the server to give before reading a body.
Screen make_api_screen(std::shared_ptr<ApiContext> ctx);

// --- shared by the route files ---
// orchestrator: an orchestrator token (Authorization: Bearer, else X-Orchestrator-Token) must
// be present; the handler checks it against the book. orchestrator_or_operator: that, or a
// valid admin or viewer token (X-Admin-Token), which may read any orchestrator.
// strict_admin: the admin token, and 404 while none is set (the reference's rule for its
// sensitive routes; an unset token never opens them).
enum class Access { public_, view, admin, strict_admin, orchestrator, orchestrator_or_operator };

struct Call {
  Request request;
  std::string path;                  // decoded path, without the query
  std::string query;                 // raw query string
  std::vector<std::string> params;   // decoded {placeholders}, in order
  Responder respond;
  ApiContext* ctx;

  std::string client_ip() const;     // proxy-aware request IP
  // An actor Reply that completes this call.
  actors::Reply reply() const;
  // The orchestrator token of the request, if it carries one.
  std::optional<std::string> orchestrator_token() const;
  // Whether X-Admin-Token holds a configured admin or viewer token.
  bool is_operator() const;
};

// The public routes' per-IP limits; answers 429 itself and returns true when over them.
bool public_rate_limited(Call& call);
// For a route an orchestrator token opens: answers `refusal` (a 422) only once the token is
// known good, else 401, as the reference checks auth before validation. `operators_too`: an
// operator's credentials open the route as well (then no token need be checked).
void refuse_after_orchestrator_auth(Call& call, Response refusal, bool operators_too);

// A large answer (a listing of every workload or orchestrator): `collect` runs on the
// ledger's thread and returns what writes the answer out, holding only what it gathered there
// (shared immutable records, copies of small values); that runs on the reader's thread, once
// everything before the query is durable, so the ledger goes on with credits meanwhile. A
// failed query (the ledger's 500) goes to the client as it is.
using RenderFn = std::function<std::pair<int, std::string>()>;
void answer_on_reader(Call& call, std::function<RenderFn(const Book&)> collect);
// A place among the reads queued for the reader's thread, held by the reply it returns (given
// up when the last copy of that reply goes); none when settings.max_queued_reads are queued,
// and then the call has been answered 503 with Retry-After.
std::optional<actors::Reply> reply_with_reader_place(Call& call);

using RouteFn = void (*)(Call&);

struct Route {
  const char* method;
  const char* pattern;  // "/api/workloads/{id}"
  Access access;
  RouteFn fn;
  const char* summary;
  // Answered while the node is still recovering (it reads no actor or ledger state);
  // every other route answers 503 until then.
  bool before_ready = false;
  // A refusal that depends on the node's configuration alone (a feature not configured): the
  // answer whatever the body is, so the header screen gives it without waiting for the body.
  std::optional<Response> (*unavailable)(const ApiContext&) = nullptr;
};

// Which surface a path belongs to when the surfaces are split (as the reference splits them): the edge
// serves orchestrators and the public, the ops host the operator's routes; the rest (health,
// metrics, the API description) either. By path, not by route, so that an unknown path under an
// ops prefix is refused on the edge host too. `segments`: the path split at '/'.
enum class Surface { either, edge, ops };
Surface surface_of(std::string_view path);
Surface surface_of(std::string_view path, const std::vector<std::string>& segments);

// Route tables of each area, in matching order.
const std::vector<Route>& credential_routes();
const std::vector<Route>& payout_routes();
const std::vector<Route>& orchestrator_routes();
const std::vector<Route>& workload_routes();
const std::vector<Route>& ledger_routes();
const std::vector<Route>& import_routes();
const std::vector<Route>& system_routes();
const std::vector<Route>& transparency_routes();
const std::vector<Route>& tee_routes();
std::vector<const Route*> all_routes();

// Registration body rules, shared by POST /api/orchestrators/register and bootstrap.
Registration read_registration(BodyReader& body, Validation& v);

// The OpenAPI 3.1 document describing every route.
const std::string& openapi_document();

}  // namespace lpops::net
