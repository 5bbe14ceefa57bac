#pragma once
// Entries of the reference service's data files (registry.json, workloads.json,
// balances.json: each an object keyed by id), read into this node's records for
// `lpops import` and the /api/import routes. Pure: every check that needs no ledger state.
#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/money.hpp"
#include "domain/workload.hpp"

namespace lpops::reference_import {

namespace json = boost::json;

// Entries per import request; the command line sends files in slices of at most this many.
inline constexpr std::size_t kMaxEntriesPerRequest = 1000;

// Why an entry cannot be read: the field at fault (empty: the entry as a whole) and why.
struct Problem {
  std::string field;
  std::string message;
};
// Every problem of one entry: each field is checked, so that one reading names them all (an
// entry that is not what its file holds at all, or whose id is bad, gets that one problem).
using Problems = std::vector<Problem>;

// An amount as the reference computed it (Decimal, up to 28 significant digits), in whole
// wei: a finer amount is cut toward zero, and `rounded` says so.
struct Amount {
  SignedWei value;
  bool rounded = false;
  std::string given;  // the text as it was in the file
};

// A decimal string or an integer; a float is refused (its digits are not exact).
std::variant<Amount, Problem> read_amount(const json::value& v);

// registry.json: `key` -> the reference's record. The record comes back in this node's form
// (every field of a registry record, in the reference's order; null where absent); fields
// no record has are dropped and named in `ignored_fields`.
struct RegistryEntry {
  json::object record;
  std::string orchestrator_id;
  std::string address;  // lower-cased
  std::vector<std::string> ignored_fields;
};
std::variant<RegistryEntry, Problems> read_registry_entry(std::string_view key, const json::value& v);

// workloads.json: `key` -> the reference's stored workload (payout_amount_eth a decimal
// string, naive timestamps). `amount` tells whether the payout amount was cut to wei.
struct WorkloadEntry {
  Workload workload;
  Amount amount;
};
std::variant<WorkloadEntry, Problems> read_workload_entry(std::string_view key, const json::value& v);

// balances.json: `key` -> a decimal string.
struct BalanceEntry {
  std::string orchestrator_id;
  Amount amount;
};
std::variant<BalanceEntry, Problems> read_balance_entry(std::string_view key, const json::value& v);

// payouts.json: `key` (an orchestrator id) -> a payout the reference sent and has not seen
// confirmed yet: `{tx_hash, recipient, amount_eth, strategy, [batch], submitted_at}`. Its amount
// is still in the balance (the reference debits it only after the receipt). An empty
// `tx_hash` is a record the reference drops without paying (`tx_hash` comes back empty).
struct PendingPayoutEntry {
  std::string orchestrator_id;
  std::string tx_hash;    // "0x" + 64 lower-case hex (the file's may lack the 0x), or empty
  std::string recipient;  // "0x" + 40 lower-case hex
  Amount amount;
  std::string strategy;      // as the file has it, or empty
  bool batch = false;
  std::string submitted_at;  // as the file has it, or empty
};
std::variant<PendingPayoutEntry, Problems> read_pending_payout_entry(std::string_view key, const json::value& v);

// One of the reference's files (a JSON object keyed by id), entry by entry, without building
// the whole document: each member's value is parsed on its own (as parse_json() with `options`
// reads it inside the document, at the depth it has there) and kept as compact JSON, so a file of
// hundreds of MB is never a tree in memory. nullopt when the text is not an object whose
// members all read, or names a key twice: the caller then parses it whole, for the error (or
// the reading) a whole-document parse gives. `big_integers` counts integers past 64 bits.
struct Member {
  std::string key;
  std::string json;  // the value, serialised compactly
  // The value itself when it holds a number no JSON text carries (1e400 reads as an
  // infinity, which serialises as no JSON): kept so that its check can name it.
  std::optional<json::value> non_finite;
  std::size_t big_integers = 0;  // integers past 64 bits within the value (which the node does not store)
};
std::optional<std::vector<Member>> split_object(std::string_view text, const json::parse_options& options,
                                                std::size_t& big_integers);

// The ledger's event id of a balance brought over by an import: one per orchestrator id, so
// a second import of the same balance changes nothing and a different one is a conflict.
std::string balance_event_id(std::string_view orchestrator_id);
// The key the ledger files an imported balance under among its idempotency keys: with a
// space, which no Idempotency-Key header may hold, so the two never meet.
std::string balance_import_key(std::string_view orchestrator_id);
// What identifies an imported balance (the Idempotent request digest of its entry).
std::string balance_digest(const SignedWei& amount);

}  // namespace lpops::reference_import
