#include "storage/audit_verify.hpp"

#include "chain/audit_format.hpp"
#include "chain/hex.hpp"
#include "chain/signature.hpp"
#include "domain/canonical_json.hpp"

namespace lpops::storage {
namespace {

Result<chain::Address> address_field(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return Error{std::string(key) + " is missing"};
  std::string text(v->as_string());
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto a = chain::parse_address(text);
  if (!a) return Error{std::string(key) + ": " + a.error()};
  return a;
}

Result<std::uint64_t> count_field(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_int64() || v->as_int64() < 0) return Error{std::string(key) + " is missing or not a count"};
  return static_cast<std::uint64_t>(v->as_int64());
}

std::string hex(const chain::Hash256& h) { return chain::to_hex(h); }

}  // namespace

Result<std::pair<boost::json::object, chain::Hash256>> checked_entry(const boost::json::value& v) {
  auto e = checked_entry_ref(v);
  if (!e) return Error{e.error()};
  return std::pair{*e->first, e->second};
}

Result<std::pair<const boost::json::object*, chain::Hash256>> checked_entry_ref(const boost::json::value& v) {
  if (!v.is_object()) return Error{"not a JSON object"};
  const auto* inner = v.as_object().if_contains("audit_entry");
  const boost::json::value& entry_v = inner ? *inner : v;
  if (!entry_v.is_object()) return Error{"audit_entry is not an object"};
  const boost::json::object& entry = entry_v.as_object();
  const auto* schema = entry.if_contains("schema");
  if (!schema || !schema->is_string() || schema->as_string() != chain::audit::kEntrySchema)
    return Error{"schema is not payments-tee-core:audit:v1"};
  auto stored = chain::hash32_field(entry, "entry_hash");
  if (!stored) return Error{stored.error()};
  if (chain::keccak256(canonical_json_without(entry, {"entry_hash", "signer", "signature"})) != *stored)
    return Error{"entry_hash does not match the entry's contents"};
  return std::pair{&entry, *stored};
}

Result<Checkpoint> parse_checkpoint(const boost::json::value& v) {
  if (!v.is_object()) return Error{"a checkpoint is a JSON object"};
  const auto& o = v.as_object();
  Checkpoint c;
  auto audit = address_field(o, "audit_address");
  auto contract = address_field(o, "contract_address");
  auto chain_id = count_field(o, "chain_id");
  auto seq = count_field(o, "seq");
  auto head = chain::hash32_field(o, "head_hash");
  auto chain_head = chain::hash32_field(o, "chain_head_hash");
  auto root = chain::hash32_field(o, "merkle_root");
  auto message = chain::hash32_field(o, "message_hash");
  for (const std::string* err : {audit ? nullptr : &audit.error(), contract ? nullptr : &contract.error(),
                                 chain_id ? nullptr : &chain_id.error(), seq ? nullptr : &seq.error(),
                                 head ? nullptr : &head.error(), chain_head ? nullptr : &chain_head.error(),
                                 root ? nullptr : &root.error(), message ? nullptr : &message.error()})
    if (err) return Error{"checkpoint: " + *err};
  const auto* sig = o.if_contains("signature");
  if (!sig || !sig->is_string()) return Error{"checkpoint: signature is missing"};
  c.audit_address = *audit;
  c.contract = *contract;
  c.chain_id = *chain_id;
  c.seq = *seq;
  c.head_hash = *head;
  c.chain_head_hash = *chain_head;
  c.merkle_root = *root;
  c.message_hash = *message;
  c.signature = std::string(sig->as_string());
  return c;
}

std::optional<std::string> check_checkpoint_signature(const Checkpoint& c) {
  const chain::Hash256 head = chain::audit::checkpoint_head(c.chain_head_hash, c.merkle_root);
  if (head != c.head_hash) return "head_hash is not the commitment of chain_head_hash and merkle_root";
  const chain::Hash256 message = chain::audit::checkpoint_message(c.audit_address, c.seq, head, c.chain_id, c.contract);
  if (message != c.message_hash) return "message_hash does not match the checkpoint's fields";
  auto sig = chain::Signature::from_hex(c.signature);
  if (!sig) return "signature: " + sig.error();
  auto signer = chain::recover_address(chain::eip191_hash32(message), *sig);
  if (!signer) return "signature: " + signer.error();
  if (*signer != c.audit_address) return "signed by " + chain::to_checksummed(*signer) + ", not by the audit address";
  return std::nullopt;
}

bool LogVerifier::add(std::string_view line) {
  const std::uint64_t expected = hashes_.size() + 1;
  auto fail = [&](const std::string& why) {
    failure_ = "entry " + std::to_string(expected) + ": " + why;
    return false;
  };
  boost::system::error_code ec;
  auto doc = boost::json::parse(line, ec);
  if (ec) return fail("not JSON (" + ec.message() + ")");
  auto checked = checked_entry_ref(doc);
  if (!checked) return fail(checked.error());
  const boost::json::object& entry = *checked->first;
  const chain::Hash256 hash = checked->second;
  const auto* seq = entry.if_contains("seq");
  if (!seq || !seq->is_int64()) return fail("seq is missing");
  if (static_cast<std::uint64_t>(seq->as_int64()) != expected)
    return fail("seq " + std::to_string(seq->as_int64()) + " is out of place (deleted, reordered or duplicated entries)");
  auto prev = chain::hash32_field(entry, "prev_hash");
  if (!prev) return fail(prev.error());
  if (*prev != head()) return fail("prev_hash does not link to the entry before it");
  if (const auto* e = entry.if_contains("event_id"); e && e->is_string()) by_event_.emplace(std::string(e->as_string()), expected);
  hashes_.push_back(hash);
  tree_.append(hash);
  return true;
}

std::optional<chain::Hash256> LogVerifier::entry_hash(std::uint64_t seq) const {
  if (seq == 0 || seq > hashes_.size()) return std::nullopt;
  return hashes_[seq - 1];
}

std::optional<std::uint64_t> LogVerifier::seq_of(const std::string& event_id) const {
  auto it = by_event_.find(event_id);
  if (it == by_event_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> LogVerifier::check_checkpoint(const Checkpoint& c) const {
  if (c.seq > size())
    return "checkpoint at seq " + std::to_string(c.seq) + " is beyond the log's " + std::to_string(size()) +
           " entries (entries were removed, or the log was rolled back)";
  const chain::Hash256 head = c.seq ? hashes_[c.seq - 1] : chain::Hash256{};
  if (head != c.chain_head_hash)
    return "entry " + std::to_string(c.seq) + " hashes to " + hex(head) + ", the checkpoint signed " + hex(c.chain_head_hash);
  const chain::Hash256 root = tree_.root_at(c.seq).value();
  if (root != c.merkle_root)
    return "Merkle root at size " + std::to_string(c.seq) + " is " + hex(root) + ", the checkpoint signed " + hex(c.merkle_root);
  return std::nullopt;
}

}  // namespace lpops::storage
