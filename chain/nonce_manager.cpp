#include "chain/nonce_manager.hpp"

#include <algorithm>

namespace lpops::chain {

std::uint64_t NonceManager::reserve(const Address& sender, std::uint64_t chain_pending) {
  std::lock_guard lock(mutex_);
  Sender& s = senders_[sender];
  // Nonces below the node's count are used, by us or by someone else with the same key.
  s.released.erase(s.released.begin(), s.released.lower_bound(chain_pending));
  s.next = std::max(s.next, chain_pending);
  std::uint64_t nonce;
  if (!s.released.empty()) {
    nonce = *s.released.begin();
    s.released.erase(s.released.begin());
  } else {
    nonce = s.next++;
  }
  s.in_flight.insert(nonce);
  return nonce;
}

void NonceManager::release(const Address& sender, std::uint64_t nonce) {
  std::lock_guard lock(mutex_);
  Sender& s = senders_[sender];
  if (!s.in_flight.erase(nonce)) return;
  s.released.insert(nonce);
  // Released nonces at the top simply lower `next`.
  while (!s.released.empty() && *s.released.rbegin() + 1 == s.next) {
    s.released.erase(std::prev(s.released.end()));
    --s.next;
  }
}

void NonceManager::confirm(const Address& sender, std::uint64_t nonce) {
  std::lock_guard lock(mutex_);
  Sender& s = senders_[sender];
  s.in_flight.erase(nonce);
  s.released.erase(nonce);
  s.next = std::max(s.next, nonce + 1);
}

std::vector<std::uint64_t> NonceManager::in_flight(const Address& sender) const {
  std::lock_guard lock(mutex_);
  auto it = senders_.find(sender);
  if (it == senders_.end()) return {};
  return {it->second.in_flight.begin(), it->second.in_flight.end()};
}

}  // namespace lpops::chain
