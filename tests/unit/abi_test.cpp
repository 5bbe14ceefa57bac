#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <functional>

#include "chain/abi.hpp"
#include "chain/hex.hpp"

namespace lpops::chain::abi {
namespace {

Type T(std::string_view text) { return Type::parse(text).value(); }
std::string hex(const Bytes& b) { return to_hex(b); }
Bytes unhex(std::string_view s) { return from_hex(s).value(); }

TEST(AbiType, ParsesAndPrintsCanonically) {
  EXPECT_EQ(T("uint").canonical(), "uint256");
  EXPECT_EQ(T("int").canonical(), "int256");
  EXPECT_EQ(T("tuple(address,bytes)[2][]").canonical(), "(address,bytes)[2][]");
  EXPECT_EQ(T("((uint8,string)[],bytes32)").canonical(), "((uint8,string)[],bytes32)");
  EXPECT_TRUE(T("(uint256,bytes)").is_dynamic());
  EXPECT_FALSE(T("(uint256,address[3])").is_dynamic());
  EXPECT_EQ(T("(uint256,address[3])").head_bytes(), 128u);
  for (const char* bad : {"uint7", "uint264", "bytes0", "bytes33", "int0", "foo", "uint256[", "(uint256", "uint256[0]",
                          "uint256]", "(,)", "", "uint08", "address ", "uint256[99999999999]",
                          // An empty tuple takes no bytes: it would decode from any data, and an
                          // array of them ("()[]") could claim any length.
                          "()", "()[]", "(uint256,())", "tuple()"})
    EXPECT_FALSE(Type::parse(bad).ok()) << bad;
}

TEST(AbiEncode, MatchesTheSolidityDocsExamples) {
  // baz(uint32,bool) with 69, true
  auto baz = Function::parse("baz(uint32,bool)").value();
  EXPECT_EQ(hex(baz.encode_call({Value::uint(69), Value::boolean(true)}).value()),
            "0xcdcd77c0"
            "0000000000000000000000000000000000000000000000000000000000000045"
            "0000000000000000000000000000000000000000000000000000000000000001");
  // sam(bytes,bool,uint256[]) with "dave", true, [1,2,3]
  auto sam = Function::parse("sam(bytes,bool,uint256[])").value();
  EXPECT_EQ(hex(sam.encode_call({Value::string_of("dave"), Value::boolean(true),
                                 Value::list({Value::uint(1), Value::uint(2), Value::uint(3)})})
                    .value()),
            "0xa5643bf2"
            "0000000000000000000000000000000000000000000000000000000000000060"
            "0000000000000000000000000000000000000000000000000000000000000001"
            "00000000000000000000000000000000000000000000000000000000000000a0"
            "0000000000000000000000000000000000000000000000000000000000000004"
            "6461766500000000000000000000000000000000000000000000000000000000"
            "0000000000000000000000000000000000000000000000000000000000000003"
            "0000000000000000000000000000000000000000000000000000000000000001"
            "0000000000000000000000000000000000000000000000000000000000000002"
            "0000000000000000000000000000000000000000000000000000000000000003");
  // f(uint256,uint32[],bytes10,bytes) with 0x123, [0x456, 0x789], "1234567890", "Hello, world!"
  auto f = Function::parse("f(uint256,uint32[],bytes10,bytes)").value();
  EXPECT_EQ(hex(f.encode_call({Value::uint(0x123), Value::list({Value::uint(0x456), Value::uint(0x789)}),
                               Value::string_of("1234567890"), Value::string_of("Hello, world!")})
                    .value()),
            "0x8be65246"
            "0000000000000000000000000000000000000000000000000000000000000123"
            "0000000000000000000000000000000000000000000000000000000000000080"
            "3132333435363738393000000000000000000000000000000000000000000000"
            "00000000000000000000000000000000000000000000000000000000000000e0"
            "0000000000000000000000000000000000000000000000000000000000000002"
            "0000000000000000000000000000000000000000000000000000000000000456"
            "0000000000000000000000000000000000000000000000000000000000000789"
            "000000000000000000000000000000000000000000000000000000000000000d"
            "48656c6c6f2c20776f726c642100000000000000000000000000000000000000");
}

TEST(AbiEncode, SignedIntegersAndRanges) {
  auto minus_one = Value::integer(SignedWei{true, 1}).value();
  EXPECT_EQ(hex(encode({T("int8")}, {minus_one}).value()), "0x" + std::string(64, 'f'));
  EXPECT_EQ(minus_one.as_int(), (SignedWei{true, 1}));
  auto min256 = Value::integer(SignedWei{true, Wei(1) << 255}).value();
  EXPECT_EQ(min256.as_int(), (SignedWei{true, Wei(1) << 255}));
  EXPECT_FALSE(Value::integer(SignedWei{false, Wei(1) << 255}).ok());
  EXPECT_FALSE(Value::integer(SignedWei{true, (Wei(1) << 255) + 1}).ok());
  EXPECT_FALSE(encode({T("int8")}, {Value::integer(SignedWei{false, 128}).value()}).ok());
  EXPECT_TRUE(encode({T("int8")}, {Value::integer(SignedWei{true, 128}).value()}).ok());
  EXPECT_FALSE(encode({T("int8")}, {Value::integer(SignedWei{true, 129}).value()}).ok());
  EXPECT_FALSE(encode({T("uint8")}, {Value::uint(256)}).ok());
  EXPECT_FALSE(encode({T("uint8")}, {minus_one}).ok());
  EXPECT_FALSE(encode({T("bytes4")}, {Value::string_of("abc")}).ok());
  EXPECT_FALSE(encode({T("address")}, {Value::uint(1)}).ok());
  EXPECT_FALSE(encode({T("uint256[2]")}, {Value::list({Value::uint(1)})}).ok());
  EXPECT_FALSE(encode({T("(uint256,bool)")}, {Value::list({Value::uint(1)})}).ok());
  EXPECT_FALSE(encode({T("uint256")}, {}).ok());
}

TEST(AbiDecode, RoundTripsNestedDynamicTuples) {
  const std::vector<Type> types = {T("(string,(bytes,uint16[])[],address)"), T("int24[2]"), T("bytes[]")};
  Address a{};
  a[19] = 0xab;
  const std::vector<Value> values = {
      Value::list({Value::string_of("héllo"),
                   Value::list({Value::list({Value::bytes_of({1, 2, 3}), Value::list({Value::uint(7), Value::uint(65535)})}),
                                Value::list({Value::bytes_of({}), Value::list({})})}),
                   Value::address(a)}),
      Value::list({Value::integer(SignedWei{true, 8388608}).value(), Value::integer(SignedWei{false, 8388607}).value()}),
      Value::list({Value::bytes_of(Bytes(33, 0xee)), Value::bytes_of({})})};
  auto encoded = encode(types, values).value();
  auto decoded = decode(types, encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_EQ(*decoded, values);
}

TEST(AbiDecode, RejectsHostileInputWithoutCrashing) {
  const std::vector<Type> dyn = {T("bytes")};
  // Offset far past the end, offset with high bits, length past the end.
  EXPECT_FALSE(decode(dyn, unhex("0x" + std::string(62, '0') + "40")).ok());
  EXPECT_FALSE(decode(dyn, unhex("0xff" + std::string(62, '0'))).ok());
  EXPECT_FALSE(decode(dyn, unhex("0x" + std::string(62, '0') + "20" + std::string(56, '0') + "7fffffff")).ok());
  // A claimed array length of 2^40 with no data behind it: rejected before allocating.
  EXPECT_FALSE(decode({T("uint256[]")}, unhex("0x" + std::string(62, '0') + "20" + std::string(54, '0') + "0100000000")).ok());
  EXPECT_FALSE(decode({T("uint256")}, unhex("0x00")).ok());
  EXPECT_FALSE(decode({T("uint8")}, unhex("0x" + std::string(60, '0') + "0100")).ok());
  EXPECT_FALSE(decode({T("bool")}, unhex("0x" + std::string(62, '0') + "02")).ok());
  EXPECT_FALSE(decode({T("address")}, unhex("0x01" + std::string(62, '0'))).ok());
  EXPECT_FALSE(decode({T("bytes1")}, unhex("0x0101" + std::string(60, '0'))).ok());
  EXPECT_TRUE(decode({}, Bytes{}).ok());
  // Types nest at most kMaxDepth deep; deep data within that decodes or fails cleanly.
  std::string deep = "bytes";
  for (std::size_t i = 0; i <= kMaxDepth; ++i) deep += "[]";
  EXPECT_FALSE(Type::parse(deep).ok());
  std::string chain = "0x" + std::string(62, '0') + "20";
  for (int i = 0; i < 12; ++i) chain += std::string(63, '0') + "1" + std::string(62, '0') + "20";
  auto nested = decode({T("bytes[][][][][][][][][][][][][][][][][][][][]")}, unhex(chain));
  EXPECT_FALSE(nested.ok());
}

// Offsets that all point at the same data (no encoder writes them): 4096 elements of a
// bytes[] sharing one 1 MiB value would decode to 4 GiB from 1.1 MB. A decoding is held to
// twice its input; honest data of the same shape decodes.
TEST(AbiDecode, OffsetsSharingDataCannotMultiplyIt) {
  constexpr std::size_t n = 4096, len = 1 << 20;
  auto word = [](std::size_t v) {
    Bytes w(32, 0);
    for (int i = 0; i < 8; ++i) w[31 - i] = static_cast<std::uint8_t>(v >> (8 * i));
    return w;
  };
  Bytes data = word(32);  // the array's offset
  const auto append = [&data](const Bytes& b) { data.insert(data.end(), b.begin(), b.end()); };
  append(word(n));
  for (std::size_t i = 0; i < n; ++i) append(word(32 * n));  // every element at the same place
  append(word(len));
  data.resize(data.size() + len, 0x41);
  auto shared = decode({T("bytes[]")}, data);
  ASSERT_FALSE(shared.ok());
  EXPECT_NE(shared.error().find("more than twice its size"), std::string::npos) << shared.error();
  // The same values each written once: decoded.
  std::vector<Value> items(64, Value::bytes_of(Bytes(4096, 0x42)));
  Value list;
  list.kind = Value::Kind::List;
  list.items = items;
  auto honest = encode({T("bytes[]")}, {list});
  ASSERT_TRUE(honest.ok()) << honest.error();
  auto back = decode({T("bytes[]")}, *honest);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ((*back)[0].items.size(), 64u);
  // Static tuples and arrays nested in each other take no words of their own.
  for (const char* type : {"((uint256))[]", "uint256[1][1][]", "((uint256,(bool,address)[2]))[]"}) {
    const Type t = T(type);
    std::function<Value(const Type&)> sample = [&sample](const Type& u) -> Value {
      if (u.kind == Type::Kind::Tuple || u.kind == Type::Kind::FixedArray) {
        Value v;
        v.kind = Value::Kind::List;
        const std::size_t n = u.kind == Type::Kind::Tuple ? u.components.size() : u.size;
        for (std::size_t i = 0; i < n; ++i) v.items.push_back(sample(u.kind == Type::Kind::Tuple ? u.components[i] : u.components[0]));
        return v;
      }
      if (u.kind == Type::Kind::Bool) return Value::boolean(true);
      if (u.kind == Type::Kind::Address) return Value::address(Address{});
      return Value::uint(Wei(7));
    };
    Value many;
    many.kind = Value::Kind::List;
    for (int i = 0; i < 200; ++i) many.items.push_back(sample(t.components[0]));
    auto encoded = encode({t}, {many});
    ASSERT_TRUE(encoded.ok()) << type << ": " << encoded.error();
    auto decoded = decode({t}, *encoded);
    ASSERT_TRUE(decoded.ok()) << type << ": " << decoded.error();
    EXPECT_EQ((*decoded)[0].items.size(), 200u) << type;
  }
}

// A bytes or string value's padding must be zero, as the head's padding must.
TEST(AbiDecode, BytesPaddingMustBeZero) {
  const std::string head = "0x" + std::string(62, '0') + "20" + std::string(63, '0') + "1";
  EXPECT_TRUE(decode({T("bytes")}, unhex(head + "41" + std::string(62, '0'))).ok());
  auto dirty = decode({T("bytes")}, unhex(head + "41" + std::string(60, '0') + "ff"));
  ASSERT_FALSE(dirty.ok());
  EXPECT_NE(dirty.error().find("non-zero padding"), std::string::npos) << dirty.error();
  EXPECT_FALSE(decode({T("string")}, unhex(head + "41ff" + std::string(60, '0'))).ok());
}

// A static type's size is bounded where it is parsed: one that would wrap around (the product
// of its lengths past 2^64, here 32 × 2^65) is refused, not decoded with a size of 0.
TEST(AbiType, StaticSizesAreBounded) {
  EXPECT_FALSE(Type::parse("uint256[65536][65536][65536][65536][2]").ok());
  EXPECT_FALSE(Type::parse("uint256[65536][65536]").ok());  // 128 GiB
  EXPECT_TRUE(Type::parse("uint256[65536][512]").ok());     // 1 GiB
  EXPECT_FALSE(Type::parse("(uint256[65536][512],uint256)").ok());
  EXPECT_FALSE(Type::parse("uint256[65536][65536][]").ok());
  EXPECT_TRUE(Type::parse("bytes[65536][65536]").ok());  // dynamic elements: 32 bytes of head each
}

TEST(AbiDecode, RandomGarbageNeverCrashes) {
  const std::vector<Type> types = {T("(string,(bytes,uint16[])[],address)"), T("int24[2]"), T("bytes[]")};
  // rapidcheck counts an exception as a failure: decode must give an error, never throw.
  EXPECT_TRUE(rc::check([&](const std::vector<std::uint8_t>& data) { (void)decode(types, data); }));
}

TEST(AbiPacked, MatchesSolidityEncodePacked) {
  // abi.encodePacked(int16(-1), bytes1(0x42), uint16(0x03), string("Hello, world!"))
  auto packed = encode_packed({T("int16"), T("bytes1"), T("uint16"), T("string")},
                              {Value::integer(SignedWei{true, 1}).value(), Value::bytes_of({0x42}), Value::uint(3),
                               Value::string_of("Hello, world!")});
  EXPECT_EQ(hex(packed.value()), "0xffff42000348656c6c6f2c20776f726c6421");
  auto arr = encode_packed({T("uint8[]"), T("bool")}, {Value::list({Value::uint(1), Value::uint(2)}), Value::boolean(true)});
  EXPECT_EQ(hex(arr.value()), "0x" + std::string(63, '0') + "1" + std::string(63, '0') + "201");
  EXPECT_FALSE(encode_packed({T("(uint8,bool)")}, {Value::list({Value::uint(1), Value::boolean(true)})}).ok());
  EXPECT_FALSE(encode_packed({T("string[]")}, {Value::list({Value::string_of("a")})}).ok());
}

TEST(AbiFunction, SelectorsAndOutputs) {
  auto transfer = Function::parse("transfer(address,uint256)", "bool").value();
  EXPECT_EQ(to_hex(transfer.selector()), "0xa9059cbb");
  EXPECT_EQ(transfer.signature(), "transfer(address,uint256)");
  auto out = transfer.decode_output(unhex("0x" + std::string(63, '0') + "1"));
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE((*out)[0].as_bool());
  auto call = transfer.encode_call({Value::address(Address{}), Value::uint(5)}).value();
  EXPECT_EQ(transfer.decode_call(call).value()[1].as_uint(), 5);
  call[0] ^= 1;
  EXPECT_FALSE(transfer.decode_call(call).ok());
  EXPECT_FALSE(Function::parse("1bad(uint256)").ok());
  EXPECT_FALSE(Function::parse("f(uint256").ok());
}

TEST(AbiEvent, DecodesIndexedAndDataParameters) {
  auto e = Event::parse("Transfer(address indexed from, address indexed to, uint256 value)").value();
  EXPECT_EQ(e.signature(), "Transfer(address,address,uint256)");
  EXPECT_EQ(to_hex(e.topic()), "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
  Hash256 from{}, to{};
  from[31] = 1;
  to[31] = 2;
  auto v = e.decode_log({e.topic(), from, to}, encode({T("uint256")}, {Value::uint(42)}).value());
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ((*v)[0].as_address()[19], 1);
  EXPECT_EQ((*v)[1].as_address()[19], 2);
  EXPECT_EQ((*v)[2].as_uint(), 42);
  EXPECT_FALSE(e.decode_log({e.topic(), from}, {}).ok());
  EXPECT_FALSE(e.decode_log({from, from, to}, encode({T("uint256")}, {Value::uint(42)}).value()).ok());
  auto indexed_string = Event::parse("Named(string indexed name, bytes data)").value();
  const Hash256 name_hash = keccak256("alice");
  auto n = indexed_string.decode_log({indexed_string.topic(), name_hash}, encode({T("bytes")}, {Value::bytes_of({9})}).value());
  ASSERT_TRUE(n.ok()) << n.error();
  EXPECT_EQ((*n)[0].bytes, Bytes(name_hash.begin(), name_hash.end()));
  EXPECT_FALSE(Event::parse("E(uint256 indexed a, uint256 indexed b, uint256 indexed c, uint256 indexed d)").ok());
}

TEST(AbiRevert, ReadsErrorStringAndPanic) {
  auto err = Function::parse("Error(string)").value().encode_call({Value::string_of("ticket is used")}).value();
  EXPECT_EQ(decode_revert_reason(err).value(), "ticket is used");
  auto panic = Function::parse("Panic(uint256)").value().encode_call({Value::uint(0x32)}).value();
  EXPECT_EQ(decode_revert_reason(panic).value(), "panic 0x32");
  EXPECT_FALSE(decode_revert_reason({1, 2}).has_value());
}

}  // namespace
}  // namespace lpops::chain::abi
