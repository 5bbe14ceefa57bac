#pragma once
// An asynchronous Ethereum JSON-RPC client over HTTP(S) (Beast, C++20 coroutines). Calls
// never block a thread: they are awaitables on the caller's executor. Every request has a
// deadline; transport failures (connect, reset, timeout) are retried a bounded number of
// times with exponential backoff; HTTP and JSON-RPC errors are never retried and come
// back typed, with the node's code and message. Batches go out as one JSON array.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.hpp"

namespace lpops::chain {

struct RpcError {
  enum class Kind {
    Transport,  // could not connect, or the connection failed mid-request
    Timeout,    // no complete answer before the deadline
    Http,       // an HTTP status other than 200 without a JSON-RPC error body
    Rpc,        // a JSON-RPC error object from the node
    Protocol,   // an answer that is not valid JSON-RPC
    Cap,        // a valid answer that a configured limit refuses (a fee above its cap)
  };
  Kind kind = Kind::Transport;
  std::int64_t code = 0;  // JSON-RPC error code, or the HTTP status
  std::string message;
  boost::json::value data;  // JSON-RPC error data (revert data, for one), if any

  std::string describe() const;
};

// A call's outcome as a metrics label: "ok", or the error's kind ("transport", "timeout",
// "http", "rpc", "protocol").
const char* outcome_label(const RpcError* error);

struct RpcOptions {
  std::chrono::milliseconds timeout{10'000};  // per attempt: lookup + connect + handshake + write + read
  int max_attempts = 3;                       // transport errors only
  std::chrono::milliseconds backoff{200};     // before the 2nd attempt; doubles after
  std::size_t max_response_bytes = 32u << 20;
  std::size_t max_idle_connections = 4;
  std::chrono::milliseconds max_idle_time{4'000};  // an idle connection older than this is closed, not reused
  std::string ca_file;  // an extra CA bundle for https (a private node's own CA)
  // Told each call's outcome (every call of a batch; null: a result), on the client's
  // executor, after its retries: for the node's metrics.
  std::function<void(const std::string& method, const RpcError* error)> on_outcome;
};

// A JSON-RPC outcome: the result, or an error.
struct RpcReply {
  boost::json::value result;
  std::optional<RpcError> error;
  bool ok() const { return !error.has_value(); }
};

struct RpcCall {
  std::string method;
  boost::json::array params;
};

class RpcClient {
 public:
  // url: http://host[:port][/path] or https://...; user:password@ becomes Basic auth.
  static Result<std::shared_ptr<RpcClient>> create(boost::asio::any_io_executor executor, std::string_view url,
                                                   RpcOptions options = {});
  ~RpcClient();

  boost::asio::awaitable<RpcReply> call(std::string method, boost::json::array params = {});
  // Replies in the order of `calls`, matched by id whatever order the node answers in.
  boost::asio::awaitable<std::vector<RpcReply>> batch(std::vector<RpcCall> calls);
  // Plain JSON at the same URL, with the same deadline, retries and limits: a GET (following
  // up to 5 redirects), or a POST of `body` (a GraphQL query, say); the answer as JSON (a
  // status other than 200 is an Http error).
  boost::asio::awaitable<std::pair<std::optional<RpcError>, boost::json::value>> get_json();
  boost::asio::awaitable<std::pair<std::optional<RpcError>, boost::json::value>> post_json(const boost::json::value& body);

  // The URL as logs and /readyz show it: scheme, host and port ("/…" when a path or query
  // follows, which may hold an API key), never credentials.
  const std::string& redacted_url() const;
  std::uint64_t requests_sent() const;  // HTTP requests, retries included

  struct Impl;

 private:
  explicit RpcClient(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace lpops::chain
