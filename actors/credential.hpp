#pragma once
// The credential actor: issues orchestrator credential tokens (the reference's credential
// routes; docs/api.md, Orchestrator credentials). It owns the single-use nonces (in memory: a nonce lives
// minutes, and one lost in a restart only means asking for another), checks the
// delegate's signature and the credential contract, and hands a token that passed to the
// ledger, which journals its hash and answers once that is durable.
//
// Stricter than the reference: a nonce is bound to the orchestrator it was asked for, and
// is spent only by a request that gets a token (a bad signature or a contract that says
// no leaves it usable until it expires); a malformed signature is a 401, not a 500; an
// unreachable chain node is a 503, not a 403; outstanding nonces are capped.
#include <caf/all.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "chain/address.hpp"
#include "chain/credential.hpp"

namespace lpops::actors {

// Starts the on-chain check of (owner, delegate); calls `done` (from any thread) when it ends.
using CredentialChecker =
    std::function<void(chain::Address owner, chain::Address delegate, std::function<void(chain::credential::Check)> done)>;

struct CredentialOptions {
  std::string contract_address;  // as configured (echoed in nonce answers)
  std::int64_t nonce_ttl_seconds = 300;
  std::int64_t token_ttl_seconds = 900;
  std::size_t max_nonces = 10'000;
  // Outstanding nonces per orchestrator: one more drops its oldest, so that requests for one
  // orchestrator cannot use up the node-wide limit.
  std::size_t nonces_per_client = 8;
  std::size_t tokens_per_orchestrator = 16;
  CredentialChecker check;
};

// POST /api/orchestrators/{id}/credential/nonce
struct CredentialNonce {
  std::string orchestrator_id;
  Reply reply;
  std::string client;  // the caller (proxy-aware; an IPv6 client's /64): whose nonces a new one may drop
};
// POST /api/orchestrators/{id}/credential/token, its body already validated (422s).
struct CredentialToken {
  std::string orchestrator_id;
  chain::Address delegate{};
  std::string nonce;  // "0x" + 64 lower-case hex
  std::int64_t expires_at = 0;
  std::string signature;
  Reply reply;
  std::uint64_t revocations_seen = 0;  // set by the actor from the owner lookup
};

struct CredentialState {
  static inline const char* name = "credential";
  struct Nonce {
    std::string orchestrator_id;
    UnixMicros expires_at = 0;
    bool in_flight = false;  // a token request holding it is waiting for the chain
    std::string caller;      // the client that asked: its key in by_caller
  };
  std::unordered_map<std::string, Nonce> nonces;
  // Nonces by the client that asked (for any orchestrator), oldest first: a new one drops only
  // that client's oldest, so that nobody can drop another client's nonce by asking, and one
  // client holds at most nonces_per_client of the node's max_nonces.
  std::unordered_map<std::string, std::deque<std::string>> by_caller;
  std::deque<std::pair<UnixMicros, std::string>> expiry_order;  // mint order == expiry order
  caf::actor ledger;
  CredentialOptions options;
  ActorMetrics* actor_metrics = nullptr;
  std::uint64_t handled = 0;
};

caf::behavior credential_actor(caf::stateful_actor<CredentialState>* self, caf::actor ledger,
                               std::shared_ptr<Metrics> metrics, CredentialOptions options);

// Random bytes from OpenSSL's CSPRNG (tokens and nonces); stops the process if it fails.
void secure_random(std::uint8_t* out, std::size_t size);
// Python's secrets.token_urlsafe(32): URL-safe base64 of 32 random bytes, no padding.
std::string new_credential_token();
// uuid4().hex.
std::string new_token_id();
// "sha256:<hex>" of a token's text, as tokens are stored and looked up.
std::string credential_token_hash(std::string_view token);

}  // namespace lpops::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::CredentialNonce)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::CredentialToken)
