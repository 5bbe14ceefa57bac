// Signing throughput of chain/: secp256k1 signatures (RFC 6979, low-s) and recoveries per
// second, and EIP-1559 / legacy transactions built, signed and serialised per second, with
// ticket hashes and ABI-encoded redeem calldata. One thread; prints a markdown table.
#include <chrono>
#include <cstdio>
#include <string>

#include "chain/abi.hpp"
#include "chain/signature.hpp"
#include "chain/ticket_broker.hpp"
#include "chain/transaction.hpp"

namespace {

using namespace lpops;
using namespace lpops::chain;

template <class Fn>
double per_second(Fn&& fn) {
  using clock = std::chrono::steady_clock;
  std::size_t n = 0;
  const auto start = clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - start).count(); };
  while (elapsed() < 1.0) {
    for (int i = 0; i < 32; ++i) fn(n + i);
    n += 32;
  }
  return static_cast<double>(n) / elapsed();
}

Hash256 digest_of(std::size_t i) { return keccak256(std::to_string(i)); }

}  // namespace

int main() {
  const auto key = PrivateKey::from_hex("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318").value();
  volatile std::uint8_t sink = 0;
  const Signature fixed = sign_digest(key, digest_of(1));
  const Hash256 fixed_digest = digest_of(1);

  const double sign = per_second([&](std::size_t i) { sink = sink ^ sign_digest(key, digest_of(i)).r[0]; });
  const double recover = per_second([&](std::size_t) { sink = sink ^ recover_address(fixed_digest, fixed).value()[0]; });
  const double legacy = per_second([&](std::size_t i) {
    LegacyTransaction tx{42161, i, 20'000'000, 21000, key.address(), 1'000'000'000'000'000ull, {}};
    sink = sink ^ tx.sign(key).back();
  });
  const double eip1559 = per_second([&](std::size_t i) {
    Eip1559Transaction tx;
    tx.chain_id = 42161;
    tx.nonce = i;
    tx.max_fee_per_gas = 200'000'000;
    tx.max_priority_fee_per_gas = 1'000'000;
    tx.to = key.address();
    tx.value = 1'000'000'000'000'000ull;
    sink = sink ^ tx.sign(key).back();
  });
  const double tickets = per_second([&](std::size_t i) {
    livepeer::SignedTicket t;
    t.ticket.recipient = key.address();
    t.ticket.sender = key.address();
    t.ticket.face_value = 1'000'000'000'000'000ull;
    t.ticket.win_prob = livepeer::always_wins();
    t.ticket.sender_nonce = i;
    t.recipient_rand = i * 7919;
    t.ticket.recipient_rand_hash = livepeer::recipient_rand_hash(t.recipient_rand);
    t.ticket.aux_data = livepeer::aux_data(4000, fixed_digest);
    t.signature = livepeer::sign_ticket(key, t.ticket);
    sink = sink ^ livepeer::redeem_calldata(t).back();
  });

  std::printf("| operation | per second |\n|---|---|\n");
  std::printf("| secp256k1 sign (RFC 6979, low-s, recoverable) | %.0f |\n", sign);
  std::printf("| secp256k1 recover address | %.0f |\n", recover);
  std::printf("| legacy EIP-155 transaction built, signed, serialised | %.0f |\n", legacy);
  std::printf("| EIP-1559 transaction built, signed, serialised | %.0f |\n", eip1559);
  std::printf("| Livepeer ticket hashed, signed, redeem calldata encoded | %.0f |\n", tickets);
  (void)sink;
  return 0;
}
