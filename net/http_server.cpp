#include "net/http_server.hpp"
#include "config/ip_network.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <ctime>
#include <iterator>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <utility>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

namespace lpops::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Responses finished on other threads (actors, the journal) for connections of one
// io_context. A burst of replies becomes one post and one wake-up of that thread.
struct Outbox {
  std::mutex mutex;
  std::vector<std::pair<std::shared_ptr<void>, Response>> items;  // session, response
  bool scheduled = false;
};

// What the server asks of every open connection, on the connection's own thread.
struct Connection {
  virtual ~Connection() = default;
  // Shutdown has begun: a request whose bytes are still arriving counts as in flight, so
  // the drain waits for it (within its deadline and the read timeout) instead of dropping it.
  virtual void begin_drain() = 0;
  // The drain's deadline has passed (or a second signal cut it short): a request whose bytes
  // are still arriving has had nothing applied, so it is answered 503 `Shutting down` rather
  // than dropped with its connection.
  virtual void cut_off() = 0;
  virtual asio::any_io_executor executor() = 0;
};

struct HttpServer::Impl {
  ServerOptions options;
  Handler handler;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::unique_ptr<Outbox>> outboxes;  // one per context
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::steady_timer> accept_backoff;  // on the acceptor's thread
  bool accept_failing = false;                          // (its thread only)
  std::atomic<std::size_t> next_context{0};
  std::atomic<std::size_t> in_flight{0};
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> buffered_body_bytes{0};  // reserved by requests being read or answered
  std::atomic<std::size_t> sending_body_bytes{0};   // large answers' bodies being written (see send)
  // Of those, what each client has reserved for bodies still arriving (see reserve_body).
  std::mutex client_bodies_mutex;
  std::unordered_map<std::string, std::size_t> client_bodies;
  std::size_t unprivileged_bodies = 0;  // ... those of requests without an operator token
  // Open connections per client (see ServerOptions::max_connections_per_client).
  std::mutex client_connections_mutex;
  std::unordered_map<std::string, std::size_t> client_connections;
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> cut_answers{0};  // 503s to cut-off requests not yet written (cut_off)
  // When the last response that left its connection open was sent, or a connection was
  // accepted during the drain (steady clock, ns): its client may send a request on it at any
  // moment, even after the drain began, and the drain waits a little to answer it.
  std::atomic<std::int64_t> last_keep_alive_ns{0};
  // Connections accepted and handed to their I/O thread, not yet set up there (hand_over): the
  // drain waits for them, as they are neither counted nor asked yet.
  std::atomic<std::size_t> handing_over{0};
  std::atomic<bool> client_refusal_logged{false};
  bool running = false;
  // Late replies (after a drain timeout) must not post to destroyed io_contexts.
  struct Gate {
    std::shared_mutex mutex;
    bool open = true;
  };
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();
  // Every open connection, owned here so that replies hold only weak references and a
  // reply arriving after shutdown finds nothing to write to.
  std::mutex sessions_mutex;
  std::unordered_map<const void*, std::shared_ptr<Connection>> sessions;

  void accept();
  // Admits an accepted connection (or refuses it, 503) and starts reading it; on the acceptor's
  // thread. `index`: the I/O context its socket was made on.
  void hand_over(tcp::socket socket, std::size_t index);
  void take(tcp::socket socket, std::size_t index);
  void stop_threads();
  // Calls `ask` on every open connection, each on its own connection's thread; true once all
  // have been asked, false when `deadline` came first.
  bool ask_connections(void (Connection::*ask)(), std::chrono::steady_clock::time_point deadline);
  // At the drain's end: each request whose bytes are still arriving is answered 503 (see
  // Connection::cut_off); waits a little for those answers to be written.
  void cut_off_partial_requests();
};

namespace {

const char* kJson = "application/json";

// RFC 9110 §6.6.1: the Date field, an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"),
// formatted once a second per thread.
std::string_view http_date() {
  thread_local std::time_t cached_second = -1;
  thread_local char text[32];
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);  // "C" locale: English names
    cached_second = now;
  }
  return text;
}

// The size of a parsed request header as sent (request line, fields, the empty line), bar
// optional whitespace around field values.
std::size_t header_bytes(const http::request<http::string_body>& msg) {
  std::size_t n = msg.method_string().size() + 1 + msg.target().size() + 1 + 8 + 2 + 2;
  for (const auto& field : msg) n += field.name_string().size() + 2 + field.value().size() + 2;
  return n;
}

// RFC 9112 §3.2 / RFC 3986 §3.2.2: host [":" port], the host a bracketed IP literal or
// reg-name characters (unreserved, percent-encoded, sub-delims); empty is allowed.
bool valid_host(std::string_view v) {
  auto reg_name_char = [](unsigned char c) {
    return std::isalnum(c) || std::string_view("-._~%!$&'()*+,;=").find(static_cast<char>(c)) != std::string_view::npos;
  };
  std::size_t i = 0;
  if (!v.empty() && v.front() == '[') {
    const auto close = v.find(']');
    if (close == std::string_view::npos) return false;
    for (unsigned char c : v.substr(1, close - 1))
      if (!std::isxdigit(c) && c != ':' && c != '.' && c != 'v' && c != 'V') return false;
    i = close + 1;
  } else {
    while (i < v.size() && reg_name_char(static_cast<unsigned char>(v[i]))) ++i;
  }
  if (i == v.size()) return true;
  if (v[i] != ':') return false;
  for (unsigned char c : v.substr(i + 1))
    if (!std::isdigit(c)) return false;
  return true;
}

// The authority of a target in absolute form ("u@edge.example:8081" of
// "http://u@edge.example:8081/x"), or nullopt for a target in origin form.
std::optional<std::string_view> absolute_form_authority(std::string_view target) {
  const auto scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos || target.empty() || target.front() == '/') return std::nullopt;
  for (unsigned char c : target.substr(0, scheme_end))
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return std::nullopt;
  std::string_view authority = target.substr(scheme_end + 3);
  return authority.substr(0, authority.find_first_of("/?#"));
}

// host [":" port] of an authority, without its userinfo.
std::string_view host_of_authority(std::string_view authority) {
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  return authority;
}

// An authority that names a host (RFC 3986 §3.2: userinfo of unreserved, percent-encoded,
// sub-delims and ':' only, so that no other parser reads its host differently; a host that
// is not empty).
bool valid_authority(std::string_view authority) {
  const auto at = authority.rfind('@');
  if (at != std::string_view::npos)
    for (unsigned char c : authority.substr(0, at))
      if (!std::isalnum(c) && std::string_view("-._~%!$&'()*+,;=:").find(static_cast<char>(c)) == std::string_view::npos)
        return false;
  const std::string_view host = host_of_authority(authority);
  return !host.empty() && host.front() != ':' && valid_host(host);
}

// A request-target the server takes (RFC 9112 §3.2): origin form ("/path?q"), absolute form
// with an http or https scheme, or "*" (OPTIONS, answered 404). Anything else ("xapi/…",
// "ftp://h/…") would be routed by what follows its first character, or by a scheme the node
// does not serve.
bool acceptable_target(std::string_view target) {
  if (target.starts_with('/') || target == "*") return true;
  const auto scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return false;
  const std::string_view scheme = target.substr(0, scheme_end);
  return beast::iequals(scheme, "http") || beast::iequals(scheme, "https");
}

// Whether the connection stays open after this request's answer (RFC 9112 §9.3, §9.6): a
// `close` in any Connection field ends it, on HTTP/1.0 as on 1.1; HTTP/1.0 stays open only
// with `keep-alive`. (Beast's keep_alive() reads the first Connection field only, and on 1.0
// looks for keep-alive alone, so `Connection: keep-alive, close` would keep a 1.0 connection.)
bool wants_keep_alive(const http::request<http::string_body>& msg) {
  bool close = false, keep = false;
  for (auto [it, end] = msg.equal_range(http::field::connection); it != end; ++it)
    for (const auto token : http::token_list(it->value())) {
      if (beast::iequals(token, "close")) close = true;
      else if (beast::iequals(token, "keep-alive")) keep = true;
    }
  if (close) return false;
  return msg.version() >= 11 || keep;
}

// RFC 9112 §3.2.2: a server accepts a target in absolute form ("http://host/path?q"); it is
// routed by its path and query.
std::string origin_form(std::string_view target) {
  const auto scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos || target.empty() || target.front() == '/') return std::string(target);
  for (unsigned char c : target.substr(0, scheme_end))
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return std::string(target);
  const auto path = target.find_first_of("/?", scheme_end + 3);
  if (path == std::string_view::npos) return "/";
  if (target[path] == '?') return "/" + std::string(target.substr(path));
  return std::string(target.substr(path));
}

class Session final : public Connection, public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl* server, Outbox* outbox)
      : socket_(std::move(socket)), watchdog_(socket_.get_executor()), server_(server), outbox_(outbox) {
    ++server_->connections;
    beast::error_code ec;
    auto peer = socket_.remote_endpoint(ec);  // once per connection, not per request
    if (!ec) {
      auto address = peer.address();
      if (address.is_v6() && address.to_v6().is_v4_mapped())
        address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
      peer_ip_ = address.to_string();
    }
  }
  ~Session() {
    release_body();
    if (!counted_as_.empty()) {
      std::lock_guard lock(server_->client_connections_mutex);
      auto it = server_->client_connections.find(counted_as_);
      if (it != server_->client_connections.end() && --it->second == 0) server_->client_connections.erase(it);
    }
    --server_->connections;
  }

  const std::string& peer_ip() const { return peer_ip_; }
  // Counts this connection against its client's share; nullopt when it fits, else why not.
  std::optional<std::string> admit() {
    const auto& o = server_->options;
    const bool is_operator = o.operator_peer && o.operator_peer(peer_ip_);
    const std::size_t open = server_->connections.load();
    if (open > o.max_connections) return "Too many connections";
    if (!is_operator && open > o.max_connections - o.max_connections / 8) return "Too many connections";
    if (is_operator || (o.shared_peer && o.shared_peer(peer_ip_))) return std::nullopt;
    const std::string key = share_key(peer_ip_);
    std::lock_guard lock(server_->client_connections_mutex);
    auto& held = server_->client_connections[key];
    if (held >= o.connections_per_client()) {
      if (held == 0) server_->client_connections.erase(key);
      return "Too many connections from this client";
    }
    ++held;
    counted_as_ = key;
    return std::nullopt;
  }

  void start() {
    {
      std::lock_guard lock(server_->sessions_mutex);
      server_->sessions.emplace(this, shared_from_this());
    }
    arm_watchdog();
    do_read();
  }

  // Answers without calling the handler, then closes (overload, bad input). `in_flight`:
  // the request was counted in flight (see begin_drain).
  void reject(http::status status, std::string body, bool in_flight = false, std::vector<Header> headers = {}) {
    if (!watchdog_armed_) arm_watchdog();
    if (server_->options.on_refused) server_->options.on_refused(static_cast<int>(status));
    send(static_cast<int>(status), kJson, headers, std::move(body), false, in_flight);
  }

  asio::any_io_executor executor() override { return socket_.get_executor(); }

  void begin_drain() override {
    if (closed_ || !reading_ || counted_partial_ || !parser_) return;
    if (buffer_.size() == 0 && !parser_->got_some()) return;  // idle between requests
    counted_partial_ = true;
    ++server_->in_flight;
  }

  void cut_off() override {
    if (closed_ || !reading_ || !request_begun_ || timed_out_ || cut_off_) return;
    cut_off_ = true;
    ++server_->cut_answers;
    beast::error_code ignored;
    socket_.cancel(ignored);  // the pending read ends (on_read answers)
  }

  // Runs on the outbox's I/O thread: writes every queued response.
  static void drain(Outbox& outbox) {
    std::vector<std::pair<std::shared_ptr<void>, Response>> items;
    {
      std::lock_guard guard(outbox.mutex);
      items.swap(outbox.items);
      outbox.scheduled = false;
    }
    for (auto& [session, response] : items) static_cast<Session*>(session.get())->write(std::move(response));
  }

 private:
  using Clock = std::chrono::steady_clock;

  // One timer per connection instead of one per read and write: a read or write pending for
  // longer than the timeout (an idle keep-alive connection, a slow or stalled client) closes
  // the connection. Arming a timer per operation cost a timer-queue update (and often a
  // system call) twice per request.
  void arm_watchdog() {
    watchdog_armed_ = true;
    const auto timeout = std::chrono::seconds(server_->options.read_timeout_seconds);
    if (op_pending_) watchdog_.expires_at(op_started_ + timeout);
    else watchdog_.expires_after(timeout);
    watchdog_.async_wait([self = shared_from_this(), timeout](beast::error_code ec) {
      if (ec || self->closed_) return;
      if (self->op_pending_ && Clock::now() - self->op_started_ >= timeout) {
        // A request begun and not finished in time is answered 408 (RFC 9110 §15.5.9) once
        // its pending read is cancelled (on_read); an idle connection or a stalled write is
        // closed.
        if (self->reading_ && self->request_begun_ && !self->timed_out_) {
          self->timed_out_ = true;
          self->watchdog_armed_ = false;  // re-armed for the answer
          beast::error_code ignored;
          self->socket_.cancel(ignored);
          return;
        }
        return self->close();
      }
      self->arm_watchdog();
    });
  }

  void begin_op() {
    op_pending_ = true;
    op_started_ = Clock::now();
  }

  void do_read() {
    parser_.emplace();
    parser_->eager(false);  // the header alone first (its fields are counted), then eagerly the body
    parser_->body_limit(server_->options.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(server_->options.max_header_bytes));
    continue_checked_ = false;
    client_.clear();
    operator_request_ = !server_->options.screen;  // without a screen, no request is told apart
    early_.reset();
    header_consumed_ = 0;
    checked_ = 0;
    header_section_.reset();
    begin_op();
    request_begun_ = false;
    reading_ = true;
    parse_buffered();
  }

  // The request is read by a loop of our own that feeds Beast's parser (what http::async_read
  // does), so that between two reads it can answer `Expect: 100-continue` once the header is
  // in: a client that waits for it (curl does, for 1 s, with bodies over 1 KiB) then sends its
  // body at once. A header-first read followed by a body read cost 5-10% of throughput; this
  // costs one header lookup per request.
  void parse_buffered() {
    // The watchdog or the drain's end cancelled the read as its bytes arrived: answer 408 or
    // 503 (on_read), not read on.
    if (timed_out_ || cut_off_) return read_done(asio::error::operation_aborted);
    // RFC 9112 §2.2: empty lines before a request line (some clients send a CRLF after a
    // POST body) are ignored: a connection holding only those is idle, not a request begun.
    if (!parser_->got_some()) {
      const char* data = static_cast<const char*>(buffer_.data().data());
      std::size_t blank = 0;
      while (blank < buffer_.size() && (data[blank] == '\r' || data[blank] == '\n')) ++blank;
      buffer_.consume(blank);
      checked_ = blank < checked_ ? checked_ - blank : 0;
    }
    // A request's time runs from its first byte, not from when the connection went idle.
    if (!request_begun_ && buffer_.size() > 0) {
      request_begun_ = true;
      op_started_ = Clock::now();
    }
    while (buffer_.size() > 0 && !parser_->is_done()) {
      beast::error_code ec;
      const bool in_header = !parser_->is_header_done();
      if (in_header && folded_line_in_header()) return read_done(http::error::bad_value);
      const std::size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      checked_ = used < checked_ ? checked_ - used : 0;
      if (in_header && !parser_->is_header_done()) header_consumed_ += used;
      if (in_header && parser_->is_header_done()) {
        checked_ = 0;  // what is held now is the body's
        // A header that arrived in pieces can pass Beast's check, which sees one piece at a
        // time: the whole header, once parsed, is measured against the limit here.
        if (header_bytes(parser_->get()) > server_->options.max_header_bytes) return read_done(http::error::header_limit);
        // Beast adds a chunked body's trailer fields to the message (a field named as one of
        // the header's goes next to it, not at the end): the header section is kept now, so
        // that the message can be given back exactly these fields (below, on_read).
        header_section_.reset();
        if (parser_->chunked()) {
          header_section_.emplace();
          for (const auto& f : parser_->get())
            header_section_->emplace_back(std::string(f.name_string()), std::string(f.value()));
        }
        // A body still on its way: a request the handler would refuse whatever its body is
        // answered now, without waiting for the body or holding memory for it; the rest
        // counts against its client's share.
        const bool arriving = body_arriving();
        if (arriving && server_->options.screen) {
          // A header refused whatever the body is gets its 400 now, not the screen's answer.
          std::optional<std::string> refused = framing_refusal(parser_->get(), true);
          if (!refused) refused = framing_refusal(parser_->get(), false);
          if (refused) {
            if (server_->options.on_refused) server_->options.on_refused(400);
            early_ = Response{400, kJson, std::move(*refused), {}};
            return read_done({});
          }
          Screening screening = server_->options.screen(head_of(parser_->get()));
          if (screening.answer) {
            early_ = std::move(screening.answer);
            return read_done({});
          }
          client_ = std::move(screening.client);
          operator_request_ = screening.operator_request;
        }
        if (const auto refused = reserve_body(arriving); !refused.empty()) {
          refused_reason_ = refused;
          return read_done(asio::error::no_buffer_space);
        }
        parser_->eager(true);
      }
      if (ec == http::error::need_more) break;
      if (ec) return read_done(ec);
      if (used == 0) break;
    }
    if (parser_->is_done()) return read_done({});
    // Bytes the parser holds back for want of the rest: of a header (the limit counts what
    // it already took of it too), or of a chunk-size line, its extensions or the trailer
    // fields, which Beast bounds by nothing. Past the header limit, the request is refused
    // instead of buffered without end.
    const std::size_t limit = server_->options.max_header_bytes;
    if (!parser_->is_header_done() && header_consumed_ + buffer_.size() > limit) return read_done(http::error::header_limit);
    if (parser_->is_header_done() && buffer_.size() > limit) return read_done(http::error::buffer_overflow);
    // What the parser holds back of a chunked body is a chunk-size line (after the CRLF that
    // ends the chunk before it) or the trailer section, all of it lines ended by CRLF. A bare
    // LF there is never accepted: the parser would wait for a CR that cannot come, until the
    // timeout; the request is refused now instead.
    if (parser_->is_header_done() && parser_->chunked() && bare_line_feed()) return read_done(http::error::bad_chunk);
    // The same for a header still incomplete: the parser takes a header only whole, ended by
    // an empty line with CRLF, so a bare LF already held (one ending the header section, after
    // the last field) would leave it waiting until the timeout. Refused now, as a bare LF
    // elsewhere in the header is.
    if (!parser_->is_header_done() && bare_line_feed_in_header()) return read_done(http::error::bad_line_ending);
    // Everything held has passed the checks that apply to it. (A chunked body's held bytes
    // are only ever a chunk-size line or trailer section, what bare_line_feed looks at.)
    if (!parser_->is_header_done() || parser_->chunked()) checked_ = buffer_.size();
    if (!continue_checked_ && parser_->is_header_done()) {
      continue_checked_ = true;
      if (!answer_expect_continue()) {
        close();
        return read_done(asio::error::connection_aborted);
      }
    }
    read_more();
  }

  void read_more() {
    const std::size_t spare = buffer_.capacity() - buffer_.size();
    socket_.async_read_some(buffer_.prepare(std::max<std::size_t>(spare, 16 << 10)),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->buffer_.commit(n);
                              if (ec == asio::error::eof) {
                                // The peer closed: between requests that is the end of the
                                // connection; within one, a truncated request.
                                if (!self->parser_->got_some()) return self->read_done(http::error::end_of_stream);
                                beast::error_code eof;
                                self->parser_->put_eof(eof);
                                return self->read_done(eof ? eof : http::error::partial_message);
                              }
                              if (ec) return self->read_done(ec);
                              self->parse_buffered();
                            });
  }

  void read_done(beast::error_code ec) {
    op_pending_ = false;
    reading_ = false;
    on_read(ec);
  }

  // RFC 9110 §10.1.1: a client that sent Expect: 100-continue may wait for an interim
  // response before sending the body. Written directly (25 bytes, non-blocking; no write of
  // this connection is pending while a request is read); if the socket cannot take them now,
  // the client sends its body after its own timeout. False: only part of the line went out,
  // so the response stream is broken and the connection must close.
  bool answer_expect_continue() {
    const auto& header = parser_->get();
    if (header.version() < 11 || parser_->is_done()) return true;
    if (const auto length = parser_->content_length(); length && *length == 0) return true;
    const auto expect = header.find(http::field::expect);
    if (expect == header.end() || !beast::iequals(expect->value(), "100-continue")) return true;
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    const ssize_t sent = ::send(socket_.native_handle(), kContinue.data(), kContinue.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return sent <= 0 || static_cast<std::size_t>(sent) == kContinue.size();
  }

  // Whose share a body counts against: the client's address, or for IPv6 its /64 (one host
  // commonly holds a whole /64, so its addresses are one client).
  static std::string share_key(const std::string& client) { return config::client_group(client); }

  // Whether the bytes held back hold an LF with no CR before it (past those already checked).
  bool bare_line_feed() const {
    return has_bare_line_feed({static_cast<const char*>(buffer_.data().data()), buffer_.size()}, checked_);
  }
  // Where a search for the end of the header (CRLF CRLF) in what is held starts: one that
  // ends past the bytes already checked may begin in them.
  std::size_t header_end_search_from() const { return checked_ > 3 ? checked_ - 3 : 0; }
  // The same in what the buffer holds of a header not yet parsed: up to its end (CRLF CRLF),
  // not in a body sent after it.
  bool bare_line_feed_in_header() const {
    const std::string_view held(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    const auto end = held.find("\r\n\r\n", header_end_search_from());
    return has_bare_line_feed(end == std::string_view::npos ? held : held.substr(0, end + 4), checked_);
  }
  // RFC 9112 §5.2: a header line that begins with a space or tab continues the line before it
  // (obsolete line folding). Beast joins such lines into one value, but a proxy in front may read
  // them otherwise (`Transfer-Encoding:` empty, then a line of its own), so that the two would
  // frame the request differently: it is refused (400), as the RFC allows.
  bool folded_line_in_header() const {
    const std::string_view held(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    const auto end = held.find("\r\n\r\n", header_end_search_from());
    const std::string_view header = end == std::string_view::npos ? held : held.substr(0, end + 2);
    // The parser takes the header a whole line at a time: what it has taken ended in CRLF.
    if (header_consumed_ > 0 && !header.empty() && (header[0] == ' ' || header[0] == '\t')) return true;
    // A CRLF at the end of what was checked had no byte after it yet: looked at again.
    for (auto at = header.find("\r\n", checked_ > 2 ? checked_ - 2 : 0); at != std::string_view::npos;
         at = header.find("\r\n", at + 2))
      if (at + 2 < header.size() && (header[at + 2] == ' ' || header[at + 2] == '\t')) return true;
    return false;
  }
  static bool has_bare_line_feed(std::string_view held, std::size_t from) {
    for (std::size_t at = held.find('\n', from); at != std::string_view::npos; at = held.find('\n', at + 1))
      if (at == 0 || held[at - 1] != '\r') return true;
    return false;
  }

  // Whether the request has a body that is not all in the buffer yet (its header just parsed).
  bool body_arriving() const {
    if (parser_->is_done()) return false;
    if (parser_->chunked()) return true;
    const auto length = parser_->content_length();
    return length && *length > buffer_.size();
  }

  // The request as far as its header goes, for the server's screen.
  Request head_of(const http::request<http::string_body>& msg) const {
    Request head;
    head.method = std::string(msg.method_string());
    head.target = origin_form(msg.target());
    head.headers.reserve(8);
    // With a target in absolute form, its authority is the request's host and Host is
    // ignored (RFC 9112 §3.2.2): what the split surfaces compare is the host the URL names.
    const auto authority = absolute_form_authority(msg.target());
    if (authority) head.headers.push_back({"Host", std::string(host_of_authority(*authority))});
    for (const auto& field : msg) {
      if (authority && beast::iequals(field.name_string(), "Host")) continue;
      head.headers.push_back({std::string(field.name_string()), std::string(field.value())});
    }
    head.peer_ip = peer_ip_;
    return head;
  }

  // The body's share of the server-wide budget, from its header until its response is
  // written; a body still arriving also counts against its client's share. Empty: reserved;
  // otherwise why not.
  std::string reserve_body(bool arriving) {
    const auto length = parser_->content_length();
    const std::size_t want = length ? static_cast<std::size_t>(std::min<std::uint64_t>(*length, server_->options.max_body_bytes))
                                    : parser_->chunked() ? server_->options.max_body_bytes : 0;
    if (want == 0) return {};
    if (arriving) {
      client_ = share_key(client_.empty() ? peer_ip_ : client_);
      std::lock_guard lock(server_->client_bodies_mutex);
      auto& held = server_->client_bodies[client_];
      if (held + want > server_->options.max_buffered_body_bytes_per_client()) {
        if (held == 0) server_->client_bodies.erase(client_);
        return "Too many request bodies in flight from this client; retry shortly";
      }
      if (!operator_request_ &&
          server_->unprivileged_bodies + want > server_->options.max_buffered_body_bytes_unprivileged()) {
        if (held == 0) server_->client_bodies.erase(client_);
        return "Too many request bodies in flight; retry shortly";
      }
      held += want;
      if (!operator_request_) server_->unprivileged_bodies += want;
      client_reserved_ = want;
      unprivileged_reserved_ = !operator_request_;
    }
    std::size_t now = server_->buffered_body_bytes.load();
    do {
      if (now + want > server_->options.max_buffered_body_bytes) {
        release_client();
        return "Too many request bodies in flight; retry shortly";
      }
    } while (!server_->buffered_body_bytes.compare_exchange_weak(now, now + want));
    reserved_ += want;
    return {};
  }
  void release_client() {
    if (client_reserved_ == 0) return;
    std::lock_guard lock(server_->client_bodies_mutex);
    auto it = server_->client_bodies.find(client_);
    if (it != server_->client_bodies.end() && (it->second -= std::min(it->second, client_reserved_)) == 0)
      server_->client_bodies.erase(it);
    if (unprivileged_reserved_) server_->unprivileged_bodies -= std::min(server_->unprivileged_bodies, client_reserved_);
    client_reserved_ = 0;
    unprivileged_reserved_ = false;
  }
  void release_body() {
    server_->buffered_body_bytes -= std::exchange(reserved_, 0);
    release_client();
  }
  // A large answer's share of max_sending_body_bytes; false: it does not fit beside those
  // being sent (one goes whenever none is). A write's answer (`refusable` false) always goes,
  // and counts.
  bool reserve_sending(std::size_t size, bool refusable) {
    std::size_t now = server_->sending_body_bytes.load();
    do {
      if (refusable && now != 0 && now + size > server_->options.max_sending_body_bytes) return false;
    } while (!server_->sending_body_bytes.compare_exchange_weak(now, now + size));
    sending_reserved_ = size;
    return true;
  }
  void release_sending() { server_->sending_body_bytes -= std::exchange(sending_reserved_, 0); }

  // The 400 (its body) for a request whose header the node refuses whatever its body: with
  // `transfer`, a Transfer-Encoding that is not chunked alone; else no Host or a bad one, or a
  // target that is no request target. Checked as the header arrives too (before a screen
  // answers for a body still on its way), so that such a request gets the same 400 then.
  std::optional<std::string> framing_refusal(const http::request<http::string_body>& msg, bool transfer) const {
    if (transfer) {
      const bool has_te = msg.find(http::field::transfer_encoding) != msg.end();
      if (!has_te) return std::nullopt;
      // A request whose Transfer-Encoding does not end in chunked has no knowable length
      // (RFC 9112 §6.3): 400 and close, so no proxy in front can read its bytes differently.
      // The parser's view, not the header's last token: "chunked, chunked" ends in chunked but
      // is not a chunked body to Beast, which then reads none, and its bytes would be taken
      // for the next request.
      if (!parser_->chunked()) return "{\"detail\":\"Transfer-Encoding must end in chunked, applied once\"}";
      // Codings other than chunked (gzip, chunked): never handed on still encoded. RFC 9112
      // §6.1 suggests 501; like every other request the node cannot take, it is a 400 (as in
      // the reference's server), which says why.
      std::size_t tes = 0;
      bool only_chunked = true;
      for (auto it = msg.find(http::field::transfer_encoding); it != msg.end() && it->name() == http::field::transfer_encoding; ++it) {
        ++tes;
        std::string_view v = it->value();
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
        only_chunked = only_chunked && beast::iequals(v, "chunked");
      }
      if (tes != msg.count(http::field::transfer_encoding) || !only_chunked)
        return "{\"detail\":\"Transfer-Encoding other than chunked is not supported\"}";
      return std::nullopt;
    }
    // RFC 9112 §3.2: an HTTP/1.1 request without a Host field, or with more than one, is 400.
    const auto hosts = msg.count(http::field::host);
    if (hosts > 1) return "{\"detail\":\"More than one Host header\"}";
    if (hosts == 0 && msg.version() >= 11) return "{\"detail\":\"Missing Host header\"}";
    if (hosts == 1 && !valid_host(msg[http::field::host])) return "{\"detail\":\"Invalid Host header\"}";
    // RFC 9112 §3.2.2: a target in absolute form names the host (Host is ignored), so one
    // whose authority names none ("http:///x") is refused as an invalid Host is.
    if (const auto authority = absolute_form_authority(msg.target()); authority && !valid_authority(*authority))
      return "{\"detail\":\"Invalid Host header\"}";
    if (!acceptable_target(msg.target())) return "{\"detail\":\"Invalid request target\"}";
    return std::nullopt;
  }

  void on_read(beast::error_code ec) {
    // Counted in flight when the drain began (its bytes were arriving): every way out of
    // here either answers it (which uncounts it) or uncounts it now.
    const bool counted = std::exchange(counted_partial_, false);
    auto uncount = [&] {
      if (counted) --server_->in_flight;
    };
    if (closed_) return uncount();
    // A refusal of a HEAD request (its request line read) has no body either (RFC 9110 §9.3.2).
    head_ = parser_->get().method() == http::verb::head;
    read_request_ = false;  // set for a request handed on; a refusal's answer is small
    if (timed_out_)
      return reject(http::status::request_timeout, "{\"detail\":\"Request not received in time\"}", counted);
    if (cut_off_)
      return reject(http::status::service_unavailable, "{\"detail\":\"Shutting down\"}", counted, {{"Retry-After", "1"}});
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      uncount();
      return close();
    }
    if (ec == http::error::body_limit)
      return reject(http::status::payload_too_large, "{\"detail\":\"Request body too large\"}", counted);
    if (ec == http::error::header_limit) {
      // The request line alone past the limit (the parser never got to its end, so it has
      // no target yet): the target is what is too long (RFC 9110 §15.5.15), not the fields.
      if (parser_->get().target().empty())
        return reject(http::status::uri_too_long, "{\"detail\":\"Request URI too long\"}", counted);
      return reject(http::status::request_header_fields_too_large, "{\"detail\":\"Request headers too large\"}", counted);
    }
    if (ec == http::error::buffer_overflow)
      return reject(http::status::bad_request, "{\"detail\":\"Chunk size line or trailer fields too long\"}", counted);
    if (ec == asio::error::no_buffer_space)
      return reject(http::status::service_unavailable, "{\"detail\":\"" + std::exchange(refused_reason_, {}) + "\"}", counted,
                    {{"Retry-After", "1"}});
    if (early_) {
      // Answered from the header (screen): the body is not read; the connection closes after
      // the answer (what the client still sends is dropped, linger_close).
      Response r = std::move(*early_);
      early_.reset();
      const auto& msg = parser_->get();
      head_ = msg.method() == http::verb::head;
      http10_ = msg.version() < 11;
      if (!counted) ++server_->in_flight;
      return send(r.status, r.content_type, r.headers, std::move(r.body), false, true);
    }
    // A header with a bare LF in it, whatever the parser made of that (a bad version, field or
    // value, or no end): said as what it is.
    if (ec && !parser_->is_header_done() && bare_line_feed_in_header())
      return reject(http::status::bad_request, "{\"detail\":\"Bad request: lines must end in CRLF\"}", counted);
    if (ec && !parser_->is_header_done() && folded_line_in_header())
      return reject(http::status::bad_request,
                    "{\"detail\":\"Bad request: a header line may not begin with a space or tab (obsolete line folding)\"}", counted);
    // A request line naming another HTTP version than 1.0 or 1.1 (RFC 9110 §15.6.6); a version
    // that is no HTTP-version at all stays a 400. The parser leaves the line it refused in the
    // buffer.
    if (ec == http::error::bad_version) {
      const std::string_view data(static_cast<const char*>(buffer_.data().data()), buffer_.size());
      const std::string_view line = data.substr(0, data.find("\r\n"));
      const std::string_view version = line.substr(line.rfind(' ') + 1);
      const bool well_formed = version.size() == 8 && version.substr(0, 5) == "HTTP/" && std::isdigit(static_cast<unsigned char>(version[5])) &&
                               version[6] == '.' && std::isdigit(static_cast<unsigned char>(version[7]));
      // Method, target and version, one space apart: a target with a space in it (`/a b`) or
      // a doubled space reaches the version's place with other text, which is a bad request
      // line, not another version.
      const bool three_parts = std::count(line.begin(), line.end(), ' ') == 2;
      if (!three_parts)
        return reject(http::status::bad_request,
                      "{\"detail\":\"Bad request line (method, target and version, one space apart; a space in the target must "
                      "be sent as %20)\"}",
                      counted);
      // 400, not 505: a request this server cannot take is bad input, answered as every other
      // (the reference's server answers it 400 too).
      if (well_formed)
        return reject(http::status::bad_request, "{\"detail\":\"HTTP version not supported (HTTP/1.1 is)\"}", counted);
    }
    if (ec) return reject(http::status::bad_request, "{\"detail\":\"Bad request\"}", counted);

    auto& msg = parser_->get();
    // RFC 9110 §6.5.1: trailer fields are not header fields. Beast merged them into the
    // message; they are dropped, so none can pass for a token, a Host, a Content-Type or a
    // Connection the header section did not send.
    if (header_section_) {
      for (auto it = msg.begin(); it != msg.end();) it = msg.erase(it);
      for (const auto& [name, value] : *header_section_) msg.insert(name, value);
      header_section_.reset();
    }
    // A request whose Transfer-Encoding does not end in chunked has no knowable length
    // (RFC 9112 §6.3): 400 and close, so no proxy in front can read its bytes differently.
    // The parser's view, not the header's last token: "chunked, chunked" ends in chunked but
    // is not a chunked body to Beast, which then reads none, and its bytes would be taken
    // for the next request.
    const bool has_te = msg.find(http::field::transfer_encoding) != msg.end();
    if (auto refused = framing_refusal(msg, true)) return reject(http::status::bad_request, std::move(*refused), counted);
    // Shutting down: a request that began after the drain did is not taken (its answer could
    // be cut off when the drain ends); the client retries elsewhere.
    // Counted in flight, so that the drain waits until the answer is written.
    if (server_->draining.load() && !counted) {
      ++server_->in_flight;
      return reject(http::status::service_unavailable, "{\"detail\":\"Shutting down\"}", true, {{"Retry-After", "1"}});
    }
    if (auto refused = framing_refusal(msg, false)) return reject(http::status::bad_request, std::move(*refused), counted);
    keep_alive_ = wants_keep_alive(msg);
    http10_ = msg.version() < 11;
    // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing: answered,
    // then the connection closes.
    if (has_te && msg.version() < 11) keep_alive_ = false;
    Request request = head_of(msg);
    head_ = request.method == "HEAD";  // answered as GET, without the body
    read_request_ = head_ || request.method == "GET";
    request.body = std::move(msg.body());

    if (!counted) ++server_->in_flight;
    auto executor = socket_.get_executor();
    Responder responder([weak = weak_from_this(), executor, gate = server_->gate, outbox = outbox_](Response response) {
      std::shared_lock lock(gate->mutex);
      // Closed: the server is going; no reference to the connection is taken here, which
      // could then be the last one, dropped on this (an actor's) thread after the
      // connection's I/O context is gone.
      if (!gate->open) return;
      auto self = weak.lock();
      if (!self) return;
      bool post = false;
      {
        std::lock_guard guard(outbox->mutex);
        outbox->items.emplace_back(std::move(self), std::move(response));
        post = !std::exchange(outbox->scheduled, true);
      }
      if (post) asio::post(executor, [outbox] { drain(*outbox); });
    });
    server_->handler(std::move(request), std::move(responder));
  }

  void write(Response response) {
    if (closed_) {
      --server_->in_flight;
      return;
    }
    const bool keep_alive = keep_alive_ && !server_->draining.load();
    send(response.status, response.content_type, response.headers, std::move(response.body), keep_alive, true);
  }

  // The response written directly: status line and headers, and a small body, in one buffer;
  // a large body (a listing of every workload: hundreds of MB) is written from its own string,
  // never copied on this I/O thread, whose other connections would wait for the copy.
  // `in_flight`: it answers a request the server counts until its bytes are written (shutdown
  // drains them).
  void send(int status, std::string_view content_type, const std::vector<Header>& given_headers, std::string body,
            bool keep_alive, bool in_flight) {
    struct Outgoing {
      std::string head, body;
    };
    auto outgoing = std::make_shared<Outgoing>();
    std::string* out = &outgoing->head;
    constexpr std::size_t kCopiedBodyBytes = 64 * 1024;
    // A large body counts against the server's budget for them until it is written.
    const std::vector<Header>* headers_in = &given_headers;
    static const std::vector<Header> kRetryLater{{"Retry-After", "5"}};
    const bool sends_body = status >= 200 && status != 204 && status != 304 && !head_;
    if (sends_body && body.size() > kCopiedBodyBytes && !reserve_sending(body.size(), read_request_)) {
      status = 503;
      content_type = kJson;
      body = "{\"detail\":\"Too many large answers are being sent; retry shortly\"}";
      headers_in = &kRetryLater;
      if (server_->options.on_refused) server_->options.on_refused(503);
    }
    const std::vector<Header>& headers = *headers_in;
    out->reserve(160 + (body.size() <= kCopiedBodyBytes ? body.size() : 0));
    *out += "HTTP/1.1 ";
    *out += std::to_string(status);
    *out += ' ';
    *out += http::obsolete_reason(static_cast<http::status>(status));
    *out += "\r\nServer: lpops\r\nDate: ";
    *out += http_date();
    *out += "\r\n";
    if (!content_type.empty()) {  // a response without a body (a redirect) names no type
      *out += "Content-Type: ";
      *out += content_type;
      *out += "\r\n";
    }
    for (const auto& h : headers) {
      if (h.name.find_first_of("\r\n:") != std::string::npos || h.value.find_first_of("\r\n") != std::string::npos) continue;
      *out += h.name;
      *out += ": ";
      *out += h.value;
      *out += "\r\n";
    }
    const bool has_body = status >= 200 && status != 204 && status != 304;
    if (has_body) {
      *out += "Content-Length: ";
      *out += std::to_string(body.size());
      *out += "\r\n";
    }
    if (!keep_alive) *out += "Connection: close\r\n";
    else if (http10_) *out += "Connection: keep-alive\r\n";  // an HTTP/1.0 client closes otherwise (RFC 9112 §9.3)
    *out += "\r\n";
    if (has_body && !head_) {
      if (body.size() <= kCopiedBodyBytes) *out += body;
      else outgoing->body = std::move(body);
    }
    begin_op();
    auto written = [self = shared_from_this(), outgoing, keep_alive, in_flight](beast::error_code ec, std::size_t) {
      self->op_pending_ = false;
      self->release_body();
      self->release_sending();
      self->cut_answered();
      // The drain's grace for a connection left open runs from when its answer was written
      // (a large one can take longer than the grace to leave), set before the answer stops
      // counting in flight.
      if (keep_alive && !ec)
        self->server_->last_keep_alive_ns.store(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(), std::memory_order_relaxed);
      if (in_flight) --self->server_->in_flight;
      if (ec || self->closed_) return self->close();
      if (!keep_alive) return self->linger_close();
      // The client was told the connection stays open: its next request is read even if the
      // drain began meanwhile, and answered (503 and a close then), never dropped unanswered.
      self->do_read();
    };
    // One buffer, one write(2), unless the body stayed in its own string.
    if (outgoing->body.empty()) return asio::async_write(socket_, asio::buffer(outgoing->head), std::move(written));
    // A large body may take longer than the timeout to reach a client that reads it steadily:
    // the timeout is for a stall, so each piece the client takes starts it again, up to the
    // time the body takes at the least rate a client must read at.
    const std::uint64_t rate = std::max<std::size_t>(server_->options.min_send_bytes_per_second, 1);
    const auto latest = Clock::now() + std::chrono::microseconds(outgoing->body.size() * std::uint64_t{1'000'000} / rate);
    auto progress = [self = shared_from_this(), sent = std::size_t{0}, latest](const beast::error_code& ec, std::size_t total) mutable {
      if (ec) return std::size_t{0};
      if (total != sent) {
        sent = total;
        self->op_started_ = std::min(Clock::now(), latest);
      }
      return std::size_t{1} << 20;  // at most this much per write(2)
    };
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(outgoing->head), asio::buffer(outgoing->body)};
    asio::async_write(socket_, buffers, std::move(progress), std::move(written));
  }

  // RFC 9112 §9.6: after an answer that ends the connection, what the client is still sending
  // is read and dropped for a while (until it closes, at most 2 s), so that a reset does not
  // destroy the answer before the client reads it (a 413 in the middle of a large upload).
  void linger_close() {
    // Refused before any read (too many connections): nothing is on its way; close at once
    // rather than hold the descriptor.
    if (closed_ || !parser_) return close();
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    const auto deadline = Clock::now() + std::chrono::seconds(2);
    op_pending_ = true;  // the watchdog closes the connection at the deadline
    op_started_ = deadline - std::chrono::seconds(server_->options.read_timeout_seconds);
    watchdog_.cancel();
    arm_watchdog();
    discard();
  }
  void discard() {
    socket_.async_read_some(buffer_.prepare(16 << 10), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || self->closed_) return self->close();
      self->discard();
    });
  }

  // The 503 to a cut-off request is written, or its connection closed before it could be.
  void cut_answered() {
    if (std::exchange(cut_off_, false)) --server_->cut_answers;
  }

  void close() {
    release_body();
    cut_answered();
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    watchdog_.cancel();
    std::lock_guard lock(server_->sessions_mutex);
    server_->sessions.erase(this);
  }

  tcp::socket socket_;
  asio::steady_timer watchdog_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpServer::Impl* server_;
  Outbox* outbox_;
  std::string peer_ip_;
  std::string counted_as_;  // the client share this connection counts against, if any
  bool keep_alive_ = false;
  bool head_ = false;  // the request being answered is a HEAD
  // ... a GET or HEAD: only a read's large answer may be refused for the sending budget (a
  // write's answer reports a change already made, and is never withheld).
  bool read_request_ = false;
  bool http10_ = false;  // ... and came as HTTP/1.0
  bool closed_ = false;
  bool watchdog_armed_ = false;
  bool op_pending_ = false;
  bool reading_ = false;          // a request read is pending
  bool timed_out_ = false;        // ... and was cancelled by the watchdog (408)
  bool request_begun_ = false;    // ... and has had its first byte
  bool counted_partial_ = false;  // ... and counted in flight by begin_drain
  bool cut_off_ = false;          // ... and cut off at the drain's end, its 503 not yet written
  bool continue_checked_ = false;  // Expect: 100-continue looked at for the request being read
  std::size_t header_consumed_ = 0;  // header bytes the parser has taken of the request being read
  // Bytes at the buffer's start that the line checks (bare LF, folded lines) already passed:
  // each read looks at what arrived since, not again at all it holds (a header sent a byte at
  // a time would cost its whole length per byte).
  std::size_t checked_ = 0;
  // A chunked request's header section, as it came (its trailer fields are not in it).
  std::optional<std::vector<std::pair<std::string, std::string>>> header_section_;
  std::size_t reserved_ = 0;                // this request's share of buffered_body_bytes
  std::size_t sending_reserved_ = 0;        // its answer's share of sending_body_bytes
  std::size_t client_reserved_ = 0;         // ... counted against client_ too (a body still arriving)
  std::string client_;                      // the client of the request being read (from the screen)
  bool operator_request_ = false;           // ... and whether it carries an operator token
  bool unprivileged_reserved_ = false;      // its reservation counts in unprivileged_bodies
  std::string refused_reason_;              // why its body had no room (503)
  std::optional<Response> early_;           // its answer, given from its header (screen)
  Clock::time_point op_started_{};
};

}  // namespace

void HttpServer::Impl::accept() {
  const std::size_t index = next_context++ % contexts.size();
  acceptor->async_accept(*contexts[index], [this, index](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    // Accepted just as the acceptor closed (a stop): the connection is taken, so that its
    // request is answered 503 `Shutting down` rather than dropped unanswered.
    if (!ec && !acceptor->is_open()) return hand_over(std::move(socket), index);
    if (!acceptor->is_open()) return;
    if (ec) {
      // Out of file descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): the pending
      // connection stays queued, so accepting again at once would fail again at once, a
      // busy loop. Waits a little instead, and says so once per episode.
      if (!accept_failing) spdlog::warn("http: accepting a connection failed: {}; retrying every 100 ms", ec.message());
      accept_failing = true;
      accept_backoff->expires_after(std::chrono::milliseconds(100));
      accept_backoff->async_wait([this](beast::error_code timer_ec) {
        if (!timer_ec && acceptor->is_open()) accept();
      });
      return;
    }
    if (accept_failing) spdlog::info("http: accepting connections again");
    accept_failing = false;
    hand_over(std::move(socket), index);
    accept();
  });
}

void HttpServer::Impl::hand_over(tcp::socket socket, std::size_t index) {
  // The connection is set up on its own I/O thread, where all its operations run: set up on
  // the acceptor's, its first read could complete, or the drain ask it to count its request,
  // on that thread meanwhile.
  auto executor = socket.get_executor();
  ++handing_over;
  asio::post(executor, [this, socket = std::move(socket), index]() mutable {
    take(std::move(socket), index);
    --handing_over;
  });
}

void HttpServer::Impl::take(tcp::socket socket, std::size_t index) {
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto session = std::make_shared<Session>(std::move(socket), this, outboxes[index].get());
  const auto refused = session->admit();
  if (refused) {
    if (*refused != "Too many connections" && !client_refusal_logged.exchange(true))
      spdlog::warn("http: {} ({}; at most {} at once, the first refusal of this run logged)", *refused, session->peer_ip(),
                   options.connections_per_client());
    session->reject(http::status::service_unavailable, "{\"detail\":\"" + *refused + "\"}");
    return;
  }
  // Accepted while the drain begins: its client has likely sent its request already. The drain
  // waits a little for it (as for a request on a connection just left open) and answers it 503
  // `Shutting down`, so that the client knows it was not taken, rather than a reset.
  if (draining.load())
    last_keep_alive_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count(),
                             std::memory_order_relaxed);
  session->start();
}

void HttpServer::Impl::stop_threads() {
  guards.clear();
  for (auto& c : contexts) c->stop();
  for (auto& t : threads)
    if (t.joinable()) t.join();
  threads.clear();
}

bool HttpServer::Impl::ask_connections(void (Connection::*ask)(), std::chrono::steady_clock::time_point deadline) {
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(sessions_mutex);
    for (auto& [key, c] : sessions) open.push_back(c);
  }
  if (open.empty()) return true;
  auto pending = std::make_shared<std::atomic<std::size_t>>(open.size());
  auto asked = std::make_shared<std::promise<void>>();
  auto all_asked = asked->get_future();
  for (auto& c : open)
    asio::post(c->executor(), [c, ask, pending, asked] {
      ((*c).*ask)();
      if (--*pending == 0) asked->set_value();
    });
  return all_asked.wait_until(deadline) == std::future_status::ready;
}

void HttpServer::Impl::cut_off_partial_requests() {
  // Bounded: a stalled I/O thread or a client that does not read cannot hold up the stop.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(250);
  if (!ask_connections(&Connection::cut_off, deadline)) return;
  while (cut_answers.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

HttpServer::HttpServer(ServerOptions options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
}

HttpServer::~HttpServer() { shutdown(std::chrono::milliseconds(0)); }

std::uint16_t HttpServer::start() {
  auto& im = *impl_;
  const unsigned n = std::max(1u, im.options.io_threads);
  for (unsigned i = 0; i < n; ++i) {
    im.contexts.push_back(std::make_unique<asio::io_context>(1));
    im.outboxes.push_back(std::make_unique<Outbox>());
    im.guards.emplace_back(im.contexts.back()->get_executor());
  }
  const std::string where = im.options.host + ":" + std::to_string(im.options.port);
  try {
    // An IP address, else a host name resolved once here (e.g. "localhost"); the first
    // IPv4 address it resolves to is the one bound (else the first address).
    beast::error_code not_ip;
    auto ip = asio::ip::make_address(im.options.host, not_ip);
    tcp::endpoint endpoint;
    if (!not_ip) {
      endpoint = tcp::endpoint(ip, im.options.port);
    } else {
      tcp::resolver resolver(*im.contexts[0]);
      auto found = resolver.resolve(im.options.host, std::to_string(im.options.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service);
      if (found.empty()) throw std::runtime_error("the host name resolves to no address");
      endpoint = found.begin()->endpoint();
      for (const auto& entry : found)
        if (entry.endpoint().address().is_v4()) {
          endpoint = entry.endpoint();
          break;
        }
    }
    im.acceptor = std::make_unique<tcp::acceptor>(*im.contexts[0]);
    im.acceptor->open(endpoint.protocol());
    im.acceptor->set_option(asio::socket_base::reuse_address(true));
    im.acceptor->bind(endpoint);
    im.acceptor->listen(asio::socket_base::max_listen_connections);
    im.accept_backoff = std::make_unique<asio::steady_timer>(*im.contexts[0]);
  } catch (const std::exception& e) {
    im.acceptor.reset();  // before the io_context it was made on
    im.guards.clear();
    im.outboxes.clear();
    im.contexts.clear();
    // The system's words ("Address already in use"), without Boost's source location.
    const auto* system = dynamic_cast<const boost::system::system_error*>(&e);
    throw std::runtime_error("cannot listen on " + where + ": " + (system ? system->code().message() : std::string(e.what())));
  }
  std::uint16_t port = im.acceptor->local_endpoint().port();
  im.accept();
  for (std::size_t i = 0; i < im.contexts.size(); ++i)
    im.threads.emplace_back([ctx = im.contexts[i].get(), name = "lpops-http-" + std::to_string(i)] {
      pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
      ctx->run();
    });
  im.running = true;
  return port;
}

void HttpServer::stop_accepting() {
  auto& im = *impl_;
  im.draining = true;
  if (!im.acceptor) return;
  std::promise<void> closed;
  auto done = closed.get_future();
  asio::post(im.acceptor->get_executor(), [&] {
    beast::error_code ignored;
    // The connections the kernel completed but the node has not accepted yet would be reset
    // when the listener closes, their requests perhaps sent: they are accepted now and
    // answered 503 `Shutting down`. One arriving after the close is refused by the kernel, so
    // its client knows nothing was sent. (Bounded: a flood does not hold up the stop.)
    im.acceptor->cancel(ignored);
    im.acceptor->non_blocking(true, ignored);
    for (int i = 0; i < 4096 && !im.contexts.empty(); ++i) {
      const std::size_t index = im.next_context++ % im.contexts.size();
      tcp::socket socket(*im.contexts[index]);
      beast::error_code ec;
      im.acceptor->accept(socket, ec);
      if (ec) break;
      im.hand_over(std::move(socket), index);
    }
    im.acceptor->close(ignored);
    if (im.accept_backoff) im.accept_backoff->cancel();
    closed.set_value();
  });
  if (!im.running) return;
  done.wait();
  // Requests whose bytes are still arriving join those in flight, each checked on its own
  // connection's thread; waits until every connection has been asked (handlers are short;
  // bounded all the same).
  im.ask_connections(&Connection::begin_drain, std::chrono::steady_clock::now() + std::chrono::seconds(5));
}

std::size_t HttpServer::shutdown(std::chrono::milliseconds drain_timeout, const std::function<bool()>& cut_short) {
  auto& im = *impl_;
  if (!im.running) return 0;
  stop_accepting();
  const auto deadline = std::chrono::steady_clock::now() + drain_timeout;
  // Beyond the requests in flight, a client that had an answer leaving its connection open
  // just before the drain began may already be sending its next request on it: for a short
  // while after that answer such a request is still answered (503, close), rather than met by
  // a closed connection, where the client could not tell whether a write was applied.
  constexpr std::chrono::milliseconds kKeepAliveGrace{200};
  while (std::chrono::steady_clock::now() < deadline && !(cut_short && cut_short())) {
    const std::chrono::steady_clock::time_point last_open_answer{
        std::chrono::nanoseconds(im.last_keep_alive_ns.load(std::memory_order_relaxed))};
    const bool grace_over = im.connections.load() == 0 || std::chrono::steady_clock::now() >= last_open_answer + kKeepAliveGrace;
    if (im.in_flight.load() == 0 && im.handing_over.load() == 0 && grace_over) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  im.cut_off_partial_requests();
  const std::size_t abandoned = im.in_flight.load();
  {
    std::unique_lock lock(im.gate->mutex);
    im.gate->open = false;
  }
  im.stop_threads();
  im.running = false;
  im.accept_backoff.reset();
  im.acceptor.reset();
  {
    std::lock_guard lock(im.sessions_mutex);
    im.sessions.clear();
  }
  for (auto& o : im.outboxes) {
    std::lock_guard guard(o->mutex);
    o->items.clear();
  }
  im.contexts.clear();  // destroys pending handlers and with them the idle connections
  return abandoned;
}

std::size_t HttpServer::in_flight() const { return impl_->in_flight.load(); }
std::size_t HttpServer::open_connections() const { return impl_->connections.load(); }

}  // namespace lpops::net
