#pragma once
// Recursive Length Prefix, Ethereum's serialisation for transactions. Decoding is strict:
// truncated input, trailing bytes and non-canonical lengths are errors, never guesses.
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "domain/result.hpp"

namespace lpops::chain::rlp {

using Bytes = std::vector<std::uint8_t>;

// An RLP item: a byte string or a list of items.
struct Item {
  std::variant<Bytes, std::vector<Item>> value;

  static Item bytes(Bytes b) { return Item{std::move(b)}; }
  static Item list(std::vector<Item> items) { return Item{std::move(items)}; }
  bool is_list() const { return std::holds_alternative<std::vector<Item>>(value); }
  const Bytes& as_bytes() const { return std::get<Bytes>(value); }
  const std::vector<Item>& as_list() const { return std::get<std::vector<Item>>(value); }
  friend bool operator==(const Item&, const Item&) = default;
};

inline constexpr std::size_t kMaxDepth = 64;

void encode_to(const Item& item, Bytes& out);
Bytes encode(const Item& item);
// Big-endian without leading zeros (0 -> empty string), as integers are encoded.
Bytes integer_bytes(std::uint64_t value);

// Decodes exactly one item spanning the whole input.
Result<Item> decode(const std::uint8_t* data, std::size_t size);
inline Result<Item> decode(const Bytes& b) { return decode(b.data(), b.size()); }

}  // namespace lpops::chain::rlp
