#pragma once
// An IPv4 or IPv6 address or CIDR block, for proxy trust and allowlists.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.hpp"

namespace lpops::config {

class IpNetwork {
 public:
  // "1.2.3.4", "10.0.0.0/8", "::1", "fd00::/8", "::ffff:1.2.3.4".
  static Result<IpNetwork> parse(std::string_view text);
  // IPv4-mapped IPv6 peers ("::ffff:127.0.0.1") match IPv4 networks.
  bool contains(std::string_view ip_text) const;
  const std::string& text() const { return text_; }

 private:
  std::array<std::uint8_t, 16> bytes_{};  // IPv4 stored as IPv4-mapped IPv6
  int prefix_bits_ = 128;
  std::string text_;
};

bool any_contains(const std::vector<IpNetwork>& networks, std::string_view ip_text);

}  // namespace lpops::config
