#pragma once
// Runs one awaitable to completion on a test's io_context and returns its value. Other
// coroutines on the same context (a test server) stay suspended until the next call.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>

namespace lpops::testing {

template <class T>
T run_awaitable(boost::asio::io_context& ioc, boost::asio::awaitable<T> work,
                std::chrono::seconds limit = std::chrono::seconds(60)) {
  std::optional<T> out;
  std::exception_ptr failure;
  boost::asio::co_spawn(ioc, std::move(work), [&](std::exception_ptr e, T v) {
    failure = e;
    if (!e) out = std::move(v);
    ioc.stop();
  });
  ioc.restart();
  ioc.run_for(limit);
  if (failure) std::rethrow_exception(failure);
  if (!out) throw std::runtime_error("the awaitable did not finish in time");
  return std::move(*out);
}

}  // namespace lpops::testing
