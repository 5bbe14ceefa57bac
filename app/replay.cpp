#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "app/node.hpp"
#include "domain/book.hpp"
#include "domain/json_parse.hpp"
#include "storage/file_store.hpp"
#include "storage/tail_line.hpp"

namespace lpops::app {

std::optional<std::string> records_missing_from_journal(const std::string& data_dir, std::uint64_t journal_records,
                                                        std::uint64_t audit_entries) {
  // The audit log is written from the journal, after its records are durable: entries for
  // records this journal lacks mean it lost acknowledged records (a node refuses to start on
  // it).
  if (const auto described = storage::last_line_integer(data_dir + "/audit.jsonl", "journal_seq"); described && *described > journal_records)
    return "the audit log describes journal records up to " + std::to_string(*described) + ", but the journal ends at " +
           std::to_string(journal_records) + ": records that were acknowledged are missing from it";
  // A signed checkpoint of more entries than the journal's records make lost records behind it.
  if (const auto signed_size = storage::last_line_integer(data_dir + "/checkpoints.jsonl", "seq"); signed_size && *signed_size > audit_entries)
    return "checkpoints.jsonl holds a signed checkpoint of " + std::to_string(*signed_size) +
           " audit entries, but the journal's records make " + std::to_string(audit_entries) +
           ": records that were acknowledged are missing from it";
  return std::nullopt;
}

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
  storage::FileStoreOptions store_options{data_dir, false, /*read_only=*/true};
  store_options.acknowledged_through = storage::last_line_integer(data_dir + "/audit.jsonl", "journal_seq");
  storage::FileStore store(store_options);
  Book book;
  std::uint64_t records = 0;
  std::uint64_t audit_entries = 0;  // records with a ledger entry: each is one entry of the audit log
  const bool terminal = ::isatty(STDERR_FILENO);
  auto report = store.recover([](const boost::json::object&, std::uint64_t) { return std::nullopt; },
                              [&](const storage::ParsedRecord& r) {
                                // On a terminal one line, rewritten; in a log file a line per million.
                                if (++records % 100000 == 0 && (terminal || records % 1000000 == 0))
                                  std::fprintf(stderr, terminal ? "\rreplayed %llu records" : "replayed %llu records\n",
                                               static_cast<unsigned long long>(records));
                                if (r.effect.contains("entry")) ++audit_entries;
                                return book.apply(r.effect, r.seq);
                              });
  if (terminal && records >= 100000) std::fprintf(stderr, "\n");
  if (!report) {
    // The store's words are the node's ("refusing to start"); here nothing starts.
    std::string why = report.error();
    for (std::size_t at; (at = why.find("refusing to start")) != std::string::npos;) why.replace(at, 17, "cannot replay");
    std::fprintf(stderr, "lpops replay: %s\n", why.c_str());
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
  // Beside a running node the log may be ahead of what was read; not checked then.
  if (!report->writer_running)
    if (auto missing = records_missing_from_journal(data_dir, report->last_seq, audit_entries)) {
      std::fprintf(stderr, "lpops replay: %s (restore journal.jsonl); the balances above are those of the journal as it is\n",
                   missing->c_str());
      return 1;
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
