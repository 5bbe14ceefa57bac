#pragma once
// A payout in the ledger's two phases (invariant 4): reserved (a pending debit: the amount
// leaves the available balance but not the balance), then posted (a debit, once the payment
// is known to have landed) or voided (the reservation released, once it provably failed).
// Each step is one journal record with one audit entry: payout_reserve, payout_debit,
// payout_void.
#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "domain/clock.hpp"
#include "domain/money.hpp"
#include "domain/result.hpp"

namespace lpops {

inline constexpr std::size_t kMaxPayoutIdChars = 128;

struct Payout {
  std::string payout_id, orchestrator_id;
  std::string recipient;  // "0x" + 40 lower-case hex
  Wei amount = 0;
  std::string status = "reserved";  // reserved, posted, voided
  std::optional<std::string> notes, tx_hash, void_reason;
  std::optional<std::uint64_t> block_number;
  std::string request_digest;  // identifies the reserving request, for a repeated payout id
  UnixMicros reserved_at = 0;
  std::optional<UnixMicros> settled_at;  // posted or voided

  boost::json::object to_json() const;  // the journal and snapshot form
  static Result<Payout> from_json(const boost::json::object& o);
  boost::json::object to_view() const;  // the API form: amounts as ETH and wei strings
};

bool is_payout_status(std::string_view status);
// 1-128 of letters, digits, '-', '_', '.', the first a letter or digit. No ':', so that the
// event ids payout:<id>, payout:<id>:reserve and payout:<id>:void of different payouts can
// never be equal.
bool is_payout_id(std::string_view id);

}  // namespace lpops
