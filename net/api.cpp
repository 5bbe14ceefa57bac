#include "net/api.hpp"

#include <openssl/crypto.h>
#include <strings.h>
#include <spdlog/spdlog.h>

#include <boost/algorithm/string/predicate.hpp>

#include <cctype>
#include <chrono>

#include "actors/reader.hpp"
#include "config/ip_network.hpp"
#include "domain/python_text.hpp"

namespace lpops::net {
namespace {

bool same_token(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t pos = 1;
  while (pos <= path.size()) {
    std::size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    out.emplace_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

// A decoded path written into a redirect's Location: the reference framework's safe set
// (urllib.parse.quote), less the characters that would make the path mean another one (a
// decoded '?', '#' or '%' goes out escaped, so `a%3Fb/` leads to `a%3Fb`, never to `a?b`).
std::string location_quote(std::string_view path) {
  static constexpr std::string_view kSafe = ":/=@[]!$&'()*+,;_.-~";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (const char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || kSafe.find(ch) != std::string_view::npos) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

struct CompiledRoute {
  const Route* route;
  std::vector<std::string> parts;  // "{x}" marks a parameter
};

// Matches "/a/{x}/b" against decoded segments; fills params.
bool match(const std::vector<std::string>& parts, const std::vector<std::string>& segments,
           std::vector<std::string>& params) {
  if (parts.size() != segments.size()) return false;
  std::vector<std::string> found;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (!parts[i].empty() && parts[i].front() == '{') {
      if (segments[i].empty()) return false;
      found.push_back(segments[i]);
    } else if (parts[i] != segments[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

std::optional<Response> check_access(const Call& call, Access access) {
  const auto& s = call.ctx->settings;
  // A credential header sent twice is ambiguous (which one counts?): refused on every route.
  // One pass over the headers, a length compare before any case-insensitive one.
  static constexpr std::string_view kCredentialHeaders[] = {"X-Admin-Token", "Authorization", "X-Orchestrator-Token"};
  int copies[3] = {0, 0, 0};
  for (const Header& h : call.request.headers)
    for (int i = 0; i < 3; ++i)
      if (h.name.size() == kCredentialHeaders[i].size() && ::strcasecmp(h.name.c_str(), kCredentialHeaders[i].data()) == 0 &&
          ++copies[i] > 1)
        return detail_response(400, std::string(kCredentialHeaders[i]) + " must be sent once");
  if (access == Access::orchestrator) {
    // The token itself is checked against the book by the handler (a ledger query).
    if (call.orchestrator_token()) return std::nullopt;
    return detail_response(401, "Orchestrator token required");
  }
  if (access == Access::orchestrator_or_operator) {
    if (call.orchestrator_token() || call.is_operator()) return std::nullopt;
    return detail_response(401, "Orchestrator token required");
  }
  if (access == Access::strict_admin) {
    if (!s.admin_token) return detail_response(404, "Not Found");
    const std::string* token = call.request.header("X-Admin-Token");
    if (!(token && same_token(*token, *s.admin_token))) return detail_response(401, "Admin token required");
  } else if (access == Access::admin) {
    const std::string* token = call.request.header("X-Admin-Token");
    if (s.admin_token && !(token && same_token(*token, *s.admin_token))) return detail_response(401, "Admin token required");
  } else if (access == Access::view) {
    if (!s.admin_token && s.viewer_tokens.empty()) return std::nullopt;
    if (!call.is_operator())
      return detail_response(401, s.viewer_tokens.empty() ? "Admin token required" : "Viewer token required");
  }
  return std::nullopt;
}

}  // namespace

std::string Call::client_ip() const {
  const auto& proxies = ctx->settings.trusted_proxy_cidrs;
  if (proxies.empty() || !config::any_contains(proxies, request.peer_ip)) return request.peer_ip;
  // Every X-Forwarded-For field, in order, as one list (a proxy may add a field of its own).
  std::string list;
  for (const auto& h : request.headers)
    if (h.name.size() == 15 && ::strncasecmp(h.name.data(), "X-Forwarded-For", 15) == 0) {
      if (!list.empty()) list += ',';
      list += h.value;
    }
  // Read from the right: each trusted proxy added the address it took the request from, so
  // the first entry from the right that is not a trusted proxy is the client. Entries left of
  // it are whatever that client sent (the reference took the first entry, which a client
  // behind a proxy that appends chooses: an allowlisted address, another rate-limit key) and
  // are never read. An entry that is no IP address ends the walk at the hop before it.
  std::string client = request.peer_ip;
  std::string_view rest = list;
  while (!list.empty()) {  // ends at a client, a bad entry or the list's start
    const std::size_t comma = rest.rfind(',');
    const std::string entry(python_strip(comma == std::string_view::npos ? rest : rest.substr(comma + 1)));
    if (entry.empty() || entry.find('/') != std::string::npos || !config::IpNetwork::parse(entry).ok()) break;
    auto canonical = config::canonical_ip_text(entry);  // one spelling per address (rate limits, last_seen_ip)
    if (!canonical) break;
    client = std::move(*canonical);
    if (!config::any_contains(proxies, client) || comma == std::string_view::npos) break;
    rest = rest.substr(0, comma);
  }
  return client;
}

actors::Reply Call::reply() const {
  return [r = respond](int status, std::string body) {
    Response resp;
    resp.status = status;
    resp.body = std::move(body);
    r(std::move(resp));
  };
}

std::optional<actors::Reply> reply_with_reader_place(Call& call) {
  const auto& queued = call.ctx->queued_reads;
  std::size_t now = queued->load();
  do {
    if (now >= call.ctx->settings.max_queued_reads) {
      Response r = detail_response(503, "Too many reads are queued; retry shortly");
      r.headers.push_back({"Retry-After", "1"});
      call.respond(std::move(r));
      return std::nullopt;
    }
  } while (!queued->compare_exchange_weak(now, now + 1));
  // Given up when the answer is given (copies of the reply may outlive it in the ledger's
  // waiting lists), or with the reply's last copy if it never is.
  struct Place {
    std::shared_ptr<std::atomic<std::size_t>> queued;
    std::atomic<bool> held{true};
    void give_up() {
      if (held.exchange(false)) --*queued;
    }
    ~Place() { give_up(); }
  };
  auto place = std::make_shared<Place>();
  place->queued = queued;
  return [place, reply = call.reply()](int status, std::string body) {
    place->give_up();
    reply(status, std::move(body));
  };
}

void answer_on_reader(Call& call, std::function<RenderFn(const Book&)> collect) {
  auto reader = call.ctx->reader;
  auto placed = reply_with_reader_place(call);
  if (!placed) return;
  auto reply = std::move(*placed);
  auto render = std::make_shared<RenderFn>();
  caf::anon_send(call.ctx->ledger,
                 actors::Query{[render, collect = std::move(collect)](const Book& book) {
                                 *render = collect(book);
                                 return std::pair{0, std::string{}};  // answered by the reader
                               },
                               // Status 0: on to the reader. Anything else goes to the client.
                               [reader, reply, render](int status, std::string body) {
                                 if (status != 0) return reply(status, std::move(body));
                                 caf::anon_send(reader, actors::RenderAnswer{[render] {
                                                                               auto out = (*render)();
                                                                               *render = {};  // what it held, let go now
                                                                               return out;
                                                                             },
                                                                             reply});
                               }});
}

bool public_rate_limited(Call& call) {
  auto& ctx = *call.ctx;
  const std::string ip = config::client_group(call.client_ip());  // an IPv6 client's /64 is one client
  const std::int64_t now = monotonic_micros();  // a wall-clock step neither blocks nor frees callers
  std::lock_guard lock(ctx.public_limit_mutex);
  if (!ctx.public_burst) {
    ctx.public_burst = std::make_unique<SlidingWindow>(static_cast<std::size_t>(ctx.settings.public_rate_burst), 10);
    ctx.public_minute = std::make_unique<SlidingWindow>(static_cast<std::size_t>(ctx.settings.public_rate_per_minute), 60);
  }
  if (ctx.public_burst->allow(ip, now) && ctx.public_minute->allow(ip, now)) return false;
  call.respond(detail_response(429, "Rate limited"));
  return true;
}

std::optional<std::string> Call::orchestrator_token() const {
  auto trimmed = [](std::string_view s) {
    auto b = s.find_first_not_of(" \t");
    if (b == std::string_view::npos) return std::string();
    return std::string(s.substr(b, s.find_last_not_of(" \t") - b + 1));
  };
  if (const std::string* auth = request.header("Authorization")) {
    std::string_view a = *auth;
    if (a.size() > 7 && boost::algorithm::iequals(a.substr(0, 7), "bearer ")) {
      std::string token = trimmed(a.substr(7));
      if (!token.empty()) return token;
    }
  }
  if (const std::string* header = request.header("X-Orchestrator-Token")) {
    std::string token = trimmed(*header);
    if (!token.empty()) return token;
  }
  return std::nullopt;
}

bool Call::is_operator() const {
  const auto& s = ctx->settings;
  const std::string* token = request.header("X-Admin-Token");
  if (!token) return false;
  bool ok = s.admin_token && same_token(*token, *s.admin_token);
  for (const auto& v : s.viewer_tokens) ok = ok || same_token(*token, v);
  return ok;
}

std::vector<const Route*> all_routes() {
  std::vector<const Route*> out;
  for (const auto* table : {&system_routes(), &credential_routes(), &orchestrator_routes(), &workload_routes(), &ledger_routes(), &payout_routes(), &import_routes(), &transparency_routes(), &tee_routes()})
    for (const auto& r : *table) out.push_back(&r);
  return out;
}

Surface surface_of(std::string_view path) { return surface_of(path, split_path(path)); }

Surface surface_of(std::string_view path, const std::vector<std::string>& segments) {
  if (path.starts_with("/api/transparency/") || path.starts_with("/api/sessions/") || path == "/api/tee/attestation" ||
      path == "/api/tee/core/attestation")
    return Surface::edge;
  if (path.starts_with("/api/workloads") || path.starts_with("/api/ledger/") || path.starts_with("/api/activity/leases") ||
      path.starts_with("/api/balances") || path.starts_with("/api/payouts") || path.starts_with("/api/import/"))
    return Surface::ops;
  if (segments.size() < 2 || segments[0] != "api" || segments[1] != "orchestrators") return Surface::either;
  if (segments.size() == 2) return Surface::ops;  // the list
  const std::string& id = segments[2];
  // /me and below, exactly (the reference took any path starting with /me, so an id such as
  // "metro-1" was an edge route).
  if (id == "me") return Surface::edge;
  // The registration and bootstrap routes themselves; an orchestrator of that id has its stats,
  // health and the rest on the ops surface, as every other's.
  if ((id == "register" || id == "bootstrap") && segments.size() == 3) return Surface::edge;
  if (segments.size() == 5 && segments[3] == "credential" && (segments[4] == "nonce" || segments[4] == "token"))
    return Surface::edge;
  return Surface::ops;  // an orchestrator, its stats, health, ops, credential tokens
}

namespace {

// Where a request goes, decided from its method, target and the node's readiness alone: a
// route with its parameters, or the answer for a request that has none (404, 307, 405, 503).
struct Routed {
  const Route* route = nullptr;
  std::vector<std::string> params;
  std::string path, query, name;
  std::optional<Response> answer;
};

// The request's host as the surfaces see it: a trusted proxy's first X-Forwarded-Host entry,
// else Host (the target's authority, for a target in absolute form). Outer nullopt: none
// given; inner nullopt: given, but no host (`"edge.example"`, `edge.example/`).
std::optional<std::optional<std::string>> request_host(const ApiContext& ctx, const Request& request) {
  const auto& proxies = ctx.settings.trusted_proxy_cidrs;
  if (!proxies.empty() && config::any_contains(proxies, request.peer_ip))
    if (const std::string* forwarded = request.header("X-Forwarded-Host")) {
      std::string_view first = *forwarded;
      first = python_strip(first.substr(0, first.find(',')));
      if (!first.empty()) return config::host_for_surface(first);
    }
  const std::string* host = request.header("Host");
  if (!host || python_strip(*host).empty()) return std::nullopt;
  return config::host_for_surface(python_strip(*host));
}

std::optional<Response> surface_refusal(const ApiContext& ctx, const Request& request, std::string_view path,
                                        const std::vector<std::string>& segments) {
  const auto& s = ctx.settings;
  if (!s.enforce_split_surfaces || !s.public_edge_host || !s.public_ops_host) return std::nullopt;
  const Surface surface = surface_of(path, segments);
  if (surface == Surface::either) return std::nullopt;
  const auto given = request_host(ctx, request);
  if (!given) return std::nullopt;  // no host at all (HTTP/1.0): as the reference, either surface passes
  // A host that names no host could be read as either surface by whatever sits in front:
  // refused rather than passed to both.
  if (!*given) return detail_response(400, "Invalid Host header");
  const std::string& host = **given;  // another host than the two: either surface passes
  if (surface == Surface::ops && host == *s.public_edge_host)
    return detail_response(403, "Route is not available on EDGE surface");
  if (surface == Surface::edge && host == *s.public_ops_host)
    return detail_response(403, "Route is not available on OPS surface");
  return std::nullopt;
}

class Router {
 public:
  Router() {
    for (const Route* r : all_routes()) routes_.push_back({r, split_path(r->pattern)});
  }

  Routed route(const ApiContext& ctx, const Request& request) const {
    Routed out;
    std::string_view target = request.target;
    std::string_view raw_path = target.substr(0, target.find('?'));
    out.query = target.size() > raw_path.size() ? std::string(target.substr(raw_path.size() + 1)) : "";
    // Decoded as the reference decodes it: a '%' that starts no escape is text, and bytes
    // that are not UTF-8 become U+FFFD (so an id taken from the path is valid text wherever
    // it is echoed or stored).
    out.path = percent_decode(raw_path, false);
    auto segments = split_path(out.path);
    std::string allowed;  // the path's methods, for a 405's Allow header (RFC 9110 §15.5.6)
    bool path_known = match_route(segments, request, out, allowed);
    // The reference's framework answers a path with trailing slashes that names a route
    // without them with a 307 to that path (never acting on it: `PATCH /api/workloads/zz%2F`
    // does not patch workload `zz`).
    std::optional<Response> redirect = path_known ? std::nullopt : trailing_slash_redirect(ctx, out);
    // An id holding a '/' (workload `a/b`, sent as `a%2Fb`): decoded, the path has more
    // segments than any route, which left such a record impossible to address (as in the
    // reference). The raw path's segments are matched instead, each decoded on its own.
    if (!path_known && !redirect &&
        (raw_path.find("%2F") != std::string_view::npos || raw_path.find("%2f") != std::string_view::npos)) {
      auto raw_segments = split_path(raw_path);
      for (auto& segment : raw_segments) segment = percent_decode(segment, false);
      if (match_route(raw_segments, request, out, allowed)) {
        segments = std::move(raw_segments);  // the surface of what was matched: an id is an id
        path_known = true;
      }
    }
    out.name = out.route ? std::string(out.route->method) + " " + out.route->pattern : "unmatched";
    // Split surfaces come first, as the reference's middleware does: before 404, 405, access.
    if (auto refused = surface_refusal(ctx, request, out.path, segments)) {
      out.route = nullptr;
      out.answer = std::move(refused);
      return out;
    }
    if (!out.route) {
      if (!path_known) {
        out.answer = redirect ? std::move(*redirect) : detail_response(404, "Not Found");
        return out;
      }
      Response r = detail_response(405, "Method Not Allowed");
      r.headers.push_back({"Allow", allowed});
      out.answer = std::move(r);
      return out;
    }
    if (!out.route->before_ready && !ctx.ready.load()) {
      Response r = detail_response(503, "Starting: the ledger is being recovered; retry shortly");
      r.headers.push_back({"Retry-After", "1"});
      out.answer = std::move(r);
    }
    return out;
  }

 private:
  // The route of these path segments for the request's method (into `out`), and the methods
  // the path has (into `allowed`); false when no route has the path.
  bool match_route(const std::vector<std::string>& segments, const Request& request, Routed& out, std::string& allowed) const {
    bool known = false;
    for (const auto& compiled : routes_) {
      std::vector<std::string> p;
      if (!match(compiled.parts, segments, p)) continue;
      known = true;
      const std::string_view method = compiled.route->method;
      if (allowed.find(method) == std::string::npos) {
        if (!allowed.empty()) allowed += ", ";
        allowed += method;
        if (method == "GET") allowed += ", HEAD";
      }
      // HEAD is GET without the body (the server leaves the body out; Content-Length stays).
      const bool head_as_get = request.method == "HEAD" && method == "GET";
      if (request.method == method || head_as_get) {
        out.route = compiled.route;
        out.params = std::move(p);
        break;
      }
    }
    return known;
  }

  // A 307 to the path without its trailing slashes, when that path names a route.
  std::optional<Response> trailing_slash_redirect(const ApiContext& ctx, const Routed& out) const {
    std::string stripped = out.path;
    while (!stripped.empty() && stripped.back() == '/') stripped.pop_back();
    if (stripped.size() == out.path.size() || stripped.empty()) return std::nullopt;
    const auto stripped_segments = split_path(stripped);
    for (const auto& compiled : routes_) {
      std::vector<std::string> p;
      if (!match(compiled.parts, stripped_segments, p)) continue;
      Response r{307, "", "", {}};
      r.headers.push_back({"Location", location_quote(ctx.settings.root_path + stripped) + (out.query.empty() ? "" : "?" + out.query)});
      return r;
    }
    return std::nullopt;
  }

  std::vector<CompiledRoute> routes_;
};

}  // namespace

Handler make_api_handler(std::shared_ptr<ApiContext> ctx) {
  auto router = std::make_shared<const Router>();
  return [ctx, router](Request&& request, Responder respond) {
    const auto start = std::chrono::steady_clock::now();
    Routed routed = router->route(*ctx, request);
    auto metrics = ctx->metrics;
    // At PAYMENTS_LOG_LEVEL=debug, a line per request: method, path (not the query), client,
    // status and time. Built only then: the credit path pays one level check.
    std::string access;
    if (spdlog::should_log(spdlog::level::debug)) {
      const std::string_view target(request.target);
      const std::string_view path = target.substr(0, std::min<std::size_t>(target.find('?'), 256));
      access = replace_invalid_utf8(request.method.substr(0, 16)) + " " + replace_invalid_utf8(path) + " from " + request.peer_ip;
    }
    Responder timed([metrics, route_name = routed.name, start, respond, access = std::move(access)](Response resp) {
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      metrics->observe_http(route_name, resp.status, seconds);
      if (!access.empty()) spdlog::debug("http: {}: {} in {:.2f} ms", access, resp.status, seconds * 1e3);
      respond(std::move(resp));
    });
    if (routed.answer) return timed(std::move(*routed.answer));
    Call call{std::move(request), std::move(routed.path), std::move(routed.query), std::move(routed.params), timed, ctx.get()};
    if (auto denied = check_access(call, routed.route->access)) {
      timed(std::move(*denied));
      return;
    }
    try {
      routed.route->fn(call);
    } catch (const std::exception& e) {
      spdlog::error("{} failed: {}", routed.name, e.what());
      timed(detail_response(500, "Internal server error"));
    }
  };
}

Screen make_api_screen(std::shared_ptr<ApiContext> ctx) {
  auto router = std::make_shared<const Router>();
  return [ctx, router](const Request& head) {
    Screening out;
    Routed routed = router->route(*ctx, head);
    Call call{head, std::move(routed.path), std::move(routed.query), std::move(routed.params), Responder(), ctx.get()};
    if (!routed.answer) routed.answer = check_access(call, routed.route->access);
    if (!routed.answer && routed.route->unavailable) routed.answer = routed.route->unavailable(*ctx);
    if (routed.answer) {
      // Counted, not timed: an answer from the header alone would add a 0 s sample to the
      // route's latency, which describes the answers its handler gives.
      ctx->metrics->count_http(routed.name, routed.answer->status);
      out.answer = std::move(routed.answer);
    } else {
      out.client = call.client_ip();
      out.operator_request = call.is_operator();
    }
    return out;
  };
}

}  // namespace lpops::net
