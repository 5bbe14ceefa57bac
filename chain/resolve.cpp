#include "chain/resolve.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

namespace lpops::chain {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

struct Waiter;

// What the lookup's thread shares with the waiting side. `abandoned` is set when the waiting
// side is gone (its deadline passed and the caller was told, or its context was destroyed):
// from then on the thread posts nothing to the context.
struct Shared {
  std::mutex mutex;
  bool abandoned = false;
  asio::any_io_executor executor;
  std::weak_ptr<Waiter> waiter;
};

// The waiting side, owned by the handlers queued in the executor's context (the deadline's,
// then the answer's), so that it never outlives that context.
struct Waiter {
  asio::steady_timer deadline;
  ResolveDone done;
  std::shared_ptr<Shared> shared;
  std::atomic<bool> finished{false};

  Waiter(asio::any_io_executor executor, ResolveDone d, std::shared_ptr<Shared> s)
      : deadline(std::move(executor)), done(std::move(d)), shared(std::move(s)) {}
  ~Waiter() {
    std::lock_guard lock(shared->mutex);
    shared->abandoned = true;
    shared->executor = {};  // the thread keeps nothing of the context (a strand's, a tracked one)
  }
  void finish(boost::system::error_code ec, ResolveResults results) {
    if (finished.exchange(true)) return;
    deadline.cancel();
    done(ec, std::move(results));
  }
};

// Lookups running on threads of their own, at most kMaxLookupThreads at once: a DNS server
// that does not answer holds each for the C library's whole retry time, and many callers then
// would start a thread each. Past the limit a lookup fails at once (try again later).
constexpr int kMaxLookupThreads = 16;
std::atomic<int> lookup_threads{0};

std::pair<boost::system::error_code, ResolveResults> lookup(const std::string& host, const std::string& port,
                                                           tcp::resolver::flags flags) {
  asio::io_context io;  // a synchronous resolve calls getaddrinfo on this thread
  tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto results = resolver.resolve(host, port, flags, ec);
  return {ec, std::move(results)};
}

}  // namespace

void resolve_within(asio::any_io_executor executor, const std::string& host, const std::string& port,
                    std::chrono::milliseconds timeout, ResolveDone done) {
  boost::system::error_code not_ip;
  (void)asio::ip::make_address(host, not_ip);
  if (!not_ip) {
    auto [ec, results] = lookup(host, port, tcp::resolver::numeric_host | tcp::resolver::numeric_service);
    asio::post(executor, [done = std::move(done), ec = ec, results = std::move(results)]() mutable {
      done(ec, std::move(results));
    });
    return;
  }
  auto shared = std::make_shared<Shared>();
  shared->executor = executor;
  auto waiter = std::make_shared<Waiter>(executor, std::move(done), shared);
  shared->waiter = waiter;
  waiter->deadline.expires_after(timeout);
  waiter->deadline.async_wait([waiter](boost::system::error_code ec) {
    if (ec != asio::error::operation_aborted) waiter->finish(asio::error::timed_out, {});
  });
  auto answer = [shared](boost::system::error_code ec, ResolveResults results) {
    std::lock_guard lock(shared->mutex);
    if (shared->abandoned) return;
    asio::post(shared->executor, [w = shared->waiter, ec, results = std::move(results)]() mutable {
      if (auto waiter = w.lock()) waiter->finish(ec, std::move(results));
    });
  };
  if (lookup_threads.fetch_add(1) >= kMaxLookupThreads) {
    lookup_threads.fetch_sub(1);
    return answer(asio::error::host_not_found_try_again, {});
  }
  try {
    std::thread([answer, host, port] {
      auto [ec, results] = lookup(host, port, tcp::resolver::numeric_service);
      lookup_threads.fetch_sub(1);
      answer(ec, std::move(results));
    }).detach();
  } catch (const std::system_error& e) {
    lookup_threads.fetch_sub(1);
    answer(e.code(), {});
  }
}

std::string resolve_timeout_message(const std::string& host, std::chrono::milliseconds timeout) {
  const auto ms = timeout.count();
  return "no address for " + host + " within " +
         (ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms");
}

}  // namespace lpops::chain
