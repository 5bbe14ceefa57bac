#pragma once
// The Solidity contract ABI: types parsed from their canonical text ("uint256",
// "(address,bytes)[]", ...), values, the standard head/tail encoding, abi.encodePacked,
// function selectors and event logs. Decoding is strict: every offset and length is
// checked against the input before it is used, integers must fit their type, and
// padding must be zero, so hostile input gets an error and never a crash or a huge
// allocation.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chain/address.hpp"
#include "chain/keccak.hpp"
#include "domain/money.hpp"
#include "domain/result.hpp"

namespace lpops::chain::abi {

using Bytes = std::vector<std::uint8_t>;
using Word = std::array<std::uint8_t, 32>;

inline constexpr std::size_t kMaxDepth = 32;
// The most bytes a static type (a fixed array, a tuple of static types) takes in the head.
inline constexpr std::size_t kMaxStaticBytes = std::size_t{1} << 30;

struct Type {
  enum class Kind { Uint, Int, Address, Bool, FixedBytes, Bytes, String, Array, FixedArray, Tuple };
  Kind kind = Kind::Uint;
  std::size_t size = 256;        // bits for (u)int, bytes for bytesN, length for T[k]
  std::vector<Type> components;  // the element for arrays, the fields for a tuple

  static Result<Type> parse(std::string_view text);
  std::string canonical() const;
  bool is_dynamic() const;
  std::size_t head_bytes() const;  // bytes this type takes in a head (32 when dynamic)
  friend bool operator==(const Type&, const Type&) = default;
};

// Parses "t1,t2,..." (the inside of a tuple or a signature's parentheses).
Result<std::vector<Type>> parse_types(std::string_view list);

struct Value {
  enum class Kind { Integer, Address, Bool, Bytes, List };
  Kind kind = Kind::Integer;
  Word word{};              // integers as a 256-bit two's complement big-endian word
  Bytes bytes;              // bytes, bytesN and string contents
  std::vector<Value> items;  // array elements or tuple fields

  static Value uint(const Wei& v);
  static Value uint(std::uint64_t v) { return uint(Wei(v)); }
  static Result<Value> integer(const SignedWei& v);  // two's complement; error outside int256
  static Value address(const Address& a);
  static Value boolean(bool b);
  static Value bytes_of(Bytes b);
  static Value string_of(std::string_view s);
  static Value word_of(const Word& w) { return bytes_of(Bytes(w.begin(), w.end())); }  // bytes32
  static Value list(std::vector<Value> items);

  Wei as_uint() const;          // the word read as unsigned
  SignedWei as_int() const;     // the word read as two's complement
  Address as_address() const;   // the low 20 bytes of the word
  bool as_bool() const { return word[31] != 0; }
  std::string as_string() const { return std::string(bytes.begin(), bytes.end()); }
  friend bool operator==(const Value&, const Value&) = default;
};

// Standard encoding of values as a tuple of `types` (what a call's arguments are).
Result<Bytes> encode(const std::vector<Type>& types, const std::vector<Value>& values);
Result<std::vector<Value>> decode(const std::vector<Type>& types, const std::uint8_t* data, std::size_t size);
inline Result<std::vector<Value>> decode(const std::vector<Type>& types, const Bytes& data) {
  return decode(types, data.data(), data.size());
}

// abi.encodePacked: static types at their natural width, bytes and strings raw, array
// elements padded to 32 bytes. Tuples (and arrays of dynamic types) have no packed form.
Result<Bytes> encode_packed(const std::vector<Type>& types, const std::vector<Value>& values);

// A function from its signature, e.g. "transfer(address,uint256)" with optional outputs.
struct Function {
  std::string name;
  std::vector<Type> inputs;
  std::vector<Type> outputs;

  static Result<Function> parse(std::string_view signature, std::string_view outputs = "");
  std::string signature() const;  // canonical: "name(t1,t2)"
  std::array<std::uint8_t, 4> selector() const;
  Result<Bytes> encode_call(const std::vector<Value>& args) const;  // selector ‖ encode(args)
  Result<std::vector<Value>> decode_call(const Bytes& calldata) const;
  Result<std::vector<Value>> decode_output(const Bytes& returned) const;
};

// An event from "Name(type [indexed] name?, ...)"; e.g.
// "Transfer(address indexed from,address indexed to,uint256 value)".
struct Event {
  std::string name;
  std::vector<Type> params;
  std::vector<bool> indexed;

  static Result<Event> parse(std::string_view declaration);
  std::string signature() const;  // "Transfer(address,address,uint256)"
  Hash256 topic() const;          // keccak256(signature)
  // Values in declaration order. An indexed dynamic value (bytes, string, array, tuple)
  // is only a hash in the log: it comes back as a bytes32 value.
  Result<std::vector<Value>> decode_log(const std::vector<Hash256>& topics, const Bytes& data) const;
};

// Revert data from Error(string) or Panic(uint256), as a readable message; nullopt otherwise.
std::optional<std::string> decode_revert_reason(const Bytes& data);

}  // namespace lpops::chain::abi
