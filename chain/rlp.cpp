#include "chain/rlp.hpp"

namespace lpops::chain::rlp {
namespace {

void put_length(std::size_t length, std::uint8_t short_base, std::uint8_t long_base, Bytes& out) {
  if (length < 56) {
    out.push_back(static_cast<std::uint8_t>(short_base + length));
    return;
  }
  Bytes len = integer_bytes(length);
  out.push_back(static_cast<std::uint8_t>(long_base + len.size()));
  out.insert(out.end(), len.begin(), len.end());
}

struct Decoder {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t pos = 0;

  Result<Item> item(std::size_t depth) {
    if (depth > kMaxDepth) return Error{"RLP nesting is too deep"};
    if (pos >= size) return Error{"RLP input is truncated"};
    const std::uint8_t prefix = data[pos++];
    if (prefix < 0x80) return Item::bytes(Bytes{prefix});
    std::size_t length = 0;
    const bool is_list = prefix >= 0xc0;
    const std::uint8_t base = is_list ? 0xc0 : 0x80;
    if (prefix - base < 56) {
      length = prefix - base;
    } else {
      const std::size_t length_bytes = prefix - base - 55;
      if (length_bytes > 8 || length_bytes > size - pos) return Error{"RLP length is truncated"};
      if (data[pos] == 0) return Error{"RLP length has a leading zero"};
      for (std::size_t i = 0; i < length_bytes; ++i) length = length << 8 | data[pos++];
      if (length < 56) return Error{"RLP long form used for a short payload"};
    }
    if (length > size - pos) return Error{"RLP payload is truncated"};
    const std::size_t end = pos + length;
    if (!is_list) {
      if (length == 1 && prefix == 0x81 && data[pos] < 0x80) return Error{"RLP single byte is not canonical"};
      Bytes b(data + pos, data + end);
      pos = end;
      return Item::bytes(std::move(b));
    }
    std::vector<Item> items;
    while (pos < end) {
      Decoder inner{data, end, pos};
      auto child = inner.item(depth + 1);
      if (!child) return child;
      pos = inner.pos;
      items.push_back(std::move(child).value());
    }
    return Item::list(std::move(items));
  }
};

}  // namespace

Bytes integer_bytes(std::uint64_t value) {
  Bytes out;
  for (int shift = 56; shift >= 0; shift -= 8) {
    auto byte = static_cast<std::uint8_t>(value >> shift);
    if (byte != 0 || !out.empty()) out.push_back(byte);
  }
  return out;
}

void encode_to(const Item& item, Bytes& out) {
  if (!item.is_list()) {
    const Bytes& b = item.as_bytes();
    if (b.size() == 1 && b[0] < 0x80) {
      out.push_back(b[0]);
      return;
    }
    put_length(b.size(), 0x80, 0xb7, out);
    out.insert(out.end(), b.begin(), b.end());
    return;
  }
  Bytes payload;
  for (const auto& child : item.as_list()) encode_to(child, payload);
  put_length(payload.size(), 0xc0, 0xf7, out);
  out.insert(out.end(), payload.begin(), payload.end());
}

Bytes encode(const Item& item) {
  Bytes out;
  encode_to(item, out);
  return out;
}

Result<Item> decode(const std::uint8_t* data, std::size_t size) {
  Decoder d{data, size};
  auto item = d.item(0);
  if (!item) return item;
  if (d.pos != size) return Error{"RLP input has trailing bytes"};
  return item;
}

}  // namespace lpops::chain::rlp
