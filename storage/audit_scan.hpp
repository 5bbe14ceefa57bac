#pragma once
// The fast path for checking stored audit lines: one pass over the bytes, no JSON document.
// A line this node wrote is canonical JSON already (sorted keys, no whitespace, plain
// strings and integers), so the entry's canonical form without entry_hash/signer/signature
// is its own text with those members cut out, and hashing it needs no re-serialisation.
//
// scan_canonical_line() accepts only lines in exactly that form: for such a line, the
// general check (parse, canonicalise, hash) reaches the same verdict on the same bytes.
// Anything else (escapes, non-ASCII, floats, whitespace, unsorted or duplicate keys, deep
// nesting) is declined, and the caller falls back to the general check.
#include <boost/json/fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "chain/keccak.hpp"

namespace lpops::storage {

struct ScannedEntry {
  std::int64_t seq = 0;
  chain::Hash256 entry_hash{}, prev_hash{};
  std::string_view event_id, orchestrator_id;  // into the line; empty when absent
  bool has_event_id = false;
  std::int64_t journal_seq = -1;  // the wrapper's, -1 for a bare entry
  std::string_view entry_text;    // the entry object's bytes
  std::string_view signer, signature;  // the optional per-entry signature; empty when absent
  std::string_view delta_wei, balance_wei;  // the amounts' text; empty when absent
  std::string_view kind;                    // empty when absent or not a plain string
};

// The `source` this node writes beside an entry of this kind and reason; empty for a kind it
// never writes.
std::string audit_source_for(std::string_view kind, std::string_view reason);

// What is wrong with a wrapper line's own members (nullopt: nothing). A line with
// `journal_seq` is this node's: exactly audit_entry, journal_seq (a positive integer),
// received_at (the entry's timestamp), schema (payments-host:tee-core-transparency-log:v1)
// and source (as the entry's kind and reason give it). A line without is the reference's
// host format: audit_entry, received_at, schema and source, as strings, and nothing else.
// The wrapper is outside the entry hash: these rules are what keeps it from being edited.
std::optional<std::string> wrapper_problem(const boost::json::object& wrapper);

// Whether `line` (parsed as `doc`) is spelled as this node writes its wrapper lines: the
// canonical form with every non-ASCII character escaped, as the reference writes them, or
// the canonical form in raw UTF-8, as earlier versions of this node wrote them. Either reads
// as the same values, and so the same entry hash; any other spelling was written by
// something else.
bool written_form(const boost::json::value& doc, std::string_view line);

// True when `line` is a canonical wrapper line (one that wrapper_problem() finds nothing
// wrong with, with journal_seq) or bare entry with schema payments-tee-core:audit:v1, seq,
// entry_hash and prev_hash in their usual form; then `hash_input` holds the bytes whose
// keccak-256 the entry_hash must be.
bool scan_canonical_line(std::string_view line, ScannedEntry& out, std::string& hash_input);

}  // namespace lpops::storage
