#pragma once
// An IPv4 or IPv6 address or CIDR block, for proxy trust and allowlists.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.hpp"

namespace lpops::config {

class IpNetwork {
 public:
  // "1.2.3.4", "10.0.0.0/8", "::1", "fd00::/8", "::ffff:1.2.3.4". A block with bits set after
  // its prefix ("10.0.0.1/8") is refused, unless `clear_host_bits` (as Python's
  // ip_network(strict=False)): then it is the block they fall in ("10.0.0.0/8"), and
  // `cleared` (when given) is set.
  static Result<IpNetwork> parse(std::string_view text, bool clear_host_bits = false, bool* cleared = nullptr);
  // As Python's ipaddress: an address matches networks of its own version only. A peer in
  // IPv4-mapped form ("::ffff:127.0.0.1", as a dual-stack socket reports IPv4 clients) is the
  // IPv4 address it maps to an IPv4 network; an IPv6 network such as ::/0 never matches an
  // IPv4 peer. A network within ::ffff:0:0/96 is read as the IPv4 network it maps (parse()),
  // so that it matches the clients it names.
  bool contains(std::string_view ip_text) const;
  const std::string& text() const { return text_; }

 private:
  std::array<std::uint8_t, 16> bytes_{};  // IPv4 stored as IPv4-mapped IPv6
  int prefix_bits_ = 128;
  bool v4_ = false;
  std::string text_;
};

bool any_contains(const std::vector<IpNetwork>& networks, std::string_view ip_text);

// One spelling per address: IPv4 dotted, IPv6 as RFC 5952 writes it (lower case, the longest
// run of zero groups shortened), an IPv4-mapped IPv6 address as the IPv4 address it maps (as
// a mapped socket peer is matched). nullopt when the text is no address.
std::optional<std::string> canonical_ip_text(std::string_view ip_text);

// Who a client is, for shares, caps and rate limits: its address, or for IPv6 its /64 (one
// host commonly holds a whole /64, so its addresses are one client), but an address a NAT64
// translator made for an IPv4 client (64:ff9b::/32) by itself. Text that is no
// IPv6 address as given.
std::string client_group(const std::string& ip_text);

}  // namespace lpops::config
