// The transparency log at scale: appends with fsync (the journal thread's path: build the
// entry, hash, write a batch, fdatasync), disk bytes per entry, inclusion and consistency
// proof latency, `lpops verify`'s verifier over the whole file, and the start-up cost of
// reopening the log (read, check every entry, rebuild the tree).
// Usage: lpops_bench_audit [entries (default 10000000)] [dir (default a temp dir)]
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "storage/audit_log.hpp"
#include "storage/audit_verify.hpp"

namespace {

using namespace lpops;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

long peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

template <class Fn>
std::pair<double, double> latency_us(int samples, Fn&& fn) {
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(samples));
  for (int i = 0; i < samples; ++i) {
    const auto t = clock_type::now();
    fn(i);
    us.push_back(seconds_since(t) * 1e6);
  }
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double x : us) sum += x;
  return {sum / samples, us[static_cast<std::size_t>(samples * 0.99)]};
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t n = argc > 1 ? std::stoull(argv[1]) : 10'000'000;
  const std::filesystem::path dir =
      argc > 2 ? std::filesystem::path(argv[2]) : std::filesystem::temp_directory_path() / "lpops-bench-audit";
  // LPOPS_BENCH_REUSE=1 keeps the directory and, when it already holds a log, measures
  // the readers on it without appending again.
  const bool reuse = std::getenv("LPOPS_BENCH_REUSE") != nullptr;
  const bool append = !reuse || !std::filesystem::exists(dir / "audit.jsonl");
  if (append) std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::printf("| measure | value |\n|---|---|\n");
  std::printf("| entries | %llu |\n", static_cast<unsigned long long>(n));

  if (append) {
    auto log = storage::AuditLog::open(dir.string(), true).value();
    const auto start = clock_type::now();
    std::vector<std::string> batch;
    LedgerEntry e;
    e.reason = "workload_time";
    e.delta = SignedWei{false, Wei(2537872183800ull)};
    for (std::uint64_t i = 1; i <= n; ++i) {
      e.event_id = "workload_time:job-" + std::to_string(i);
      e.orchestrator_id = "orch-" + std::to_string(i % 1000);
      e.balance_after = SignedWei{false, Wei(2537872183800ull) * ((i - 1) / 1000 + 1)};  // the running balance
      e.metadata = {{"workload_id", "job-" + std::to_string(i)}, {"duration_ms", "28443"}, {"credit_unit", "eth"}};
      e.at = 1'767'225'600'000'000 + static_cast<std::int64_t>(i) * 1000;
      batch.push_back(log->append_entry(e, "credit", "workload_time", "0x00000000000000000000000000000000000003e8", i));
      if (batch.size() == 1000 || i == n) {
        if (auto err = log->write(batch)) return std::fprintf(stderr, "%s\n", err->c_str()), 1;
        if (auto err = log->sync()) return std::fprintf(stderr, "%s\n", err->c_str()), 1;
        batch.clear();
      }
      if (i % 1'000'000 == 0) std::fprintf(stderr, "appended %llu\n", static_cast<unsigned long long>(i));
    }
    const double secs = seconds_since(start);
    std::printf("| append (entry built, hashed, written; fdatasync per 1000) | %.0f entries/s |\n", static_cast<double>(n) / secs);
    const auto bytes = std::filesystem::file_size(dir / "audit.jsonl");
    const auto index_bytes = std::filesystem::file_size(dir / "audit.index") + std::filesystem::file_size(dir / "audit.orchestrators");
    std::printf("| disk bytes per entry: log + index | %.0f + %.0f |\n", static_cast<double>(bytes) / static_cast<double>(n),
                static_cast<double>(index_bytes) / static_cast<double>(n));
    std::printf("| writer peak RSS | %ld MB |\n", peak_rss_mb());
  }
  {
    // The command a partner runs, as a separate process (the log is in the page cache, as
    // after any download; the checkpoints file is left out: its signatures are few).
    const std::string command = std::string(LPOPS_BINARY) + " verify --json --log " + (dir / "audit.jsonl").string() +
                                " --checkpoints /dev/null --allow-unsigned > " + (dir / "verify.json").string();
    const auto start = clock_type::now();
    if (std::system(command.c_str()) != 0) return std::fprintf(stderr, "lpops verify failed\n"), 1;
    const double secs = seconds_since(start);
    std::printf("| `lpops verify --log` (every entry re-hashed, chain, Merkle root) | %.0f entries/s (%.1f s) |\n",
                static_cast<double>(n) / secs, secs);
  }
  {
    const auto start = clock_type::now();
    storage::AuditRecovery report;
    auto reopened = storage::AuditLog::open(dir.string(), true, &report);
    if (!reopened) return std::fprintf(stderr, "%s\n", reopened.error().c_str()), 1;
    auto& log = *reopened;
    std::printf("| reopen at start-up (audit.index, tree rebuilt, first/last lines checked) | %.2f s (%llu of %llu entries from the index) |\n",
                seconds_since(start), static_cast<unsigned long long>(report.from_index),
                static_cast<unsigned long long>(report.entries));

    std::mt19937_64 rng(1);
    auto [inc_mean, inc_p99] = latency_us(10000, [&](int) {
      const std::uint64_t seq = 1 + rng() % n;
      auto p = log->inclusion_proof(seq, n);
      if (!p) std::abort();
    });
    std::printf("| inclusion proof at size n, mean / p99 | %.1f / %.1f µs |\n", inc_mean, inc_p99);
    auto [con_mean, con_p99] = latency_us(10000, [&](int) {
      const std::uint64_t m = 1 + rng() % n;
      auto p = log->consistency_proof(m, n);
      if (!p) std::abort();
    });
    std::printf("| consistency proof (random m, n), mean / p99 | %.1f / %.1f µs |\n", con_mean, con_p99);
    std::printf("| peak RSS with the log open | %ld MB |\n", peak_rss_mb());

    const auto check_start = clock_type::now();
    std::atomic<bool> stop{false};
    if (auto err = log->check_stored(report.from_index, stop)) return std::fprintf(stderr, "check failed: %s\n", err->c_str()), 1;
    std::printf("| background re-check of the indexed entries after start (one thread) | %.1f s |\n", seconds_since(check_start));
  }
  if (!reuse) std::filesystem::remove_all(dir);
  return 0;
}
