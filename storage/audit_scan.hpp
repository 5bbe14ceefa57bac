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
#include <cstdint>
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
};

// True when `line` is a canonical wrapper line or bare entry with schema
// payments-tee-core:audit:v1, seq, entry_hash and prev_hash in their usual form; then
// `hash_input` holds the bytes whose keccak-256 the entry_hash must be.
bool scan_canonical_line(std::string_view line, ScannedEntry& out, std::string& hash_input);

}  // namespace lpops::storage
