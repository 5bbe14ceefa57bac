#pragma once
// Host name resolution with a deadline. getaddrinfo(3) cannot be interrupted, and Asio's own
// asynchronous resolve runs every lookup of an io_context on one background thread that a
// cancel does not stop, so a DNS server that never answers would hold a caller (and every
// lookup queued behind it) for as long as the C library's retries last. Here each lookup of
// a name runs on a thread of its own; when the deadline passes first, the caller gets
// `timed_out` at once and the lookup's late answer is dropped. At most 16 such threads run at
// once; past them a lookup fails at once with host_not_found_try_again. An IP address is
// parsed, not looked up.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace lpops::chain {

using ResolveResults = boost::asio::ip::tcp::resolver::results_type;
using ResolveDone = std::function<void(boost::system::error_code, ResolveResults)>;

// Calls `done` once, through `executor`: with the addresses of host:port (a numeric port),
// the lookup's error, or boost::asio::error::timed_out when `timeout` passes first. If the
// executor's context is destroyed first, `done` is never called and the lookup's thread
// touches nothing of it.
void resolve_within(boost::asio::any_io_executor executor, const std::string& host, const std::string& port,
                    std::chrono::milliseconds timeout, ResolveDone done);

// resolve_within as an asynchronous operation (for `co_await` with as_tuple(use_awaitable)).
template <class Token>
auto async_resolve_within(boost::asio::any_io_executor executor, const std::string& host, const std::string& port,
                          std::chrono::milliseconds timeout, Token&& token) {
  return boost::asio::async_initiate<Token, void(boost::system::error_code, ResolveResults)>(
      [](auto handler, boost::asio::any_io_executor ex, const std::string& h, const std::string& p,
         std::chrono::milliseconds t) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        resolve_within(std::move(ex), h, p, t,
                       [shared](boost::system::error_code ec, ResolveResults r) { (*shared)(ec, std::move(r)); });
      },
      token, std::move(executor), host, port, timeout);
}

// "no address for HOST within N s" (or ms, below a second): the words for a lookup that timed out.
std::string resolve_timeout_message(const std::string& host, std::chrono::milliseconds timeout);

}  // namespace lpops::chain
