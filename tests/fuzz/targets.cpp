#include "tests/fuzz/targets.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chain/abi.hpp"
#include "chain/eth_rpc.hpp"
#include "chain/hex.hpp"
#include "chain/keccak.hpp"
#include "chain/merkle.hpp"
#include "chain/rlp.hpp"
#include "chain/transaction.hpp"
#include "config/ip_network.hpp"
#include "domain/book.hpp"
#include "domain/canonical_json.hpp"
#include "domain/clock.hpp"
#include "domain/digest.hpp"
#include "domain/display_url.hpp"
#include "domain/effect.hpp"
#include "domain/json_parse.hpp"
#include "domain/money.hpp"
#include "domain/python_text.hpp"
#include "domain/rate.hpp"
#include "domain/reference_import.hpp"
#include "net/body.hpp"
#include "net/http_server.hpp"
#include "storage/audit_verify.hpp"
#include "storage/record_format.hpp"

namespace lpops::fuzz {
namespace {

namespace json = boost::json;

void check(bool ok, const std::string& what) {
  if (!ok) fail(what);
}

// Amounts: what parses writes out as text that parses to the same value.
void money(std::string_view in) {
  if (auto eth = parse_eth(in)) {
    const std::string text = format_eth(*eth);
    auto again = parse_eth(text);
    check(again && *again == *eth, "parse_eth(format_eth(x)) != x for " + text);
    bool rounded = true;
    auto toward_zero = parse_eth_toward_zero(in, &rounded);
    check(toward_zero && *toward_zero == *eth && !rounded, "parse_eth_toward_zero differs from parse_eth on an exact amount");
  } else {
    bool rounded = false;
    if (auto cut = parse_eth_toward_zero(in, &rounded)) {
      // It also takes longer text (an amount another system computed, to be cut).
      check(rounded || in.size() > kMaxAmountTextBytes,
            "parse_eth_toward_zero took an amount parse_eth refuses without rounding it");
      auto again = parse_eth(format_eth(*cut));
      check(again && *again == *cut, "a rounded amount does not read back");
    }
  }
  if (auto wei = parse_wei(in)) {
    auto again = parse_wei(format_wei(*wei));
    check(again && *again == *wei, "parse_wei(format_wei(x)) != x");
  }
  if (auto rate = Rate::parse_eth_per_minute(in)) {
    auto again = Rate::parse_eth_per_minute(rate->text());
    check(again && again->text() == rate->text(), "a rate's text does not read back as the same rate");
    (void)rate->checked_credit_for(60000);
  }
  std::string storage;
  std::string_view text = in;
  (void)python_decimal_text(text, storage);
  int side = 0;
  (void)lax_int(in, side);
}

// Times: what parses writes out (ISO 8601, UTC) as text that parses to the same instant.
void iso_time(std::string_view in) {
  auto t = parse_iso(in);
  if (!t) return;
  for (UtcSuffix suffix : {UtcSuffix::z, UtcSuffix::offset, UtcSuffix::none}) {
    const std::string text = iso_utc(*t, suffix);
    auto again = parse_iso(text);
    check(again && *again == *t, "parse_iso(iso_utc(t)) != t for " + text);
  }
}

// JSON: the parser's value serialises to text that parses to the same value; the
// duplicate-key scan agrees with the parser's key counts; an error has a place in the text.
void json_text(std::string_view in) {
  boost::system::error_code ec;
  JsonNumberNotes notes;
  const json::value v = parse_json(in, ec, stored_json_options(), &notes);
  if (ec) {
    const JsonErrorPlace place = json_error_place(in, ec);
    check(place.byte <= in.size(), "json_error_place beyond the text");
    check(!duplicate_json_key(in), "duplicate_json_key named a key in a text that is not JSON");
    return;
  }
  const auto duplicate = duplicate_json_key(in);
  check(duplicate.has_value() == (notes.keys_read != notes.keys_kept),
        "duplicate_json_key disagrees with the parser on whether a key is named twice");
  if (!first_non_finite(v)) {
    const std::string text = json::serialize(v);
    boost::system::error_code ec2;
    const json::value again = parse_json(text, ec2);
    check(!ec2 && again == v, "a parsed value does not read back from its own serialisation: " + text.substr(0, 200));
  }
  // raw_array_elements: each element's bytes parse to the element the parser read.
  if (v.is_object() && !duplicate) {
    for (const auto& kv : v.get_object()) {
      if (!kv.value().is_array()) continue;
      auto raw = raw_array_elements(in, kv.key());
      // A key written with escapes is not found by its raw bytes: then nothing is claimed.
      if (!raw) continue;
      const json::array& a = kv.value().get_array();
      check(raw->size() == a.size(), "raw_array_elements found another number of elements");
      for (std::size_t i = 0; i < a.size(); ++i) {
        boost::system::error_code e;
        const json::value element = parse_json((*raw)[i], e);
        check(!e && element == a[i], "raw_array_elements gave bytes that are not the element");
      }
    }
  }
}

// The reference's data files: split entry by entry exactly as the whole document reads.
void split_object(std::string_view in) {
  std::size_t big = 0;
  const json::parse_options options = stored_json_options();
  auto members = reference_import::split_object(in, options, big);
  boost::system::error_code ec;
  const json::value whole = parse_json(in, ec, options);
  if (!members) {
    if (!ec && whole.is_object()) check(duplicate_json_key(in).has_value(), "split_object declined an object that parses");
    return;
  }
  check(!ec && whole.is_object(), "split_object took a text that is not one JSON object");
  const json::object& o = whole.get_object();
  check(o.size() == members->size(), "split_object found another number of members");
  for (const auto& m : *members) {
    const json::value* v = o.if_contains(m.key);
    check(v != nullptr, "split_object found a key the document does not have: " + m.key);
    if (m.non_finite) {
      check(first_non_finite(*v).has_value(), "a member kept as non-finite is finite in the document");
      continue;
    }
    boost::system::error_code e;
    check(parse_json(m.json, e) == *v && !e, "a member's JSON differs from the document's: " + m.key);
  }
  // Each entry through the readers of all three files: whatever they make of it, no crash,
  // and a workload that reads has an amount its pricing gives.
  for (const auto& m : *members) {
    boost::system::error_code e;
    const json::value v = m.non_finite ? *m.non_finite : parse_json(m.json, e);
    (void)reference_import::read_registry_entry(m.key, v);
    (void)reference_import::read_balance_entry(m.key, v);
    auto w = reference_import::read_workload_entry(m.key, v);
    if (auto* entry = std::get_if<reference_import::WorkloadEntry>(&w)) {
      check(entry->workload.workload_id == m.key, "a workload read under another id");
      if (entry->workload.pricing) {
        auto rate = Rate::parse_eth_per_minute(entry->workload.pricing->credit_eth_per_minute);
        check(rate.ok(), "a workload read with a rate that does not parse");
      }
    }
  }
}

// Request bodies: any text through the body reader and each of its field readers gives a
// verdict, and a refusal is a JSON 4xx.
void body(std::string_view in) {
  net::Validation v;
  net::BodyReader reader{std::string(in), v};
  if (reader.parsed()) {
    for (std::string_view key : {"a", "orchestrator_id", "amount_eth", "duration_ms", "tags", "meta", "flag"}) {
      (void)reader.optional_string(key, 16);
      (void)reader.optional_bool(key);
      (void)reader.optional_number(key, -1, 1e9);
      (void)reader.integer(key, -5, 1 << 20, false);
      (void)reader.positive_integer(key, 1 << 20, false);
      (void)reader.eth_amount(key, false);
      (void)reader.eth_amount(key, false, true);
      (void)reader.optional_object(key);
      (void)reader.optional_string_list(key, 4, 8);
    }
  }
  if (!v.ok()) {
    const net::Response r = v.response();
    check(r.status >= 400 && r.status < 500, "a refused body is not a 4xx");
    boost::system::error_code ec;
    const json::value doc = parse_json(r.body, ec);
    check(!ec && doc.is_object() && doc.as_object().contains("detail"), "a refusal is not a JSON detail: " + r.body);
  }
  net::QueryReader q(in, v);
  (void)q.string("a");
  (void)q.integer("limit", 1, 1000);
}

// Text from URLs and headers: what the node echoes is valid UTF-8.
void url_text(std::string_view in) {
  check(is_utf8(net::replace_invalid_utf8(in)), "replace_invalid_utf8 left invalid UTF-8");
  if (is_utf8(in)) check(net::replace_invalid_utf8(in) == in, "replace_invalid_utf8 changed valid UTF-8");
  check(is_utf8(net::percent_decode(in, false)), "percent_decode gave invalid UTF-8");
  check(is_utf8(net::percent_decode(in, true)), "percent_decode (form) gave invalid UTF-8");
  (void)display_url(in);
  (void)python_lower(in);
  (void)python_decimal_ascii(in);
  (void)net::code_points(in);
}

// Journal lines: a line that reads is framed again into the same bytes; an effect (hash or
// not) reads or is refused, and one that reads is written back as the same effect, directly
// and through its JSON object alike.
void journal_record(std::string_view in) {
  if (auto parsed = storage::parse_record(in)) {
    const auto framed = storage::frame_record(parsed->seq, parsed->prev, parsed->effect);
    check(framed.hash == parsed->hash, "a journal line that reads has another hash when framed again");
  }
  // The line with its hash made again for what it now says (a mutation keeps the old one, and
  // is refused at once): one that then reads is framed again into a line that reads back as
  // the same record.
  constexpr std::string_view kHashKey = ",\"hash\":\"";
  const std::size_t suffix = kHashKey.size() + 64 + 2;
  if (in.size() > suffix && in.substr(in.size() - suffix, kHashKey.size()) == kHashKey && in.ends_with("\"}")) {
    std::string body(in.substr(0, in.size() - suffix));
    body += '}';
    std::string line(in);
    line.replace(in.size() - suffix + kHashKey.size(), 64, hex_lower(sha256(body)));
    if (auto parsed = storage::parse_record(line)) {
      const auto framed = storage::frame_record(parsed->seq, parsed->prev, parsed->effect);
      auto again = storage::parse_record(std::string_view(framed.line).substr(0, framed.line.size() - 1));  // its '\n'
      check(again.ok(), "a journal line framed from one that reads does not read: " + (again ? std::string() : again.error()));
      check(again->seq == parsed->seq && again->prev == parsed->prev && again->effect == parsed->effect,
            "a journal line framed again reads back as another record");
    }
  }
  boost::system::error_code ec;
  const json::value doc = parse_json(in, ec);
  const json::value* e = !ec && doc.is_object() ? doc.as_object().if_contains("effect") : nullptr;
  if (!e || !e->is_object()) return;
  auto effect = Effect::from_json(e->as_object());
  if (!effect) return;
  const json::object written = effect->to_json();
  std::string direct;
  effect->append_json(direct);
  check(direct == json::serialize(written), "an effect's direct JSON differs from its object's");
  auto again = Effect::from_json(written);
  check(again.ok(), "an effect written from one that read does not read: " + (again ? std::string() : again.error()));
  check(json::serialize(again->to_json()) == direct, "an effect does not read back as itself");
}

// An audit line with its entry_hash made again for what it now says, in place (a mutation
// keeps the old hash, which both readers refuse at once): so that mutations reach the rest of
// both. None when the line has no entry_hash of 64 hex digits to replace.
std::optional<std::string> rehashed_audit_line(std::string_view in) {
  boost::system::error_code ec;
  const json::value doc = parse_json(in, ec);
  if (ec || !doc.is_object()) return std::nullopt;
  const json::value* inner = doc.as_object().if_contains("audit_entry");
  const json::value& entry = inner ? *inner : doc;
  if (!entry.is_object()) return std::nullopt;
  const auto* stored = entry.as_object().if_contains("entry_hash");
  if (!stored || !stored->is_string() || stored->as_string().size() != 66) return std::nullopt;
  const std::string old_hex(stored->as_string());
  const std::size_t at = in.find("\"entry_hash\":\"" + old_hex + "\"");
  if (at == std::string_view::npos) return std::nullopt;
  const std::string hash = chain::to_hex(chain::keccak256(canonical_json_without(entry.as_object(), {"entry_hash", "signer", "signature"})));
  std::string out(in);
  out.replace(at + 14, old_hex.size(), hash);
  return out;
}

// Audit lines: the verifier's one-pass scanner and its general check reach the same verdict,
// on the line as given and with its hash made again.
void audit_line_as_given(std::string_view in);
void audit_line(std::string_view in) {
  audit_line_as_given(in);
  if (auto again = rehashed_audit_line(in); again && *again != in) audit_line_as_given(*again);
}
void audit_line_as_given(std::string_view in) {
  const storage::LineVerdict fast = storage::check_line(in, false);
  const storage::LineVerdict general = storage::check_line(in, true);
  if (!fast.scanned) return;  // the general check was the only one
  check(fast.error.empty() == general.error.empty(),
        "scanner and general check disagree: fast '" + fast.error + "', general '" + general.error + "'");
  if (!fast.error.empty()) return;
  check(fast.seq == general.seq && fast.journal_seq == general.journal_seq && fast.hash == general.hash &&
            fast.prev == general.prev && fast.event_id == general.event_id && fast.signer == general.signer &&
            fast.orchestrator_id == general.orchestrator_id && fast.amounts == general.amounts,
        "scanner and general check read different values");
}

// Snapshots: a damaged one is refused with a reason, never a crash; one that loads writes
// itself out again the same.
void snapshot(std::string_view in) {
  boost::system::error_code ec;
  const json::value v = parse_json(in, ec);
  if (ec || !v.is_object()) return;
  auto book = Book::from_snapshot(v.get_object(), {});
  if (!book) return;
  const json::object again = book->snapshot();
  // Nothing of the money is lost or changed on the way in: the payouts (with their
  // reservations) are written out as they were read, and so is every account (a registered
  // orchestrator without one gets an empty one).
  if (const auto* given = v.get_object().if_contains("payouts"))
    check(again.contains("payouts") && again.at("payouts") == *given, "a loaded snapshot writes its payouts out differently");
  const auto* given_accounts = v.get_object().if_contains("accounts");
  if (given_accounts && given_accounts->is_object() && again.contains("accounts")) {
    const json::value empty = json::array{"0", "0", "0"};
    for (const auto& account : again.at("accounts").as_object()) {
      const auto* read = given_accounts->as_object().if_contains(account.key());
      check(read ? *read == account.value() : account.value() == empty,
            "a loaded snapshot writes account " + std::string(account.key()) + " out differently");
    }
    for (const auto& account : given_accounts->as_object())
      check(again.at("accounts").as_object().contains(account.key()), "a loaded snapshot drops account " + std::string(account.key()));
  }
  auto reloaded = Book::from_snapshot(again, {});
  check(reloaded.ok(), "a snapshot written from a loaded book does not load: " + (reloaded ? std::string() : reloaded.error()));
  check(json::serialize(reloaded->snapshot()) == json::serialize(again), "a reloaded snapshot writes out differently");
}

// RLP: strict decoding, so what decodes encodes back to the same bytes.
void rlp(std::string_view in) {
  const auto* data = reinterpret_cast<const std::uint8_t*>(in.data());
  auto item = chain::rlp::decode(data, in.size());
  if (!item) return;
  const chain::rlp::Bytes encoded = chain::rlp::encode(*item);
  check(encoded.size() == in.size() && std::equal(encoded.begin(), encoded.end(), data), "RLP decoded from non-canonical bytes");
}

// ABI: a type list from the first line, data from the rest; what decodes encodes again and
// decodes to the same values.
void abi(std::string_view in) {
  const std::size_t nl = in.find('\n');
  const std::string_view types_text = in.substr(0, nl);
  auto types = chain::abi::parse_types(types_text);
  if (!types) return;
  std::string canonical;
  for (const auto& t : *types) canonical += (canonical.empty() ? "" : ",") + t.canonical();
  auto reparsed = chain::abi::parse_types(canonical);
  check(reparsed && *reparsed == *types, "an ABI type list does not read back from its canonical text: " + canonical);
  if (nl == std::string_view::npos) return;
  const std::string_view rest = in.substr(nl + 1);
  auto values = chain::abi::decode(*types, reinterpret_cast<const std::uint8_t*>(rest.data()), rest.size());
  if (!values) return;
  auto encoded = chain::abi::encode(*types, *values);
  check(encoded.ok(), "decoded ABI values do not encode: " + (encoded ? std::string() : encoded.error()));
  auto again = chain::abi::decode(*types, *encoded);
  check(again.ok() && again->size() == values->size(), "encoded ABI values do not decode again");
  auto encoded_again = chain::abi::encode(*types, *again);
  check(encoded_again.ok() && *encoded_again == *encoded, "ABI values do not decode to the values they were encoded from");
  (void)chain::abi::decode_revert_reason(chain::abi::Bytes(rest.begin(), rest.end()));
}

// Merkle proofs: a tree of leaves drawn from the input; every proof it gives verifies, the same
// proof for another entry or at another index does not, nor a consistency proof with a bit
// changed, and proofs made of input bytes are refused or accepted without a crash. The root
// at each size is root_of() of that prefix.
void merkle(std::string_view in) {
  if (in.size() < 4) return;
  auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(in[i % in.size()]); };
  const std::size_t n = 1 + byte(0) % 70;
  std::vector<chain::Hash256> entries;
  for (std::size_t i = 0; i < n; ++i) entries.push_back(chain::keccak256(std::string(in) + std::to_string(i)));
  chain::merkle::Tree tree;
  tree.append_many(entries.data(), entries.size() / 2);
  for (std::size_t i = entries.size() / 2; i < entries.size(); ++i) tree.append(entries[i]);
  const std::uint64_t size = 1 + byte(1) % n, index = byte(2) % size, first = 1 + byte(3) % size;
  const auto root = tree.root_at(size);
  check(root.ok() && *root == chain::merkle::root_of({entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(size)}),
        "the tree's root at a size is not root_of() of that prefix");
  auto proof = tree.inclusion_proof(index, size);
  check(proof.ok() && chain::merkle::verify_inclusion(entries[index], index, size, *proof, *root), "an inclusion proof fails");
  check(!chain::merkle::verify_inclusion(chain::keccak256(std::string("other")), index, size, *proof, *root),
        "an inclusion proof holds for another entry");
  if (size > 1)
    check(!chain::merkle::verify_inclusion(entries[index], (index + 1) % size, size, *proof, *root) ||
              entries[index] == entries[(index + 1) % size],
          "an inclusion proof holds at another index");
  auto consistency = tree.consistency_proof(first, size);
  const auto first_root = tree.root_at(first);
  check(consistency.ok() && first_root.ok() && chain::merkle::verify_consistency(first, size, *first_root, *root, *consistency),
        "a consistency proof fails");
  if (!consistency->empty()) {
    auto bent = *consistency;
    bent[byte(4) % bent.size()][byte(5) % 32] ^= static_cast<std::uint8_t>(1u << (byte(6) % 8));
    check(!chain::merkle::verify_consistency(first, size, *first_root, *root, bent), "a changed consistency proof holds");
  }
  // Proofs from the input's bytes, at sizes and indices from them too (up to 2^64 - 1).
  std::vector<chain::Hash256> junk;
  for (std::size_t at = 8; at + 32 <= in.size() && junk.size() < 70; at += 32) {
    chain::Hash256 h{};
    std::copy(in.begin() + static_cast<std::ptrdiff_t>(at), in.begin() + static_cast<std::ptrdiff_t>(at + 32), h.begin());
    junk.push_back(h);
  }
  std::uint64_t big = 0;
  for (std::size_t i = 0; i < 8; ++i) big = big << 8 | byte(i);
  (void)chain::merkle::verify_inclusion(entries[0], big % (big | 1), big, junk, *root);
  (void)chain::merkle::verify_consistency(big >> 1, big, *root, *root, junk);
  (void)chain::merkle::verify_consistency(first, size, *first_root, *root, junk);
}

// Signed transactions (as an RPC node or a file hands them back): strict decoding, no crash;
// one that decodes is, field for field, the transaction those bytes encode (built again from
// the decoded fields and signature, it encodes to the same bytes), signed by the sender named.
void transaction(std::string_view in) {
  auto tx = chain::decode_transaction(reinterpret_cast<const std::uint8_t*>(in.data()), in.size());
  if (!tx) return;
  check(tx->hash == chain::keccak256(in), "a decoded transaction's hash is not that of its bytes");
  const std::string bytes(in);
  auto same = [&](const chain::rlp::Bytes& again) { return std::string(again.begin(), again.end()) == bytes; };
  // The fields both types have.
  auto common = [&](auto& t) {
    t.chain_id = tx->chain_id.value_or(0);
    t.nonce = tx->nonce;
    t.gas = tx->gas;
    t.to = tx->to;
    t.value = tx->value;
    t.data = tx->data;
  };
  chain::Hash256 signing{};
  if (tx->type == 2) {
    chain::Eip1559Transaction t;
    common(t);
    t.max_priority_fee_per_gas = tx->max_priority_fee_per_gas;
    t.max_fee_per_gas = tx->max_fee_per_gas;
    t.access_list = tx->access_list;
    check(same(t.signed_with(tx->signature)), "a type-2 transaction built from its decoded fields encodes differently");
    signing = t.signing_hash();
  } else {
    if (!tx->chain_id) return;  // pre-EIP-155: no chain id to build it with
    chain::LegacyTransaction t;
    common(t);
    t.gas_price = tx->gas_price;
    check(same(t.signed_with(tx->signature)), "a legacy transaction built from its decoded fields encodes differently");
    signing = t.signing_hash();
  }
  auto signer = chain::recover_address(signing, tx->signature);
  check(signer.ok() && *signer == tx->from, "a decoded transaction's sender is not who signed its fields");
}

// What a node's RPC answers and what a verifier is handed: quantities, hex, checkpoints.
void rpc_values(std::string_view in) {
  boost::system::error_code ec;
  const json::value v = parse_json(in, ec);
  if (ec) {
    if (auto bytes = chain::from_hex(in)) {
      const std::string back = chain::to_hex(*bytes);
      auto again = chain::from_hex(back);
      check(again && *again == *bytes, "hex does not read back: " + back);
    }
    return;
  }
  if (auto q = chain::parse_quantity(v)) {
    auto again = chain::parse_quantity(json::value(chain::quantity(*q)));
    check(again && *again == *q, "a quantity does not read back");
  }
  (void)chain::parse_quantity_u64(v);
  if (auto c = storage::parse_checkpoint(v)) (void)storage::check_checkpoint_signature(*c);
  if (v.is_object()) (void)chain::hash32_field(v.get_object(), "head_hash");
}

// A whole audit log, as `lpops verify` reads one it is handed: the buffer reader (threads find
// the lines, checks pipelined) and the line-by-line reader reach the same verdict, size, head
// and root; a log that verifies proves each entry's inclusion.
void audit_log(std::string_view in) {
  storage::LogVerifier by_text(2), by_line(1);
  bool text_ok = by_text.add_text(in.data(), in.size());
  text_ok = by_text.finish() && text_ok;
  std::vector<std::string_view> lines;
  for (std::size_t at = 0; at < in.size();) {
    std::size_t end = in.find('\n', at);
    if (end == std::string_view::npos) end = in.size();
    lines.push_back(in.substr(at, end - at));  // a blank line too: the log has none
    at = end + 1;
  }
  const bool line_ok = by_line.add_batch(lines.data(), lines.size());
  check(text_ok == line_ok, "the buffer and line readers disagree: '" + by_text.failure() + "' / '" + by_line.failure() + "'");
  if (!text_ok) return;
  check(by_text.size() == lines.size() && by_line.size() == lines.size() && by_text.head() == by_line.head() &&
            by_text.root() == by_line.root(),
        "the buffer and line readers read different logs");
  for (std::uint64_t seq = 1; seq <= by_text.size(); ++seq) {
    auto proof = by_text.inclusion_proof(seq, by_text.size());
    const auto hash = by_text.entry_hash(seq);
    check(proof.ok() && hash && chain::merkle::verify_inclusion(*hash, seq - 1, by_text.size(), *proof, by_text.root()),
          "an entry of a log that verifies has no inclusion proof");
  }
  (void)by_text.duplicate_event_candidates();
}

// Addresses and networks (X-Forwarded-For entries from clients, allowlists from settings):
// one canonical spelling, which reads as itself, and a single address is in its own network.
void ip_text(std::string_view in) {
  auto net = config::IpNetwork::parse(in);
  auto canonical = config::canonical_ip_text(in);
  if (canonical) {
    check(config::canonical_ip_text(*canonical) == canonical, "a canonical address is spelt otherwise again: " + *canonical);
    auto again = config::IpNetwork::parse(*canonical);
    check(again.ok() && again->contains(*canonical), "a canonical address is not its own network: " + *canonical);
  }
  // (An IPv4-mapped IPv6 address is spelt as the IPv4 address, which, as in Python, is in no
  // IPv6 network.)
  const bool mapped = canonical && canonical->find(':') == std::string::npos && in.find(':') != std::string_view::npos;
  if (net && canonical && !mapped) check(net->contains(*canonical), "an address is not in the network it parses as");
  if (net) (void)net->contains("::ffff:127.0.0.1");
}

// The HTTP server's request reader (net/http_server.cpp: request line and header checks,
// chunked bodies, pipelining, Expect: 100-continue, answers from the header alone) fed arbitrary
// bytes on a loopback connection, which then half-closes. What comes back must be whole
// HTTP/1.1 responses, none a 5xx, each error with a JSON `detail`, and the connection must end.
std::uint16_t http_server_port() {
  struct Running {
    std::unique_ptr<net::HttpServer> server;
    std::uint16_t port = 0;
  };
  static const Running running = [] {
    net::ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.io_threads = 1;
    o.read_timeout_seconds = 5;
    o.max_body_bytes = 4096;
    o.max_header_bytes = 2048;
    o.max_connections_per_client = 1024;
    // A route answered from its header alone (as the node refuses one without credentials).
    o.screen = [](const net::Request& head) {
      net::Screening screening;
      if (head.target.rfind("/early", 0) == 0)
        screening.answer = net::Response{403, "application/json", "{\"detail\":\"Not allowed\"}", {{"X-Method", head.method}}};
      return screening;
    };
    Running r;
    r.server = std::make_unique<net::HttpServer>(o, [](net::Request&& request, net::Responder respond) {
      json::object echo{{"target", request.target.size()}, {"headers", request.headers.size()}, {"body", request.body.size()}};
      respond(net::Response{200, "application/json", json::serialize(echo), {{"X-Method", request.method}}});
    });
    r.port = r.server->start();
    return r;
  }();
  return running.port;
}

// One response from `bytes` at `at`: its status and the end of it (npos when incomplete).
struct ParsedResponse {
  int status = 0;
  std::size_t end = std::string::npos;
  std::string body;
  bool head = false;  // it answers a HEAD: no body, the error's detail not sent either
};
ParsedResponse next_response(const std::string& bytes, std::size_t at) {
  ParsedResponse r;
  const auto head_end = bytes.find("\r\n\r\n", at);
  if (head_end == std::string::npos) return r;
  const std::string_view head(bytes.data() + at, head_end - at);
  check(head.rfind("HTTP/1.1 ", 0) == 0 && head.size() >= 12, "a response does not begin with HTTP/1.1: " + std::string(head.substr(0, 40)));
  r.status = std::stoi(std::string(head.substr(9, 3)));
  std::size_t length = 0;
  bool head_request = false;
  std::size_t line = head.find("\r\n");
  while (line != std::string_view::npos && line + 2 < head.size()) {
    const auto next = head.find("\r\n", line + 2);
    const auto field = head.substr(line + 2, (next == std::string_view::npos ? head.size() : next) - line - 2);
    if (field.rfind("Content-Length: ", 0) == 0) length = std::stoul(std::string(field.substr(16)));
    if (field == "X-Method: HEAD") head_request = true;
    line = next;
  }
  r.head = head_request;
  if (r.status < 200 || head_request) length = 0;  // 1xx and answers to HEAD carry no body
  if (bytes.size() < head_end + 4 + length) return r;
  r.body = bytes.substr(head_end + 4, length);
  r.end = head_end + 4 + length;
  return r;
}

void http_request(std::string_view in) {
  const std::uint16_t port = http_server_port();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  check(fd >= 0, "no socket");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  check(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, "the server does not take a connection");
  // The request bytes, then the end of what the client sends; the server may answer and
  // close before it has read them all (a refusal), so a failed write is no fault.
  std::size_t sent = 0;
  while (sent < in.size()) {
    const ssize_t n = ::send(fd, in.data() + sent, in.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool ended = false;
  while (!ended) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    check(left > 0, "the connection neither ended nor answered within 10 s of the request's end");
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[16384];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) ended = true;  // closed (or reset after a refusal)
    else got.append(buf, static_cast<std::size_t>(n));
  }
  // A HEAD request the server refuses itself (no handler: no X-Method) is answered without a
  // body and the connection closed: the last response, ending with its header. The first
  // response answers the first request, which must then be a HEAD; a later one answers a
  // request behind others, whose start is not known here: the input must hold a HEAD line.
  const std::string_view first_request = in.substr(std::min(in.find_first_not_of("\r\n"), in.size()));
  const bool first_is_head = first_request.rfind("HEAD ", 0) == 0;
  const bool has_head_request = first_is_head || in.find("\nHEAD ") != std::string_view::npos;
  std::size_t at = 0;
  for (std::size_t answered = 0; at < got.size(); ++answered) {
    ParsedResponse r = next_response(got, at);
    if (r.end == std::string::npos && (answered == 0 ? first_is_head : has_head_request)) {
      const auto head_end = got.find("\r\n\r\n", at);
      const bool closes = head_end != std::string::npos && got.find("\r\nConnection: close\r\n", at) < head_end;
      if (closes && head_end + 4 == got.size()) {
        r.end = got.size();
        r.head = true;
      }
    }
    check(r.end != std::string::npos, "a response was cut short: " + got.substr(at, 200));
    check(r.status >= 100 && r.status < 500, "a request was answered " + std::to_string(r.status));
    if (r.status >= 400 && !r.head) {
      boost::system::error_code ec;
      const auto v = json::parse(r.body, ec);
      check(!ec && v.is_object() && v.as_object().contains("detail"), "an error without a JSON detail: " + r.body);
    }
    at = r.end;
  }
}

constexpr std::array<Target, 17> kTargets{{
    {"money", money},
    {"iso_time", iso_time},
    {"json", json_text},
    {"split_object", split_object},
    {"body", body},
    {"url_text", url_text},
    {"journal_record", journal_record},
    {"audit_line", audit_line},
    {"snapshot", snapshot},
    {"rlp", rlp},
    {"abi", abi},
    {"merkle", merkle},
    {"transaction", transaction},
    {"rpc_values", rpc_values},
    {"audit_log", audit_log},
    {"ip_text", ip_text},
    {"http_request", http_request},
}};

}  // namespace

std::span<const Target> targets() { return kTargets; }

}  // namespace lpops::fuzz
