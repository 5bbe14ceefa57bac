#include "chain/rpc_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <atomic>
#include <cctype>
#include <map>
#include <mutex>

#include "chain/resolve.hpp"
#include "domain/display_url.hpp"

namespace lpops::chain {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

std::string RpcError::describe() const {
  switch (kind) {
    case Kind::Transport: return "transport error: " + message;
    case Kind::Timeout: return "timeout: " + message;
    case Kind::Http: return "HTTP " + std::to_string(code) + ": " + message;
    case Kind::Rpc: return "JSON-RPC error " + std::to_string(code) + ": " + message;
    case Kind::Protocol: return "invalid answer: " + message;
    case Kind::Cap: return "refused by the configured cap: " + message;
  }
  return message;
}

const char* outcome_label(const RpcError* error) {
  if (!error) return "ok";
  switch (error->kind) {
    case RpcError::Kind::Transport: return "transport";
    case RpcError::Kind::Timeout: return "timeout";
    case RpcError::Kind::Http: return "http";
    case RpcError::Kind::Rpc: return "rpc";
    case RpcError::Kind::Protocol: return "protocol";
    case RpcError::Kind::Cap: return "cap";
  }
  return "unknown";
}

namespace {

struct Connection {
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since;

  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*tls); }
};

RpcError error_of(RpcError::Kind kind, std::string message, std::int64_t code = 0) {
  RpcError e;
  e.kind = kind;
  e.code = code;
  e.message = std::move(message);
  return e;
}

// Reads one JSON-RPC response object into a reply.
RpcReply reply_of(const json::value& v) {
  RpcReply r;
  if (!v.is_object()) {
    r.error = error_of(RpcError::Kind::Protocol, "a response is not a JSON object");
    return r;
  }
  const auto& o = v.as_object();
  if (const auto* err = o.if_contains("error"); err && !err->is_null()) {
    RpcError e = error_of(RpcError::Kind::Rpc, "");
    if (err->is_object()) {
      const auto& eo = err->as_object();
      if (const auto* c = eo.if_contains("code"); c && c->is_int64()) e.code = c->as_int64();
      if (const auto* m = eo.if_contains("message"); m && m->is_string()) e.message = std::string(m->as_string());
      if (const auto* d = eo.if_contains("data")) e.data = *d;
    } else if (err->is_string()) {
      e.message = std::string(err->as_string());
    } else {
      e.message = json::serialize(*err);
    }
    r.error = std::move(e);
    return r;
  }
  if (const auto* res = o.if_contains("result")) {
    r.result = *res;
    return r;
  }
  r.error = error_of(RpcError::Kind::Protocol, "a response has neither result nor error");
  return r;
}

}  // namespace

struct RpcClient::Impl {
  asio::any_io_executor executor;
  RpcOptions options;
  bool https = false;
  std::string url, host, port, target, authorization, redacted;
  std::string host_header;  // as the URL has it: an IPv6 address in brackets, the port when given
  std::optional<asio::ssl::context> tls_context;
  std::atomic<std::uint64_t> next_id{1};
  std::atomic<std::uint64_t> sent{0};
  std::mutex idle_mutex;
  std::vector<std::unique_ptr<Connection>> idle;

  // The most recently used idle connection; those idle longer than max_idle_time are closed
  // (servers close idle keep-alive connections, Node.js after 5 s), so that a call rarely
  // starts on one the server has dropped.
  std::unique_ptr<Connection> take_idle() {
    std::lock_guard lock(idle_mutex);
    const auto oldest = std::chrono::steady_clock::now() - options.max_idle_time;
    std::erase_if(idle, [&](const std::unique_ptr<Connection>& c) { return c->idle_since < oldest; });
    if (idle.empty()) return nullptr;
    auto c = std::move(idle.back());
    idle.pop_back();
    return c;
  }
  void give_back(std::unique_ptr<Connection> c) {
    c->idle_since = std::chrono::steady_clock::now();
    std::lock_guard lock(idle_mutex);
    if (idle.size() < options.max_idle_connections) idle.push_back(std::move(c));
  }
  void drop_idle() {
    std::lock_guard lock(idle_mutex);
    idle.clear();
  }

  // A new connection, made by `deadline` (the attempt's): the lookup, the connection and the
  // TLS handshake share it. `lookup_failure` (the caller's, awaited at once) gets the words
  // for a lookup that did not end in time.
  asio::awaitable<std::pair<beast::error_code, std::unique_ptr<Connection>>> connect(
      std::chrono::steady_clock::time_point deadline, std::string& lookup_failure) {
    auto c = std::make_unique<Connection>();
    // (A DNS server that never answers would otherwise be waited for through all of the C
    // library's retries.)
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto [rec, endpoints] =
        co_await async_resolve_within(executor, host, port, std::max(left, std::chrono::milliseconds(1)), use_tuple);
    if (rec == asio::error::timed_out) {
      lookup_failure = resolve_timeout_message(host, options.timeout);
      co_return std::pair{beast::error_code(beast::error::timeout), nullptr};
    }
    if (rec) co_return std::pair{rec, nullptr};
    if (https) {
      c->tls.emplace(executor, *tls_context);
    } else {
      c->plain.emplace(executor);
    }
    c->lowest().expires_at(deadline);
    auto [cec, ep] = co_await c->lowest().async_connect(endpoints, use_tuple);
    if (cec) co_return std::pair{cec, nullptr};
    c->lowest().socket().set_option(tcp::no_delay(true));
    if (https) {
      // A server name is sent for a name only, never an IP address (RFC 6066).
      boost::system::error_code not_ip;
      (void)asio::ip::make_address(host, not_ip);
      if (not_ip && !SSL_set_tlsext_host_name(c->tls->native_handle(), host.c_str()))
        co_return std::pair{beast::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()), nullptr};
      c->tls->set_verify_callback(asio::ssl::host_name_verification(host));
      auto [hec] = co_await c->tls->async_handshake(asio::ssl::stream_base::client, use_tuple);
      if (hec) co_return std::pair{hec, nullptr};
    }
    co_return std::pair{beast::error_code{}, std::move(c)};
  }

  // Writes the request and reads its final response into `parser` (made anew here). An
  // interim response (1xx: 100 Continue, 103 Early Hints), which a server may send unasked,
  // is read past: taken for the answer, it would leave the real one to be read as the answer
  // to the connection's next request.
  // `answered` is set once any response bytes arrived (an interim one included): the server
  // then had the request.
  template <class Stream>
  static asio::awaitable<beast::error_code> exchange(Stream& stream, beast::flat_buffer& buffer,
                                                     http::request<http::string_body>& req,
                                                     std::optional<http::response_parser<http::string_body>>& parser,
                                                     std::size_t body_limit, bool& answered) {
    auto [wec, written] = co_await http::async_write(stream, req, use_tuple);
    if (wec) co_return wec;
    for (int interim = 0;; ++interim) {
      parser.emplace();
      parser->body_limit(body_limit);
      auto [rec, read] = co_await http::async_read(stream, buffer, *parser, use_tuple);
      answered = answered || interim > 0 || parser->got_some();
      if (rec) co_return rec;
      const unsigned status = parser->get().result_int();
      if (status < 100 || status > 199 || status == 101) co_return rec;
      if (interim == 8) co_return beast::error_code(http::error::bad_status);  // a server that never answers for real
    }
  }

  // Posts one body and returns the HTTP response, retrying transport failures.
  asio::awaitable<std::pair<std::optional<RpcError>, http::response<http::string_body>>> post(const std::string& body) {
    return request(http::verb::post, body);
  }
  // A GET (no body) or a POST of a JSON body to the URL; the HTTP response, retrying
  // transport failures.
  asio::awaitable<std::pair<std::optional<RpcError>, http::response<http::string_body>>> request(http::verb verb,
                                                                                                 const std::string& body) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, host_header);
    if (verb != http::verb::get) req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "application/json");
    req.set(http::field::user_agent, "lpops");
    if (!authorization.empty()) req.set(http::field::authorization, authorization);
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();

    bool stale_retry_used = false;
    bool fresh_only = false;  // after a kept-alive connection turned out closed: the others may be too
    std::string lookup_failure;
    for (int attempt = 1;; ++attempt) {
      // One deadline per attempt: the lookup, the connection, the handshake, writing the
      // request and reading the answer all fit within `timeout`.
      const auto deadline = std::chrono::steady_clock::now() + options.timeout;
      auto conn = fresh_only ? nullptr : take_idle();
      const bool reused = conn != nullptr;
      beast::error_code ec;
      lookup_failure.clear();
      if (!conn) {
        auto [cec, fresh] = co_await connect(deadline, lookup_failure);
        ec = cec;
        conn = std::move(fresh);
      }
      std::optional<http::response_parser<http::string_body>> parser;
      bool answered = false;
      if (!ec) {
        conn->lowest().expires_at(deadline);
        ++sent;
        // (Not a ?: between two co_awaits: GCC 12 miscompiles that.)
        if (conn->plain) {
          ec = co_await exchange(*conn->plain, conn->buffer, req, parser, options.max_response_bytes, answered);
        } else {
          ec = co_await exchange(*conn->tls, conn->buffer, req, parser, options.max_response_bytes, answered);
        }
      }
      if (!ec) {
        conn->lowest().expires_never();
        // The parser's view, not the message's: a response whose end is the connection's
        // close says keep-alive in its header fields all the same.
        const bool reusable = parser->keep_alive() && parser->get().result_int() != 101;  // 101: no longer HTTP
        auto res = parser->release();
        if (reusable) give_back(std::move(conn));
        co_return std::pair{std::optional<RpcError>{}, std::move(res)};
      }
      if (ec == http::error::body_limit)
        co_return std::pair{error_of(RpcError::Kind::Protocol, "response larger than " +
                                                                   std::to_string(options.max_response_bytes) + " bytes"),
                            http::response<http::string_body>{}};
      // A kept-alive connection the server had closed before it answered anything (the write
      // failed, or the read met the end of the stream at once): one free retry, on a new
      // connection. A timeout, or an answer cut short, may follow a request the server is
      // acting on, and counts as an attempt.
      const bool closed_unanswered =
          ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
          ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated;
      if (reused && closed_unanswered && !answered) {
        drop_idle();
        fresh_only = true;
        if (!stale_retry_used) {
          stale_retry_used = true;
          --attempt;
          continue;
        }
      }
      const bool timed_out = ec == beast::error::timeout;
      if (attempt >= options.max_attempts) {
        co_return std::pair{error_of(timed_out ? RpcError::Kind::Timeout : RpcError::Kind::Transport,
                                     redacted + ": " + (lookup_failure.empty() ? ec.message() : lookup_failure) +
                                         " (after " + std::to_string(attempt) + " attempts)"),
                            http::response<http::string_body>{}};
      }
      asio::steady_timer timer(executor, options.backoff * (1 << (attempt - 1)));
      co_await timer.async_wait(use_tuple);
    }
  }

  // Reads an HTTP response as JSON; a non-200 status with a JSON-RPC error body is an Rpc error
  // (with the body, whose id says which call it answers).
  static std::pair<std::optional<RpcError>, json::value> parse_body(const http::response<http::string_body>& res) {
    boost::system::error_code ec;
    json::value v = json::parse(res.body(), ec);
    if (res.result_int() != 200) {
      if (!ec && v.is_object() && v.as_object().contains("error")) {
        auto r = reply_of(v);
        if (r.error) return {r.error, std::move(v)};
      }
      std::string snippet = res.body().substr(0, 200);
      return {error_of(RpcError::Kind::Http, snippet.empty() ? std::string(res.reason()) : snippet, res.result_int()), {}};
    }
    if (ec) return {error_of(RpcError::Kind::Protocol, "body is not JSON: " + ec.message()), {}};
    return {std::nullopt, std::move(v)};
  }
};

Result<std::shared_ptr<RpcClient>> RpcClient::create(asio::any_io_executor executor, std::string_view url, RpcOptions options) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return Error{"invalid URL: " + parsed.error().message()};
  auto impl = std::make_shared<Impl>();
  impl->url = std::string(url);
  impl->executor = std::move(executor);
  impl->options = options;
  std::string scheme(parsed->scheme());
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));  // HTTPS:// too (RFC 3986)
  if (scheme == "https") impl->https = true;
  else if (scheme != "http") return Error{"URL scheme must be http or https, not '" + scheme + "'"};
  // The address alone to look up and to check a certificate against ("[::1]" is ::1).
  impl->host = std::string(parsed->host_address());
  if (impl->host.empty()) return Error{"URL has no host"};
  if (parsed->has_port() && parsed->port().empty()) return Error{"URL has an empty port"};
  impl->port = parsed->has_port() ? std::string(parsed->port()) : (impl->https ? "443" : "80");
  impl->host_header = std::string(parsed->encoded_host_and_port());
  impl->target = std::string(parsed->encoded_path());
  if (impl->target.empty()) impl->target = "/";
  if (parsed->has_query()) impl->target += "?" + std::string(parsed->encoded_query());
  if (parsed->has_userinfo()) {
    // user:password; a user alone (a provider's key) has an empty password (RFC 7617 needs the colon).
    std::string userinfo = std::string(parsed->userinfo());
    if (userinfo.find(':') == std::string::npos) userinfo += ':';
    std::string encoded(beast::detail::base64::encoded_size(userinfo.size()), '\0');
    encoded.resize(beast::detail::base64::encode(encoded.data(), userinfo.data(), userinfo.size()));
    impl->authorization = "Basic " + encoded;
  }
  impl->redacted = display_url(url);
  if (impl->https) {
    impl->tls_context.emplace(asio::ssl::context::tls_client);
    boost::system::error_code ec;
    impl->tls_context->set_default_verify_paths(ec);
    if (!options.ca_file.empty()) {
      impl->tls_context->load_verify_file(options.ca_file, ec);
      if (ec) return Error{"cannot load CA file " + options.ca_file + ": " + ec.message()};
    }
    impl->tls_context->set_verify_mode(asio::ssl::verify_peer);
  }
  if (options.max_attempts < 1) return Error{"RPC max_attempts must be at least 1"};
  return std::shared_ptr<RpcClient>(new RpcClient(std::move(impl)));
}

RpcClient::~RpcClient() = default;

const std::string& RpcClient::redacted_url() const { return impl_->redacted; }
std::uint64_t RpcClient::requests_sent() const { return impl_->sent.load(); }

namespace {

asio::awaitable<RpcReply> call_unobserved(std::shared_ptr<RpcClient::Impl> impl, const std::string& method,
                                          json::array params) {
  const std::uint64_t id = impl->next_id++;
  const std::string body =
      json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
  auto [err, res] = co_await impl->post(body);
  RpcReply reply;
  if (err) {
    reply.error = std::move(err);
    co_return reply;
  }
  auto [perr, v] = RpcClient::Impl::parse_body(res);
  // A JSON-RPC error with any HTTP status is held to the same id rule as one with 200.
  if (perr && perr->kind != RpcError::Kind::Rpc) {
    reply.error = std::move(perr);
    co_return reply;
  }
  if (perr) reply.error = std::move(perr);
  else reply = reply_of(v);
  const auto* rid = v.is_object() ? v.as_object().if_contains("id") : nullptr;
  boost::system::error_code ec;
  const bool same_id = rid && rid->is_number() && rid->to_number<std::uint64_t>(ec) == id && !ec;
  // An error answers this call only under its id, or under none (null: a request the node
  // could not read far enough to learn its id).
  if (reply.ok() ? !same_id : (rid && !rid->is_null() && !same_id)) {
    reply = RpcReply{};
    reply.error = error_of(RpcError::Kind::Protocol, "response id does not match the request");
  }
  co_return reply;
}

asio::awaitable<std::vector<RpcReply>> batch_unobserved(std::shared_ptr<RpcClient::Impl> impl, std::vector<RpcCall>& calls) {
  std::vector<RpcReply> replies(calls.size());
  if (calls.empty()) co_return replies;
  json::array body;
  std::map<std::uint64_t, std::size_t> index_of;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const std::uint64_t id = impl->next_id++;
    index_of[id] = i;
    body.push_back(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"method", calls[i].method}, {"params", std::move(calls[i].params)}});
  }
  auto fail_all = [&](const RpcError& e) {
    for (auto& r : replies) r.error = e;
  };
  auto [err, res] = co_await impl->post(json::serialize(body));
  if (err) {
    fail_all(*err);
    co_return replies;
  }
  auto [perr, v] = RpcClient::Impl::parse_body(res);
  // A single error object answers the whole batch only under no id (or a null one): under an
  // id it is some call's answer, and no call of this batch is a single object.
  const auto* single_id = v.is_object() ? v.as_object().if_contains("id") : nullptr;
  const bool whole_batch = !single_id || single_id->is_null();
  if (perr) {
    fail_all(perr->kind != RpcError::Kind::Rpc || whole_batch ? *perr
                                                              : error_of(RpcError::Kind::Protocol, "response id does not match the request"));
    co_return replies;
  }
  if (!v.is_array()) {
    // A node that rejects the whole batch answers with a single error object.
    auto single = reply_of(v);
    fail_all(single.error && whole_batch ? *single.error : error_of(RpcError::Kind::Protocol, "batch answer is not an array"));
    co_return replies;
  }
  std::vector<bool> seen(calls.size(), false);
  for (const auto& item : v.as_array()) {
    if (!item.is_object()) continue;
    const auto* rid = item.as_object().if_contains("id");
    if (!rid || !rid->is_number()) continue;
    boost::system::error_code ec;
    const auto rid_value = rid->to_number<std::uint64_t>(ec);
    if (ec) continue;
    auto it = index_of.find(rid_value);
    if (it == index_of.end() || seen[it->second]) continue;
    seen[it->second] = true;
    replies[it->second] = reply_of(item);
  }
  for (std::size_t i = 0; i < calls.size(); ++i)
    if (!seen[i]) replies[i].error = error_of(RpcError::Kind::Protocol, "no answer for this call in the batch");
  co_return replies;
}

}  // namespace

asio::awaitable<std::pair<std::optional<RpcError>, json::value>> RpcClient::get_json() {
  // Redirects are followed (at most 5, as a browser or Python's requests would), each to a
  // client of its own: the location may name another host.
  auto impl = impl_;
  for (int hop = 0;; ++hop) {
    auto [err, res] = co_await impl->request(http::verb::get, "");
    if (err) co_return std::pair{std::move(err), json::value()};
    const int status = res.result_int();
    const bool redirect = status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    if (!redirect || res.find(http::field::location) == res.end()) co_return Impl::parse_body(res);
    if (hop == 5) co_return std::pair{error_of(RpcError::Kind::Http, "more than 5 redirects", status), json::value()};
    auto base = boost::urls::parse_uri(impl->url);
    auto ref = boost::urls::parse_uri_reference(res[http::field::location]);
    boost::urls::url next;
    if (!base || !ref || !boost::urls::resolve(*base, *ref, next))
      co_return std::pair{error_of(RpcError::Kind::Http, "a redirect to an invalid location", status), json::value()};
    auto client = RpcClient::create(impl->executor, next.buffer(), impl->options);
    if (!client) co_return std::pair{error_of(RpcError::Kind::Http, "a redirect to an unusable location (" + client.error() + ")", status), json::value()};
    impl = (*client)->impl_;
  }
}

asio::awaitable<std::pair<std::optional<RpcError>, json::value>> RpcClient::post_json(const json::value& body) {
  auto impl = impl_;
  auto [err, res] = co_await impl->request(http::verb::post, json::serialize(body));
  if (err) co_return std::pair{std::move(err), json::value()};
  co_return Impl::parse_body(res);
}

asio::awaitable<RpcReply> RpcClient::call(std::string method, json::array params) {
  auto impl = impl_;  // keeps the client alive for the whole call
  RpcReply reply = co_await call_unobserved(impl, method, std::move(params));
  if (impl->options.on_outcome) impl->options.on_outcome(method, reply.error ? &*reply.error : nullptr);
  co_return reply;
}

asio::awaitable<std::vector<RpcReply>> RpcClient::batch(std::vector<RpcCall> calls) {
  auto impl = impl_;
  auto replies = co_await batch_unobserved(impl, calls);
  if (impl->options.on_outcome)
    for (std::size_t i = 0; i < calls.size(); ++i)
      impl->options.on_outcome(calls[i].method, replies[i].error ? &*replies[i].error : nullptr);
  co_return replies;
}

}  // namespace lpops::chain
