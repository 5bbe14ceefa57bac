#pragma once
// Tracks the nonces a sender has in flight, so that two payouts prepared at once never
// share a nonce and a transaction that was never broadcast gives its nonce back (a gap
// would stall every later transaction). Thread-safe.
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "chain/address.hpp"

namespace lpops::chain {

class NonceManager {
 public:
  // The nonce to use next, given the node's pending transaction count for the sender.
  std::uint64_t reserve(const Address& sender, std::uint64_t chain_pending);
  // The transaction with this nonce was never broadcast: the nonce is free again.
  void release(const Address& sender, std::uint64_t nonce);
  // Mined (or known to the node): no longer ours to track.
  void confirm(const Address& sender, std::uint64_t nonce);
  std::vector<std::uint64_t> in_flight(const Address& sender) const;

 private:
  struct Sender {
    std::uint64_t next = 0;
    std::set<std::uint64_t> in_flight;
    std::set<std::uint64_t> released;  // below `next`, to be reused first
  };
  mutable std::mutex mutex_;
  std::map<Address, Sender> senders_;
};

}  // namespace lpops::chain
