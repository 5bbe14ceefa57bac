#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>

#include "chain/address.hpp"
#include "chain/audit_format.hpp"
#include "chain/hex.hpp"
#include "chain/signature.hpp"
#include "domain/canonical_json.hpp"
#include "domain/digest.hpp"

namespace lpops::chain::audit {
namespace {

boost::json::value vectors() {
  std::ifstream in(std::string(LPOPS_VECTORS_DIR) + "/chain.json");
  return boost::json::parse(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
}

TEST(CanonicalJson, MatchesPythonJsonDumpsSortKeys) {
  const auto doc = vectors();
  const std::string expected(doc.at("session_proof_hash").at("canonical_json").as_string());
  // The same members in another order serialise to the same bytes.
  boost::json::object shuffled{{"session_id", "s1"},       {"segment_start", "2026-01-01T00:02:00Z"},
                               {"segment_index", 2},        {"segment_end", "2026-01-01T00:03:00Z"},
                               {"orchestrator_id", "o1"},   {"edge_id", "e1"},
                               {"duration_ms", 60000}};
  EXPECT_EQ(canonical_json(shuffled), expected);
  const Digest32 d = sha256(expected);
  EXPECT_EQ("sha256:" + hex_lower(d.data(), d.size()), doc.at("session_proof_hash").at("proof_hash").as_string());

  EXPECT_EQ(canonical_json(boost::json::parse(R"({"b":[1,{"z":null,"a":true}],"a":"é\u2028\u007f\u0001\n\"\\"})")),
            "{\"a\":\"é\u2028\x7f\\u0001\\n\\\"\\\\\",\"b\":[1,{\"a\":true,\"z\":null}]}");
  EXPECT_EQ(canonical_json(boost::json::value(1e-05)), "1e-05");
  EXPECT_EQ(canonical_json(boost::json::value(1e16)), "1e+16");
  EXPECT_EQ(canonical_json(boost::json::value(0.5)), "0.5");
  EXPECT_EQ(canonical_json(boost::json::value(2.0)), "2.0");
  EXPECT_EQ(canonical_json(boost::json::value(123456.789)), "123456.789");
  EXPECT_EQ(canonical_json(boost::json::value(0.0001)), "0.0001");
  EXPECT_EQ(canonical_json(boost::json::value(-1.5e300)), "-1.5e+300");
}

// The reference's host wrapper lines are json.dumps' default, ensure_ascii=True; the expected
// texts are what Python 3 writes for these values.
TEST(CanonicalJson, AsciiFormIsPythonsEnsureAscii) {
  auto ascii = [](const boost::json::value& v) {
    std::string text = canonical_json(v);
    make_ascii_json(text);
    return text;
  };
  EXPECT_EQ(ascii(boost::json::object{{"k", "caf\xc3\xa9"}}), R"({"k":"caf\u00e9"})");
  EXPECT_EQ(ascii(boost::json::object{{"k", "\xf0\x9f\x98\x80 x"}}), R"({"k":"\ud83d\ude00 x"})");
  EXPECT_EQ(ascii(boost::json::object{{"k", "del\x7fhere"}}), R"({"k":"del\u007fhere"})");
  EXPECT_EQ(ascii(boost::json::object{{"k", "line\xe2\x80\xa8sep"}}), R"({"k":"line\u2028sep"})");
  EXPECT_EQ(ascii(boost::json::object{{"k", "\xe6\x97\xa5\xe6\x9c\xac"}}), R"({"k":"\u65e5\u672c"})");
  EXPECT_EQ(ascii(boost::json::object{{"k", "a\"b\\\\c\n"}}), R"({"k":"a\"b\\\\c\n"})");
  // A key is escaped as a value is; text that is ASCII already is left alone (false).
  EXPECT_EQ(ascii(boost::json::object{{"\xc3\xa9t\xc3\xa9", 1}}), R"({"\u00e9t\u00e9":1})");
  // A byte that starts no UTF-8 sequence (the writers never give one) is U+FFFD alone: the
  // bytes after it are kept.
  std::string stray = "{\"a\":\"x\xe9\",\"b\":\"\xf0\x9f\"}";
  ASSERT_TRUE(make_ascii_json(stray));
  EXPECT_EQ(stray, R"({"a":"x\ufffd","b":"\ufffd\ufffd"})");
  std::string plain = R"({"a":"only ascii, long enough to take the eight-byte steps","b":[1,2]})";
  EXPECT_FALSE(make_ascii_json(plain));
  EXPECT_EQ(plain, R"({"a":"only ascii, long enough to take the eight-byte steps","b":[1,2]})");
  // Whatever it escapes, the text reads back as the same value, at every position in the
  // eight-byte steps.
  const std::string pieces[] = {"\xc3\xa9", "\xe2\x80\xa8", "\xf0\x9f\x98\x80", "\x7f", "\xef\xbf\xbf", "\xc2\x80"};
  for (std::size_t pad = 0; pad < 17; ++pad)
    for (const auto& piece : pieces) {
      const boost::json::value v = boost::json::object{{"k", std::string(pad, 'x') + piece + "y" + piece}};
      std::string text = canonical_json(v);
      ASSERT_TRUE(make_ascii_json(text)) << pad;
      for (unsigned char c : text) ASSERT_LT(c, 0x7f) << text;
      EXPECT_EQ(boost::json::parse(text), v) << text;
    }
}

TEST(AuditFormat, CheckpointCommitmentsMatchTheVectors) {
  const auto doc = vectors();
  EXPECT_EQ(to_hex(checkpoint_head(Hash256{}, Hash256{})), doc.at("checkpoint").at("head_of_zero_zero").as_string());
}

TEST(AuditFormat, EntriesOmitEmptyReasonAndMetadataAndChain) {
  EntryFields f;
  f.seq = 1;
  f.timestamp = "2026-01-08T12:00:00Z";
  f.kind = "credit";
  f.event_id = "workload:w1";
  f.orchestrator_id = "orch-a";
  f.delta_wei = SignedWei{false, 5};
  f.balance_wei = SignedWei{false, 5};
  auto payload = entry_payload(f);
  EXPECT_FALSE(payload.contains("reason"));
  EXPECT_FALSE(payload.contains("metadata"));
  EXPECT_EQ(canonical_json(payload),
            R"({"balance_wei":"5","delta_wei":"5","event_id":"workload:w1","kind":"credit","orchestrator_id":"orch-a",)"
            R"("prev_hash":"0x0000000000000000000000000000000000000000000000000000000000000000",)"
            R"("recipient":"0x0000000000000000000000000000000000000000","schema":"payments-tee-core:audit:v1","seq":1,)"
            R"("timestamp":"2026-01-08T12:00:00Z"})");
  const Hash256 first = entry_hash(payload);
  f.seq = 2;
  f.prev_hash = first;
  f.delta_wei = SignedWei{true, 2};
  f.balance_wei = SignedWei{false, 3};
  f.reason = "adjustment";
  f.metadata = {{"notes", "x"}};
  auto second = entry_payload(f);
  EXPECT_EQ(second.at("delta_wei").as_string(), "-2");
  EXPECT_EQ(second.at("prev_hash").as_string(), to_hex(first));
  EXPECT_NE(entry_hash(second), first);
}

TEST(AuditFormat, TheDirectWriterIsTheCanonicalForm) {
  EntryFields f;
  for (int i = 0; i < 64; ++i) {
    f.seq = static_cast<std::uint64_t>(i) * 1000003;
    f.prev_hash = keccak256(std::to_string(i));
    f.timestamp = "2026-01-08T12:00:00." + std::to_string(100000 + i) + "Z";
    f.kind = i % 3 ? "credit" : "adjustment";
    f.event_id = i % 2 ? "workload:w\"" + std::to_string(i) + "\n\u00e9" : "adjustment:k" + std::to_string(i);
    f.orchestrator_id = i % 5 ? "orch-" + std::to_string(i) : std::string("tab\there\x01");
    f.recipient[19] = static_cast<std::uint8_t>(i);
    f.delta_wei = SignedWei{i % 4 == 0, Wei(i) * 1234567};
    f.balance_wei = SignedWei{false, Wei(i) * 7654321};
    f.reason = i % 3 ? "" : "r" + std::to_string(i);
    f.metadata = i % 2 ? boost::json::object{} : boost::json::object{{"z", i}, {"a", "x"}, {"nested", {{"b", nullptr}}}};
    const auto payload = entry_payload(f);
    ASSERT_EQ(entry_canonical(f), canonical_json(payload)) << i;
    auto with_hash = payload;
    with_hash["entry_hash"] = to_hex(entry_hash(payload));
    ASSERT_EQ(with_entry_hash(entry_canonical(f), entry_hash(payload)), canonical_json(with_hash)) << i;
  }
}

TEST(AuditFormat, CheckpointSignatureRecoversTheAuditAddress) {
  auto main = PrivateKey::from_hex("0x1111111111111111111111111111111111111111111111111111111111111111").value();
  auto audit = derive_audit_key(main);
  EXPECT_NE(audit.address(), main.address());
  EXPECT_EQ(derive_audit_key(main).bytes(), audit.bytes());  // deterministic
  // keccak256(key ‖ "payments-tee-core:audit:v1") mod (n − 1) + 1, computed with ethers.
  EXPECT_EQ(to_checksummed(audit.address()), "0xb29CF844b35b40694D7480db49C684103fa4D754");
  const Hash256 head = checkpoint_head(keccak256("e"), keccak256("r"));
  const Hash256 message = checkpoint_message(audit.address(), 7, head, 42161, Address{});
  const Signature sig = sign_digest(audit, eip191_hash32(message));
  EXPECT_EQ(recover_address(eip191_hash32(message), sig).value(), audit.address());
  EXPECT_NE(checkpoint_message(audit.address(), 8, head, 42161, Address{}), message);
}

}  // namespace
}  // namespace lpops::chain::audit
