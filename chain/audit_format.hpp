#pragma once
// The transparency log's formats, byte for byte as the reference defines them:
// audit entries (schema payments-tee-core:audit:v1, keccak-256 over canonical JSON, a
// prev_hash chain), checkpoint commitments (checkpoint-head:v1) and the EIP-191 checkpoint
// message (checkpoint:v1) bound to a chain id and contract, and the audit key derived from
// a main key.
#include <boost/json.hpp>

#include <optional>
#include <string>

#include "chain/address.hpp"
#include "chain/keccak.hpp"
#include "chain/keys.hpp"
#include "domain/money.hpp"

namespace lpops::chain::audit {

inline constexpr const char* kEntrySchema = "payments-tee-core:audit:v1";
inline constexpr const char* kCheckpointSchema = "payments-tee-core:checkpoint:v1";

struct EntryFields {
  std::uint64_t seq = 0;
  Hash256 prev_hash{};
  std::string timestamp;  // "…Z"
  std::string kind;       // credit, adjustment, payout_debit, policy, …
  std::string event_id;
  std::string orchestrator_id;
  Address recipient{};
  SignedWei delta_wei;
  SignedWei balance_wei;
  std::string reason;                      // omitted when empty
  boost::json::object metadata;            // omitted when empty
};

// The payload that is hashed (keys as the reference writes them; absent ones omitted).
boost::json::object entry_payload(const EntryFields& f);
Hash256 entry_hash(const boost::json::object& payload);  // keccak256(canonical JSON)
// canonical_json(entry_payload(f)), written directly (the journal thread's hot path).
std::string entry_canonical(const EntryFields& f);
// The same with the metadata given apart (f.metadata is then ignored), so that the caller
// need not copy it into f.
std::string entry_canonical(const EntryFields& f, const boost::json::object& metadata);
// The canonical entry with "entry_hash" added in its sorted place.
std::string with_entry_hash(const std::string& canonical_entry, const Hash256& hash);
// Appends with_entry_hash(canonical_entry, hash) to `out` (no intermediate strings).
void append_with_entry_hash(std::string& out, const std::string& canonical_entry, const Hash256& hash);

// The entry with "signature" and "signer" (lower-case) added in their sorted places: the
// reference's per-entry signature, EIP-191 over entry_hash with the audit key.
std::string with_entry_signature(const std::string& entry_with_hash, const Address& signer, const std::string& signature_hex);

// keccak256("payments-tee-core:checkpoint-head:v1" ‖ chain_head ‖ merkle_root)
Hash256 checkpoint_head(const Hash256& chain_head, const Hash256& merkle_root);
// keccak256("payments-tee-core:checkpoint:v1" ‖ audit ‖ uint256 seq ‖ head ‖ uint256 chainId ‖ contract)
Hash256 checkpoint_message(const Address& audit_address, std::uint64_t seq, const Hash256& head, std::uint64_t chain_id,
                           const Address& contract);

// The audit key the reference derives from a main key: scalar = (I mod (n − 1)) + 1 with
// I = keccak256(main key bytes ‖ "payments-tee-core:audit:v1") read big-endian.
PrivateKey derive_audit_key(const PrivateKey& main_key);

}  // namespace lpops::chain::audit
