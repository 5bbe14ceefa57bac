#pragma once
// Message types shared by the actors. All are local (never sent to another node yet), so
// they are whitelisted rather than made serializable.
#include <caf/all.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/book.hpp"
#include "domain/orchestrator.hpp"

namespace lpops::actors {

// Delivers a finished HTTP-style outcome (status, JSON body) to whoever asked; it must be
// cheap and non-blocking (the HTTP layer posts to its own executor).
using Reply = std::function<void(int status, std::string body)>;

std::string detail_body(const std::string& detail);

// --- journal (the audit actor) ---
struct JournalAppend {
  std::uint64_t seq;
  Effect effect;
  std::function<void()> on_durable;
};
struct JournalBarrier {
  std::function<void()> on_durable;  // runs once everything sent before is durable
};
// The effects handed to the snapshotter and not yet applied (its replica applies them in
// order, so none can be dropped): bounded by making the journal's sync actor wait while too
// many are outstanding (a snapshot being written on a slow disk holds the snapshotter).
class SnapshotBacklog {
 public:
  explicit SnapshotBacklog(std::size_t limit) : limit_(limit) {}
  // What a feed holds of the backlog; given back when the feed is gone (applied, or dropped
  // with a mailbox at shutdown).
  class Ticket {
   public:
    Ticket(std::shared_ptr<SnapshotBacklog> backlog, std::size_t effects) : backlog_(std::move(backlog)), effects_(effects) {}
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { backlog_->give_back(effects_); }

   private:
    std::shared_ptr<SnapshotBacklog> backlog_;
    std::size_t effects_;
  };
  static std::shared_ptr<Ticket> take(const std::shared_ptr<SnapshotBacklog>& backlog, std::size_t effects) {
    std::lock_guard lock(backlog->mutex_);
    backlog->outstanding_ += effects;
    return std::make_shared<Ticket>(backlog, effects);
  }
  // Waits (bounded by `max_wait`) until at most half the limit is outstanding, if more than
  // the limit is; true when it had to wait.
  bool wait_if_over(std::chrono::milliseconds max_wait) {
    std::unique_lock lock(mutex_);
    if (outstanding_ <= limit_) return false;
    changed_.wait_for(lock, max_wait, [this] { return outstanding_ <= limit_ / 2; });
    return true;
  }
  std::size_t outstanding() const {
    std::lock_guard lock(mutex_);
    return outstanding_;
  }
  std::size_t limit() const { return limit_; }

 private:
  void give_back(std::size_t effects) {
    {
      std::lock_guard lock(mutex_);
      outstanding_ -= effects;
    }
    changed_.notify_all();
  }
  const std::size_t limit_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t outstanding_ = 0;
};

// The effects of one durable journal batch, seqs first_seq, first_seq+1, ...
struct SnapshotFeed {
  std::uint64_t first_seq;
  std::vector<Effect> effects;
  std::shared_ptr<SnapshotBacklog::Ticket> ticket;  // the backlog these effects hold
};

// --- ledger ---
struct CreateWorkload {
  WorkloadDraft draft;
  Reply reply;
};
struct CreateTimeWorkload {
  WorkloadDraft draft;
  std::uint64_t duration_ms;
  std::string status;
  Reply reply;
};
struct PatchWorkload {
  std::string workload_id;
  WorkloadPatch patch;
  Reply reply;
};
struct Adjust {
  AdjustmentRequest request;
  Reply reply;
};
// Stores an orchestrator record; `respond` builds the reply body from the new balance.
struct UpsertOrchestrator {
  boost::json::object record;
  std::function<std::string(const SignedWei& balance)> respond;
  Reply reply;
};
// Records the policy snapshot (once per distinct hash) for the transparency log.
struct RecordPolicy {
  std::string policy_hash;
  boost::json::object policy;
  Reply reply;
};
// A read-only question answered inside the ledger actor.
struct Query {
  std::function<std::pair<int, std::string>(const Book&)> answer;
  Reply reply;
};

// --- imports from the reference's files (domain/reference_import.hpp) ---
// Each request is checked whole against the book (or the registry) first: any conflict is a
// 409 that names every one, and nothing is applied; otherwise every new entry is applied and
// the answer goes out once they are durable.
struct ImportWorkload {
  Workload workload;
  std::string given;  // payout_amount_eth as the file had it
  bool rounded = false;
};
// `check`: the answer the import would give, nothing applied (`lpops import` checks every
// slice before it sends the first). An orchestrator the node does not know then counts as one
// the same import registers: the command checks that its registry.json has it.
struct ImportWorkloads {
  std::vector<ImportWorkload> workloads;  // oldest first
  Reply reply;
  bool check = false;
};
struct ImportBalance {
  std::string orchestrator_id;
  SignedWei amount;
  std::string given;  // the amount as the file had it
  bool rounded = false;
};
struct ImportBalances {
  std::vector<ImportBalance> balances;
  Reply reply;
  bool check = false;
};
struct ImportOrchestrators {
  std::vector<boost::json::object> records;  // in this node's form, ids and addresses checked
  std::vector<std::string> ignored_fields;   // fields of the file's records that no record keeps
  Reply reply;
  bool check = false;
};

// --- payouts ---
// payout_id empty: the ledger draws one.
struct ReservePayout {
  PayoutRequest request;
  Reply reply;
};
struct PostPayout {
  std::string payout_id, tx_hash;
  std::optional<std::uint64_t> block_number;
  Reply reply;
};
struct VoidPayout {
  std::string payout_id;
  std::optional<std::string> reason;
  Reply reply;
};

// --- orchestrator credentials (actors/credential.hpp) ---
// The owner address of a registered orchestrator, as the credential checks need it.
struct OwnerLookup {
  enum class Outcome { ok, not_found, denylisted, no_address, bad_address };
  Outcome outcome = Outcome::not_found;
  std::string owner;  // "0x" + 40 hex, lower-cased, when ok
  // How many times this run has revoked the orchestrator's tokens: a token whose checks began
  // before a revocation is not issued after it (IssueToken::revocations_seen).
  std::uint64_t revocations = 0;
};
struct LookupOwner {
  std::string orchestrator_id;
  std::function<void(OwnerLookup)> done;  // called on the ledger's thread
};
// Stores a credential token that passed every check; replies `body` once durable.
struct IssueToken {
  std::string orchestrator_id, token_id, token_hash;
  UnixMicros expires_at = 0;
  std::size_t max_per_orchestrator = 16;
  std::uint64_t revocations_seen = 0;  // OwnerLookup::revocations when the checks began
  std::string body;
  Reply reply;
};
struct RevokeTokens {
  std::string orchestrator_id;
  Reply reply;
};
// GET /api/transparency/tee-core/ledger-entry|ledger-proof: the orchestrator's leaf in the
// ledger tree. `token_hash` set: only the token's own orchestrator may be asked for, and an
// empty orchestrator_id means that one.
struct LedgerProofQuery {
  std::string orchestrator_id;
  std::optional<std::string> token_hash;
  bool with_proof = false;
  Reply reply;
};

// --- registry and orchestrators ---
struct Register {
  Registration registration;
  std::string peer_ip;
  Reply reply;
  bool bootstrap = false;  // start-up entries skip the rate limits
  bool skip_rank = false;  // single-orchestrator mode: no rank check, whatever the bootstrap's setting
  // Called once the registration's write is on its way to the ledger (queued there, or
  // answered without a write): start-up sends bootstrap entries one after another on this
  // signal, so the ledger stores them in file order while their commits are still shared.
  std::function<void()> forwarded;
};
struct HealthPush {
  std::string orchestrator_id;
  std::string source;
  boost::json::object data;
  Reply reply;
};
struct ApplyRegistration {
  Registration registration;
  std::string peer_ip;
  // In the top set (the rank check passed); none: the check was skipped and the record keeps
  // the flag it has, as in the reference.
  std::optional<bool> is_top;
  bool denied;
  bool created;  // the record is new with this registration
  Reply reply;
  UnixMicros at;  // the registration's time, read once (first_seen and last_seen agree)
  std::function<void()> forwarded;  // Register::forwarded
};
// A refusal that reports an orchestrator's registration (its address is taken): sent to that
// orchestrator's actor, which answers once what it sent the ledger before is durable, so a
// crash cannot undo the registration the refusal told of.
struct AnswerWhenDurable {
  int status = 0;
  std::string body;
  Reply reply;
};

// --- rank check (TOP_CONTRACT_ADDRESS) ---
// The registry hands a registration to the rank actor, which sends it back as RankChecked.
struct RankCheck {
  std::string address;  // lower-cased
  caf::actor reply_to;
  Register request;
};
struct RankChecked {
  enum class Answer { Top, NotTop, Unavailable };
  Answer answer;
  Register request;
};
// The outcome of one read of the transcoder pool.
struct PoolFetched {
  bool ok = false;
  std::vector<std::string> addresses;  // lower-cased
  std::string error;
};
// Starts a pool read; calls `done` (from any thread) when it ends.
using PoolFetcher = std::function<void(std::function<void(PoolFetched)> done)>;

}  // namespace lpops::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::JournalAppend)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::JournalBarrier)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::AnswerWhenDurable)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::SnapshotFeed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::CreateWorkload)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::CreateTimeWorkload)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::PatchWorkload)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::Adjust)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::UpsertOrchestrator)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::Query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::RecordPolicy)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::ImportWorkloads)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::ImportBalances)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::ImportOrchestrators)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::ReservePayout)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::PostPayout)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::VoidPayout)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::LookupOwner)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::IssueToken)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::RevokeTokens)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::LedgerProofQuery)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::Register)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::HealthPush)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::ApplyRegistration)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::RankCheck)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::RankChecked)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::PoolFetched)
