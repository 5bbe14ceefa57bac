// Liveness, readiness, metrics and API description.
#include "net/api.hpp"
#include "domain/json_parse.hpp"

namespace lpops::net {
namespace {

void healthz(Call& call) { call.respond(json_response(200, json::object{{"status", "ok"}})); }

void readyz(Call& call) {
  const auto& s = call.ctx->settings;
  json::object out;
  const bool ready = call.ctx->ready.load() && !call.ctx->draining.load();
  out["status"] = ready ? "ready" : (call.ctx->draining.load() ? "draining" : "starting");
  out["storage"] = call.ctx->ready.load() ? call.ctx->recovered_storage_description : call.ctx->storage_description;
  out["rank_check"] = config::describe_rank_check(s);
  // Credits are taken while the audit log's event index is still being sorted; until it is,
  // the transparency routes that look events up answer 503.
  out["transparency_index"] = !call.ctx->ready.load() || !call.ctx->audit ? "starting"
                              : call.ctx->audit->events_indexed()       ? "ready"
                                                                         : "loading";
  out["orchestrator_credentials"] =
      s.credential_contract_address
          ? "enabled: tokens for delegates named by OrchestratorCredential " + *s.credential_contract_address + ", valid " +
                std::to_string(s.credential_token_ttl_seconds) + " s"
          : std::string("disabled: PAYMENTS_ORCHESTRATOR_CREDENTIAL_CONTRACT_ADDRESS is unset");
  call.respond(json_response(ready ? 200 : 503, out));
}

void metrics(Call& call) {
  // The audit log's gauges as of now (absent until the node has recovered).
  if (call.ctx->ready.load() && call.ctx->audit && call.ctx->checkpoints) {
    call.ctx->metrics->audit_entries().Set(static_cast<double>(call.ctx->audit->status().seq));
    call.ctx->metrics->audit_signed_entries().Set(static_cast<double>(call.ctx->checkpoints->signed_size()));
  }
  if (call.ctx->connection_counts) {
    const auto [open, in_flight] = call.ctx->connection_counts();
    call.ctx->metrics->http_open_connections().Set(static_cast<double>(open));
    call.ctx->metrics->http_in_flight().Set(static_cast<double>(in_flight));
  }
  Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = call.ctx->metrics->render();
  call.respond(std::move(r));
}

void openapi(Call& call) {
  if (!call.ctx->settings.enable_docs) return call.respond(detail_response(404, "Not Found"));
  Response r;
  r.body = openapi_document();
  // Behind a proxy that mounts the API under a prefix, clients must call through it (as
  // the reference's framework does with its root_path).
  if (const auto& prefix = call.ctx->settings.root_path; !prefix.empty()) {
    auto doc = parse_json(r.body).as_object();
    doc["servers"] = json::array{json::object{{"url", prefix}}};
    r.body = json::serialize(doc);
  }
  call.respond(std::move(r));
}

const char* access_label(Access a) {
  switch (a) {
    case Access::admin: return "admin";
    case Access::strict_admin: return "admin (404 while no admin token is set)";
    case Access::view: return "view";
    case Access::orchestrator: return "orchestrator token";
    case Access::orchestrator_or_operator: return "orchestrator token, or admin/view";
    case Access::public_: break;
  }
  return "public";
}

std::string html_escaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

void docs(Call& call) {
  if (!call.ctx->settings.enable_docs) return call.respond(detail_response(404, "Not Found"));
  // Behind a proxy that mounts the API under PAYMENTS_API_ROOT_PATH, links carry the prefix.
  const std::string spec = html_escaped(call.ctx->settings.root_path + "/openapi.json");
  Response r;
  r.content_type = "text/html; charset=utf-8";
  std::string html =
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>lpops API</title>"
      "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}code{background:#f3f3f3;padding:0 .3em}"
      "td{padding:.2em .8em;border-bottom:1px solid #ddd}</style></head><body><h1>lpops API</h1>"
      "<p>Machine-readable description: <a href=\"" + spec + "\">" + spec + "</a>.</p><table>"
      "<tr><th>method</th><th>path</th><th>access</th><th>summary</th></tr>";
  for (const Route* route : all_routes()) {
    html += std::string("<tr><td>") + route->method + "</td><td><code>" + html_escaped(route->pattern) + "</code></td><td>" +
            access_label(route->access) + "</td><td>" + html_escaped(route->summary) + "</td></tr>";
  }
  html += "</table></body></html>";
  r.body = std::move(html);
  call.respond(std::move(r));
}

}  // namespace

const std::vector<Route>& system_routes() {
  static const std::vector<Route> routes = {
      {"GET", "/healthz", Access::public_, healthz, "Liveness", true},
      {"GET", "/readyz", Access::public_, readyz, "Readiness: recovered, storage and rank-check state", true},
      {"GET", "/metrics", Access::public_, metrics, "Prometheus metrics", true},
      {"GET", "/openapi.json", Access::public_, openapi, "This API, as OpenAPI 3.1", true},
      {"GET", "/docs", Access::public_, docs, "Human-readable route list", true},
  };
  return routes;
}

}  // namespace lpops::net
