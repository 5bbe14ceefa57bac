#pragma once
// An effect: what one command changed, as a typed value. The ledger applies it directly;
// the journal stores its JSON form, and replay applies Effect::from_json of that form,
// so both paths run the same Book::apply (invariant 5).
#include <boost/json.hpp>

#include <memory>
#include <optional>
#include <string>

#include "domain/ledger_entry.hpp"
#include "domain/workload.hpp"

namespace lpops {

struct AdjustmentNote {
  std::optional<std::string> reference_workload_id, notes, idempotency_key, request_digest;
};

struct Effect {
  // policy: a snapshot of the crediting settings, recorded (once per distinct policy) for the
  // transparency log; it changes no balance.
  enum class Type { orchestrator, workload, adjustment, policy };
  Type type = Type::workload;
  UnixMicros at = 0;
  std::shared_ptr<const boost::json::object> orchestrator;  // the full record
  // Immutable once made: the book, the snapshot replica and the journal share one copy.
  std::shared_ptr<const Workload> workload;
  std::optional<LedgerEntry> entry;
  std::optional<AdjustmentNote> adjustment;

  boost::json::object to_json() const;
  // Appends json::serialize(to_json()), byte for byte, without building the object (the
  // journal writes every effect).
  void append_json(std::string& out) const;
  static Result<Effect> from_json(const boost::json::object& o);
};

}  // namespace lpops
