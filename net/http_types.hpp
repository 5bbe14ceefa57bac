#pragma once
// Transport-neutral HTTP request/response types. Route handlers see only these, so
// that Beast stays inside net/http_server.cpp (one slow-to-compile translation unit).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string_view>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lpops::net {

struct Header {
  std::string name;   // as received; compare case-insensitively
  std::string value;
};

struct Request {
  std::string method;        // "GET", "POST", ...
  std::string target;        // raw request target: path plus optional "?query"
  std::vector<Header> headers;
  std::string body;
  std::string peer_ip;       // socket peer address, textual ("127.0.0.1", "::1")

  // First header with this name (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<Header> headers;  // extra headers
};

// Completes one request exactly once, from any thread. The server posts the response
// back to the connection's own executor, so calling it never blocks the caller.
class Responder {
 public:
  using Fn = std::function<void(Response)>;
  Responder() = default;
  explicit Responder(Fn fn) : state_(std::make_shared<State>(std::move(fn))) {}
  void operator()(Response response) const;
  bool valid() const { return state_ != nullptr; }

 private:
  struct State {
    explicit State(Fn f) : fn(std::move(f)) {}
    Fn fn;
    std::atomic<bool> done{false};
  };
  std::shared_ptr<State> state_;
};

// What the server calls for every complete request; `respond` may be invoked later,
// from another thread (e.g. by an actor once the journal is durable).
using Handler = std::function<void(Request&&, Responder)>;

// What the server asks, once a request's header is in and its body is still on its way: an
// answer that does not depend on the body (no such route, wrong method, missing credentials,
// not ready), given at once without reading or buffering the body; otherwise the client the
// body's memory is counted against (the forwarded address behind a trusted proxy).
struct Screening {
  std::optional<Response> answer;
  std::string client;
  bool operator_request = false;  // it carries a valid admin or viewer token
};
using Screen = std::function<Screening(const Request& head)>;

struct ServerOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8081;            // 0 = ephemeral
  unsigned io_threads = 2;
  std::size_t max_body_bytes = 1 << 20;  // larger bodies get 413
  std::size_t max_header_bytes = 16 << 10;
  // A connection idle this long between requests is closed; a request not received whole in
  // this time gets 408 and a close; a response the client stops taking for this long, a close.
  unsigned read_timeout_seconds = 30;
  // A large response the client keeps taking may last longer than the timeout, but no longer
  // than its size at this rate (then the timeout): a client cannot hold one (and its body's
  // memory) open without end by reading a little at a time.
  std::size_t min_send_bytes_per_second = 64 << 10;
  std::size_t max_connections = 10'000;
  // Connections one client (its address; an IPv6 client's /64) may hold at once, so that one
  // client cannot take them all (0: an eighth of max_connections, at least 16). A peer for
  // which `shared_peer` says true carries many clients (a trusted proxy) and is not counted
  // against it.
  std::size_t max_connections_per_client = 0;
  std::size_t connections_per_client() const {
    return max_connections_per_client ? max_connections_per_client : std::max<std::size_t>(16, max_connections / 8);
  }
  std::function<bool(const std::string& peer_ip)> shared_peer;
  // The last eighth of max_connections is kept for peers for which `operator_peer` says true
  // (the manager allowlist): with every other slot taken, an operator still gets in.
  std::function<bool(const std::string& peer_ip)> operator_peer;
  // Request bodies buffered at once, over all connections (each reserves its Content-Length,
  // or max_body_bytes when chunked, from its header until its response is written): a
  // request that does not fit gets 503 and a close, so many large uploads at once cannot
  // take the node's memory.
  std::size_t max_buffered_body_bytes = 256u << 20;
  // Large answers (over 64 KiB: a listing of every workload can be hundreds of MB) held at
  // once while their clients take them, over all connections: an answer that would pass this
  // gets 503 and Retry-After instead, so that many listings read slowly cannot take the node's
  // memory. An answer while none is held always goes, however large.
  std::size_t max_sending_body_bytes = 1u << 30;
  // A body still arriving after its header is in: the most one client may have reserved at
  // once (the larger of max_body_bytes and an eighth of max_buffered_body_bytes), so that a
  // few clients that announce bodies and hold them back cannot take the whole budget.
  std::size_t max_buffered_body_bytes_per_client() const {
    return std::max(max_body_bytes, max_buffered_body_bytes / 8);
  }
  // ... and all such bodies of requests without an operator token together (the last quarter
  // of the budget stays for the operator's own requests).
  std::size_t max_buffered_body_bytes_unprivileged() const { return max_buffered_body_bytes / 4 * 3; }
  // Asked about every request whose body is not all in yet when its header is (see Screening).
  Screen screen;
  // Told of each response the server gives without the handler (413, 414, 431, 400 for a
  // malformed request, 503 for too many connections), so metrics count those too.
  std::function<void(int status)> on_refused;
};

}  // namespace lpops::net
