// CPU per durable credit, stage by stage, without the network or the disk: what each
// thread of the POST /api/workloads/time path spends on one request's record.
//   ledger      Book::create_time_workload (validate, price, apply, build the response)
//   response    serialising that response
//   frame       the effect as JSON plus its journal framing (SHA-256 hash link)
//   audit       the audit entry (canonical JSON, keccak-256, index record)
//   replica     the snapshotter's replica applying the effect
//   snapshot    the snapshotter writing one snapshot of the final book, per record it holds
//               (its text handed on in pieces, as to the disk, and dropped)
//   ledger thread, per record: the first four, record by record in one hot loop (as the
//               ledger thread runs them; the stage figures run each stage over all records)
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
  double ledger = 0, response = 0, frame = 0, audit = 0, replica = 0, snapshot = 0;
  double together = 0;  // the ledger thread's whole share per record, in one hot loop
  std::size_t journal_bytes = 0, audit_bytes = 0, response_bytes = 0, snapshot_bytes = 0;
};

// A fresh book, replica and audit log with `orchestrators` registered.
struct Setup {
  std::unique_ptr<storage::AuditLog> audit;
  Book book, replica;
  actors::AddressBook addresses;
  std::uint64_t seq = 0;
  std::vector<WorkloadDraft> drafts;
};

constexpr UnixMicros kNow = 1'767'225'600'000'000;

std::optional<Setup> set_up(std::size_t n, std::size_t orchestrators, const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto audit = storage::AuditLog::open(dir.string(), false);
  if (!audit) {
    std::fprintf(stderr, "audit log: %s\n", audit.error().c_str());
    return std::nullopt;
  }
  Setup s;
  s.audit = std::move(*audit);
  for (std::size_t i = 0; i < orchestrators; ++i) {
    Registration r;
    r.orchestrator_id = "bench-" + std::to_string(i);
    r.address = "0x" + std::string(39, '0') + std::to_string(i % 10);
    boost::json::object record = new_orchestrator_record(r, kNow);
    merge_registration(record, r, "127.0.0.1", true, kNow);
    Effect e = *s.book.upsert_orchestrator(record, kNow).effect;
    (void)s.replica.apply(e, ++s.seq);
    (void)actors::audit_line_for(*s.audit, s.addresses, e, s.seq);
  }
  s.drafts.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    s.drafts[i].workload_id = "r10-" + std::to_string(i % 2) + "-" + std::to_string(i);
    s.drafts[i].orchestrator_id = "bench-" + std::to_string((i * 7) % orchestrators);
  }
  return s;
}

const Rate& bench_rate() {
  static const Rate rate = Rate::parse_eth_per_minute("0.000005353596").value();
  return rate;
}

// One repetition, stage by stage over all `n` credits.
std::optional<Figures> run(std::size_t n, std::size_t orchestrators, const std::filesystem::path& dir) {
  auto setup = set_up(n, orchestrators, dir);
  if (!setup) return std::nullopt;
  auto& [audit, book, replica, addresses, seq, drafts] = *setup;
  Figures f;
  std::vector<Decision> decisions;
  decisions.reserve(n);
  auto t = clock_type::now();
  for (std::size_t i = 0; i < n; ++i)
    decisions.push_back(book.create_time_workload(drafts[i], 1000 + i % 60000, "verified", bench_rate(), kNow + static_cast<UnixMicros>(i)));
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
    if (auto line = actors::audit_line_for(*audit, addresses, *decisions[i].effect, seq + 1 + i)) lines.push_back(std::move(*line));
  f.audit = us_per(clock_type::now() - t, n);
  for (const auto& l : lines) f.audit_bytes += l.size() + 1;

  t = clock_type::now();
  for (std::size_t i = 0; i < n; ++i) (void)replica.apply(*decisions[i].effect, seq + 1 + i);
  f.replica = us_per(clock_type::now() - t, n);

  // One snapshot of the whole book, as the snapshotter writes it (pieces handed on, not stored).
  t = clock_type::now();
  (void)replica.write_snapshot_text([&f](std::string_view piece) {
    f.snapshot_bytes += piece.size();
    return true;
  });
  f.snapshot = us_per(clock_type::now() - t, n);
  f.journal_bytes /= n;
  f.audit_bytes /= n;
  f.response_bytes /= n;
  return f;
}

// The ledger thread's share of each credit, record by record as the node does it: the
// command, its response, its journal record and its audit entry, in groups of 32 that are
// then let go (a group commit hands them to the sync thread).
std::optional<double> run_together(std::size_t n, std::size_t orchestrators, const std::filesystem::path& dir) {
  auto setup = set_up(n, orchestrators, dir);
  if (!setup) return std::nullopt;
  auto& [audit, book, replica, addresses, seq, drafts] = *setup;
  constexpr std::size_t kGroup = 32;
  std::vector<storage::FramedRecord> records;
  std::vector<std::string> lines, responses;
  std::vector<Effect> effects;
  Digest32 prev{};
  std::string text;
  const auto t = clock_type::now();
  for (std::size_t i = 0; i < n; ++i) {
    Decision d = book.create_time_workload(drafts[i], 1000 + i % 60000, "verified", bench_rate(), kNow + static_cast<UnixMicros>(i));
    responses.push_back(d.response_body());
    text.clear();
    d.effect->append_json(text);
    records.push_back(storage::frame_record(++seq, prev, text));
    prev = records.back().hash;
    if (auto line = actors::audit_line_for(*audit, addresses, *d.effect, seq)) lines.push_back(std::move(*line));
    effects.push_back(std::move(*d.effect));
    if (records.size() == kGroup) {
      records.clear();
      lines.clear();
      responses.clear();
      effects.clear();
    }
  }
  return us_per(clock_type::now() - t, n);
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
    auto together = run_together(n, orchestrators, dir);
    if (!together) return 1;
    f->together = *together;
    runs.push_back(*f);
    std::fprintf(stderr, "repetition %zu/%zu done\n", r + 1, repetitions);
  }
  std::filesystem::remove_all(dir);
  auto med = [&](double Figures::*field) {
    std::vector<double> v;
    for (const auto& f : runs) v.push_back(f.*field);
    return median(v);
  };
  std::printf("| records | orchestrators | ledger µs | response µs | frame µs | audit entry µs | replica µs | snapshot µs/record | ledger thread, per record µs | journal B/record | audit B/entry | response B | snapshot B/record |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::printf("| %zu | %zu | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %zu | %zu | %zu | %zu |\n", n, orchestrators,
              med(&Figures::ledger), med(&Figures::response), med(&Figures::frame), med(&Figures::audit),
              med(&Figures::replica), med(&Figures::snapshot), med(&Figures::together), runs.front().journal_bytes,
              runs.front().audit_bytes, runs.front().response_bytes, runs.front().snapshot_bytes / n);
  return 0;
}
