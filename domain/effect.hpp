#pragma once
// An effect: what one command changed, as a typed value. The ledger applies it directly;
// the journal stores its JSON form, and replay applies Effect::from_json of that form,
// so both paths run the same Book::apply (invariant 5).
#include <boost/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/ledger_entry.hpp"
#include "domain/payout.hpp"
#include "domain/workload.hpp"

namespace lpops {

struct AdjustmentNote {
  std::optional<std::string> reference_workload_id, notes, idempotency_key, request_digest;
};

// An orchestrator credential token issued (token_hash set) and older tokens dropped: the
// orchestrator's expired ones, its oldest beyond the per-orchestrator limit, or all of them
// on revocation. The command decides what is dropped, so replay needs no settings.
struct CredentialNote {
  std::string orchestrator_id;
  std::optional<std::string> token_id, token_hash;  // "sha256:<hex>" of the token text
  UnixMicros expires_at = 0;
  std::vector<std::string> dropped;                 // token hashes
};

struct Effect {
  // policy: a snapshot of the crediting settings, recorded (once per distinct policy) for the
  // transparency log; it changes no balance.
  // credential: an orchestrator credential token issued or revoked; no balance changes.
  // payout: a payout reserved, posted or voided (the payout's new state and its entry).
  enum class Type { orchestrator, workload, adjustment, policy, credential, payout };
  Type type = Type::workload;
  UnixMicros at = 0;
  std::shared_ptr<const boost::json::object> orchestrator;  // the full record
  // Immutable once made: the book, the snapshot replica and the journal share one copy.
  std::shared_ptr<const Workload> workload;
  std::optional<LedgerEntry> entry;
  std::optional<AdjustmentNote> adjustment;
  std::optional<CredentialNote> credential;
  std::shared_ptr<const Payout> payout;

  boost::json::object to_json() const;
  // Appends json::serialize(to_json()), byte for byte, without building the object (the
  // journal writes every effect).
  void append_json(std::string& out) const;
  static Result<Effect> from_json(const boost::json::object& o);
};

}  // namespace lpops
