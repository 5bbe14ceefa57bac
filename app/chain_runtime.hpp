#pragma once
// The node's chain I/O: one thread running an io_context for JSON-RPC coroutines. Actors
// never wait on it; they start work here and get the outcome back as a message.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <spdlog/spdlog.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <optional>
#include <thread>

#include "chain/eth_rpc.hpp"

namespace lpops::app {

// `f` wrapped so that only its first call does anything: an outcome told either by a task or,
// when it fails, for it.
template <class T>
std::function<void(T)> once(std::function<void(T)> f) {
  auto called = std::make_shared<std::atomic<bool>>(false);
  return [f = std::move(f), called](T value) {
    if (!called->exchange(true)) f(std::move(value));
  };
}

class ChainRuntime {
 public:
  ChainRuntime() = default;
  ~ChainRuntime() { stop(); }
  ChainRuntime(const ChainRuntime&) = delete;
  ChainRuntime& operator=(const ChainRuntime&) = delete;

  // A client for `url` on this runtime's thread (started on first use).
  Result<std::shared_ptr<chain::EthRpc>> rpc(const std::string& url, chain::RpcOptions options = {}) {
    start();
    auto client = chain::RpcClient::create(io_.get_executor(), url, std::move(options));
    if (!client) return Error{client.error()};
    return std::make_shared<chain::EthRpc>(std::move(client).value());
  }

  // A plain JSON-over-HTTP(S) client for `url` on this runtime's thread (the rank check's
  // subgraph and explorer sources).
  Result<std::shared_ptr<chain::RpcClient>> http(const std::string& url, chain::RpcOptions options = {}) {
    start();
    auto client = chain::RpcClient::create(io_.get_executor(), url, std::move(options));
    if (!client) return Error{client.error()};
    return std::move(client).value();
  }

  // Runs `coroutine` on the chain thread (started by rpc() or http(), on the main thread, before
  // any task). One that throws is logged, and `failed` (when given) is told why, so that whoever
  // waits for the task's outcome gets one.
  template <class Coroutine>
  void spawn(Coroutine&& coroutine, std::function<void(std::string)> failed = {}) {
    boost::asio::co_spawn(io_, std::forward<Coroutine>(coroutine), [failed = std::move(failed)](std::exception_ptr e) {
      if (!e) return;
      std::string why = "an unknown exception";
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        why = ex.what();
      } catch (...) {
      }
      spdlog::error("chain task failed: {}", why);
      if (failed) failed(why);
    });
  }

  void stop() {
    if (!thread_.joinable()) return;
    work_.reset();
    io_.stop();
    thread_.join();
  }

 private:
  void start() {
    if (thread_.joinable()) return;
    work_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
  }

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
};

}  // namespace lpops::app
