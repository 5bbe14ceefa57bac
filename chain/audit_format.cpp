#include "chain/audit_format.hpp"

#include <openssl/crypto.h>

#include <cstring>

#include "chain/abi.hpp"
#include "chain/hex.hpp"
#include "domain/canonical_json.hpp"

namespace lpops::chain::audit {
namespace {

std::string signed_text(const SignedWei& v) { return (v.negative ? "-" : "") + v.magnitude.str(); }

void put_word(Keccak256& h, std::uint64_t v) {
  const auto w = abi::Value::uint(v).word;
  h.update(w.data(), w.size());
}

}  // namespace

boost::json::object entry_payload(const EntryFields& f) {
  boost::json::object o;
  o["schema"] = kEntrySchema;
  o["seq"] = f.seq;
  o["prev_hash"] = to_hex(f.prev_hash);
  o["timestamp"] = f.timestamp;
  o["kind"] = f.kind;
  o["event_id"] = f.event_id;
  o["orchestrator_id"] = f.orchestrator_id;
  o["recipient"] = to_lower_hex(f.recipient);
  o["delta_wei"] = signed_text(f.delta_wei);
  o["balance_wei"] = signed_text(f.balance_wei);
  if (!f.reason.empty()) o["reason"] = f.reason;
  if (!f.metadata.empty()) o["metadata"] = f.metadata;
  return o;
}

Hash256 entry_hash(const boost::json::object& payload) { return keccak256(canonical_json(payload)); }

std::string entry_canonical(const EntryFields& f) { return entry_canonical(f, f.metadata); }

std::string entry_canonical(const EntryFields& f, const boost::json::object& metadata) {
  // Members in sorted key order: balance_wei, delta_wei, event_id, kind, metadata,
  // orchestrator_id, prev_hash, reason, recipient, schema, seq, timestamp.
  std::string out;
  out.reserve(1024);
  out += "{\"balance_wei\":\"";
  out += signed_text(f.balance_wei);
  out += "\",\"delta_wei\":\"";
  out += signed_text(f.delta_wei);
  out += "\",\"event_id\":";
  append_canonical_string(out, f.event_id);
  out += ",\"kind\":";
  append_canonical_string(out, f.kind);
  if (!metadata.empty()) {
    out += ",\"metadata\":";
    append_canonical_json(out, metadata);
  }
  out += ",\"orchestrator_id\":";
  append_canonical_string(out, f.orchestrator_id);
  out += ",\"prev_hash\":\"";
  out += to_hex(f.prev_hash);
  out += '"';
  if (!f.reason.empty()) {
    out += ",\"reason\":";
    append_canonical_string(out, f.reason);
  }
  out += ",\"recipient\":\"";
  out += to_lower_hex(f.recipient);
  out += "\",\"schema\":\"";
  out += kEntrySchema;
  out += "\",\"seq\":";
  out += std::to_string(f.seq);
  out += ",\"timestamp\":";
  append_canonical_string(out, f.timestamp);
  out += '}';
  return out;
}

std::string with_entry_hash(const std::string& canonical_entry, const Hash256& hash) {
  std::string out;
  out.reserve(canonical_entry.size() + 84);
  append_with_entry_hash(out, canonical_entry, hash);
  return out;
}

void append_with_entry_hash(std::string& out, const std::string& canonical_entry, const Hash256& hash) {
  // "entry_hash" sorts right after "delta_wei", whose value is a plain number string, so the
  // first ,"event_id": is the top-level one.
  const auto at = canonical_entry.find(",\"event_id\":");
  out.append(canonical_entry, 0, at);
  out += ",\"entry_hash\":\"";
  out += to_hex(hash);
  out += '"';
  out.append(canonical_entry, at);
}

std::string with_entry_signature(const std::string& entry_with_hash, const Address& signer, const std::string& signature_hex) {
  // Both sort between "seq" and "timestamp", the last key; its value is a plain string, so
  // the last ,"timestamp": is the top-level one (metadata comes before it).
  const auto at = entry_with_hash.rfind(",\"timestamp\":");
  return entry_with_hash.substr(0, at) + ",\"signature\":\"" + signature_hex + "\",\"signer\":\"" + to_lower_hex(signer) + "\"" +
         entry_with_hash.substr(at);
}

Hash256 checkpoint_head(const Hash256& chain_head, const Hash256& merkle_root) {
  Keccak256 h;
  h.update("payments-tee-core:checkpoint-head:v1");
  h.update(chain_head.data(), chain_head.size());
  h.update(merkle_root.data(), merkle_root.size());
  return h.final();
}

Hash256 checkpoint_message(const Address& audit_address, std::uint64_t seq, const Hash256& head, std::uint64_t chain_id,
                           const Address& contract) {
  Keccak256 h;
  h.update(kCheckpointSchema);
  h.update(audit_address.data(), audit_address.size());
  put_word(h, seq);
  h.update(head.data(), head.size());
  put_word(h, chain_id);
  h.update(contract.data(), contract.size());
  return h.final();
}

PrivateKey derive_audit_key(const PrivateKey& main_key) {
  Keccak256 h;
  h.update(main_key.bytes().data(), main_key.bytes().size());
  h.update(kEntrySchema);
  Hash256 digest = h.final();
  h.wipe();  // the key's bytes sit in its buffer (they are less than one block)
  static const Wei n_minus_1{"115792089237316195423570985008687907852837564279074904382605163141518161494336"};
  Wei i;
  mp::import_bits(i, digest.begin(), digest.end(), 8);
  Wei scalar = i % n_minus_1 + 1;
  std::array<std::uint8_t, 32> bytes{};  // big-endian
  for (std::size_t k = 0; k < bytes.size(); ++k)
    bytes[bytes.size() - 1 - k] = static_cast<std::uint8_t>(static_cast<unsigned>((scalar >> (8 * k)) & 0xffu));
  auto key = PrivateKey::from_bytes(bytes).value();  // in [1, n-1] by construction
  // Every working copy of the new key, and of what it came from, goes (the numbers are of
  // fixed size: their limbs are inside them).
  OPENSSL_cleanse(bytes.data(), bytes.size());
  OPENSSL_cleanse(digest.data(), digest.size());
  OPENSSL_cleanse(static_cast<void*>(&i), sizeof i);
  OPENSSL_cleanse(static_cast<void*>(&scalar), sizeof scalar);
  return key;
}

}  // namespace lpops::chain::audit
