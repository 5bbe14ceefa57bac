// The transparency log's storage: the one-pass line check agrees with the general one, and
// start-up from audit.index gives the same log as reading every line, whatever state the
// index is in.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "chain/hex.hpp"
#include "domain/canonical_json.hpp"
#include "storage/audit_log.hpp"
#include "storage/audit_scan.hpp"
#include "storage/audit_verify.hpp"
#include "tests/support/temp_dir.hpp"

namespace lpops::storage {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("lpops-audit-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string str() const { return path_.string(); }
  fs::path operator/(const char* name) const { return path_ / name; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

LedgerEntry entry(std::uint64_t i) {
  LedgerEntry e;
  e.event_id = "workload_time:job-" + std::to_string(i);
  e.orchestrator_id = "orch-" + std::to_string(i % 7);
  e.reason = "workload_time";
  e.delta = SignedWei{false, Wei(1000 + i)};
  Wei balance = 0;  // the orchestrator's running balance: its deltas so far
  for (std::uint64_t j = i;; j -= 7) {
    balance += 1000 + j;
    if (j <= 7) break;
  }
  e.balance_after = SignedWei{false, balance};
  e.metadata = {{"workload_id", "job-" + std::to_string(i)}, {"duration_ms", std::to_string(i * 10)}, {"plan_id", nullptr}};
  e.at = 1'767'225'600'000'000 + static_cast<std::int64_t>(i);
  return e;
}

// Appends entries first..last (1-based) and writes them in batches of `batch`.
void append(AuditLog& log, std::uint64_t first, std::uint64_t last, std::size_t batch = 10) {
  std::vector<std::string> lines;
  for (std::uint64_t i = first; i <= last; ++i) {
    lines.push_back(log.append_entry(entry(i), "credit", "workload_time", "0x00000000000000000000000000000000000003e8", i));
    if (lines.size() == batch || i == last) {
      ASSERT_FALSE(log.write(lines));
      lines.clear();
    }
  }
  ASSERT_FALSE(log.sync());
}

std::string read_file(const fs::path& p) { return lpops::testing::read_file_bytes(p.string()); }
void write_file(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary | std::ios::trunc) << s; }

// ---------- the one-pass check ----------

std::string sample_line() {
  TempDir dir;
  auto log = AuditLog::open(dir.str(), false).value();
  return log->append_entry(entry(42), "credit", "workload_time", "", 42);
}

// The general check's hash input for a line (as the verifier computes it).
std::optional<std::string> general_input(std::string_view line) {
  boost::system::error_code ec;
  auto v = boost::json::parse(line, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto* inner = v.as_object().if_contains("audit_entry");
  const auto& e = inner ? *inner : v;
  if (!e.is_object()) return std::nullopt;
  return canonical_json_without(e.as_object(), {"entry_hash", "signer", "signature"});
}

TEST(AuditScan, AcceptsTheLinesThisNodeWrites) {
  const std::string line = sample_line();
  ScannedEntry s;
  std::string input;
  ASSERT_TRUE(scan_canonical_line(line, s, input));
  EXPECT_EQ(input, *general_input(line));
  EXPECT_EQ(chain::keccak256(input), s.entry_hash);
  EXPECT_EQ(s.seq, 1);
  EXPECT_EQ(s.journal_seq, 42);
  EXPECT_EQ(s.event_id, "workload_time:job-42");
  EXPECT_EQ(s.orchestrator_id, "orch-0");
  // A bare entry too.
  const std::string bare(audit_entry_text(line));
  ASSERT_TRUE(scan_canonical_line(bare, s, input));
  EXPECT_EQ(s.journal_seq, -1);
  EXPECT_EQ(input, *general_input(bare));
}

TEST(AuditScan, DeclinesWhatIsNotCanonical) {
  const std::string line = sample_line();
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string l = line;
    const auto at = l.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    l.replace(at, from.size(), to);
    return l;
  };
  ScannedEntry s;
  std::string input;
  for (const std::string& bad : {
           replaced("{\"audit_entry\":{", "{\"audit_entry\": {"),                 // whitespace
           replaced("\"kind\":\"credit\"", "\"kind\":\"cr\\u0065dit\""),          // an escape
           replaced("\"seq\":1", "\"seq\":1.0"),                                  // a float
           replaced("\"seq\":1", "\"seq\":01"),                                   // leading zero
           replaced("\"journal_seq\":42", "\"journal_seq\":-0"),                  // negative zero
           replaced("\"entry_hash\":\"0x", "\"entry_hash\":\"0X"),                // hash form
           replaced("\"balance_wei\"", "\"zbalance_wei\""),                       // unsorted
           replaced("\"delta_wei\"", "\"balance_wei\""),                          // duplicate
           replaced("payments-tee-core:audit:v1", "payments-tee-core:audit:v2"),  // schema
           replaced("\"source\":\"workload_time\"", "\"source\":\"workload_tima\""),    // a source the entry does not give
           replaced("\"received_at\":\"2026", "\"received_at\":\"2020"),              // not the entry's timestamp
           replaced("\"journal_seq\":42,", "\"journal_seq\":42,\"note\":1,"),         // a member no writer puts there
           replaced("\"journal_seq\":42", "\"journal_seq\":0"),                     // not a record
           replaced("payments-host:tee-core-transparency-log:v1", "payments-host:tee-core-transparency-log:v2"),
           line + " ",                                                            // trailing bytes
           line.substr(0, line.size() - 1),                                       // cut
           replaced("\"orchestrator_id\":\"orch-0\"", "\"orchestrator_id\":null"),       // no orchestrator (the verifier refuses it)
           replaced("\"orchestrator_id\"", "\"orchestrator_ie\""),                    // none at all
       })
    EXPECT_FALSE(scan_canonical_line(bad, s, input)) << bad;
}

TEST(AuditScan, WheneverItAcceptsTheGeneralCheckAgrees) {
  // Random byte changes, insertions and deletions of a valid line: the one-pass check may
  // decline anything, but what it accepts must hash exactly as the general check does.
  const std::string line = sample_line();
  std::mt19937_64 rng(3);
  const std::string alphabet = "{}[]\",:0123456789-.eE tfnrulasx\\/";
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string l = line;
    for (int k = 0, edits = 1 + static_cast<int>(rng() % 3); k < edits; ++k) {
      const std::size_t at = rng() % l.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0: l[at] = c; break;
        case 1: l.insert(l.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        default: l.erase(at, 1);
      }
    }
    ScannedEntry s;
    std::string input;
    if (!scan_canonical_line(l, s, input)) continue;
    ++accepted;
    auto general = general_input(l);
    ASSERT_TRUE(general) << l;
    ASSERT_EQ(input, *general) << l;
  }
  EXPECT_GT(accepted, 100);  // the mutations that keep the form (digits, letters) are accepted
}

// ---------- start-up from audit.index ----------

struct Opened {
  std::unique_ptr<AuditLog> log;
  AuditRecovery report;
};
Opened reopen(const TempDir& dir) {
  Opened o;
  auto r = AuditLog::open(dir.str(), false, &o.report);
  EXPECT_TRUE(r) << (r ? "" : r.error());
  if (r) o.log = std::move(r).value();
  return o;
}

TEST(AuditIndex, ReopenTakesEveryEntryFromTheIndex) {
  TempDir dir;
  AuditStatus before;
  {
    auto log = AuditLog::open(dir.str(), false).value();
    append(*log, 1, 250);
    before = log->status();
  }
  auto o = reopen(dir);
  EXPECT_EQ(o.report.entries, 250u);
  EXPECT_EQ(o.report.from_index, 250u);
  EXPECT_TRUE(o.report.index_note.empty()) << o.report.index_note;
  const auto after = o.log->status();
  EXPECT_EQ(after.seq, before.seq);
  EXPECT_EQ(after.root, before.root);
  EXPECT_EQ(after.head, before.head);
  EXPECT_EQ(after.last_journal_seq, 250u);
  EXPECT_EQ(o.log->seq_of("workload_time:job-77"), 77u);
  EXPECT_TRUE(o.log->events_indexed());  // the lookup waited for the sort
  EXPECT_FALSE(o.log->seq_of("workload_time:job-251"));
  const auto seqs = o.log->seqs(std::string("orch-3"), 0, 1000, false);
  ASSERT_EQ(seqs.size(), 36u);  // 3, 10, ..., 248
  EXPECT_EQ(seqs.front(), 3u);
  EXPECT_EQ(seqs.back(), 248u);
  // Pages of it either way, after a seq (none past the last visible entry).
  EXPECT_EQ(o.log->seqs(std::string("orch-3"), 10, 3, false), (std::vector<std::uint64_t>{17, 24, 31}));
  EXPECT_EQ(o.log->seqs(std::string("orch-3"), 0, 3, true), (std::vector<std::uint64_t>{248, 241, 234}));
  EXPECT_EQ(o.log->seqs(std::string("orch-3"), 234, 10, true), (std::vector<std::uint64_t>{248, 241}));
  EXPECT_EQ(o.log->seqs(std::string("orch-3"), 248, 10, true), std::vector<std::uint64_t>{});
  EXPECT_EQ(o.log->seqs(std::string("orch-3"), 2, 100, true).size(), 36u);
  std::atomic<bool> stop{false};
  EXPECT_FALSE(o.log->check_stored(250, stop));
  // Appending after a reopen continues the chain and the index.
  append(*o.log, 251, 260);
  const auto extended = o.log->status();
  o.log.reset();
  auto again = reopen(dir);
  EXPECT_EQ(again.report.from_index, 260u);
  EXPECT_EQ(again.log->status().root, extended.root);
}

TEST(AuditIndex, EntriesStagedAheadOfAWriteLeaveTheFilesConsistent) {
  // The journal thread stages entries while the sync thread writes earlier ones: an
  // orchestrator first seen in a staged entry reaches audit.orchestrators with that entry,
  // and a stop before it is written leaves a log that reopens from its index.
  TempDir dir;
  auto staged = [](AuditLog& log, std::uint64_t i, const std::string& orchestrator) {
    LedgerEntry e = entry(i);
    e.orchestrator_id = orchestrator;
    return log.append_entry(e, "credit", "workload_time", "", i);
  };
  AuditStatus written;
  {
    auto log = AuditLog::open(dir.str(), false).value();
    const std::string first = staged(*log, 1, "alpha");
    const std::string second = staged(*log, 2, "beta");  // staged, not yet written
    ASSERT_FALSE(log->write({first}));
    EXPECT_EQ(read_file(dir / "audit.orchestrators"), "\"alpha\"\n");
    EXPECT_EQ(log->status().seq, 1u);  // readers see written entries only
    EXPECT_FALSE(log->line(2).has_value());
    written = log->status();
    (void)second;  // never written: the node stopped here
  }
  auto o = reopen(dir);
  EXPECT_EQ(o.report.entries, 1u);
  EXPECT_EQ(o.report.from_index, 1u);
  EXPECT_TRUE(o.report.index_note.empty()) << o.report.index_note;
  EXPECT_EQ(o.log->status().root, written.root);
  // The same entry staged again (as start-up regenerates it from the journal) and written.
  const std::string again = staged(*o.log, 2, "beta");
  ASSERT_FALSE(o.log->write({again}));
  EXPECT_EQ(read_file(dir / "audit.orchestrators"), "\"alpha\"\n\"beta\"\n");
  o.log.reset();
  auto reopened = reopen(dir);
  EXPECT_EQ(reopened.report.from_index, 2u);
  EXPECT_EQ(reopened.log->seqs(std::string("beta"), 0, 10, false), (std::vector<std::uint64_t>{2}));
}

TEST(AuditIndex, AMissingOrStaleIndexIsRebuiltFromTheLines) {
  TempDir dir;
  AuditStatus before;
  std::string full_index;
  {
    auto log = AuditLog::open(dir.str(), false).value();
    append(*log, 1, 100);
    before = log->status();
  }
  full_index = read_file(dir / "audit.index");
  ASSERT_EQ(full_index.size(), 100u * 64u);

  // Gone: every line is read, and the index is written again.
  fs::remove(dir / "audit.index");
  {
    auto o = reopen(dir);
    EXPECT_EQ(o.report.from_index, 0u);
    EXPECT_EQ(o.log->status().root, before.root);
  }
  EXPECT_EQ(read_file(dir / "audit.index"), full_index);

  // Behind the log (a crash before its write), with a torn record: the prefix is used.
  write_file(dir / "audit.index", full_index.substr(0, 60 * 64 + 17));
  {
    auto o = reopen(dir);
    EXPECT_EQ(o.report.from_index, 60u);
    EXPECT_EQ(o.log->status().root, before.root);
    EXPECT_EQ(o.log->seq_of("workload_time:job-99"), 99u);
  }
  EXPECT_EQ(read_file(dir / "audit.index"), full_index);

  // A damaged record in the middle: the prefix before it.
  std::string damaged = full_index;
  damaged[40 * 64 + 3] ^= 0x01;
  write_file(dir / "audit.index", damaged);
  {
    auto o = reopen(dir);
    EXPECT_EQ(o.report.from_index, 40u);
    EXPECT_FALSE(o.report.index_note.empty());
    EXPECT_EQ(o.log->status().root, before.root);
  }
  EXPECT_EQ(read_file(dir / "audit.index"), full_index);
}

TEST(AuditIndex, AnIndexOfAnotherLogIsNotUsed) {
  TempDir a, b;
  {
    auto log = AuditLog::open(a.str(), false).value();
    append(*log, 1, 50);
  }
  AuditStatus b_status;
  {
    auto log = AuditLog::open(b.str(), false).value();
    std::vector<std::string> lines;
    for (std::uint64_t i = 1; i <= 50; ++i) {
      auto e = entry(i);
      e.event_id += "-b";  // same sizes nearly, other contents
      lines.push_back(log->append_entry(e, "credit", "workload_time", "", i));
    }
    ASSERT_FALSE(log->write(lines));
    b_status = log->status();
  }
  fs::copy_file(a / "audit.index", b / "audit.index", fs::copy_options::overwrite_existing);
  auto o = reopen(b);
  EXPECT_EQ(o.report.from_index, 0u);
  EXPECT_EQ(o.log->status().root, b_status.root);
  EXPECT_EQ(o.log->seq_of("workload_time:job-7-b"), 7u);
}

TEST(AuditIndex, TheBackgroundCheckFindsALineChangedOnDisk) {
  TempDir dir;
  {
    auto log = AuditLog::open(dir.str(), false).value();
    append(*log, 1, 120);
  }
  // Change one digit of entry 57's delta in place (same length, so the index still fits).
  std::string text = read_file(dir / "audit.jsonl");
  std::size_t line_start = 0;
  for (int i = 1; i < 57; ++i) line_start = text.find('\n', line_start) + 1;
  const auto at = text.find("\"delta_wei\":\"1057\"", line_start);
  ASSERT_NE(at, std::string::npos);
  text[at + 13] = '2';
  write_file(dir / "audit.jsonl", text);
  auto o = reopen(dir);
  ASSERT_EQ(o.report.from_index, 120u);  // first and last entries are intact
  std::atomic<bool> stop{false};
  auto err = o.log->check_stored(120, stop);
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("entry 57"), std::string::npos) << *err;
}

// The wrapper is outside the entry hash: an edit of it that keeps the line's length (so the
// index still fits) is found by the background check, and a line whose key appears twice is
// refused where it is read.
TEST(AuditIndex, WrapperEditsAndRepeatedKeysAreFound) {
  TempDir dir;
  {
    auto log = AuditLog::open(dir.str(), false).value();
    append(*log, 1, 120);
  }
  const std::string original = read_file(dir / "audit.jsonl");
  auto line_start = [&](const std::string& text, int seq) {
    std::size_t at = 0;
    for (int i = 1; i < seq; ++i) at = text.find('\n', at) + 1;
    return at;
  };
  // What the background check finds after a restart from the index (which must still fit).
  auto background_check = [&]() -> std::string {
    auto o = reopen(dir);
    EXPECT_EQ(o.report.from_index, 120u);
    std::atomic<bool> stop{false};
    return o.log->check_stored(120, stop).value_or("nothing");
  };
  std::string text = original;
  const auto at = text.find("\"source\":\"workload_time\"", line_start(text, 57));
  ASSERT_NE(at, std::string::npos);
  text[at + 22] = 'a';  // workload_tima
  write_file(dir / "audit.jsonl", text);
  const std::string edited = background_check();
  EXPECT_NE(edited.find("entry 57"), std::string::npos) << edited;
  // Entry 57's journal_seq set to entry 58's (the same length): no longer increasing.
  {
    text = original;
    auto journal_seq_at = [&](int seq) {
      const auto key = text.find("\"journal_seq\":", line_start(text, seq)) + std::string("\"journal_seq\":").size();
      return std::pair{key, text.find(',', key) - key};
    };
    const auto [at57, len57] = journal_seq_at(57);
    const auto [at58, len58] = journal_seq_at(58);
    ASSERT_EQ(len57, len58);
    text.replace(at57, len57, text.substr(at58, len58));
    write_file(dir / "audit.jsonl", text);
    const std::string reordered = background_check();
    EXPECT_NE(reordered.find("entry 58: journal_seq"), std::string::npos) << reordered;
    EXPECT_NE(reordered.find("does not increase"), std::string::npos) << reordered;
  }
  // audit.orchestrators with two names swapped (the same length): entries listed under the
  // wrong orchestrator.
  write_file(dir / "audit.jsonl", original);
  {
    std::string names = read_file(dir / "audit.orchestrators");
    const auto a = names.find("\"orch-1\""), b = names.find("\"orch-2\"");
    ASSERT_TRUE(a != std::string::npos && b != std::string::npos);
    names[a + 6] = '2';
    names[b + 6] = '1';
    write_file(dir / "audit.orchestrators", names);
    const std::string swapped = background_check();
    EXPECT_NE(swapped.find("names orchestrator orch-1, but audit.index and audit.orchestrators list it under orch-2"),
              std::string::npos) << swapped;
  }
  // Entry 80 with a second delta_wei in front of its own, read line by line (no index).
  text = original;
  text.insert(line_start(text, 80) + std::string("{\"audit_entry\":{").size(), "\"delta_wei\":\"999\",");
  write_file(dir / "audit.jsonl", text);
  fs::remove(dir / "audit.index");
  auto refused = AuditLog::open(dir.str(), false);  // damage with entries after it: not a torn tail
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("entry 80"), std::string::npos) << refused.error();
  EXPECT_NE(refused.error().find("names delta_wei twice"), std::string::npos) << refused.error();
  // The same entry spelled otherwise (a space, an escape, an upper-case hash): not this node's.
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\"kind\":\"credit\"", "\"kind\": \"credit\""},
           {"\"kind\":\"credit\"", "\"kind\":\"cr\\u0065dit\""},
           {"\"entry_hash\":\"0x", "\"entry_hash\":\"0X"}}) {
    text = original;
    const auto at = text.find(from, line_start(text, 90));
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    write_file(dir / "audit.jsonl", text);
    fs::remove(dir / "audit.index");
    auto other = AuditLog::open(dir.str(), false);
    ASSERT_FALSE(other) << to;
    EXPECT_NE(other.error().find("entry 90"), std::string::npos) << other.error();
  }
}

TEST(AuditIndex, ATornLogTailIsStillCut) {
  TempDir dir;
  AuditStatus at_99;
  {
    auto log = AuditLog::open(dir.str(), false).value();
    append(*log, 1, 99);
    at_99 = log->status();
    append(*log, 100, 100);
  }
  std::string text = read_file(dir / "audit.jsonl");
  write_file(dir / "audit.jsonl", text.substr(0, text.size() - 30));  // entry 100 torn
  auto o = reopen(dir);
  EXPECT_EQ(o.report.entries, 99u);
  EXPECT_GT(o.report.cut_bytes, 0u);
  EXPECT_EQ(o.log->status().root, at_99.root);
  EXPECT_EQ(o.report.from_index, 99u);  // record 100 points past the end: not used
}

// ---------- the verifier: threads and batches do not change the verdict ----------

// Verifies `text` line by line (one thread) and in pipelined batches of `batch` bytes on
// `threads` threads; both must agree.
struct Verdict {
  bool ok;
  std::string failure;
  chain::Hash256 root;
  std::uint64_t size;
};
Verdict verify_lines(const std::string& text) {
  LogVerifier v(1);
  std::size_t start = 0;
  while (start < text.size()) {
    const auto nl = text.find('\n', start);
    const auto end = nl == std::string::npos ? text.size() : nl;
    if (end > start && !v.add(std::string_view(text).substr(start, end - start))) return {false, v.failure(), {}, v.size()};
    start = end + 1;
  }
  return {true, "", v.root(), v.size()};
}
Verdict verify_batches(const std::string& text, unsigned threads, std::size_t batch) {
  LogVerifier v(threads);
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = std::min(text.size(), pos + batch);
    if (end < text.size()) {
      const auto nl = text.find('\n', end);
      end = nl == std::string::npos ? text.size() : nl + 1;
    }
    if (!v.add_text(text.data() + pos, end - pos)) return {false, v.failure(), {}, v.size()};
    pos = end;
  }
  if (!v.finish()) return {false, v.failure(), {}, v.size()};
  return {true, "", v.root(), v.size()};
}

// Every entry's balance is its orchestrator's previous balance plus its delta, checked in full
// for amounts of any size (past 128 bits too) and for negative balances.
TEST(LogVerifierBalances, RunningBalancesOfAnySize) {
  auto log_of = [](const std::vector<std::pair<SignedWei, SignedWei>>& amounts) {  // (delta, balance after)
    TempDir dir;
    auto log = AuditLog::open(dir.str(), false).value();
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < amounts.size(); ++i) {
      LedgerEntry e = entry(i + 1);
      e.orchestrator_id = i % 2 ? "other" : "wide";
      e.delta = amounts[i].first;
      e.balance_after = amounts[i].second;
      lines.push_back(log->append_entry(e, "credit", "workload_time", "", i + 1));
    }
    EXPECT_FALSE(log->write(lines));
    return read_file(dir / "audit.jsonl");
  };
  const Wei big = Wei{1} << 200, huge = (Wei{1} << 255) - 1;
  const std::string good = log_of({{{false, big}, {false, big}},
                                    {{false, Wei{7}}, {false, Wei{7}}},
                                    {{false, big}, {false, big * 2}},
                                    {{true, Wei{9}}, {true, Wei{2}}},
                                    {{true, big * 2 + 5}, {true, Wei{5}}},
                                    {{false, huge}, {false, huge - 2}},
                                    {{false, huge}, {false, huge - 5}}});
  const Verdict ok = verify_lines(good);
  EXPECT_TRUE(ok.ok) << ok.failure;
  const std::string bad = log_of({{{false, big}, {false, big}}, {{false, Wei{7}}, {false, Wei{7}}}, {{false, big}, {false, big * 2 + 1}}});
  const Verdict refused = verify_lines(bad);
  ASSERT_FALSE(refused.ok);
  EXPECT_NE(refused.failure.find("entry 3: balance_wei " + (big * 2 + 1).str() + " is not wide's balance before it (" + big.str() +
                                 ") plus delta_wei " + big.str()),
            std::string::npos)
      << refused.failure;
  const std::string small_bad = log_of({{{false, Wei{10}}, {false, Wei{10}}}, {{false, Wei{1}}, {false, Wei{1}}}, {{true, Wei{3}}, {false, Wei{8}}}});
  const Verdict small_refused = verify_lines(small_bad);
  ASSERT_FALSE(small_refused.ok);
  EXPECT_NE(small_refused.failure.find("entry 3: balance_wei 8 is not wide's balance before it (10) plus delta_wei -3"), std::string::npos)
      << small_refused.failure;
}

// The reference debits a payout larger than the balance in full but leaves the balance at zero
// (its W-A7). Its lines (without journal_seq, wrapped or bare) verify with each such debit
// counted; this node's lines never do, nor does any other kind of entry or a balance left
// anywhere but zero.
TEST(LogVerifierBalances, TheReferencesClampedPayoutDebitsAreCountedNotRefused) {
  struct Step {
    const char* kind;
    bool negative;
    std::uint64_t delta, balance;
  };
  auto log_of = [](const std::vector<Step>& steps) {
    TempDir dir;
    auto log = AuditLog::open(dir.str(), false).value();
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < steps.size(); ++i) {
      LedgerEntry e = entry(i + 1);
      e.orchestrator_id = "o";
      e.event_id = std::string(steps[i].kind) + ":" + std::to_string(i);
      e.delta = SignedWei{steps[i].negative, Wei(steps[i].delta)};
      e.balance_after = SignedWei{false, Wei(steps[i].balance)};
      const std::string kind = steps[i].kind;
      lines.push_back(log->append_entry(e, kind, kind == "payout_debit" ? "payout_confirm" : "workload_time", "", i + 1));
    }
    EXPECT_FALSE(log->write(lines));
    return read_file(dir / "audit.jsonl");
  };
  // The same lines as the reference writes them: its wrapper has no journal_seq; or bare entries.
  auto reference_form = [](const std::string& text, bool bare) {
    std::string out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      auto wrapper = boost::json::parse(line).as_object();
      wrapper.erase("journal_seq");
      out += canonical_json(bare ? wrapper.at("audit_entry") : boost::json::value(wrapper)) + "\n";
    }
    return out;
  };
  const std::string clamped = log_of({{"credit", false, 10, 10}, {"payout_debit", true, 15, 0}, {"credit", false, 3, 3}});
  const Verdict own = verify_lines(clamped);
  ASSERT_FALSE(own.ok);
  EXPECT_NE(own.failure.find("entry 2: balance_wei 0 is not o's balance before it (10) plus delta_wei -15"), std::string::npos)
      << own.failure;
  for (bool bare : {false, true}) {
    const std::string text = reference_form(clamped, bare);
    LogVerifier v(1);
    std::size_t start = 0;
    bool ok = true;
    while (ok && start < text.size()) {
      const auto nl = text.find('\n', start);
      ok = v.add(std::string_view(text).substr(start, nl - start));
      start = nl + 1;
    }
    EXPECT_TRUE(ok) << bare << ": " << v.failure();
    EXPECT_EQ(v.size(), 3u);
    EXPECT_EQ(v.clamped_payout_debits(), 1u);
    EXPECT_EQ(v.clamped_payout_debit_seqs(), std::vector<std::uint64_t>{2});
    const Verdict batched = verify_batches(text, 2, 100);
    EXPECT_TRUE(batched.ok) << batched.failure;
  }
  // Left above zero, or another kind taken below: refused in the reference's form too.
  for (const auto& steps : {std::vector<Step>{{"credit", false, 10, 10}, {"payout_debit", true, 15, 1}},
                            std::vector<Step>{{"credit", false, 10, 10}, {"adjustment", true, 15, 0}},
                            std::vector<Step>{{"credit", false, 10, 10}, {"payout_debit", false, 15, 0}}}) {
    const Verdict refused = verify_lines(reference_form(log_of(steps), false));
    ASSERT_FALSE(refused.ok);
    EXPECT_NE(refused.failure.find("entry 2: balance_wei"), std::string::npos) << refused.failure;
  }
}

TEST(LogVerifierBatches, ThreadsAndBatchesGiveTheSameVerdictAndFirstFailure) {
  TempDir dir;
  AuditStatus status;
  {
    auto log = AuditLog::open(dir.str(), false).value();
    append(*log, 1, 3000, 100);
    status = log->status();
  }
  const std::string good = read_file(dir / "audit.jsonl");
  ASSERT_GT(good.size(), 1u << 20);  // large enough for several threads per batch
  for (unsigned threads : {1u, 2u, 3u})
    for (std::size_t batch : {std::size_t{300 << 10}, std::size_t{1 << 20}, good.size()}) {
      const Verdict v = verify_batches(good, threads, batch);
      ASSERT_TRUE(v.ok) << v.failure;
      EXPECT_EQ(v.size, 3000u);
      EXPECT_EQ(v.root, status.root);
    }
  // Damage at several places, including batch and thread boundaries: the same first failure.
  std::mt19937_64 rng(9);
  std::vector<std::size_t> starts{0};
  for (std::size_t at = good.find('\n'); at != std::string::npos && at + 1 < good.size(); at = good.find('\n', at + 1))
    starts.push_back(at + 1);
  int compared = 0;
  for (int round = 0; round < 12; ++round) {
    std::string bad = good;
    const std::size_t line = rng() % (starts.size() - 1);  // any line but the last
    const std::size_t length = starts[line + 1] - starts[line];
    switch (round % 3) {
      case 0: bad[starts[line] + 20 + rng() % 100] ^= 0x01; break;  // a flipped bit inside the entry
      case 1: bad.erase(starts[line], length); break;                // a deleted line
      default: bad.insert(starts[line + 1], bad.substr(starts[line], length));  // a duplicated line
    }
    const Verdict reference = verify_lines(bad);
    ASSERT_FALSE(reference.ok) << "round " << round;  // every change here is inside an entry or its order
    ++compared;
    for (unsigned threads : {2u, 3u}) {
      const Verdict v = verify_batches(bad, threads, 300 << 10);
      EXPECT_FALSE(v.ok) << "round " << round;
      EXPECT_EQ(v.failure, reference.failure) << "round " << round << " threads " << threads;
    }
  }
  EXPECT_EQ(compared, 12);
}

// Entries with text beyond ASCII: the lines are written ASCII-escaped, as the reference
// writes its wrapper lines, and read back to the same entries, from the index and line by
// line; lines of earlier versions (raw UTF-8) read as the same log; a line that mixes the two
// spellings was written by something else.
TEST(AuditIndex, LinesAreAsciiEscapedAndRawUtf8LinesStillRead) {
  TempDir dir;
  AuditStatus status;
  {
    auto log = AuditLog::open(dir.str(), false).value();
    std::vector<std::string> lines;
    for (std::uint64_t i = 1; i <= 30; ++i) {
      LedgerEntry e = entry(i);
      e.event_id = "workload_time:caf\xc3\xa9-\xf0\x9f\x98\x80-" + std::to_string(i);
      e.orchestrator_id = "orch-\xe6\x97\xa5-" + std::to_string(i % 7);
      e.metadata["note"] = "r\xc3\xa9sum\xc3\xa9\x7f";
      lines.push_back(log->append_entry(e, "credit", "workload_time", "", i));
    }
    ASSERT_FALSE(log->write(lines));
    ASSERT_FALSE(log->sync());
    status = log->status();
  }
  const std::string written = read_file(dir / "audit.jsonl");
  for (unsigned char c : written) ASSERT_LT(c, 0x7f);
  EXPECT_NE(written.find(R"("event_id":"workload_time:caf\u00e9-\ud83d\ude00-7")"), std::string::npos);
  EXPECT_NE(written.find(R"("note":"r\u00e9sum\u00e9\u007f")"), std::string::npos);
  EXPECT_TRUE(verify_lines(written).ok) << verify_lines(written).failure;
  EXPECT_TRUE(verify_batches(written, 2, 4096).ok);
  EXPECT_EQ(verify_lines(written).root, status.root);
  // From the index, then line by line: the same log, found by its ids as they were given.
  std::atomic<bool> stop{false};
  {
    auto o = reopen(dir);
    EXPECT_EQ(o.report.from_index, 30u);
    EXPECT_FALSE(o.log->check_stored(30, stop));
  }
  fs::remove(dir / "audit.index");
  {
    auto o = reopen(dir);
    EXPECT_EQ(o.report.from_index, 0u);
    EXPECT_EQ(o.log->status().root, status.root);
    EXPECT_EQ(o.log->seq_of("workload_time:caf\xc3\xa9-\xf0\x9f\x98\x80-7"), 7u);
    EXPECT_EQ(o.log->seqs(std::string("orch-\xe6\x97\xa5-3"), 0, 100, false).size(), 4u);  // 3, 10, 17, 24
  }
  // The same lines as earlier versions wrote them, in raw UTF-8.
  std::string raw;
  for (std::size_t start = 0; start < written.size();) {
    const auto nl = written.find('\n', start);
    raw += canonical_json(boost::json::parse(std::string_view(written).substr(start, nl - start))) + "\n";
    start = nl + 1;
  }
  ASSERT_NE(raw, written);
  EXPECT_EQ(verify_lines(raw).root, status.root);
  write_file(dir / "audit.jsonl", raw);
  fs::remove(dir / "audit.index");
  {
    auto o = reopen(dir);
    EXPECT_EQ(o.log->status().root, status.root);
    EXPECT_FALSE(o.log->check_stored(30, stop));
  }
  // One line with one character raw and the other escaped: neither spelling.
  std::string mixed = written;
  const std::string escaped = R"(r\u00e9sum\u00e9)";
  const auto at = mixed.find(escaped, mixed.find("\n", mixed.find("\n") + 1));  // in entry 3
  ASSERT_NE(at, std::string::npos);
  mixed.replace(at, escaped.size(), "r\xc3\xa9sum\\u00e9");
  const Verdict v = verify_lines(mixed);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.failure.find("canonical form"), std::string::npos) << v.failure;
  write_file(dir / "audit.jsonl", mixed);
  fs::remove(dir / "audit.index");
  auto refused = AuditLog::open(dir.str(), false);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("entry 3"), std::string::npos) << refused.error();
}

}  // namespace
}  // namespace lpops::storage
