// CPU per durable credit, stage by stage, without the network or the disk: what each
// thread of the POST /api/workloads/time path spends on one request's record.
//   ledger      Book::create_time_workload (validate, price, apply, build the response)
//   response    serialising that response
//   frame       the effect as JSON plus its journal framing (SHA-256 hash link)
//   audit       the audit entry (canonical JSON, keccak-256, index record)
//   replica     the snapshotter's replica applying the effect
// Usage: lpops_bench_credit_path [records (default 200000)] [orchestrators (default 10)] [repetitions (default 5)]
// Each figure is the median over the repetitions (each a fresh book and log).
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/journal.hpp"
#include "domain/book.hpp"
#include "domain/orchestrator.hpp"
#include "storage/audit_log.hpp"
#include "storage/record_format.hpp"

namespace {

using namespace lpops;
using clock_type = std::chrono::steady_clock;

double us_per(clock_type::duration d, std::size_t n) {
  return std::chrono::duration<double, std::micro>(d).count() / static_cast<double>(n);
}


struct Figures {
  double ledger = 0, response = 0, frame = 0, audit = 0, replica = 0;
  std::size_t journal_bytes = 0, audit_bytes = 0, response_bytes = 0;
};

// One repetition: a fresh book, replica and audit log, then `n` credits stage by stage.
std::optional<Figures> run(std::size_t n, std::size_t orchestrators, const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto audit = storage::AuditLog::open(dir.string(), false);
  if (!audit) {
    std::fprintf(stderr, "audit log: %s\n", audit.error().c_str());
    return std::nullopt;
  }
  const UnixMicros now = 1'767'225'600'000'000;
  const Rate rate = Rate::parse_eth_per_minute("0.000005353596").value();
  Book book, replica;
  actors::AddressBook addresses;
  std::uint64_t seq = 0;
  for (std::size_t i = 0; i < orchestrators; ++i) {
    Registration r;
    r.orchestrator_id = "bench-" + std::to_string(i);
    r.address = "0x" + std::string(39, '0') + std::to_string(i % 10);
    boost::json::object record = new_orchestrator_record(r, now);
    merge_registration(record, r, "127.0.0.1", true, now);
    Effect e = book.upsert_orchestrator(record, now);
    (void)replica.apply(e, ++seq);
    (void)actors::audit_line_for(**audit, addresses, e, seq);
  }
  std::vector<WorkloadDraft> drafts(n);
  for (std::size_t i = 0; i < n; ++i) {
    drafts[i].workload_id = "r10-" + std::to_string(i % 2) + "-" + std::to_string(i);
    drafts[i].orchestrator_id = "bench-" + std::to_string((i * 7) % orchestrators);
  }
  Figures f;
  std::vector<Decision> decisions;
  decisions.reserve(n);
  auto t = clock_type::now();
  for (std::size_t i = 0; i < n; ++i)
    decisions.push_back(book.create_time_workload(drafts[i], 1000 + i % 60000, "verified", rate, now + static_cast<UnixMicros>(i)));
  f.ledger = us_per(clock_type::now() - t, n);

  t = clock_type::now();
  for (const auto& d : decisions) f.response_bytes += d.response_body().size();
  f.response = us_per(clock_type::now() - t, n);

  std::vector<storage::FramedRecord> records;
  records.reserve(n);
  Digest32 prev{};
  std::string text;
  t = clock_type::now();
  for (std::size_t i = 0; i < n; ++i) {
    text.clear();
    decisions[i].effect->append_json(text);
    records.push_back(storage::frame_record(seq + 1 + i, prev, text));
    prev = records.back().hash;
    f.journal_bytes += records.back().line.size();
  }
  f.frame = us_per(clock_type::now() - t, n);

  std::vector<std::string> lines;
  lines.reserve(n);
  t = clock_type::now();
  for (std::size_t i = 0; i < n; ++i)
    if (auto line = actors::audit_line_for(**audit, addresses, *decisions[i].effect, seq + 1 + i)) lines.push_back(std::move(*line));
  f.audit = us_per(clock_type::now() - t, n);
  for (const auto& l : lines) f.audit_bytes += l.size() + 1;

  t = clock_type::now();
  for (std::size_t i = 0; i < n; ++i) (void)replica.apply(*decisions[i].effect, seq + 1 + i);
  f.replica = us_per(clock_type::now() - t, n);
  f.journal_bytes /= n;
  f.audit_bytes /= n;
  f.response_bytes /= n;
  return f;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::stoul(argv[1]) : 200'000;
  const std::size_t orchestrators = argc > 2 ? std::stoul(argv[2]) : 10;
  const std::size_t repetitions = std::max<std::size_t>(1, argc > 3 ? std::stoul(argv[3]) : 5);
  const auto dir = std::filesystem::temp_directory_path() / "lpops-bench-credit-path";
  std::vector<Figures> runs;
  for (std::size_t r = 0; r < repetitions; ++r) {
    auto f = run(n, orchestrators, dir);
    if (!f) return 1;
    runs.push_back(*f);
    std::fprintf(stderr, "repetition %zu/%zu done\n", r + 1, repetitions);
  }
  std::filesystem::remove_all(dir);
  auto med = [&](double Figures::*field) {
    std::vector<double> v;
    for (const auto& f : runs) v.push_back(f.*field);
    return median(v);
  };
  std::printf("| records | orchestrators | ledger µs | response µs | frame µs | audit entry µs | replica µs | journal B/record | audit B/entry | response B |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  std::printf("| %zu | %zu | %.2f | %.2f | %.2f | %.2f | %.2f | %zu | %zu | %zu |\n", n, orchestrators, med(&Figures::ledger),
              med(&Figures::response), med(&Figures::frame), med(&Figures::audit), med(&Figures::replica),
              runs.front().journal_bytes, runs.front().audit_bytes, runs.front().response_bytes);
  return 0;
}
