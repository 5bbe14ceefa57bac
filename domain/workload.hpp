#pragma once
// A unit of orchestrator work that may earn credits, with its once-only credit flag.
#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/clock.hpp"
#include "domain/money.hpp"
#include "domain/result.hpp"

namespace lpops {

inline constexpr std::size_t kMaxWorkloadIdChars = 255;
inline constexpr std::uint64_t kMaxWorkloadDurationMs = 86'400'000;

bool is_workload_status(std::string_view status);   // pending, verified, paid, rejected
bool status_credits(std::string_view status);        // verified, paid

struct WorkloadPricing {
  std::uint64_t duration_ms = 0;
  std::string credit_eth_per_minute;
  std::string credit_unit;
  UnixMicros computed_at = 0;
};

struct Workload {
  std::string workload_id;
  std::string orchestrator_id;
  std::optional<std::string> plan_id, run_id, artifact_hash, artifact_uri, notes, tx_hash;
  Wei payout_amount = 0;
  std::string status = "pending";
  UnixMicros submitted_at = 0;
  bool credited = false;
  std::optional<UnixMicros> credited_at;
  // Credited before it came here (imported from the reference's files credited): its credit
  // is in an imported balance, and this ledger has no entry of it.
  bool credited_elsewhere = false;
  std::optional<WorkloadPricing> pricing;

  // An artifact: a video URI (.webm/.mkv/.mp4/.mov) or a non-empty hash.
  bool has_artifact() const;
  // The credit rule for PATCH: not yet credited, verified/paid, and an artifact, except for a
  // time workload (pricing set), which, as at creation, needs none.
  bool due_credit() const;

  boost::json::object to_view() const;   // the WorkloadRecord response
  void append_view_json(std::string& out) const;  // to_view() serialised, written directly
  boost::json::object to_json() const;   // the stored form: compact, with pricing
  // Appends json::serialize(to_json()), byte for byte, without building the object (the
  // snapshot writes hundreds of thousands of these).
  void append_json(std::string& out) const;
  static Result<Workload> from_json(const boost::json::object& o);
};

}  // namespace lpops
