#include <unistd.h>

#include <cstdio>

#include "app/node.hpp"
#include "domain/book.hpp"
#include "storage/file_store.hpp"

namespace lpops::app {

int replay(const ReplayOptions& o) {
  // The data directory serve would use: --data-dir, else PAYMENTS_DATA_DIR from the
  // environment or the .env file.
  // Only the data directory is used: with --data-dir given, settings that do not load (a
  // broken .env, the very thing an incident may be about) do not stop the replay.
  std::string data_dir;
  if (o.data_dir) {
    data_dir = *o.data_dir;
  } else {
    auto settings = load_command_settings(o.env_file, "lpops replay");
    if (!settings) return 2;
    data_dir = settings->data_dir;
  }
  std::fprintf(stderr, "lpops replay: %s\n", data_dir.c_str());
  storage::FileStore store({data_dir, false, /*read_only=*/true});
  Book book;
  std::uint64_t records = 0;
  const bool terminal = ::isatty(STDERR_FILENO);
  auto report = store.recover([](const boost::json::object&, std::uint64_t) { return std::nullopt; },
                              [&](const storage::ParsedRecord& r) {
                                // On a terminal one line, rewritten; in a log file a line per million.
                                if (++records % 100000 == 0 && (terminal || records % 1000000 == 0))
                                  std::fprintf(stderr, terminal ? "\rreplayed %llu records" : "replayed %llu records\n",
                                               static_cast<unsigned long long>(records));
                                return book.apply(r.effect, r.seq);
                              });
  if (terminal && records >= 100000) std::fprintf(stderr, "\n");
  if (!report) {
    std::fprintf(stderr, "lpops replay: %s\n", report.error().c_str());
    return 1;
  }
  for (const auto& w : report->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (o.json) {
    boost::json::object balances;
    for (const auto& id : book.orchestrator_order()) {
      const Account* a = book.account(id);
      Account zero;
      if (!a) a = &zero;
      balances[id] = boost::json::object{{"balance_wei", format_wei(a->balance())},
                                         {"balance_eth", format_eth(a->balance())},
                                         {"available_wei", format_wei(a->available())},
                                         {"pending_wei", format_wei(a->pending_debits)}};
    }
    boost::json::object out{{"records", report->last_seq}, {"workloads", book.workload_count()}, {"balances", std::move(balances)}};
    if (report->writer_running) out["node_running"] = true;  // the figures are as of `records`
    std::printf("%s\n", boost::json::serialize(out).c_str());
  } else {
    std::printf("%llu records, %zu workloads\n%-40s %-28s %s\n", static_cast<unsigned long long>(report->last_seq),
                book.workload_count(), "orchestrator", "balance (ETH)", "pending payouts (ETH)");
    for (const auto& id : book.orchestrator_order()) {
      const Account* a = book.account(id);
      std::printf("%-40s %-28s %s\n", id.c_str(), format_eth(book.balance(id)).c_str(),
                  format_eth(a ? a->pending_debits : Wei(0)).c_str());
    }
  }
  // A bad tail left in place (read-only): the balances above stop before it.
  if (report->cut_bytes) {
    std::fprintf(stderr, "lpops replay: the journal has %llu bad tail bytes (%s); the balances above are those before them\n",
                 static_cast<unsigned long long>(report->cut_bytes), report->cut_reason.c_str());
    return 1;
  }
  return 0;
}

}  // namespace lpops::app
