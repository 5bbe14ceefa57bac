// How long one thread takes to wake another: a round trip through two eventfds between two
// threads pinned to the same CPU or to different CPUs, with and without an idle gap before
// each round trip (so the other CPU has gone idle). Every hand-over of a request between the
// node's threads (HTTP -> ledger -> journal -> HTTP) pays one such wake-up when the thread
// it wakes sleeps on an idle CPU; on a virtual machine that cost is the hypervisor's.
// Usage: lpops_bench_wakeup [round trips per row (default 2000)]
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

bool put(int fd, std::uint64_t v) { return ::write(fd, &v, sizeof v) == sizeof v; }
bool take(int fd, std::uint64_t& v) { return ::read(fd, &v, sizeof v) == sizeof v; }

struct Row {
  double p50 = 0, p90 = 0, p99 = 0;
};

// Round trips from a thread on CPU 0 to a thread on `other_cpu` and back, in microseconds.
std::optional<Row> measure(int other_cpu, int gap_us, int round_trips) {
  const int ping = ::eventfd(0, EFD_CLOEXEC), pong = ::eventfd(0, EFD_CLOEXEC);
  if (ping < 0 || pong < 0) return std::nullopt;
  constexpr std::uint64_t kStop = 2;
  std::thread echo([&] {
    if (!pin_to(other_cpu)) std::fprintf(stderr, "cannot pin a thread to CPU %d\n", other_cpu);
    std::uint64_t v = 0;
    while (take(ping, v) && v != kStop) put(pong, 1);
  });
  if (!pin_to(0)) std::fprintf(stderr, "cannot pin a thread to CPU 0\n");
  std::vector<double> rtt;
  rtt.reserve(static_cast<std::size_t>(round_trips));
  bool ok = true;
  for (int i = 0; i < round_trips && ok; ++i) {
    if (gap_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(gap_us));
    const auto start = clock_type::now();
    std::uint64_t v = 0;
    ok = put(ping, 1) && take(pong, v);
    rtt.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - start).count());
  }
  put(ping, kStop);
  echo.join();
  ::close(ping);
  ::close(pong);
  if (!ok || rtt.empty()) return std::nullopt;
  std::sort(rtt.begin(), rtt.end());
  auto at = [&](double q) { return rtt[std::min(rtt.size() - 1, static_cast<std::size_t>(q * static_cast<double>(rtt.size())))]; };
  return Row{at(0.50), at(0.90), at(0.99)};
}

}  // namespace

int main(int argc, char** argv) {
  const int round_trips = argc > 1 ? std::max(100, std::atoi(argv[1])) : 2000;
  const unsigned cpus = std::thread::hardware_concurrency();
  std::printf("| threads on | idle gap before each | round trip p50 µs | p90 µs | p99 µs |\n|---|---|---|---|---|\n");
  for (int other : {0, 1}) {
    if (other == 1 && cpus < 2) {
      std::fprintf(stderr, "one CPU: no cross-CPU rows\n");
      break;
    }
    for (int gap : {0, 200, 1000}) {
      auto row = measure(other, gap, round_trips);
      if (!row) {
        std::fprintf(stderr, "eventfd round trip failed\n");
        return 1;
      }
      std::printf("| %s | %d µs | %.1f | %.1f | %.1f |\n", other == 0 ? "the same CPU" : "two CPUs", gap, row->p50, row->p90,
                  row->p99);
    }
  }
  return 0;
}
