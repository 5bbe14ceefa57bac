#pragma once
// The book: every durable fact of the node (orchestrator records, workloads, accounts,
// idempotency keys) and the one state-transition function that changes it.
//
// Commands validate against the current state and produce an *effect* (domain/effect.hpp),
// which they apply; the journal stores the effect's JSON form and start-up replay applies
// that through the same apply(), so replay reproduces state (invariant 5).
#include <boost/json.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/effect.hpp"
#include "domain/ledger_entry.hpp"
#include "domain/money.hpp"
#include "domain/rate.hpp"
#include "domain/workload_index.hpp"
#include "domain/workload.hpp"
#include "domain/workload_sequence.hpp"

namespace lpops {

struct Failure {
  int status;
  std::string detail;
};

// What a command decided: a failure, or a response plus the effect to journal (absent
// when the command changed nothing, e.g. a replayed idempotency key).
struct Decision {
  std::optional<Failure> failure;
  std::optional<Effect> effect;
  boost::json::object response;
  // The response already as JSON text (the hot commands write it directly); when set,
  // `response` is empty.
  std::string response_text = {};
  std::string response_body() const { return response_text.empty() ? boost::json::serialize(response) : response_text; }

  static Decision fail(int status, std::string detail) { return Decision{Failure{status, std::move(detail)}, {}, {}}; }
};

struct Account {
  Wei credits = 0;
  Wei posted_debits = 0;
  Wei pending_debits = 0;
  SignedWei balance() const { return signed_difference(credits, posted_debits); }
  // credits - (posted + pending), computed wide: the two debit totals may together pass
  // 2^256 wei; a shortfall beyond that reads as the largest amount.
  SignedWei available() const;
};

// Signed per-day totals for the stats endpoint, each kept as (plus, minus).
struct DayTotals {
  struct Sum {
    Wei plus = 0, minus = 0;
    void add(const SignedWei& v) { (v.negative ? minus : plus) += v.magnitude; }
    SignedWei value() const { return signed_difference(plus, minus); }
  };
  Sum credits, payouts, session, workload, adjustments, net_delta;
};

struct WorkloadDraft {
  std::string workload_id, orchestrator_id;
  std::optional<std::string> plan_id, run_id, artifact_hash, artifact_uri, notes;
  Wei payout_amount = 0;  // create only
};

struct WorkloadPatch {
  std::optional<std::string> status, notes, tx_hash, artifact_uri, artifact_hash;
};

struct AdjustmentRequest {
  std::string orchestrator_id;
  SignedWei amount;
  std::optional<std::string> reason, reference_workload_id, notes;
  bool force = false;
  std::optional<std::string> idempotency_key;
  std::string request_digest;   // identifies the request's effect for key reuse checks
  std::optional<std::string> digest_as_sent;  // the digest earlier versions took, where it differs
  std::string generated_id;     // event id suffix when no key is given
};

struct PayoutRequest {
  std::string payout_id, orchestrator_id;
  std::optional<Wei> amount;          // none: the whole available balance
  std::optional<std::string> recipient, notes;  // recipient none: the registered address
  std::string request_digest;          // identifies the request body for a repeated id
  // The recipient named is on PAYMENTS_ADDRESS_DENYLIST: refused (403), unless the id was
  // already reserved by this same request (its answer is given again).
  bool recipient_denylisted = false;
};

struct PayoutFilter {
  std::optional<std::string> orchestrator_id, status;
  std::size_t limit = 100;
};

struct WorkloadFilter {
  std::optional<std::string> orchestrator_id, status;
  std::optional<UnixMicros> since, until;
  std::optional<std::size_t> limit;
};

// Read from a frozen copy of the book's workloads (Book::frozen_workloads), on any thread:
// the listing's JSON body (`{"workloads":[…]}`, newest first), and the summary's per-
// orchestrator rows (workloads submitted in [since, until]), sorted by id.
std::string workload_listing_json(const WorkloadSequence::Frozen& workloads, const WorkloadFilter& filter);
boost::json::array workload_summary_rows(const WorkloadSequence::Frozen& workloads, std::optional<UnixMicros> since,
                                         std::optional<UnixMicros> until);

struct BookOptions {
  std::string credit_unit = "eth";
  std::optional<std::string> test_run_id;  // tags ledger metadata as the reference does
};

class Book {
 public:
  explicit Book(BookOptions options = {}) : options_(std::move(options)), credit_unit_(options_.credit_unit) {}

  // The state transition. Returns an error text for an effect that does not fit the
  // state (a corrupt journal); the state is unchanged then.
  std::optional<std::string> apply(const Effect& effect, std::uint64_t seq);
  // Replay: the journal's JSON form of an effect.
  std::optional<std::string> apply(const boost::json::object& effect, std::uint64_t seq);

  // Commands: on success the effect has already been applied, as journal seq last_seq()+1.
  Decision create_workload(const WorkloadDraft& draft, UnixMicros now);
  Decision create_time_workload(const WorkloadDraft& draft, std::uint64_t duration_ms, const std::string& status,
                                const Rate& rate, UnixMicros now);
  Decision patch_workload(const std::string& workload_id, const WorkloadPatch& patch, UnixMicros now);
  Decision adjust(const AdjustmentRequest& request, UnixMicros now);
  // Whether "adjustment:<suffix>" is already the event id of an adjustment (keyed or not).
  bool adjustment_id_taken(const std::string& suffix) const {
    return adjustments_.contains(suffix) || generated_adjustments_.count(suffix) != 0;
  }
  // Records a policy snapshot once per distinct hash ("0x…"); no effect when already recorded.
  Decision record_policy(const std::string& policy_hash, const boost::json::object& policy, UnixMicros now);
  // Imports from the reference's files (domain/reference_import.hpp), checked for a whole
  // request before any is applied. `create`: the entry adds to the book; `existing`: it is
  // there already (an import run again); `conflict`: the book holds something else under
  // its id; `zero`: a zero balance, which needs no entry.
  struct ImportCheck {
    enum class Kind { create, existing, conflict, zero };
    Kind kind = Kind::create;
    std::string detail;
  };
  // `not_before`: the submission time the workload may not precede (the newest workload the
  // book holds, or the one before it in the same request), nor may it be later than `now`:
  // listings read the book's workloads in insertion order as newest first.
  // `known_elsewhere`: an orchestrator the book does not hold is no conflict (a check ahead of
  // an import whose registry brings it).
  ImportCheck check_workload_import(const Workload& w, std::optional<UnixMicros> not_before, UnixMicros now,
                                    bool known_elsewhere = false) const;
  // The workload as stored there; no ledger entry (a credited one is in the imported balance).
  Decision import_workload(Workload w, UnixMicros now);
  ImportCheck check_balance_import(const std::string& id, const SignedWei& amount, bool known_elsewhere = false) const;
  // One ledger entry, reason "import", event id import:<id>.
  Decision import_balance(const std::string& id, const SignedWei& amount, const std::string& given, bool rounded,
                          UnixMicros now);
  std::optional<UnixMicros> newest_workload_time() const;
  UnixMicros workload_time(UnixMicros now) const;  // `now`, and at least 1 µs after the newest workload
  // Stores an orchestrator record as the registry produced it.
  Decision upsert_orchestrator(boost::json::object record, UnixMicros now);

  // Payouts in two phases (domain/book_payouts.cpp). Reserving takes the amount out of the
  // available balance (409 when it is not there); posting turns the reservation into a
  // debit; voiding releases it. A repeated step with the same data answers again without
  // an effect; a conflicting one is a 409.
  Decision reserve_payout(const PayoutRequest& request, UnixMicros now);
  Decision post_payout(const std::string& payout_id, const std::string& tx_hash, std::optional<std::uint64_t> block_number,
                       UnixMicros now);
  Decision void_payout(const std::string& payout_id, const std::optional<std::string>& reason, UnixMicros now);
  const Payout* payout(const std::string& payout_id) const;
  // Newest first.
  std::vector<const Payout*> list_payouts(const PayoutFilter& filter) const;

  // Orchestrator credential tokens (domain/book_credentials.cpp). Issues a token for a
  // registered, not denylisted orchestrator: 404/403 otherwise. The effect also drops the
  // orchestrator's expired tokens and its oldest ones beyond `max_per_orchestrator`.
  Decision issue_credential_token(const std::string& orchestrator_id, const std::string& token_id,
                                  const std::string& token_hash, UnixMicros expires_at, std::size_t max_per_orchestrator,
                                  UnixMicros now);
  // Revokes every token of the orchestrator; the response counts them.
  Decision revoke_credential_tokens(const std::string& orchestrator_id, UnixMicros now);
  // The orchestrator a live (unexpired) token hash belongs to.
  std::optional<std::string> authenticate(const std::string& token_hash, UnixMicros now) const;
  std::size_t credential_token_count() const { return tokens_.size(); }

  // Queries.
  bool knows_orchestrator(const std::string& id) const { return orchestrator_record(id) != nullptr; }
  SignedWei balance(const std::string& id) const;
  const Account* account(const std::string& id) const;
  // Every id the book holds, with its balance (start-up compares them with the audit log).
  void for_each_balance(const std::function<void(const std::string&, const SignedWei&)>& fn) const;
  // The registry record of a registered orchestrator, else null.
  const boost::json::object* orchestrator_record(const std::string& id) const;
  const std::vector<std::string>& orchestrator_order() const { return orchestrator_order_; }
  // Every registered orchestrator in registration order, with its record (shared and
  // immutable: a later registration replaces it rather than changing it) and a copy of its
  // account: what a listing needs, gathered in a pass of pointer and account copies so that
  // another thread can write the listing out.
  struct OrchestratorRow {
    std::string id;
    std::shared_ptr<const boost::json::object> record;
    Account account;
  };
  std::vector<OrchestratorRow> orchestrator_rows() const;
  std::size_t id_count() const { return by_orchestrator_.size(); }
  // The ids whose balance or record changed since the previous call (repeats possible);
  // the first call starts the tracking and returns nothing. nullopt: more than
  // kMaxTrackedChanges piled up in between, so the caller must look at every id.
  std::optional<std::vector<std::string>> take_changes();
  static constexpr std::size_t kMaxTrackedChanges = 1 << 16;
  const Workload* workload(const std::string& id) const;
  // Every workload as it is now, to read on another thread while the book goes on (a
  // reference per block of workloads: microseconds for millions).
  WorkloadSequence::Frozen frozen_workloads() const { return workloads_.freeze(); }
  // Journal seqs of ledger entries, newest first.
  std::vector<std::uint64_t> entry_seqs(const std::optional<std::string>& orchestrator_id, std::size_t limit) const;
  const std::map<std::int64_t, DayTotals>* day_totals(const std::string& id) const;
  std::size_t workload_count() const { return workloads_.size(); }
  std::uint64_t last_seq() const { return last_seq_; }

  // Full state for snapshots; from_snapshot(snapshot()) is an identical book.
  boost::json::object snapshot() const;
  // json::serialize(snapshot()), byte for byte, with the workloads (most of a snapshot)
  // written directly instead of through a JSON document.
  std::string snapshot_text() const;
  // The same text handed to `put` in pieces of about `piece_bytes` (a book of millions of
  // workloads is never one string in memory); false as soon as a put fails.
  bool write_snapshot_text(const std::function<bool(std::string_view)>& put, std::size_t piece_bytes = std::size_t{1} << 20) const;
  // The workloads are the snapshot's "workloads" array, or (when that is empty) the texts of
  // their JSON objects in `workload_texts`, each parsed on its own (a large book's snapshot is
  // then never one document in memory).
  static Result<Book> from_snapshot(const boost::json::object& snapshot, BookOptions options,
                                    std::span<const std::string_view> workload_texts = {});

  // Every account, for replay comparisons: id -> balance text.
  std::map<std::string, std::string> balances_text() const;

 private:
  std::optional<std::string> apply_entry(const LedgerEntry& entry, std::uint64_t seq);
  boost::json::object snapshot_without_workloads() const;
  Decision commit(Effect effect, boost::json::object response);
  // An adjustment effect (an entry with its note), answered as adjustments are.
  Decision commit_adjustment(LedgerEntry entry, AdjustmentNote note, UnixMicros now);
  // The same with a workload's view as the response, written as text (the workload moves
  // into the effect).
  Decision commit_workload(Effect effect, Workload w);
  LedgerEntry make_entry(std::string event_id, const std::string& orchestrator_id, const SignedWei& delta,
                         std::string reason, boost::json::object metadata, UnixMicros now) const;
  boost::json::object adjustment_response(const AdjustmentNote& adjustment, const LedgerEntry& entry) const;
  // Whether the account of `id` can take `delta`: its credits and its posted debits are each
  // at most 2^256-1 wei. A command checks before it builds an entry, so that an oversized
  // amount is a 422 and never an exception inside the ledger.
  // Whether the delta is an int256 and keeps the account's totals within uint256 and its
  // balance within int256.
  bool fits(const std::string& id, const SignedWei& delta) const;

  // Everything kept per orchestrator id, in one table entry: a credit reads and changes all
  // of it, and with thousands of orchestrators one entry costs one set of cache misses where
  // four tables cost four. An id has an entry once it is registered or has a ledger entry
  // (the "__system__" policy entries have no record), and then it has an account.
  struct PerOrchestrator {
    std::shared_ptr<const boost::json::object> record;  // the registry record, once registered (the effect's)
    Account account;
    std::map<std::int64_t, DayTotals> days;     // ids with ledger entries only
    std::vector<std::uint64_t> entry_seqs;      // journal seqs of its ledger entries
  };

  BookOptions options_;
  // A time workload's unit and rate as shared texts, looked up once rather than per credit.
  SharedText credit_unit_, last_rate_;
  std::uint64_t last_seq_ = 0;
  // Keyed by orchestrator id (or idempotency key): open addressing, because with thousands
  // of orchestrators chained nodes make every lookup several cache misses.
  boost::unordered_flat_map<std::string, PerOrchestrator> by_orchestrator_;
  std::vector<std::string> orchestrator_order_;
  // Workloads in insertion (== submitted_at) order, and where each id is in it: an open-
  // addressing table, because a large book makes every lookup a cache miss and chained
  // nodes make it several.
  WorkloadSequence workloads_;
  WorkloadIndex workload_index_;  // positions in workloads_, sharded: growing it never stalls the ledger long
  // The id of the workload at a position, for the index (which holds no ids).
  auto workload_id_at() const {
    return [this](std::size_t pos) -> std::string_view { return workloads_[pos]->workload_id; };
  }
  struct Idempotent {
    std::string request_digest;
    boost::json::object response;
  };
  boost::unordered_flat_map<std::string, Idempotent> adjustments_;  // by idempotency key
  // Event id suffixes of adjustments sent without a key ("adjustment:<suffix>"): a key may
  // not take one of them, nor a generated id one of the keys, so one id is one change.
  std::set<std::string> generated_adjustments_;
  std::set<std::string> policies_;                           // recorded policy event ids
  struct CredentialToken {
    std::string token_id, orchestrator_id;
    UnixMicros created_at = 0, expires_at = 0;
  };
  // Live credential tokens by "sha256:<hex>" of the token, and each orchestrator's token
  // hashes, oldest first.
  boost::unordered_flat_map<std::string, CredentialToken> tokens_;
  std::map<std::string, std::vector<std::string>> tokens_by_orchestrator_;
  std::optional<std::string> apply_credential(const CredentialNote& note, UnixMicros at);
  void note_change(const std::string& id);
  std::optional<std::string> apply_payout(const Effect& effect, std::uint64_t seq);
  Decision record_payout_step(Payout p, std::string event_id, const SignedWei& delta, std::string reason, UnixMicros now);
  // Payouts by id, and their ids in reservation order.
  boost::unordered_flat_map<std::string, std::shared_ptr<const Payout>> payouts_;
  std::vector<std::string> payout_order_;
  std::unordered_map<std::string, std::vector<std::string>> posted_by_tx_;  // tx hash -> posted payout ids
  // take_changes(): off until first asked, so that a book nobody asks costs nothing.
  bool tracking_changes_ = false;
  bool changes_overflowed_ = false;
  std::vector<std::string> changes_;
  std::vector<std::uint64_t> entry_seqs_;
};

}  // namespace lpops
