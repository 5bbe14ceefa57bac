#pragma once
// HTTP/1.1 server (Beast behind a pimpl, so only http_server.cpp pays its compile time).
// One io_context per I/O thread; connections are spread over them round-robin, so each
// connection lives on one thread and needs no strand.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "net/http_types.hpp"

namespace lpops::net {

class HttpServer {
 public:
  HttpServer(ServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the I/O threads; returns the bound port. Throws std::runtime_error
  // with a clear message when it cannot listen.
  std::uint16_t start();
  void stop_accepting();
  // Stops accepting, lets requests already handed to the handler finish (up to
  // drain_timeout, or until `cut_short` returns true: it is asked every few milliseconds),
  // and answers requests that begin meanwhile on open connections with 503, until 200 ms past
  // the last answer that left a connection open; then closes every connection and joins the
  // I/O threads. Returns the requests still in flight when the wait ended: closed unanswered.
  std::size_t shutdown(std::chrono::milliseconds drain_timeout, const std::function<bool()>& cut_short = {});

  std::size_t in_flight() const;
  std::size_t open_connections() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace lpops::net
