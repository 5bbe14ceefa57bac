#include "app/http_get.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <cctype>
#include <optional>

#include "chain/resolve.hpp"

namespace lpops::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpGetter::Impl {
  asio::io_context io;
  asio::ssl::context tls{asio::ssl::context::tls_client};
  bool https = false;
  std::string host, port, base_path;
  std::string host_header;  // as the URL has it: an IPv6 address in brackets, the port when given
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  std::chrono::seconds timeout{30};
  bool post_may_have_arrived = false;  // the last post_json wrote (part of) its request
  bool post_in_flight = false;         // a post written, its answer not yet read
  bool post_unanswered = false;        // since forget_posts(), a post written got no answer

  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*secure); }
  bool connected() const { return plain.has_value() || secure.has_value(); }
  void reset() {
    if (post_in_flight) post_unanswered = true;
    post_in_flight = false;
    plain.reset();
    secure.reset();
    buffer.clear();
  }

  // Runs one asynchronous operation to its end: the stream's deadline (expires_after) holds
  // only for asynchronous operations, so a server that accepts and never answers ends in a
  // timeout error instead of a wait without end.
  template <class Start>
  void run(Start start) {
    boost::system::error_code result = asio::error::would_block;
    start([&result](boost::system::error_code ec, auto&&...) { result = ec; });
    io.restart();
    io.run();
    if (result == beast::error::timeout)
      throw std::runtime_error("no answer within " + std::to_string(timeout.count()) + " s");
    if (result) throw boost::system::system_error(result);
  }

  void connect() {
    // The name's lookup is held to the same deadline as the rest (a DNS server that never
    // answers would otherwise be waited for through all of the C library's retries).
    boost::system::error_code looked_up = asio::error::would_block;
    chain::ResolveResults endpoints;
    const auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
    chain::resolve_within(io.get_executor(), host, port, limit,
                          [&](boost::system::error_code ec, chain::ResolveResults found) {
                            looked_up = ec;
                            endpoints = std::move(found);
                          });
    io.restart();
    io.run();
    if (looked_up == asio::error::timed_out) throw std::runtime_error(chain::resolve_timeout_message(host, limit));
    if (looked_up) throw boost::system::system_error(looked_up);
    if (https) {
      secure.emplace(io, tls);
      // A server name is sent for a name only, never an IP address (RFC 6066).
      boost::system::error_code not_ip;
      (void)asio::ip::make_address(host, not_ip);
      if (not_ip && !SSL_set_tlsext_host_name(secure->native_handle(), host.c_str())) throw std::runtime_error("TLS SNI failed");
      secure->set_verify_callback(asio::ssl::host_name_verification(host));
    } else {
      plain.emplace(io);
    }
    lowest().expires_after(timeout);
    run([&](auto handler) { lowest().async_connect(endpoints, std::move(handler)); });
    if (https) {
      lowest().expires_after(timeout);
      run([&](auto handler) { secure->async_handshake(asio::ssl::stream_base::client, std::move(handler)); });
    }
  }

  std::pair<int, std::string> exchange(const std::string& target,
                                       const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    http::request<http::string_body> req{http::verb::get, base_path + target, 11};
    req.set(http::field::user_agent, "lpops-verify");
    for (const auto& [name, value] : headers) req.set(name, value);
    return exchange(req);
  }

  std::pair<int, std::string> exchange(http::request<http::string_body>& req) {
    req.set(http::field::host, host_header);
    req.keep_alive(true);
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    lowest().expires_after(timeout);
    if (plain) {
      run([&](auto handler) { http::async_write(*plain, req, std::move(handler)); });
      run([&](auto handler) { http::async_read(*plain, buffer, parser, std::move(handler)); });
    } else {
      run([&](auto handler) { http::async_write(*secure, req, std::move(handler)); });
      run([&](auto handler) { http::async_read(*secure, buffer, parser, std::move(handler)); });
    }
    auto res = parser.release();
    post_in_flight = false;  // answered
    if (!res.keep_alive()) reset();
    return {res.result_int(), std::move(res.body())};
  }
};

HttpGetter::HttpGetter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpGetter::~HttpGetter() = default;

Result<std::unique_ptr<HttpGetter>> HttpGetter::create(const std::string& base_url, std::chrono::seconds timeout) {
  auto url = boost::urls::parse_uri(base_url);
  if (!url)
    return Error{"invalid URL " + base_url + ": " +
                 (base_url.find("://") == std::string::npos ? std::string("it needs a scheme, as in http://host:port")
                                                            : url.error().message())};
  auto impl = std::make_unique<Impl>();
  impl->timeout = timeout;
  std::string scheme(url->scheme());
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));  // HTTP:// too (RFC 3986)
  if (scheme != "http" && scheme != "https") return Error{"URL scheme must be http or https"};
  impl->https = scheme == "https";
  if (url->has_userinfo() || url->has_query() || url->has_fragment())
    return Error{"invalid URL " + base_url + ": it must not carry user information, a query or a fragment"};
  // The address alone to resolve and to check a certificate against ("[::1]" is ::1).
  impl->host = url->host_address();
  if (impl->host.empty()) return Error{"invalid URL " + base_url + ": it names no host"};
  if (url->has_port() && url->port().empty()) return Error{"invalid URL " + base_url + ": its port is empty"};
  impl->port = url->has_port() ? std::string(url->port()) : (impl->https ? "443" : "80");
  impl->host_header = std::string(url->encoded_host_and_port());
  impl->base_path = std::string(url->encoded_path());
  while (!impl->base_path.empty() && impl->base_path.back() == '/') impl->base_path.pop_back();
  if (impl->https) {
    impl->tls.set_default_verify_paths();
    impl->tls.set_verify_mode(asio::ssl::verify_peer);
  }
  return std::unique_ptr<HttpGetter>(new HttpGetter(std::move(impl)));
}

// One exchange on the kept-alive connection (made first when there is none). A kept-alive
// connection the server closed gets one retry on a new one; a new connection that fails, or a
// wait that timed out (all of it spent), gets none.
Result<std::pair<int, std::string>> HttpGetter::with_retry(const std::string& what,
                                                          const std::function<std::pair<int, std::string>()>& exchange) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = impl_->connected();
    try {
      if (!reused) impl_->connect();
      return exchange();
    } catch (const boost::system::system_error& e) {
      impl_->reset();
      // The error's own words (what() adds Boost's source file and line).
      if (!reused || attempt == 1) return Error{what + ": " + e.code().message()};
    } catch (const std::exception& e) {
      impl_->reset();
      return Error{what + ": " + e.what()};
    }
  }
  return Error{"unreachable"};
}

Result<std::pair<int, std::string>> HttpGetter::post_json(const std::string& target, const std::string& body,
                                                         const std::vector<std::pair<std::string, std::string>>& headers) {
  return with_retry("POST " + path_of(target), [&] {
    http::request<http::string_body> req{http::verb::post, impl_->base_path + target, 11};
    req.set(http::field::user_agent, "lpops-import");
    req.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = body;
    req.prepare_payload();
    impl_->post_may_have_arrived = true;
    impl_->post_in_flight = true;  // cleared by exchange() once the answer is read
    return impl_->exchange(req);
  });
}

bool HttpGetter::post_may_have_arrived() const { return impl_->post_may_have_arrived; }
bool HttpGetter::post_went_unanswered() const { return impl_->post_unanswered; }
void HttpGetter::forget_posts() {
  impl_->post_may_have_arrived = false;
  impl_->post_unanswered = false;
}

Result<std::pair<int, std::string>> HttpGetter::get(const std::string& target) { return get_with_headers(target, {}); }

std::string HttpGetter::path_of(const std::string& target) const { return impl_->base_path + target; }

Result<std::pair<int, std::string>> HttpGetter::get_with_headers(const std::string& target,
                                                                const std::vector<std::pair<std::string, std::string>>& headers) {
  return with_retry("GET " + path_of(target), [&] { return impl_->exchange(target, headers); });
}

}  // namespace lpops::app
