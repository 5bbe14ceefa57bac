// One group commit of the JSON-file journal, buffered (append + fdatasync) against direct I/O
// (O_DIRECT into preallocated blocks + fdatasync): wall time and the process's CPU time per
// commit, through FileStore::append itself.
// Usage: lpops_bench_journal_commit [commits (default 2000)] [records per commit (default 25)]
//        [record bytes (default 1000)] [directory (default: the system temp directory)]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "storage/file_store.hpp"

namespace {

using namespace lpops;

double cpu_us() {
  rusage r{};
  ::getrusage(RUSAGE_SELF, &r);
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 + static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

struct Figures {
  double wall_us = 0, cpu_us = 0;
  bool direct = false;
};

std::optional<Figures> run(const std::filesystem::path& dir, bool direct, std::size_t commits, std::size_t per_commit,
                           std::size_t record_bytes) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  storage::FileStoreOptions options{dir.string(), true};
  options.direct_io = direct;
  storage::FileStore store(options);
  auto report = store.recover([](const boost::json::object&, std::uint64_t) { return std::optional<std::string>{}; },
                              [](const storage::ParsedRecord&) { return std::optional<std::string>{}; });
  if (!report) {
    std::fprintf(stderr, "recover: %s\n", report.error().c_str());
    return std::nullopt;
  }
  // Records framed up front: only the commits are timed.
  std::vector<storage::FramedRecord> framed;
  framed.reserve(commits * per_commit);
  Digest32 prev{};
  const std::string pad(record_bytes > 120 ? record_bytes - 120 : 1, 'x');
  for (std::size_t i = 0; i < commits * per_commit; ++i) {
    framed.push_back(storage::frame_record(i + 1, prev, boost::json::object{{"type", "bench"}, {"i", i}, {"pad", pad}}));
    prev = framed.back().hash;
  }
  Figures f;
  f.direct = store.direct_io();
  const double cpu0 = cpu_us();
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<const storage::FramedRecord*> batch;
  for (std::size_t c = 0; c < commits; ++c) {
    batch.clear();
    for (std::size_t j = 0; j < per_commit; ++j) batch.push_back(&framed[c * per_commit + j]);
    if (auto err = store.append(batch)) {
      std::fprintf(stderr, "append: %s\n", err->c_str());
      return std::nullopt;
    }
  }
  f.wall_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / static_cast<double>(commits);
  f.cpu_us = (cpu_us() - cpu0) / static_cast<double>(commits);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t commits = argc > 1 ? std::stoul(argv[1]) : 2000;
  const std::size_t per_commit = argc > 2 ? std::stoul(argv[2]) : 25;
  const std::size_t record_bytes = argc > 3 ? std::stoul(argv[3]) : 1000;
  const std::filesystem::path base = argc > 4 ? std::filesystem::path(argv[4]) : std::filesystem::temp_directory_path();
  const auto dir = base / "lpops-bench-journal-commit";
  std::printf("| journal writes | commits | records/commit | bytes/commit | wall µs/commit | CPU µs/commit |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (int round = 0; round < 2; ++round)
    for (bool direct : {false, true}) {
      auto f = run(dir, direct, commits, per_commit, record_bytes);
      if (!f) return 1;
      std::printf("| %s | %zu | %zu | ~%zu | %.0f | %.1f |\n", f->direct ? "direct I/O" : "buffered (append)", commits, per_commit,
                  per_commit * record_bytes, f->wall_us, f->cpu_us);
      std::fflush(stdout);
    }
  std::filesystem::remove_all(dir);
  return 0;
}
