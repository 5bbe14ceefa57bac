#include "config/ip_network.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <optional>

namespace lpops::config {
namespace {

constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};  // ::ffff:0:0/96

std::optional<std::array<std::uint8_t, 16>> parse_address(std::string_view text, bool& is_v4) {
  std::string s(text);
  std::array<std::uint8_t, 16> out{};
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    is_v4 = true;
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    is_v4 = false;
    std::memcpy(out.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

}  // namespace

Result<IpNetwork> IpNetwork::parse(std::string_view text, bool clear_host_bits, bool* cleared) {
  IpNetwork n;
  n.text_ = std::string(text);
  std::string_view addr = text;
  std::optional<int> prefix;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    std::string_view bits = text.substr(slash + 1);
    int v = -1;
    in_addr mask{};
    if (bits.find('.') != std::string_view::npos && inet_pton(AF_INET, std::string(bits).c_str(), &mask) == 1) {
      // An IPv4 network may give its mask as a netmask (255.240.0.0) or, failing that, a
      // hostmask (0.15.255.255), as Python's ip_network reads them; either must be contiguous.
      const std::uint32_t m = ntohl(mask.s_addr);
      const int ones = __builtin_popcount(m);
      const std::uint32_t netmask = ones == 0 ? 0 : ~std::uint32_t{0} << (32 - ones);
      if (m == netmask) v = ones;
      else if (ones < 32 && ~m == ~std::uint32_t{0} << ones) v = 32 - ones;
      else return Error{"invalid netmask in '" + n.text_ + "'"};
      if (addr.find(':') != std::string_view::npos) return Error{"invalid prefix length in '" + n.text_ + "'"};
    } else {
      // Digits only: from_chars would take "-0", which Python's ip_network refuses.
      auto r = std::from_chars(bits.data(), bits.data() + bits.size(), v);
      if (bits.empty() || bits.front() < '0' || bits.front() > '9' || r.ec != std::errc{} ||
          r.ptr != bits.data() + bits.size())
        return Error{"invalid prefix length in '" + n.text_ + "'"};
    }
    prefix = v;
  }
  bool is_v4 = false;
  auto bytes = parse_address(addr, is_v4);
  if (!bytes) return Error{"'" + n.text_ + "' is not an IP address or CIDR block"};
  int max_bits = is_v4 ? 32 : 128;
  if (prefix && (*prefix < 0 || *prefix > max_bits)) return Error{"invalid prefix length in '" + n.text_ + "'"};
  n.bytes_ = *bytes;
  n.v4_ = is_v4;
  n.prefix_bits_ = (prefix ? *prefix : max_bits) + (is_v4 ? 96 : 0);
  // Bits past the prefix must be zero (as Python's ip_network has it): "10.0.0.1/8" is
  // more likely a typo for a host or for 10.0.0.0/8 than either.
  bool any = false;
  for (int bit = n.prefix_bits_; bit < 128; ++bit) {
    auto& byte = n.bytes_[static_cast<std::size_t>(bit / 8)];
    const auto mask = static_cast<std::uint8_t>(0x80 >> (bit % 8));
    if (!(byte & mask)) continue;
    if (!clear_host_bits)
      return Error{"'" + n.text_ + "' has host bits set after its /" + std::to_string(prefix.value_or(max_bits)) + " prefix"};
    byte = static_cast<std::uint8_t>(byte & ~mask);
    any = true;
  }
  if (any) {
    char shown[INET6_ADDRSTRLEN] = {};
    if (is_v4) ::inet_ntop(AF_INET, n.bytes_.data() + 12, shown, sizeof shown);
    else ::inet_ntop(AF_INET6, n.bytes_.data(), shown, sizeof shown);
    n.text_ = std::string(shown) + "/" + std::to_string(*prefix);
  }
  if (cleared) *cleared = any;
  // A block within ::ffff:0:0/96 names IPv4 addresses, and peers are matched in their IPv4
  // form (a mapped peer included): the block is the IPv4 one, so that "::ffff:10.0.0.1"
  // matches the client 10.0.0.1 as the reference's text comparison does.
  if (!n.v4_ && n.prefix_bits_ >= 96 && std::memcmp(n.bytes_.data(), kMappedPrefix, sizeof kMappedPrefix) == 0) n.v4_ = true;
  return n;
}

bool IpNetwork::contains(std::string_view ip_text) const {
  bool is_v4 = false;
  auto ip = parse_address(ip_text, is_v4);
  if (!ip) return false;
  // A mapped peer is its IPv4 address to an IPv4 network, and itself to an IPv6 one.
  if (!is_v4 && v4_ && std::memcmp(ip->data(), kMappedPrefix, sizeof kMappedPrefix) == 0) is_v4 = true;
  if (is_v4 != v4_) return false;
  int bits = prefix_bits_;
  for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if (((*ip)[i] & mask) != (bytes_[i] & mask)) return false;
  }
  return true;
}

std::optional<std::string> canonical_ip_text(std::string_view ip_text) {
  const std::string text(ip_text);
  char out[INET6_ADDRSTRLEN] = {};
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return ::inet_ntop(AF_INET, &v4, out, sizeof out) ? std::optional<std::string>(out) : std::nullopt;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) != 1) return std::nullopt;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    std::memcpy(&v4, &v6.s6_addr[12], 4);
    return ::inet_ntop(AF_INET, &v4, out, sizeof out) ? std::optional<std::string>(out) : std::nullopt;
  }
  return ::inet_ntop(AF_INET6, &v6, out, sizeof out) ? std::optional<std::string>(out) : std::nullopt;
}

bool any_contains(const std::vector<IpNetwork>& networks, std::string_view ip_text) {
  for (const auto& n : networks)
    if (n.contains(ip_text)) return true;
  return false;
}

std::string client_group(const std::string& ip_text) {
  if (ip_text.find(':') == std::string::npos) return ip_text;
  in6_addr v6{};
  if (inet_pton(AF_INET6, ip_text.c_str(), &v6) != 1) return ip_text;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(v6.s6_addr, kMapped, sizeof kMapped) == 0) return ip_text;
  // An IPv4 client behind a NAT64 or SIIT translator (64:ff9b::/32, which holds RFC 6052's
  // 64:ff9b::/96 and RFC 8215's 64:ff9b:1::/48): its address embeds the client's own, so it
  // is one client by itself.
  static constexpr std::uint8_t kNat64[4] = {0x00, 0x64, 0xff, 0x9b};
  if (std::memcmp(v6.s6_addr, kNat64, sizeof kNat64) == 0) return ip_text;
  std::memset(v6.s6_addr + 8, 0, 8);
  char shown[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET6, &v6, shown, sizeof shown);
  return std::string(shown) + "/64";
}

}  // namespace lpops::config
