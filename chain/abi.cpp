#include "chain/abi.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>

namespace lpops::chain::abi {
namespace {

using Kind = Type::Kind;
constexpr std::size_t kMaxFixedArrayLength = 1u << 16;

// --- type text ---

struct TypeParser {
  std::string_view text;
  std::size_t pos = 0;
  std::size_t depth = 0;

  bool eat(char c) {
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }

  Result<std::size_t> number() {
    const std::size_t start = pos;
    std::size_t n = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (pos - start >= 9) return Error{"number too long in type"};
      n = n * 10 + static_cast<std::size_t>(text[pos] - '0');
      ++pos;
    }
    if (pos == start) return Error{"expected a number in type"};
    if (text[start] == '0' && pos - start > 1) return Error{"leading zero in type size"};
    return n;
  }

  Result<std::vector<Type>> list(char close) {
    std::vector<Type> out;
    if (eat(close)) return out;
    for (;;) {
      auto t = type();
      if (!t) return Error{t.error()};
      out.push_back(std::move(t).value());
      if (eat(close)) return out;
      if (!eat(',')) return Error{"expected ',' or '" + std::string(1, close) + "' at position " + std::to_string(pos)};
    }
  }

  Result<Type> elementary() {
    const std::size_t start = pos;
    while (pos < text.size() && ((text[pos] >= 'a' && text[pos] <= 'z'))) ++pos;
    const std::string_view word = text.substr(start, pos - start);
    Type t;
    auto sized = [&](Kind kind, std::size_t fallback, std::size_t lo, std::size_t hi, std::size_t step) -> Result<Type> {
      t.kind = kind;
      if (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        auto n = number();
        if (!n) return Error{n.error()};
        if (*n < lo || *n > hi || *n % step != 0)
          return Error{"invalid size " + std::to_string(*n) + " for " + std::string(word)};
        t.size = *n;
      } else {
        if (fallback == 0) return Error{"bytes needs no size or a size from 1 to 32"};
        t.size = fallback;
      }
      return t;
    };
    if (word == "uint") return sized(Kind::Uint, 256, 8, 256, 8);
    if (word == "int") return sized(Kind::Int, 256, 8, 256, 8);
    if (word == "bytes") {
      if (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') return sized(Kind::FixedBytes, 0, 1, 32, 1);
      t.kind = Kind::Bytes;
      t.size = 0;
      return t;
    }
    t.size = 0;
    if (word == "address") t.kind = Kind::Address;
    else if (word == "bool") t.kind = Kind::Bool;
    else if (word == "string") t.kind = Kind::String;
    else if (word == "tuple" && pos < text.size() && text[pos] == '(') return tuple();
    else return Error{"unknown type '" + std::string(word) + "'"};
    return t;
  }

  Result<Type> tuple() {
    if (++depth > kMaxDepth) return Error{"type nested too deeply"};
    if (!eat('(')) return Error{"expected '('"};
    auto fields = list(')');
    --depth;
    if (!fields) return Error{fields.error()};
    // Solidity has no empty tuple type, and one would take no bytes at all: an array of them
    // could claim any length.
    if (fields->empty()) return Error{"a tuple type needs at least one component"};
    Type t;
    t.kind = Kind::Tuple;
    t.size = 0;
    t.components = std::move(fields).value();
    if (!t.is_dynamic()) {
      std::size_t total = 0;
      for (const auto& c : t.components)
        if ((total += c.head_bytes()) > kMaxStaticBytes) return Error{"static size past " + std::to_string(kMaxStaticBytes) + " bytes"};
    }
    return t;
  }

  Result<Type> type() {
    auto base = (pos < text.size() && text[pos] == '(') ? tuple() : elementary();
    if (!base) return base;
    Type t = std::move(base).value();
    std::size_t suffixes = 0;
    while (eat('[')) {
      if (++suffixes > kMaxDepth) return Error{"array nested too deeply"};
      Type array;
      if (eat(']')) {
        array.kind = Kind::Array;
        array.size = 0;
      } else {
        auto n = number();
        if (!n) return Error{n.error()};
        if (*n == 0 || *n > kMaxFixedArrayLength) return Error{"fixed array length must be from 1 to 65536"};
        if (!eat(']')) return Error{"expected ']'"};
        array.kind = Kind::FixedArray;
        array.size = *n;
        // A static array's head is its length times its element's: held to kMaxStaticBytes,
        // so that no size wraps around (a wrapped size of 0 would let an array of them claim
        // any length).
        if (!t.is_dynamic() && t.head_bytes() > kMaxStaticBytes / array.size)
          return Error{"static size past " + std::to_string(kMaxStaticBytes) + " bytes"};
      }
      array.components.push_back(std::move(t));
      t = std::move(array);
    }
    return t;
  }
};

// --- integer words ---

Word word_of_uint(std::uint64_t v) {
  Word w{};
  for (int i = 0; i < 8; ++i) w[31 - i] = static_cast<std::uint8_t>(v >> (8 * i));
  return w;
}

bool fits(const Type& type, const Word& w) {
  const std::size_t keep = type.size / 8;  // low bytes that carry the value
  const std::size_t high = 32 - keep;
  if (type.kind == Kind::Uint) {
    return std::all_of(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(high), [](auto b) { return b == 0; });
  }
  const std::uint8_t fill = (w[high] & 0x80) ? 0xff : 0x00;
  return std::all_of(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(high), [fill](auto b) { return b == fill; });
}

// Reads a word that must be a small non-negative count or offset.
Result<std::size_t> read_count(const std::uint8_t* p, const char* what) {
  for (int i = 0; i < 24; ++i)
    if (p[i] != 0) return Error{std::string(what) + " is out of range"};
  std::uint64_t v = 0;
  for (int i = 24; i < 32; ++i) v = v << 8 | p[i];
  if (v > (std::uint64_t{1} << 40)) return Error{std::string(what) + " is out of range"};
  return static_cast<std::size_t>(v);
}

std::string type_name(const Type& t) { return t.canonical(); }

// --- encoding ---

Result<bool> encode_tuple(const std::vector<const Type*>& types, const std::vector<const Value*>& values, Bytes& out,
                          std::size_t depth);

void append_padded(Bytes& out, const Bytes& data) {
  out.insert(out.end(), data.begin(), data.end());
  out.resize(out.size() + (32 - data.size() % 32) % 32, 0);
}

Result<bool> encode_static_word(const Type& type, const Value& value, Bytes& out) {
  Word w{};
  switch (type.kind) {
    case Kind::Uint:
    case Kind::Int:
      if (value.kind != Value::Kind::Integer) return Error{"expected an integer for " + type_name(type)};
      if (!fits(type, value.word)) return Error{"value out of range for " + type_name(type)};
      w = value.word;
      break;
    case Kind::Address:
      if (value.kind != Value::Kind::Address) return Error{"expected an address"};
      w = value.word;
      break;
    case Kind::Bool:
      if (value.kind != Value::Kind::Bool) return Error{"expected a bool"};
      w = value.word;
      break;
    case Kind::FixedBytes:
      if (value.kind != Value::Kind::Bytes || value.bytes.size() != type.size)
        return Error{"expected exactly " + std::to_string(type.size) + " bytes for " + type_name(type)};
      std::copy(value.bytes.begin(), value.bytes.end(), w.begin());
      break;
    default:
      return Error{"not a static elementary type"};
  }
  out.insert(out.end(), w.begin(), w.end());
  return true;
}

Result<bool> encode_value(const Type& type, const Value& value, Bytes& out, std::size_t depth) {
  if (depth > kMaxDepth) return Error{"value nested too deeply"};
  switch (type.kind) {
    case Kind::Bytes:
    case Kind::String: {
      if (value.kind != Value::Kind::Bytes) return Error{"expected bytes for " + type_name(type)};
      Word len = word_of_uint(value.bytes.size());
      out.insert(out.end(), len.begin(), len.end());
      append_padded(out, value.bytes);
      return true;
    }
    case Kind::Array:
    case Kind::FixedArray:
    case Kind::Tuple: {
      if (value.kind != Value::Kind::List) return Error{"expected a list for " + type_name(type)};
      std::vector<const Type*> types;
      if (type.kind == Kind::Tuple) {
        if (value.items.size() != type.components.size())
          return Error{"tuple " + type_name(type) + " needs " + std::to_string(type.components.size()) + " values, got " +
                       std::to_string(value.items.size())};
        for (const auto& c : type.components) types.push_back(&c);
      } else {
        if (type.kind == Kind::FixedArray && value.items.size() != type.size)
          return Error{type_name(type) + " needs " + std::to_string(type.size) + " values, got " +
                       std::to_string(value.items.size())};
        if (type.kind == Kind::Array) {
          Word len = word_of_uint(value.items.size());
          out.insert(out.end(), len.begin(), len.end());
        }
        types.assign(value.items.size(), &type.components[0]);
      }
      std::vector<const Value*> values;
      for (const auto& v : value.items) values.push_back(&v);
      return encode_tuple(types, values, out, depth + 1);
    }
    default:
      return encode_static_word(type, value, out);
  }
}

Result<bool> encode_tuple(const std::vector<const Type*>& types, const std::vector<const Value*>& values, Bytes& out,
                          std::size_t depth) {
  if (types.size() != values.size())
    return Error{"expected " + std::to_string(types.size()) + " values, got " + std::to_string(values.size())};
  std::size_t head_size = 0;
  for (const Type* t : types) head_size += t->head_bytes();
  const std::size_t base = out.size();
  out.resize(base + head_size, 0);
  std::size_t head = base;
  Bytes scratch;
  for (std::size_t i = 0; i < types.size(); ++i) {
    const Type& t = *types[i];
    if (t.is_dynamic()) {
      Word offset = word_of_uint(out.size() - base);
      std::copy(offset.begin(), offset.end(), out.begin() + static_cast<std::ptrdiff_t>(head));
      auto r = encode_value(t, *values[i], out, depth);
      if (!r) return r;
    } else {
      scratch.clear();
      auto r = encode_value(t, *values[i], scratch, depth);
      if (!r) return r;
      std::copy(scratch.begin(), scratch.end(), out.begin() + static_cast<std::ptrdiff_t>(head));
    }
    head += t.head_bytes();
  }
  return true;
}

// --- decoding ---

struct Region {
  const std::uint8_t* data;
  std::size_t size;
};

// What a decoding may still produce, in bytes (32 per word: each value's but a tuple's or a
// fixed array's, whose words are its components'; and the contents of bytes and strings). Data encoded without two offsets pointing at the same place produces at most its
// own size: offsets that share data (which no encoder writes) could make a small input decode
// to gigabytes, so a decoding is held to twice its input.
struct Budget {
  std::size_t left;
  bool take(std::size_t n) {
    if (n > left) return false;
    left -= n;
    return true;
  }
};
Budget budget_for(std::size_t size) { return Budget{2 * size + 1024}; }
const Error kOverBudget{"data decodes to more than twice its size (offsets that point at the same data)"};

Result<Value> decode_value(const Type& type, Region region, std::size_t at, std::size_t depth, Budget& budget);

Result<std::vector<Value>> decode_tuple(const std::vector<const Type*>& types, Region region, std::size_t depth, Budget& budget) {
  if (depth > kMaxDepth) return Error{"data nested too deeply"};
  std::vector<Value> out;
  out.reserve(types.size());
  std::size_t head = 0;
  for (const Type* t : types) {
    const std::size_t need = t->head_bytes();
    if (need > region.size || head > region.size - need) return Error{"data too short for " + type_name(*t)};
    if (t->is_dynamic()) {
      auto offset = read_count(region.data + head, "offset");
      if (!offset) return Error{offset.error()};
      if (*offset >= region.size) return Error{"offset points past the end of the data"};
      auto v = decode_value(*t, Region{region.data + *offset, region.size - *offset}, 0, depth + 1, budget);
      if (!v) return Error{v.error()};
      out.push_back(std::move(v).value());
    } else {
      auto v = decode_value(*t, region, head, depth + 1, budget);
      if (!v) return Error{v.error()};
      out.push_back(std::move(v).value());
    }
    head += need;
  }
  return out;
}

Result<Value> decode_value(const Type& type, Region region, std::size_t at, std::size_t depth, Budget& budget) {
  if (depth > kMaxDepth) return Error{"data nested too deeply"};
  if (at > region.size || region.size - at < 32) return Error{"data too short for " + type_name(type)};
  // A word of its own: every value but a static tuple or array (whose words are its
  // components'), a dynamic array's being its length.
  const bool container = type.kind == Kind::Tuple || type.kind == Kind::FixedArray;
  if (!container && !budget.take(32)) return kOverBudget;
  const std::uint8_t* p = region.data + at;
  Value v;
  switch (type.kind) {
    case Kind::Uint:
    case Kind::Int:
      std::copy(p, p + 32, v.word.begin());
      if (!fits(type, v.word)) return Error{"value out of range for " + type_name(type)};
      return v;
    case Kind::Address:
      if (std::any_of(p, p + 12, [](auto b) { return b != 0; })) return Error{"address word has non-zero high bytes"};
      v.kind = Value::Kind::Address;
      std::copy(p, p + 32, v.word.begin());
      return v;
    case Kind::Bool:
      if (std::any_of(p, p + 31, [](auto b) { return b != 0; }) || p[31] > 1) return Error{"bool word is not 0 or 1"};
      v.kind = Value::Kind::Bool;
      std::copy(p, p + 32, v.word.begin());
      return v;
    case Kind::FixedBytes:
      if (std::any_of(p + type.size, p + 32, [](auto b) { return b != 0; }))
        return Error{type_name(type) + " has non-zero padding"};
      v.kind = Value::Kind::Bytes;
      v.bytes.assign(p, p + type.size);
      return v;
    case Kind::Bytes:
    case Kind::String: {
      auto len = read_count(p, "length");
      if (!len) return Error{len.error()};
      const std::size_t room = region.size - at - 32;
      const std::size_t padded = (*len + 31) / 32 * 32;
      if (padded > room) return Error{"length " + std::to_string(*len) + " runs past the end of the data"};
      if (std::any_of(p + 32 + *len, p + 32 + padded, [](auto b) { return b != 0; }))
        return Error{type_name(type) + " has non-zero padding"};
      if (!budget.take(*len)) return kOverBudget;
      v.kind = Value::Kind::Bytes;
      v.bytes.assign(p + 32, p + 32 + *len);
      return v;
    }
    case Kind::Array:
    case Kind::FixedArray:
    case Kind::Tuple: {
      std::vector<const Type*> types;
      Region inner{p, region.size - at};
      if (type.kind == Kind::Tuple) {
        for (const auto& c : type.components) types.push_back(&c);
      } else {
        std::size_t count = type.size;
        if (type.kind == Kind::Array) {
          auto len = read_count(p, "array length");
          if (!len) return Error{len.error()};
          inner = Region{p + 32, region.size - at - 32};
          count = *len;
        }
        // Every element takes at least its head in the data: a claimed length larger than
        // the data allows is rejected before anything is allocated.
        const std::size_t each = type.components[0].head_bytes();
        if (count > inner.size / each) return Error{"array length " + std::to_string(count) + " exceeds the data"};
        types.assign(count, &type.components[0]);
      }
      auto items = decode_tuple(types, inner, depth, budget);
      if (!items) return Error{items.error()};
      v.kind = Value::Kind::List;
      v.items = std::move(items).value();
      return v;
    }
  }
  return Error{"unknown type"};
}

// --- packed ---

Result<bool> pack(const Type& type, const Value& value, Bytes& out, bool in_array, std::size_t depth) {
  if (depth > kMaxDepth) return Error{"value nested too deeply"};
  switch (type.kind) {
    case Kind::Bytes:
    case Kind::String:
      if (in_array) return Error{"abi.encodePacked has no form for arrays of " + type_name(type)};
      if (value.kind != Value::Kind::Bytes) return Error{"expected bytes for " + type_name(type)};
      out.insert(out.end(), value.bytes.begin(), value.bytes.end());
      return true;
    case Kind::Tuple:
      return Error{"abi.encodePacked has no form for tuples"};
    case Kind::Array:
    case Kind::FixedArray:
      if (value.kind != Value::Kind::List) return Error{"expected a list for " + type_name(type)};
      if (type.kind == Kind::FixedArray && value.items.size() != type.size)
        return Error{type_name(type) + " needs " + std::to_string(type.size) + " values"};
      for (const auto& item : value.items) {
        auto r = pack(type.components[0], item, out, true, depth + 1);
        if (!r) return r;
      }
      return true;
    default: {
      Bytes word;
      auto r = encode_static_word(type, value, word);
      if (!r) return r;
      if (in_array) {
        out.insert(out.end(), word.begin(), word.end());
        return true;
      }
      std::size_t from = 0, to = 32;
      if (type.kind == Kind::Uint || type.kind == Kind::Int) from = 32 - type.size / 8;
      else if (type.kind == Kind::Address) from = 12;
      else if (type.kind == Kind::Bool) from = 31;
      else if (type.kind == Kind::FixedBytes) to = type.size;
      out.insert(out.end(), word.begin() + static_cast<std::ptrdiff_t>(from), word.begin() + static_cast<std::ptrdiff_t>(to));
      return true;
    }
  }
}

std::string join(const std::vector<Type>& types) {
  std::string out;
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (i) out += ',';
    out += types[i].canonical();
  }
  return out;
}

bool is_identifier(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
  });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// Splits "name(inside)" into name and inside.
Result<std::pair<std::string_view, std::string_view>> split_signature(std::string_view text) {
  text = trim(text);
  const auto open = text.find('(');
  if (open == std::string_view::npos || text.empty() || text.back() != ')') return Error{"expected name(types)"};
  const auto name = trim(text.substr(0, open));
  if (!is_identifier(name)) return Error{"invalid name '" + std::string(name) + "'"};
  return std::pair{name, text.substr(open + 1, text.size() - open - 2)};
}

}  // namespace

// --- Type ---

Result<Type> Type::parse(std::string_view text) {
  TypeParser p{text};
  auto t = p.type();
  if (!t) return Error{"invalid ABI type '" + std::string(text) + "': " + t.error()};
  if (p.pos != text.size()) return Error{"invalid ABI type '" + std::string(text) + "': unexpected text at position " + std::to_string(p.pos)};
  return t;
}

Result<std::vector<Type>> parse_types(std::string_view list) {
  if (list.empty()) return std::vector<Type>{};  // "f()": no parameters (no empty tuple type)
  std::string wrapped = "(" + std::string(list) + ")";
  auto t = Type::parse(wrapped);
  if (!t) return Error{t.error()};
  return std::move(t).value().components;
}

std::string Type::canonical() const {
  switch (kind) {
    case Kind::Uint: return "uint" + std::to_string(size);
    case Kind::Int: return "int" + std::to_string(size);
    case Kind::Address: return "address";
    case Kind::Bool: return "bool";
    case Kind::FixedBytes: return "bytes" + std::to_string(size);
    case Kind::Bytes: return "bytes";
    case Kind::String: return "string";
    case Kind::Array: return components[0].canonical() + "[]";
    case Kind::FixedArray: return components[0].canonical() + "[" + std::to_string(size) + "]";
    case Kind::Tuple: return "(" + join(components) + ")";
  }
  return "?";
}

bool Type::is_dynamic() const {
  switch (kind) {
    case Kind::Bytes:
    case Kind::String:
    case Kind::Array:
      return true;
    case Kind::FixedArray:
      return components[0].is_dynamic();
    case Kind::Tuple:
      return std::any_of(components.begin(), components.end(), [](const Type& t) { return t.is_dynamic(); });
    default:
      return false;
  }
}

std::size_t Type::head_bytes() const {
  if (is_dynamic()) return 32;
  if (kind == Kind::FixedArray) return size * components[0].head_bytes();
  if (kind == Kind::Tuple) {
    std::size_t n = 0;
    for (const auto& c : components) n += c.head_bytes();
    return n;
  }
  return 32;
}

// --- Value ---

Value Value::uint(const Wei& v) {
  Value out;
  Bytes be;
  mp::export_bits(v, std::back_inserter(be), 8);
  std::copy(be.begin(), be.end(), out.word.end() - static_cast<std::ptrdiff_t>(be.size()));
  return out;
}

Result<Value> Value::integer(const SignedWei& v) {
  static const Wei kHalf = Wei(1) << 255;
  if (!v.negative) {
    if (v.magnitude >= kHalf) return Error{"integer out of range for int256"};
    return uint(v.magnitude);
  }
  if (v.magnitude > kHalf) return Error{"integer out of range for int256"};
  Value out = uint(v.magnitude);
  // Two's complement: invert and add one.
  for (auto& b : out.word) b = static_cast<std::uint8_t>(~b);
  for (int i = 31; i >= 0; --i)
    if (++out.word[static_cast<std::size_t>(i)] != 0) break;
  return out;
}

Value Value::address(const Address& a) {
  Value out;
  out.kind = Kind::Address;
  std::copy(a.begin(), a.end(), out.word.begin() + 12);
  return out;
}

Value Value::boolean(bool b) {
  Value out;
  out.kind = Kind::Bool;
  out.word[31] = b ? 1 : 0;
  return out;
}

Value Value::bytes_of(Bytes b) {
  Value out;
  out.kind = Kind::Bytes;
  out.bytes = std::move(b);
  return out;
}

Value Value::string_of(std::string_view s) { return bytes_of(Bytes(s.begin(), s.end())); }

Value Value::list(std::vector<Value> items) {
  Value out;
  out.kind = Kind::List;
  out.items = std::move(items);
  return out;
}

Wei Value::as_uint() const {
  Wei out;
  mp::import_bits(out, word.begin(), word.end(), 8);
  return out;
}

SignedWei Value::as_int() const {
  if (!(word[0] & 0x80)) return SignedWei{false, as_uint()};
  Word magnitude = word;
  for (auto& b : magnitude) b = static_cast<std::uint8_t>(~b);
  for (int i = 31; i >= 0; --i)
    if (++magnitude[static_cast<std::size_t>(i)] != 0) break;
  Wei m;
  // -2^255 inverts to itself; its magnitude is still 2^255, read unsigned.
  mp::import_bits(m, magnitude.begin(), magnitude.end(), 8);
  return SignedWei{true, m};
}

Address Value::as_address() const {
  Address a;
  std::copy(word.begin() + 12, word.end(), a.begin());
  return a;
}

// --- encode / decode ---

Result<Bytes> encode(const std::vector<Type>& types, const std::vector<Value>& values) {
  std::vector<const Type*> t;
  std::vector<const Value*> v;
  for (const auto& x : types) t.push_back(&x);
  for (const auto& x : values) v.push_back(&x);
  Bytes out;
  auto r = encode_tuple(t, v, out, 0);
  if (!r) return Error{r.error()};
  return out;
}

Result<std::vector<Value>> decode(const std::vector<Type>& types, const std::uint8_t* data, std::size_t size) {
  std::vector<const Type*> t;
  for (const auto& x : types) t.push_back(&x);
  static const std::uint8_t kEmpty = 0;
  Budget budget = budget_for(size);
  return decode_tuple(t, Region{data ? data : &kEmpty, size}, 0, budget);
}

Result<Bytes> encode_packed(const std::vector<Type>& types, const std::vector<Value>& values) {
  if (types.size() != values.size())
    return Error{"expected " + std::to_string(types.size()) + " values, got " + std::to_string(values.size())};
  Bytes out;
  for (std::size_t i = 0; i < types.size(); ++i) {
    auto r = pack(types[i], values[i], out, false, 0);
    if (!r) return Error{r.error()};
  }
  return out;
}

// --- Function ---

Result<Function> Function::parse(std::string_view signature, std::string_view outputs) {
  auto parts = split_signature(signature);
  if (!parts) return Error{parts.error()};
  Function f;
  f.name = std::string(parts->first);
  auto inputs = parse_types(parts->second);
  if (!inputs) return Error{inputs.error()};
  f.inputs = std::move(inputs).value();
  outputs = trim(outputs);
  if (outputs == "()") return f;  // no outputs, written as an empty list
  if (outputs.size() >= 2 && outputs.front() == '(' && outputs.back() == ')') {
    // "(t1,t2)" lists outputs, unless it is one tuple followed by more text.
    auto whole = Type::parse(outputs);
    if (whole) {
      f.outputs = std::move(whole).value().components;
      return f;
    }
  }
  auto outs = parse_types(outputs);
  if (!outs) return Error{outs.error()};
  f.outputs = std::move(outs).value();
  return f;
}

std::string Function::signature() const { return name + "(" + join(inputs) + ")"; }

std::array<std::uint8_t, 4> Function::selector() const {
  const Hash256 h = keccak256(signature());
  return {h[0], h[1], h[2], h[3]};
}

Result<Bytes> Function::encode_call(const std::vector<Value>& args) const {
  auto body = encode(inputs, args);
  if (!body) return Error{body.error()};
  const auto sel = selector();
  Bytes out(sel.begin(), sel.end());
  out.insert(out.end(), body->begin(), body->end());
  return out;
}

Result<std::vector<Value>> Function::decode_call(const Bytes& calldata) const {
  const auto sel = selector();
  if (calldata.size() < 4 || !std::equal(sel.begin(), sel.end(), calldata.begin()))
    return Error{"calldata does not start with the selector of " + signature()};
  return decode(inputs, calldata.data() + 4, calldata.size() - 4);
}

Result<std::vector<Value>> Function::decode_output(const Bytes& returned) const { return decode(outputs, returned); }

// --- Event ---

Result<Event> Event::parse(std::string_view declaration) {
  auto parts = split_signature(declaration);
  if (!parts) return Error{parts.error()};
  Event e;
  e.name = std::string(parts->first);
  std::string_view rest = parts->second;
  if (trim(rest).empty()) return e;
  // Split on commas outside parentheses.
  std::vector<std::string_view> params;
  int level = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= rest.size(); ++i) {
    if (i == rest.size() || (rest[i] == ',' && level == 0)) {
      params.push_back(trim(rest.substr(start, i - start)));
      start = i + 1;
    } else if (rest[i] == '(') {
      ++level;
    } else if (rest[i] == ')') {
      --level;
    }
  }
  for (auto p : params) {
    // "type", "type name", "type indexed", "type indexed name"
    std::vector<std::string_view> words;
    int lvl = 0;
    std::size_t s = 0;
    for (std::size_t i = 0; i <= p.size(); ++i) {
      if (i < p.size() && p[i] == '(') ++lvl;
      if (i < p.size() && p[i] == ')') --lvl;
      if (i == p.size() || (lvl == 0 && (p[i] == ' ' || p[i] == '\t'))) {
        if (i > s) words.push_back(p.substr(s, i - s));
        s = i + 1;
      }
    }
    if (words.empty() || words.size() > 3) return Error{"invalid event parameter '" + std::string(p) + "'"};
    auto t = Type::parse(words[0]);
    if (!t) return Error{t.error()};
    bool is_indexed = words.size() >= 2 && words[1] == "indexed";
    if (words.size() == 3 && !is_indexed) return Error{"invalid event parameter '" + std::string(p) + "'"};
    const std::size_t name_at = is_indexed ? 2 : 1;
    if (words.size() > name_at && !is_identifier(words[name_at]))
      return Error{"invalid event parameter name '" + std::string(words[name_at]) + "'"};
    e.params.push_back(std::move(t).value());
    e.indexed.push_back(is_indexed);
  }
  if (std::count(e.indexed.begin(), e.indexed.end(), true) > 3) return Error{"an event has at most 3 indexed parameters"};
  return e;
}

std::string Event::signature() const { return name + "(" + join(params) + ")"; }

Hash256 Event::topic() const { return keccak256(signature()); }

Result<std::vector<Value>> Event::decode_log(const std::vector<Hash256>& topics, const Bytes& data) const {
  const auto indexed_count = static_cast<std::size_t>(std::count(indexed.begin(), indexed.end(), true));
  if (topics.size() != indexed_count + 1) return Error{"log has " + std::to_string(topics.size()) + " topics, " + signature() + " needs " + std::to_string(indexed_count + 1)};
  if (topics[0] != topic()) return Error{"log topic0 is not " + signature()};
  std::vector<const Type*> data_types;
  for (std::size_t i = 0; i < params.size(); ++i)
    if (!indexed[i]) data_types.push_back(&params[i]);
  Budget budget = budget_for(data.size());
  auto unindexed = decode_tuple(data_types, Region{data.empty() ? nullptr : data.data(), data.size()}, 0, budget);
  if (!unindexed) return Error{"log data: " + unindexed.error()};
  std::vector<Value> out;
  std::size_t next_topic = 1, next_data = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!indexed[i]) {
      out.push_back(std::move((*unindexed)[next_data++]));
      continue;
    }
    const Hash256& topic = topics[next_topic++];
    if (params[i].is_dynamic() || params[i].kind == Kind::Tuple || params[i].kind == Kind::FixedArray) {
      out.push_back(Value::bytes_of(Bytes(topic.begin(), topic.end())));
    } else {
      Budget one = budget_for(topic.size());
      auto v = decode_value(params[i], Region{topic.data(), topic.size()}, 0, 0, one);
      if (!v) return Error{"log topic " + std::to_string(next_topic - 1) + ": " + v.error()};
      out.push_back(std::move(v).value());
    }
  }
  return out;
}

std::optional<std::string> decode_revert_reason(const Bytes& data) {
  if (data.size() < 4) return std::nullopt;
  const Bytes body(data.begin() + 4, data.end());
  if (data[0] == 0x08 && data[1] == 0xc3 && data[2] == 0x79 && data[3] == 0xa0) {
    auto v = decode({Type{Kind::String, 0, {}}}, body);
    if (!v) return std::nullopt;
    return (*v)[0].as_string();
  }
  if (data[0] == 0x4e && data[1] == 0x48 && data[2] == 0x7b && data[3] == 0x71) {
    auto v = decode({Type{Kind::Uint, 256, {}}}, body);
    if (!v) return std::nullopt;
    return "panic " + (*v)[0].as_uint().str(0, std::ios_base::hex | std::ios_base::showbase);
  }
  return std::nullopt;
}

}  // namespace lpops::chain::abi
