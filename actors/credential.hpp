#pragma once
// The credential actor: issues orchestrator credential tokens (the reference's credential
// routes; docs/api.md, Orchestrator credentials). It mints the single-use nonces, checks the
// delegate's signature and the credential contract, and hands a token that passed to the
// ledger, which journals its hash and answers once that is durable.
//
// A nonce is not stored: it carries its expiry and a MAC (HMAC-SHA256 under a key drawn at
// start, over the expiry, random bytes and the orchestrator id), so that asking for nonces,
// which needs no authentication, holds nothing: no number of clients can use up a limit and
// keep an orchestrator from signing in. What is kept is the nonces a token request holds
// while the chain is asked and those spent by a token, each until it expires; only a valid
// signature of an orchestrator's delegate gets that far. A restart draws a new key, so the
// nonces of before are refused (one lost only means asking for another).
//
// Stricter than the reference: a nonce is bound to the orchestrator it was asked for, and
// is spent only by a request that gets a token (a bad signature or a contract that says
// no leaves it usable until it expires); a malformed signature is a 401, not a 500; an
// unreachable chain node is a 503, not a 403.
#include <caf/all.hpp>

#include <array>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

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
  std::int64_t nonce_ttl_seconds = 300;  // a nonce's life
  std::int64_t window_seconds = 300;     // how far ahead a token request's expires_at may lie
  std::int64_t token_ttl_seconds = 900;
  // Nonces held by token requests or spent by tokens, remembered until they expire: beyond,
  // token requests are 429 until some expire (only valid signatures count). In all; spent per
  // orchestrator (only its delegate gets tokens, so that one orchestrator's delegate cannot use
  // up the node's); and held per orchestrator and delegate while the chain is asked (anyone
  // can sign as a delegate of their own making, so that such requests cannot crowd out the
  // orchestrator's real delegate).
  std::size_t max_nonces = 10'000;
  std::size_t nonces_per_orchestrator = 64;
  std::size_t tokens_per_orchestrator = 16;
  CredentialChecker check;
  std::function<UnixMicros()> clock;  // the wall clock (now_micros when unset); tests set it
};

// POST /api/orchestrators/{id}/credential/nonce
struct CredentialNonce {
  std::string orchestrator_id;
  Reply reply;
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
  std::array<std::uint8_t, 32> nonce_key{};  // drawn at start
  // Nonces ("0x" + 64 hex) with their expiry: held by a token request waiting for the chain,
  // and spent by a token (until they expire, after which their MAC's expiry refuses them).
  struct Held {
    UnixMicros expires_at = 0;
    std::string orchestrator_id;
  };
  std::unordered_map<std::string, Held> in_flight;
  std::unordered_map<std::string, Held> spent;
  std::unordered_map<std::string, std::size_t> spent_per_orchestrator;
  std::unordered_map<std::string, std::size_t> in_flight_per_delegate;  // orchestrator id, '\n', delegate
  // The latest expiry (µs) of a spent nonce forgotten by a sweep: should the wall clock step
  // back before it, that nonce would be valid again, so the key is drawn anew.
  UnixMicros forgotten_until = 0;
  std::priority_queue<std::pair<UnixMicros, std::string>, std::vector<std::pair<UnixMicros, std::string>>, std::greater<>>
      spent_expiry;
  caf::actor ledger;
  CredentialOptions options;
  ActorMetrics* actor_metrics = nullptr;
  HandledCount handled;
};

caf::behavior credential_actor(caf::stateful_actor<CredentialState>* self, caf::actor ledger,
                               std::shared_ptr<Metrics> metrics, CredentialOptions options);

// Random bytes from OpenSSL's CSPRNG (tokens and nonces); stops the process if it fails.
void secure_random(std::uint8_t* out, std::size_t size);
// Python's secrets.token_urlsafe(32): URL-safe base64 of 32 random bytes, no padding.
std::string new_credential_token();
// uuid4().hex.
std::string new_token_id();
// A nonce for `orchestrator_id` that expires at `expires_at` (unix seconds) under `key`: "0x"
// and 64 hex digits of expires_at (8 bytes, big-endian), 8 random bytes and the first 16 bytes
// of HMAC-SHA256(key, "lpops credential nonce v1", 0, those 16 bytes, the id).
std::string make_credential_nonce(const std::array<std::uint8_t, 32>& key, const std::string& orchestrator_id,
                                  std::int64_t expires_at);
// Its expiry (unix seconds) when `nonce` is one of make_credential_nonce's for the id under `key`.
std::optional<std::int64_t> credential_nonce_expiry(const std::array<std::uint8_t, 32>& key,
                                                    const std::string& orchestrator_id, const std::string& nonce);
// "sha256:<hex>" of a token's text, as tokens are stored and looked up.
std::string credential_token_hash(std::string_view token);

}  // namespace lpops::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::CredentialNonce)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::CredentialToken)
