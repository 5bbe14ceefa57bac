#pragma once
// One balance change, the ledger's unit of record. Every entry carries an event id that
// makes it happen at most once (invariant 3).
#include <boost/json.hpp>

#include <string>

#include "domain/clock.hpp"
#include "domain/money.hpp"
#include "domain/result.hpp"

namespace lpops {

struct LedgerEntry {
  std::string event_id;         // "workload_time:<id>", "adjustment:<key>", ...
  std::string orchestrator_id;
  SignedWei delta;              // > 0 credit, < 0 debit
  SignedWei balance_after;      // credits - posted debits, after this entry
  std::string reason;           // "workload_time", "workload", "adjustment", ...
  boost::json::object metadata;
  UnixMicros at = 0;

  boost::json::object to_json() const;
  // Appends json::serialize(to_json()), byte for byte, without building the object.
  void append_json(std::string& out) const;
  static Result<LedgerEntry> from_json(const boost::json::object& o);

  // The reference's GET /api/ledger/events shape, plus event_id and *_wei fields.
  boost::json::object to_event_view() const;
};

}  // namespace lpops
