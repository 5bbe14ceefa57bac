// Differential test: chain/ must agree byte for byte with ethers (an independent
// implementation) on random cases from tests/ethers/cases.mjs, and its decoders must read
// back what ethers wrote. Our own keystores are written out for ethers to decrypt
// (tests/ethers/verify_ours.mjs).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <tuple>

#include "chain/abi.hpp"
#include "chain/audit_format.hpp"
#include "chain/credential.hpp"
#include "chain/hex.hpp"
#include "chain/keystore.hpp"
#include "chain/signature.hpp"
#include "chain/ticket_broker.hpp"
#include "chain/transaction.hpp"

namespace lpops::chain {
namespace {

namespace json = boost::json;
using abi::Type;
using abi::Value;

const json::object& cases() {
  static const json::value doc = [] {
    const char* path = std::getenv("LPOPS_ETHERS_CASES");
    if (!path) throw std::runtime_error("LPOPS_ETHERS_CASES is not set (ctest sets it; run tests/ethers/cases.mjs)");
    std::ifstream in(path);
    if (!in) throw std::runtime_error(std::string("cannot read ") + path);
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str());
  }();
  return doc.as_object();
}

const json::array& list(const char* name) { return cases().at(name).as_array(); }
std::string str(const json::value& v) { return std::string(v.as_string()); }
Wei wei(const json::value& v) { return parse_wei(str(v)).value(); }
std::uint64_t u64(const json::value& v) { return static_cast<std::uint64_t>(wei(v)); }
abi::Bytes bytes(const json::value& v) { return from_hex(str(v)).value(); }

Value to_value(const Type& type, const json::value& v) {
  using K = Type::Kind;
  switch (type.kind) {
    case K::Uint:
      return Value::uint(wei(v));
    case K::Int: {
      std::string text = str(v);
      const bool negative = !text.empty() && text[0] == '-';
      return Value::integer(SignedWei{negative, parse_wei(negative ? text.substr(1) : text).value()}).value();
    }
    case K::Address:
      return Value::address(parse_address(str(v)).value());
    case K::Bool:
      return Value::boolean(v.as_bool());
    case K::FixedBytes:
    case K::Bytes:
    case K::String:
      return Value::bytes_of(bytes(v));
    case K::Array:
    case K::FixedArray:
    case K::Tuple: {
      std::vector<Value> items;
      const auto& arr = v.as_array();
      for (std::size_t i = 0; i < arr.size(); ++i)
        items.push_back(to_value(type.kind == K::Tuple ? type.components[i] : type.components[0], arr[i]));
      return Value::list(std::move(items));
    }
  }
  throw std::logic_error("type");
}

// A case's types and values, and its type list as text for failure messages.
std::tuple<std::vector<Type>, std::vector<Value>, std::string> typed_values(const json::value& c) {
  std::vector<Type> types;
  std::string signature;
  for (const auto& t : c.at("types").as_array()) {
    types.push_back(Type::parse(str(t)).value());
    signature += str(t) + " ";
  }
  std::vector<Value> values;
  for (std::size_t i = 0; i < types.size(); ++i) values.push_back(to_value(types[i], c.at("values").as_array()[i]));
  return {std::move(types), std::move(values), std::move(signature)};
}

TEST(EthersDiff, CasesArePresent) {
  EXPECT_GE(list("abi").size(), 100u);
  EXPECT_GE(list("transactions").size(), 100u);
  std::printf("ethers cases seed %lld\n", static_cast<long long>(cases().at("seed").as_int64()));
}

TEST(EthersDiff, KeysSignaturesAndEip55) {
  for (const auto& c : list("keys")) {
    auto key = PrivateKey::from_hex(str(c.at("private_key"))).value();
    EXPECT_EQ(to_checksummed(key.address()), str(c.at("address")));
    const auto digest_bytes = bytes(c.at("digest"));
    Hash256 digest;
    std::copy(digest_bytes.begin(), digest_bytes.end(), digest.begin());
    const Signature sig = sign_digest(key, digest);
    EXPECT_EQ(sig.to_hex(), str(c.at("signature"))) << str(c.at("private_key"));
    EXPECT_EQ(recover_address(digest, Signature::from_hex(str(c.at("signature"))).value()).value(), key.address());
  }
  for (const auto& c : list("eip55")) {
    auto a = parse_address(str(c.at("lower")));
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(to_checksummed(*a), str(c.at("checksummed")));
    EXPECT_TRUE(parse_address(str(c.at("checksummed"))).ok());
  }
}

TEST(EthersDiff, TransactionsOfBothTypes) {
  for (const auto& c : list("transactions")) {
    auto key = PrivateKey::from_hex(str(c.at("private_key"))).value();
    std::optional<Address> to;
    if (!c.at("to").is_null()) to = parse_address(str(c.at("to"))).value();
    const abi::Bytes raw_expected = bytes(c.at("raw"));
    rlp::Bytes raw;
    Hash256 signing_hash;
    if (c.at("type").as_int64() == 0) {
      LegacyTransaction tx{u64(c.at("chain_id")), u64(c.at("nonce")), wei(c.at("gas_price")), u64(c.at("gas")),
                           to,                    wei(c.at("value")), bytes(c.at("data"))};
      signing_hash = tx.signing_hash();
      raw = tx.sign(key);
    } else {
      Eip1559Transaction tx;
      tx.chain_id = u64(c.at("chain_id"));
      tx.nonce = u64(c.at("nonce"));
      tx.max_priority_fee_per_gas = wei(c.at("max_priority_fee_per_gas"));
      tx.max_fee_per_gas = wei(c.at("max_fee_per_gas"));
      tx.gas = u64(c.at("gas"));
      tx.to = to;
      tx.value = wei(c.at("value"));
      tx.data = bytes(c.at("data"));
      for (const auto& e : c.at("access_list").as_array()) {
        AccessListEntry entry{parse_address(str(e.at("address"))).value(), {}};
        for (const auto& k : e.at("storage_keys").as_array()) {
          const auto kb = bytes(k);
          Hash256 h;
          std::copy(kb.begin(), kb.end(), h.begin());
          entry.storage_keys.push_back(h);
        }
        tx.access_list.push_back(std::move(entry));
      }
      signing_hash = tx.signing_hash();
      raw = tx.sign(key);
    }
    EXPECT_EQ(to_hex(signing_hash), str(c.at("signing_hash")));
    EXPECT_EQ(to_hex(raw), str(c.at("raw")));
    // Our decoder reads back what ethers wrote.
    auto decoded = decode_transaction(raw_expected);
    ASSERT_TRUE(decoded.ok()) << decoded.error() << " " << str(c.at("raw"));
    EXPECT_EQ(decoded->type, c.at("type").as_int64());
    EXPECT_EQ(to_checksummed(decoded->from), str(c.at("from")));
    EXPECT_EQ(to_hex(decoded->hash), str(c.at("hash")));
    EXPECT_EQ(decoded->nonce, u64(c.at("nonce")));
    EXPECT_EQ(decoded->value, wei(c.at("value")));
    EXPECT_EQ(decoded->to, to);
    EXPECT_EQ(decoded->data, bytes(c.at("data")));
  }
}

TEST(EthersDiff, LivepeerTickets) {
  for (const auto& c : list("tickets")) {
    auto key = PrivateKey::from_hex(str(c.at("private_key"))).value();
    livepeer::SignedTicket s;
    s.ticket.recipient = parse_address(str(c.at("recipient"))).value();
    s.ticket.sender = key.address();
    s.ticket.face_value = wei(c.at("face_value"));
    s.ticket.win_prob = wei(c.at("win_prob"));
    s.ticket.sender_nonce = wei(c.at("sender_nonce"));
    s.recipient_rand = wei(c.at("recipient_rand"));
    s.ticket.recipient_rand_hash = livepeer::recipient_rand_hash(s.recipient_rand);
    s.ticket.aux_data = bytes(c.at("aux_data"));
    EXPECT_EQ(to_hex(s.ticket.recipient_rand_hash), str(c.at("recipient_rand_hash")));
    EXPECT_EQ(to_hex(s.ticket.hash()), str(c.at("hash")));
    s.signature = livepeer::sign_ticket(key, s.ticket);
    EXPECT_EQ(s.signature.to_hex(), str(c.at("signature")));
    EXPECT_EQ(livepeer::is_winning(s.ticket, s.signature, s.recipient_rand), c.at("wins").as_bool());
    EXPECT_EQ(to_hex(livepeer::redeem_calldata(s)), str(c.at("redeem_calldata")));
    EXPECT_EQ(to_hex(livepeer::batch_redeem_calldata({s, s}).value()), str(c.at("batch_calldata")));
  }
}

TEST(EthersDiff, AbiEncodeDecodeRoundTrip) {
  for (const auto& c : list("abi")) {
    auto [types, values, signature] = typed_values(c);
    auto encoded = abi::encode(types, values);
    ASSERT_TRUE(encoded.ok()) << encoded.error() << " for " << signature;
    EXPECT_EQ(to_hex(*encoded), str(c.at("encoded"))) << signature;
    auto decoded = abi::decode(types, bytes(c.at("encoded")));
    ASSERT_TRUE(decoded.ok()) << decoded.error() << " for " << signature;
    EXPECT_EQ(*decoded, values) << signature;
  }
}

TEST(EthersDiff, AbiPacked) {
  for (const auto& c : list("packed")) {
    auto [types, values, signature] = typed_values(c);
    auto packed = abi::encode_packed(types, values);
    ASSERT_TRUE(packed.ok()) << packed.error() << " for " << signature;
    EXPECT_EQ(to_hex(*packed), str(c.at("encoded"))) << signature;
  }
}

TEST(EthersDiff, TransparencyLogFormats) {
  for (const auto& c : list("audits")) {
    auto main = PrivateKey::from_hex(str(c.at("main_key"))).value();
    auto key = audit::derive_audit_key(main);
    EXPECT_EQ(to_checksummed(key.address()), str(c.at("audit_address")));
    auto word = [&](const char* name) {
      const auto b = bytes(c.at(name));
      Hash256 h;
      std::copy(b.begin(), b.end(), h.begin());
      return h;
    };
    const Hash256 head = audit::checkpoint_head(word("chain_head"), word("merkle_root"));
    EXPECT_EQ(to_hex(head), str(c.at("head_hash")));
    const Hash256 message = audit::checkpoint_message(key.address(), static_cast<std::uint64_t>(c.at("seq").as_int64()), head,
                                                      static_cast<std::uint64_t>(c.at("chain_id").as_int64()),
                                                      parse_address(str(c.at("contract"))).value());
    EXPECT_EQ(to_hex(message), str(c.at("message_hash")));
    EXPECT_EQ(sign_digest(key, eip191_hash32(message)).to_hex(), str(c.at("signature")));
    // The entry built from its fields hashes as ethers hashes the same payload.
    const auto& p = c.at("payload").as_object();
    audit::EntryFields f;
    f.seq = static_cast<std::uint64_t>(p.at("seq").as_int64());
    f.prev_hash = word("chain_head");
    f.timestamp = str(p.at("timestamp"));
    f.kind = str(p.at("kind"));
    f.event_id = str(p.at("event_id"));
    f.orchestrator_id = str(p.at("orchestrator_id"));
    f.recipient = parse_address(str(p.at("recipient"))).value();
    const std::string delta = str(p.at("delta_wei"));
    f.delta_wei = SignedWei{delta[0] == '-', parse_wei(delta[0] == '-' ? delta.substr(1) : delta).value()};
    f.balance_wei = SignedWei{false, wei(p.at("balance_wei"))};
    if (p.contains("reason")) f.reason = str(p.at("reason"));
    if (p.contains("metadata")) f.metadata = p.at("metadata").as_object();
    EXPECT_EQ(to_hex(audit::entry_hash(audit::entry_payload(f))), str(c.at("entry_hash"))) << json::serialize(p);
  }
}

TEST(EthersDiff, CredentialAuthHashesSignaturesAndLedgerLeaves) {
  for (const auto& c : list("credentials")) {
    const std::string id = str(c.at("orchestrator_id"));
    const auto owner = parse_address(str(c.at("owner"))).value();
    const auto delegate = parse_address(str(c.at("delegate"))).value();
    const Hash256 nonce = hash32_from_hex(str(c.at("nonce"))).value();
    const auto expires = static_cast<std::uint64_t>(c.at("expires_at").as_int64());
    const Hash256 h = credential::auth_hash(id, owner, delegate, nonce, expires);
    EXPECT_EQ(to_hex(h), str(c.at("auth_hash"))) << id;
    // ethers' signature recovers to the delegate, and ours is the same bytes (RFC 6979).
    auto sig = Signature::from_hex(str(c.at("signature")));
    ASSERT_TRUE(sig.ok()) << sig.error();
    EXPECT_EQ(recover_address(eip191_hash32(h), *sig).value(), delegate);
    auto key = PrivateKey::from_hex(str(c.at("delegate_key"))).value();
    EXPECT_EQ(sign_digest(key, eip191_hash32(h)).to_hex(), str(c.at("signature")));
    const std::string b = str(c.at("balance_wei"));
    const SignedWei balance{b[0] == '-', parse_wei(b[0] == '-' ? b.substr(1) : b).value()};
    EXPECT_EQ(to_hex(keccak256(id)), str(c.at("orch_hash")));
    EXPECT_EQ(to_hex(credential::ledger_leaf_hash(keccak256(id), owner, balance)), str(c.at("leaf_hash"))) << b;
  }
}

TEST(EthersDiff, KeystoresBothWays) {
  for (const auto& c : list("keystores")) {
    auto key = decrypt_keystore(str(c.at("json")), str(c.at("password")));
    ASSERT_TRUE(key.ok()) << key.error();
    EXPECT_EQ(to_hex(key->bytes()), str(c.at("private_key")));
  }
  // Ours, for ethers to decrypt in the next test step.
  const char* path = std::getenv("LPOPS_ETHERS_OURS");
  if (!path) GTEST_SKIP() << "LPOPS_ETHERS_OURS not set: not writing keystores for ethers";
  json::array ours;
  int i = 0;
  for (const auto& c : list("keys")) {
    if (i >= 6) break;
    auto key = PrivateKey::from_hex(str(c.at("private_key"))).value();
    KeystoreKdf kdf;
    kdf.kind = i % 2 ? KeystoreKdf::Kind::Pbkdf2 : KeystoreKdf::Kind::Scrypt;
    kdf.scrypt_n = 1024;
    kdf.pbkdf2_c = 1000;
    const std::string password = "pw-" + std::to_string(i) + "-é";
    ours.push_back(json::object{{"json", encrypt_keystore(key, password, kdf).value()},
                                {"password", password},
                                {"address", to_checksummed(key.address())}});
    ++i;
  }
  std::ofstream(path) << json::serialize(ours);
}

}  // namespace
}  // namespace lpops::chain
