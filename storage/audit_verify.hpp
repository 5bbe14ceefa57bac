#pragma once
// Offline verification of the transparency log, for `lpops verify` and for tests: every
// entry's hash recomputed from its own fields, seq = position, the prev_hash chain, the
// Merkle tree rebuilt incrementally, and signed checkpoints checked against it.
#include <boost/json.hpp>
#include <boost/multiprecision/cpp_int.hpp>

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "chain/address.hpp"
#include "chain/merkle.hpp"
#include "domain/result.hpp"

namespace lpops::storage {

struct Checkpoint {
  chain::Address audit_address{};
  std::uint64_t chain_id = 0;
  chain::Address contract{};
  std::uint64_t seq = 0;
  chain::Hash256 head_hash{}, chain_head_hash{}, merkle_root{}, message_hash{};
  std::string signature;
};

Result<Checkpoint> parse_checkpoint(const boost::json::value& v);
// Recomputes the commitment and the message and recovers the signer; the signer must be
// the checkpoint's audit address.
std::optional<std::string> check_checkpoint_signature(const Checkpoint& c);

struct LogVerifierChecked;
// Wide enough for any sum of two amounts the log can state (each within ±(2^256-1)).
using LogVerifierAmount = boost::multiprecision::checked_int512_t;
__extension__ typedef __int128 LogVerifierSmall;  // the usual amounts, without the wide arithmetic
// One orchestrator's running balance: in `small` while it has at most 38 digits, else in `full`.
struct LogVerifierBalance {
  LogVerifierSmall small = 0;
  bool wide = false;
  LogVerifierAmount full = 0;
};  // one line's order-independent checks (audit_verify.cpp)

class LogVerifier {
 public:
  // `threads` > 1 checks the lines of a batch in parallel (the order-dependent checks stay
  // sequential, so the verdict and the first failure reported do not depend on it).
  explicit LogVerifier(unsigned threads = 1);
  ~LogVerifier();
  // Room for about this many entries (avoids regrowth on large logs).
  void reserve(std::size_t entries) { hashes_.reserve(entries); }
  // Remembers where this event's entry is (seq_of answers only for watched events).
  void watch_event(const std::string& event_id) { watched_.emplace(event_id, 0); }
  // Adds the next stored line (a host wrapper, or a bare entry); false at the first bad one.
  bool add(std::string_view line) { return add_batch(&line, 1); }
  // Adds the next `count` lines in order; false at the first bad one (nothing after it is kept).
  bool add_batch(const std::string_view* lines, std::size_t count);
  // The same for whole lines in a buffer (each ends with '\n' or the buffer; a blank line is
  // a bad one, as add() finds it); the threads also find the line boundaries. Pipelined: a batch's in-order
  // checks run during the next call, so the buffer must stay valid until then, a failure
  // may be reported one call late, and finish() must be called after the last batch.
  bool add_text(const char* data, std::size_t size);
  // Completes the checks of the last add_text() batch; false if any failed.
  bool finish();
  const std::string& failure() const { return failure_; }
  std::uint64_t size() const { return tree_.size(); }
  chain::Hash256 head() const { return hashes_.empty() ? chain::Hash256{} : hashes_.back(); }
  chain::Hash256 root() const { return tree_.root(); }
  Result<chain::Hash256> root_at(std::uint64_t n) const { return tree_.root_at(n); }
  std::optional<chain::Hash256> entry_hash(std::uint64_t seq) const;
  std::optional<std::uint64_t> seq_of(const std::string& event_id) const;  // watched events
  Result<std::vector<chain::Hash256>> inclusion_proof(std::uint64_t seq, std::uint64_t size) const {
    return tree_.inclusion_proof(seq - 1, size);
  }
  // The key of the newest entry that carries a per-entry signature, if any does.
  const std::optional<chain::Address>& entry_signer() const { return entry_signer_; }
  // The signed entries as runs of one key each, in order (more than one after a key rotation).
  struct SignerRun {
    std::uint64_t first_seq, last_seq;
    chain::Address signer;
  };
  const std::vector<SignerRun>& signer_runs() const { return signer_runs_; }
  // The seq of the last entry that carries a signature (0: none). A signed entry vouches for
  // every entry before it too: its hash chains to them.
  std::uint64_t last_signed_seq() const { return last_signed_seq_; }
  // The reference's payout debits that took a balance below zero and left it at zero instead
  // (its lines only: see apply()); and the seqs of the first of them.
  std::uint64_t clamped_payout_debits() const { return clamped_payout_debits_; }
  // Whether the lines carry journal_seq (this node's form, held to its spelling and wrapper
  // fields) rather than being livepeer-ops's (only the entries checked).
  bool lines_of_this_node() const { return last_journal_seq_ >= 0; }
  const std::vector<std::uint64_t>& clamped_payout_debit_seqs() const { return clamped_payout_debit_seqs_; }
  static constexpr std::size_t kClampedSeqsKept = 20;
  // The checkpoint describes a prefix of this log: size, chain head and root agree.
  std::optional<std::string> check_checkpoint(const Checkpoint& c) const;
  // Groups of entries (seqs, ascending; groups ordered by their second seq) whose event ids
  // may be equal: their 64-bit fingerprints are. The caller compares the event ids within
  // each group (a fingerprint collision is not a duplicate, and a group can hold colliding
  // ids as well as a repeated one). Call once, after the last line.
  std::vector<std::vector<std::uint64_t>> duplicate_event_candidates();

 private:
  bool apply(const LogVerifierChecked* checked, std::size_t count);

  unsigned threads_;
  std::vector<chain::Hash256> hashes_;
  std::unordered_map<std::string, std::uint64_t> watched_;  // event id -> seq (0: not seen yet)
  std::optional<chain::Address> entry_signer_;
  std::vector<SignerRun> signer_runs_;
  std::uint64_t last_signed_seq_ = 0;
  std::vector<chain::Hash256> leaves_;  // scratch: the batch's Merkle leaves
  std::vector<std::uint64_t> event_fps_;  // event-id fingerprint of each entry that has one, in order
  std::vector<std::uint64_t> event_seqs_;  // its seq
  std::vector<std::vector<LogVerifierChecked>> results_[2];  // per thread; two sets, see add_text
  int pending_set_ = 0;
  bool has_pending_ = false;
  std::vector<std::vector<std::string_view>> line_scratch_;  // scratch: per thread, reused
  chain::merkle::Tree tree_;
  std::string failure_;
  std::uint64_t clamped_payout_debits_ = 0;
  std::vector<std::uint64_t> clamped_payout_debit_seqs_;
  std::int64_t last_journal_seq_ = -1;  // of the last line that had one (-1: none yet)
  // Each orchestrator's balance after its latest entry: the next must state it plus its delta.
  std::unordered_map<std::string, LogVerifierBalance> balances_;
};

// One line's checks that need no other line (its entry hash and signature, schema, and the
// forms of its fields), as the verifier makes them: by the one-pass scanner where it takes
// the line (`scanned`), else by parsing it; with `general_only`, by parsing it in any case.
// The two ways must reach the same verdict on every line: tests hold them to it.
struct LineVerdict {
  bool scanned = false;
  std::string error;  // empty: the line passes
  std::int64_t seq = 0, journal_seq = -1;
  chain::Hash256 hash{}, prev{};
  std::optional<std::string> event_id;
  std::optional<chain::Address> signer;
  std::string orchestrator_id;
  std::string amounts;  // "delta balance", as decimal integers
};
LineVerdict check_line(std::string_view line, bool general_only);

// The entry object of a wrapper or bare entry, with its entry hash checked. Shared by the
// verifier and proof checks.
Result<std::pair<boost::json::object, chain::Hash256>> checked_entry(const boost::json::value& wrapper_or_entry);
// The same without copying: the entry stays inside `wrapper_or_entry`.
Result<std::pair<const boost::json::object*, chain::Hash256>> checked_entry_ref(const boost::json::value& wrapper_or_entry);

}  // namespace lpops::storage
