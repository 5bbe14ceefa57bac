#pragma once
// A unit of orchestrator work that may earn credits, with its once-only credit flag.
#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/clock.hpp"
#include "domain/compact_text.hpp"
#include "domain/money.hpp"
#include "domain/result.hpp"

namespace lpops {

inline constexpr std::size_t kMaxWorkloadIdChars = 255;
inline constexpr std::uint64_t kMaxWorkloadDurationMs = 86'400'000;

bool is_workload_status(std::string_view status);   // pending, verified, paid, rejected
bool status_credits(std::string_view status);        // verified, paid

// A workload's status in one byte: pending (the default), verified, paid or rejected.
class WorkloadStatus {
 public:
  WorkloadStatus() noexcept = default;
  // Throws std::invalid_argument unless is_workload_status(name): callers check first.
  explicit WorkloadStatus(std::string_view name);
  std::string_view view() const noexcept;
  operator std::string_view() const noexcept { return view(); }
  bool operator==(const WorkloadStatus&) const noexcept = default;
  friend bool operator==(WorkloadStatus a, std::string_view b) noexcept { return a.view() == b; }

 private:
  std::uint8_t index_ = 0;
};

// How a time workload was priced. The rate and unit are the node's settings at the time, the
// same text for every workload, so they are kept once for all.
struct WorkloadPricing {
  std::uint64_t duration_ms = 0;
  SharedText credit_eth_per_minute;
  SharedText credit_unit;
  UnixMicros computed_at = 0;
};

// A node keeps every workload in memory, so the record is laid out compactly: 232 bytes
// (the one-byte members last, no padding between), its optional texts outside it only when
// set. With its shared_ptr's control block it fits the allocator's 256-byte class.
struct Workload {
  std::string workload_id;
  std::string orchestrator_id;
  OptionalText plan_id, run_id, artifact_hash, artifact_uri, notes, tx_hash;
  Wei payout_amount = 0;
  UnixMicros submitted_at = 0;
  std::optional<UnixMicros> credited_at;
  std::optional<WorkloadPricing> pricing;
  WorkloadStatus status;
  bool credited = false;
  // Credited before it came here (imported from the reference's files credited): its credit
  // is in an imported balance, and this ledger has no entry of it.
  bool credited_elsewhere = false;

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
