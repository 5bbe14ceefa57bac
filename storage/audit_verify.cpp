#include "storage/audit_verify.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <functional>
#include <thread>

#include "chain/audit_format.hpp"
#include "chain/hex.hpp"
#include "chain/keccak_many.hpp"
#include "chain/signature.hpp"
#include "domain/canonical_json.hpp"
#include "domain/json_parse.hpp"
#include "storage/audit_scan.hpp"

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
  // The signature covers the address, size, heads, chain and contract; the rest of the line
  // is held to the one form every writer gives it, so that an edit there is found too (the
  // timestamp is a string, but no signature vouches for its value).
  const auto* schema = o.if_contains("schema");
  if (!schema || !schema->is_string() || schema->as_string() != chain::audit::kCheckpointSchema)
    return Error{std::string("checkpoint: schema is not ") + chain::audit::kCheckpointSchema};
  if (const auto* t = o.if_contains("timestamp"); !t || !t->is_string()) return Error{"checkpoint: timestamp is missing"};
  static constexpr std::array<std::string_view, 11> kMembers{"schema",          "audit_address", "chain_id",     "contract_address",
                                                            "seq",             "head_hash",     "chain_head_hash", "merkle_root",
                                                            "message_hash",    "signature",     "timestamp"};
  for (const auto& member : o)
    if (std::find(kMembers.begin(), kMembers.end(), std::string_view(member.key())) == kMembers.end())
      return Error{"checkpoint: it has a member " + std::string(member.key()) + " that no writer puts there"};
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

// What the order-independent checks of one line found.
struct LogVerifierChecked {
  std::string error;  // empty: entry hash, schema and field forms are fine
  std::int64_t seq = 0;
  chain::Hash256 hash{}, prev{};
  std::string event_id;
  bool has_event_id = false;
  std::uint64_t event_fp = 0;            // fingerprint of the event id (when there is one)
  std::optional<chain::Address> signer;  // a per-entry signature, checked
  chain::Hash256 leaf{};                  // Merkle leaf of `hash`
  std::int64_t journal_seq = -1;          // the wrapper's (-1: a line without one)
  std::string orchestrator_id;
  // The amounts: in 128 bits when both have at most 38 digits (all but absurd ones), else as
  // their text ("delta balance"), read in full where the balances are kept.
  LogVerifierSmall delta = 0, balance = 0;
  std::string wide_amounts;
  bool payout_debit = false;  // kind "payout_debit" (the reference may have clamped it)
  void reset() {  // for reuse: every field a check may leave unset
    error.clear();
    payout_debit = false;
    event_id.clear();
    has_event_id = false;
    signer.reset();
    journal_seq = -1;
  }
};

namespace {

using CheckedLine = LogVerifierChecked;

// The reference's per-entry signature: EIP-191 over entry_hash, recovering to `signer`.
std::optional<std::string> check_entry_signature(std::string_view signer_text, std::string_view signature_text,
                                                 const chain::Hash256& entry_hash, std::optional<chain::Address>& signer) {
  std::string lower(signer_text);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto claimed = chain::parse_address(lower);
  if (!claimed) return "signer: " + claimed.error();
  auto sig = chain::Signature::from_hex(signature_text);
  if (!sig) return "signature: " + sig.error();
  auto recovered = chain::recover_address(chain::eip191_hash32(entry_hash), *sig);
  if (!recovered) return "signature: " + recovered.error();
  if (*recovered != *claimed) return "signature is not the signer's (it recovers to " + chain::to_checksummed(*recovered) + ")";
  signer = *claimed;
  return std::nullopt;
}

std::uint64_t event_fingerprint(std::string_view event_id) { return std::hash<std::string_view>{}(event_id); }

// An amount as entries state it: an optional minus, then decimal digits without leading
// zeros, at most 78 (2^256 has 78). `small` is set when it has at most 38 digits (it then
// fits in 128 bits).
bool well_formed_amount(std::string_view text, LogVerifierSmall* small) {
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  if (text.empty() || text.size() > 78 || (text.size() > 1 && text.front() == '0')) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  if (small && text.size() <= 38) {
    LogVerifierSmall v = 0;
    for (char c : text) v = v * 10 + (c - '0');
    *small = negative ? -v : v;
  }
  return true;
}

LogVerifierAmount wide_amount(std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  LogVerifierAmount v(std::string{text});
  return negative ? LogVerifierAmount(-v) : v;
}

// The orchestrator and the amounts of one entry, for the running balance check.
std::optional<std::string> take_amounts(std::string_view orchestrator, std::string_view delta, std::string_view balance,
                                        CheckedLine& out) {
  if (!well_formed_amount(delta, nullptr)) return "delta_wei is not an integer amount";
  if (!well_formed_amount(balance, nullptr)) return "balance_wei is not an integer amount";
  const auto digits = [](std::string_view t) { return t.size() - (!t.empty() && t.front() == '-'); };
  out.wide_amounts.clear();
  if (digits(delta) <= 38 && digits(balance) <= 38) {
    well_formed_amount(delta, &out.delta);
    well_formed_amount(balance, &out.balance);
  } else {
    out.wide_amounts.append(delta).append(" ").append(balance);
  }
  out.orchestrator_id.assign(orchestrator);
  return std::nullopt;
}

std::string amount_text(LogVerifierSmall v) {
  const bool negative = v < 0;
  unsigned __int128 m = negative ? static_cast<unsigned __int128>(-(v + 1)) + 1 : static_cast<unsigned __int128>(v);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(m % 10)));
    m /= 10;
  } while (m);
  return negative ? "-" + digits : digits;
}

// The general check: parse, canonicalise, hash (any formatting of the same entry passes).
void check_general(std::string_view line, CheckedLine& out) {
  boost::system::error_code ec;
  auto doc = parse_json(line, ec);
  if (ec) {
    out.error = "not JSON (" + ec.message() + ")";
    return;
  }
  // Readers disagree on which copy of a repeated key counts: a line with one is refused,
  // whatever its hash (the hash is over one reading of it).
  if (auto key = duplicate_json_key(line)) {
    out.error = "names " + *key + " twice in one object";
    return;
  }
  auto checked = checked_entry_ref(doc);
  if (!checked) {
    out.error = checked.error();
    return;
  }
  const boost::json::object& entry = *checked->first;
  if (doc.as_object().contains("audit_entry")) {
    if (auto problem = wrapper_problem(doc.as_object())) {
      out.error = *problem;
      return;
    }
    if (const auto* j = doc.as_object().if_contains("journal_seq")) {
      out.journal_seq = j->as_int64();
      // A line of this node's (it has journal_seq) is in the canonical form the node writes and
      // serves; a re-encoded copy of it is not the log it signed.
      if (!written_form(doc, line)) {
        out.error = "is not in the canonical form the node writes (sorted keys, no spaces, its escapes)";
        return;
      }
    }
  }
  {
    auto text = [&](const char* key) {
      const auto* v = entry.if_contains(key);
      return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
    };
    const auto* orchestrator = entry.if_contains("orchestrator_id");
    if (!orchestrator || !orchestrator->is_string()) {
      out.error = "orchestrator_id is missing";
      return;
    }
    if (auto err = take_amounts(orchestrator->get_string(), text("delta_wei"), text("balance_wei"), out)) {
      out.error = *err;
      return;
    }
    out.payout_debit = text("kind") == "payout_debit";
  }
  out.hash = checked->second;
  const auto* seq = entry.if_contains("seq");
  if (!seq || !seq->is_int64()) {
    out.error = "seq is missing";
    return;
  }
  out.seq = seq->as_int64();
  auto prev = chain::hash32_field(entry, "prev_hash");
  if (!prev) {
    out.error = prev.error();
    return;
  }
  out.prev = *prev;
  if (entry.at("entry_hash").as_string() != chain::to_hex(out.hash) || entry.at("prev_hash").as_string() != chain::to_hex(out.prev)) {
    out.error = "entry_hash and prev_hash are not written as 0x and 64 lower-case hex digits";
    return;
  }
  if (const auto* e = entry.if_contains("event_id"); e && e->is_string()) {
    out.event_id = std::string(e->as_string());
    out.has_event_id = true;
    out.event_fp = event_fingerprint(out.event_id);
  }
  const auto* signer = entry.if_contains("signer");
  const auto* signature = entry.if_contains("signature");
  if (signer || signature) {
    if (!signer || !signer->is_string() || !signature || !signature->is_string()) {
      out.error = "signer and signature must both be strings";
      return;
    }
    if (auto err = check_entry_signature(signer->as_string(), signature->as_string(), out.hash, out.signer)) out.error = *err;
  }
}

// Checks lines [begin, end): canonical lines on the fast path, hashed in groups of 64 with
// the multi-message keccak; the rest through the general check.
void check_range(const std::string_view* lines, CheckedLine* out, std::size_t begin, std::size_t end, bool keep_event_ids) {
  constexpr std::size_t kGroup = 64;
  std::array<std::string, kGroup> inputs;
  std::array<std::string_view, kGroup> views;
  std::array<std::size_t, kGroup> index;
  std::array<chain::Hash256, kGroup> computed;
  std::array<std::pair<std::string_view, std::string_view>, kGroup> signatures;  // signer, signature
  std::size_t pending = 0;
  std::array<chain::Hash256, kGroup> hashes, leaves;
  auto merkle_leaves_of = [&](std::size_t n) {
    for (std::size_t j = 0; j < n; ++j) hashes[j] = out[index[j]].hash;
    chain::merkle_leaves(hashes.data(), leaves.data(), n);
    for (std::size_t j = 0; j < n; ++j) out[index[j]].leaf = leaves[j];
  };
  auto flush = [&] {
    chain::keccak256_many(views.data(), computed.data(), pending);
    merkle_leaves_of(pending);
    for (std::size_t j = 0; j < pending; ++j) {
      CheckedLine& c = out[index[j]];
      if (computed[j] != c.hash) c.error = "entry_hash does not match the entry's contents";
      else if (!signatures[j].first.empty())
        if (auto err = check_entry_signature(signatures[j].first, signatures[j].second, c.hash, c.signer)) c.error = *err;
    }
    pending = 0;
  };
  ScannedEntry scanned;
  for (std::size_t i = begin; i < end; ++i) {
    CheckedLine& c = out[i];
    c.reset();
    if (lines[i].empty()) {  // the node never writes one: lines were added to the file
      c.error = "a blank line where this entry should be";
      continue;
    }
    if (scan_canonical_line(lines[i], scanned, inputs[pending])) {
      if (auto err = take_amounts(scanned.orchestrator_id, scanned.delta_wei, scanned.balance_wei, c)) {
        c.error = *err;
        continue;
      }
      c.journal_seq = scanned.journal_seq;
      c.payout_debit = scanned.kind == "payout_debit";
      c.seq = scanned.seq;
      c.hash = scanned.entry_hash;
      c.prev = scanned.prev_hash;
      c.has_event_id = scanned.has_event_id;
      if (scanned.has_event_id) c.event_fp = event_fingerprint(scanned.event_id);
      if (keep_event_ids && scanned.has_event_id) c.event_id = std::string(scanned.event_id);
      views[pending] = inputs[pending];
      index[pending] = i;
      signatures[pending] = {scanned.signer, scanned.signature};
      if (++pending == kGroup) flush();
    } else {
      check_general(lines[i], c);
      c.leaf = chain::merkle::leaf_node(c.hash);
    }
  }
  if (pending) flush();
}

}  // namespace

LineVerdict check_line(std::string_view line, bool general_only) {
  LineVerdict v;
  CheckedLine c;
  c.reset();
  if (general_only) {
    check_general(line, c);
  } else {
    ScannedEntry scanned;
    std::string input;
    v.scanned = scan_canonical_line(line, scanned, input);
    check_range(&line, &c, 0, 1, true);
  }
  v.error = c.error;
  if (!v.error.empty()) return v;
  v.seq = c.seq;
  v.journal_seq = c.journal_seq;
  v.hash = c.hash;
  v.prev = c.prev;
  if (c.has_event_id) v.event_id = c.event_id;
  v.signer = c.signer;
  v.orchestrator_id = c.orchestrator_id;
  v.amounts = c.wide_amounts.empty() ? amount_text(c.delta) + " " + amount_text(c.balance) : c.wide_amounts;
  return v;
}

LogVerifier::LogVerifier(unsigned threads) : threads_(threads ? threads : 1) {}
LogVerifier::~LogVerifier() = default;

bool LogVerifier::add_batch(const std::string_view* lines, std::size_t count) {
  if (!finish()) return false;
  std::vector<CheckedLine> checked(count);
  const bool keep_event_ids = !watched_.empty();
  const std::size_t workers = std::min<std::size_t>(threads_, std::max<std::size_t>(1, count / 512));
  if (workers <= 1) {
    check_range(lines, checked.data(), 0, count, keep_event_ids);
  } else {
    std::vector<std::thread> pool;
    const std::size_t share = (count + workers - 1) / workers;
    for (std::size_t w = 1; w < workers; ++w) {
      const std::size_t b = w * share, e = std::min(count, b + share);
      if (b < e) pool.emplace_back(check_range, lines, checked.data(), b, e, keep_event_ids);
    }
    check_range(lines, checked.data(), 0, std::min(count, share), keep_event_ids);  // this thread's share
    for (auto& t : pool) t.join();
  }
  return apply(checked.data(), checked.size());
}

bool LogVerifier::add_text(const char* data, std::size_t size) {
  const bool keep_event_ids = !watched_.empty();
  const std::size_t workers = std::min<std::size_t>(threads_, std::max<std::size_t>(1, size / (256 << 10)));
  // Double-buffered: this batch is checked into one set while the previous batch's results,
  // in the other, are applied in order by this thread (which then takes its own share).
  const int current = 1 - pending_set_;
  auto& results = results_[current];
  if (results.size() < workers) results.resize(workers);
  if (line_scratch_.size() < workers) line_scratch_.resize(workers);
  auto work = [&](std::size_t w) {
    std::size_t begin = size * w / workers;
    const std::size_t end = size * (w + 1) / workers;
    if (begin > 0) {  // the first line that starts in [begin, end)
      const void* nl = std::memchr(data + begin - 1, '\n', size - (begin - 1));
      begin = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - data) + 1 : size;
    }
    std::vector<std::string_view>& lines = line_scratch_[w];
    lines.clear();
    while (begin < end) {
      const void* nl = std::memchr(data + begin, '\n', size - begin);
      const std::size_t stop = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - data) : size;
      lines.emplace_back(data + begin, stop - begin);  // a blank line too: it fails its check
      begin = stop + 1;
    }
    results[w].resize(lines.size());
    check_range(lines.data(), results[w].data(), 0, lines.size(), keep_event_ids);
  };
  for (std::size_t w = workers; w < results.size(); ++w) results[w].clear();
  std::vector<std::thread> pool;
  for (std::size_t w = 1; w < workers; ++w) pool.emplace_back(work, w);
  const bool ok = finish();
  work(0);
  for (auto& t : pool) t.join();
  if (!ok) return false;
  pending_set_ = current;
  has_pending_ = true;
  return true;
}

bool LogVerifier::finish() {
  if (!has_pending_) return failure_.empty();
  has_pending_ = false;
  for (const auto& r : results_[pending_set_])
    if (!apply(r.data(), r.size())) return false;
  return true;
}

bool LogVerifier::apply(const LogVerifierChecked* checked, std::size_t count) {
  const bool keep_event_ids = !watched_.empty();
  // The order-dependent checks, in order.
  leaves_.clear();
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t expected = hashes_.size() + 1;
    auto fail = [&](const std::string& why) {
      failure_ = "entry " + std::to_string(expected) + ": " + why;
      tree_.append_leaves(leaves_.data(), leaves_.size());
      return false;
    };
    const CheckedLine& c = checked[i];
    if (!c.error.empty()) return fail(c.error);
    if (c.seq < 0 || static_cast<std::uint64_t>(c.seq) != expected)
      return fail("seq " + std::to_string(c.seq) + " is out of place (deleted, reordered or duplicated entries)");
    if (c.prev != head()) return fail("prev_hash does not link to the entry before it");
    // This node's lines carry the journal record each describes, in order; once one does,
    // every later one must.
    if (c.journal_seq >= 0 ? c.journal_seq <= last_journal_seq_ : last_journal_seq_ >= 0)
      return fail(c.journal_seq >= 0 ? "journal_seq " + std::to_string(c.journal_seq) + " does not increase"
                                     : std::string("no journal_seq, where every line before it has one"));
    // ... and from the first: lines before it without one were taken out of this node's form
    // (their spelling and wrapper then go unchecked).
    if (c.journal_seq >= 0 && last_journal_seq_ < 0 && expected > 1)
      return fail("journal_seq " + std::to_string(c.journal_seq) +
                  ", where the lines before it have none (this node writes it on every line, from the first)");
    if (c.journal_seq >= 0) last_journal_seq_ = c.journal_seq;
    // Each entry states its orchestrator's balance after it: the previous one plus its delta.
    // The reference's payout debit is the exception it allows (its W-A7): a payout larger than
    // the balance is debited in full but leaves the balance at zero, not below. Taken only in
    // its lines (without journal_seq), and counted: each is money paid out past a balance.
    const auto reference_clamp = [&](bool below_zero_to_zero) {
      if (!below_zero_to_zero || !c.payout_debit || c.journal_seq >= 0) return false;
      if (clamped_payout_debit_seqs_.size() < kClampedSeqsKept) clamped_payout_debit_seqs_.push_back(expected);
      ++clamped_payout_debits_;
      return true;
    };
    {
      auto it = balances_.find(c.orchestrator_id);
      if (it == balances_.end()) it = balances_.emplace(c.orchestrator_id, LogVerifierBalance{}).first;
      LogVerifierBalance& running = it->second;
      LogVerifierSmall sum = 0;
      if (c.wide_amounts.empty() && !running.wide && !__builtin_add_overflow(running.small, c.delta, &sum)) {
        if (sum != c.balance && !reference_clamp(sum < 0 && c.delta < 0 && c.balance == 0))
          return fail("balance_wei " + amount_text(c.balance) + " is not " + c.orchestrator_id + "'s balance before it (" +
                      amount_text(running.small) + ") plus delta_wei " + amount_text(c.delta));
        running.small = c.balance;
      } else {  // some amount past 128 bits: in full
        const auto space = c.wide_amounts.find(' ');
        const LogVerifierAmount delta =
            c.wide_amounts.empty() ? LogVerifierAmount(c.delta) : wide_amount(std::string_view(c.wide_amounts).substr(0, space));
        const LogVerifierAmount balance =
            c.wide_amounts.empty() ? LogVerifierAmount(c.balance) : wide_amount(std::string_view(c.wide_amounts).substr(space + 1));
        const LogVerifierAmount before = running.wide ? running.full : LogVerifierAmount(running.small);
        if (before + delta != balance && !reference_clamp(before + delta < 0 && delta < 0 && balance == 0))
          return fail("balance_wei " + balance.str() + " is not " + c.orchestrator_id + "'s balance before it (" + before.str() +
                      ") plus delta_wei " + delta.str());
        running.full = balance;
        const std::string text = balance.str();
        running.wide = text.size() - (text.front() == '-') > 38;
        if (!running.wide) well_formed_amount(text, &running.small);
      }
    }
    if (c.signer) {
      // Runs of entries signed by one key: a key rotation starts a new one (whether the keys
      // follow each other as they may is for the caller, who has the checkpoints).
      if (signer_runs_.empty() || signer_runs_.back().signer != *c.signer)
        signer_runs_.push_back(SignerRun{expected, expected, *c.signer});
      else
        signer_runs_.back().last_seq = expected;
      entry_signer_ = c.signer;
      last_signed_seq_ = expected;
    }
    if (c.has_event_id) {
      event_fps_.push_back(c.event_fp);
      event_seqs_.push_back(expected);
      if (keep_event_ids)
        if (auto it = watched_.find(c.event_id); it != watched_.end() && it->second == 0) it->second = expected;
    }
    hashes_.push_back(c.hash);
    leaves_.push_back(c.leaf);
  }
  tree_.append_leaves(leaves_.data(), leaves_.size());
  return true;
}

std::vector<std::vector<std::uint64_t>> LogVerifier::duplicate_event_candidates() {
  // Sorted fingerprints show repeats; only then are the seqs looked up (a linear pass).
  std::vector<std::uint64_t> sorted = event_fps_;
  const std::size_t parts = std::min<std::size_t>(threads_, std::max<std::size_t>(1, sorted.size() / (1 << 16)));
  std::vector<std::size_t> bounds;
  for (std::size_t p = 0; p <= parts; ++p) bounds.push_back(sorted.size() * p / parts);
  {
    std::vector<std::thread> pool;
    for (std::size_t p = 1; p < parts; ++p)
      pool.emplace_back([&, p] { std::sort(sorted.begin() + bounds[p], sorted.begin() + bounds[p + 1]); });
    std::sort(sorted.begin(), sorted.begin() + bounds[1]);
    for (auto& t : pool) t.join();
  }
  for (std::size_t p = 1; p < parts; ++p)
    std::inplace_merge(sorted.begin(), sorted.begin() + bounds[p], sorted.begin() + bounds[p + 1]);
  std::vector<std::uint64_t> repeated;
  for (std::size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i] == sorted[i - 1] && (repeated.empty() || repeated.back() != sorted[i])) repeated.push_back(sorted[i]);
  std::vector<std::vector<std::uint64_t>> out;
  if (repeated.empty()) return out;
  std::unordered_map<std::uint64_t, std::size_t> group;  // fingerprint -> index in out
  for (auto fp : repeated) {
    group.emplace(fp, out.size());
    out.emplace_back();
  }
  for (std::size_t i = 0; i < event_fps_.size(); ++i)
    if (auto it = group.find(event_fps_[i]); it != group.end()) out[it->second].push_back(event_seqs_[i]);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a[1] < b[1]; });
  return out;
}

std::optional<chain::Hash256> LogVerifier::entry_hash(std::uint64_t seq) const {
  if (seq == 0 || seq > hashes_.size()) return std::nullopt;
  return hashes_[seq - 1];
}

std::optional<std::uint64_t> LogVerifier::seq_of(const std::string& event_id) const {
  auto it = watched_.find(event_id);
  if (it == watched_.end() || it->second == 0) return std::nullopt;
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
