#include "actors/credential.hpp"
#include "actors/fatal.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "chain/hex.hpp"
#include "chain/signature.hpp"
#include "domain/clock.hpp"
#include "domain/digest.hpp"

namespace lpops::actors {
namespace detail {

struct NonceOwner {
  std::string orchestrator_id;
  OwnerLookup lookup;
  Reply reply;
};
struct TokenOwner {
  std::shared_ptr<CredentialToken> request;
  OwnerLookup lookup;
};
struct ChainChecked {
  std::shared_ptr<CredentialToken> request;
  chain::credential::Check check;
};

}  // namespace detail
}  // namespace lpops::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::detail::NonceOwner)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::detail::TokenOwner)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lpops::actors::detail::ChainChecked)

namespace lpops::actors {
namespace {

using Self = caf::stateful_actor<CredentialState>;
using namespace detail;

constexpr std::int64_t kMicros = 1'000'000;

// The shared record checks, as the reference makes them: unknown 404, denylisted 403, no address 404, and
// an unusable stored address (`bad_address_status`: 409 for nonces, 400 for tokens).
bool owner_failed(const OwnerLookup& lookup, int bad_address_status, const Reply& reply) {
  switch (lookup.outcome) {
    case OwnerLookup::Outcome::ok: return false;
    case OwnerLookup::Outcome::not_found: reply(404, detail_body("Orchestrator not found")); break;
    case OwnerLookup::Outcome::denylisted: reply(403, detail_body("Orchestrator is denylisted")); break;
    case OwnerLookup::Outcome::no_address: reply(404, detail_body("Orchestrator address missing")); break;
    case OwnerLookup::Outcome::bad_address: reply(bad_address_status, detail_body("invalid address")); break;
  }
  return true;
}

void lookup_owner(Self* self, const std::string& id, std::function<void(OwnerLookup)> then) {
  self->send(self->state.ledger, LookupOwner{id, std::move(then)});
}

UnixMicros wall_clock(const CredentialState& st) { return st.options.clock ? st.options.clock() : now_micros(); }

std::string delegate_key(const CredentialToken& req) { return req.orchestrator_id + '\n' + chain::to_lower_hex(req.delegate); }

// Lowers a count, dropping it at zero.
void count_down(std::unordered_map<std::string, std::size_t>& counts, const std::string& key) {
  auto it = counts.find(key);
  if (it != counts.end() && --it->second == 0) counts.erase(it);
}

// Forgets spent nonces that have expired (their MAC's expiry refuses them from then on).
void sweep(CredentialState& st, UnixMicros now) {
  while (!st.spent_expiry.empty() && st.spent_expiry.top().first <= now) {
    if (auto it = st.spent.find(st.spent_expiry.top().second); it != st.spent.end()) {
      count_down(st.spent_per_orchestrator, it->second.orchestrator_id);
      st.forgotten_until = std::max(st.forgotten_until, it->second.expires_at);
      st.spent.erase(it);
    }
    st.spent_expiry.pop();
  }
}

// The wall clock stepped back before the expiry of a spent nonce that a sweep forgot: that
// nonce would be valid again, and its request could get a second token. A new key refuses
// every nonce of before (clients ask for new ones), so what was spent need not be kept.
void redraw_key_if_clock_stepped_back(CredentialState& st, std::int64_t now_s) {
  if (now_s * kMicros >= st.forgotten_until) return;
  spdlog::warn("credential: the wall clock stepped back before nonces already spent and forgotten had expired; "
               "a new nonce key refuses every nonce issued before (clients ask for new ones)");
  secure_random(st.nonce_key.data(), st.nonce_key.size());
  st.spent.clear();
  st.spent_expiry = {};
  st.spent_per_orchestrator.clear();
  st.forgotten_until = 0;
}

void mint_nonce(Self* self, NonceOwner& m) {
  auto& st = self->state;
  const std::int64_t expires_at = wall_clock(st) / kMicros + st.options.nonce_ttl_seconds;
  m.reply(200, boost::json::serialize(boost::json::object{{"nonce", make_credential_nonce(st.nonce_key, m.orchestrator_id, expires_at)},
                                                          {"expires_at", expires_at},
                                                          {"owner_address", m.lookup.owner},
                                                          {"contract_address", st.options.contract_address}}));
}

void check_token_request(Self* self, TokenOwner& m) {
  auto& st = self->state;
  auto& req = *m.request;
  if (owner_failed(m.lookup, 400, req.reply)) return;
  const UnixMicros now = wall_clock(st);
  const std::int64_t now_s = now / kMicros;
  // As the reference: expires_at within [now, now + the nonce TTL] (PAYMENTS_ORCHESTRATOR_CREDENTIAL_NONCE_TTL_SECONDS).
  if (req.expires_at < now_s || req.expires_at - now_s > st.options.window_seconds)
    return req.reply(401, detail_body("Credential expired"));
  sweep(st, now);
  redraw_key_if_clock_stepped_back(st, now_s);
  const auto nonce_expiry = credential_nonce_expiry(st.nonce_key, req.orchestrator_id, req.nonce);
  if (!nonce_expiry || *nonce_expiry <= now_s || st.spent.contains(req.nonce) || st.in_flight.contains(req.nonce))
    return req.reply(401, detail_body("Invalid credential nonce"));
  const auto owner = chain::parse_address(m.lookup.owner).value();
  const auto nonce_bytes = chain::hash32_from_hex(req.nonce).value();
  auto signature = chain::Signature::from_hex_any_v(req.signature);
  auto signer = signature ? chain::recover_address(
                                chain::eip191_hash32(chain::credential::auth_hash(req.orchestrator_id, owner, req.delegate,
                                                                                  nonce_bytes, static_cast<std::uint64_t>(req.expires_at))),
                                *signature)
                          : Result<chain::Address>(Error{signature.error()});
  if (!signer || *signer != req.delegate) return req.reply(401, detail_body("Invalid credential signature"));
  // Only a valid signature gets this far, and so only such requests are held and counted. The
  // delegate is the caller's to name, though: anyone can sign as one of their own making. So
  // what one delegate holds while the chain is asked is counted apart from the orchestrator's
  // spent nonces, which only a delegate the contract names (its tokens) adds to.
  if (st.spent.size() + st.in_flight.size() >= st.options.max_nonces) {
    spdlog::warn("credential: {} nonces spent or held (PAYMENTS_ORCHESTRATOR_CREDENTIAL_MAX_NONCES); refusing tokens until some expire",
                 st.spent.size() + st.in_flight.size());
    return req.reply(429, detail_body("Too many credentials issued recently; retry later"));
  }
  if (const auto it = st.spent_per_orchestrator.find(req.orchestrator_id);
      it != st.spent_per_orchestrator.end() && it->second >= st.options.nonces_per_orchestrator) {
    spdlog::warn("credential: {} nonces of {} spent; refusing its tokens until some expire", it->second, req.orchestrator_id);
    return req.reply(429, detail_body("Too many credentials issued to this orchestrator recently; retry later"));
  }
  std::size_t& held = st.in_flight_per_delegate[delegate_key(req)];
  if (held >= st.options.nonces_per_orchestrator) {
    spdlog::warn("credential: {} token requests of {} for delegate {} are being checked; refusing more until they end", held,
                 req.orchestrator_id, chain::to_lower_hex(req.delegate));
    return req.reply(429, detail_body("Too many credential requests of this delegate under way; retry later"));
  }
  ++held;
  st.in_flight.emplace(req.nonce, CredentialState::Held{*nonce_expiry * kMicros, req.orchestrator_id});
  req.revocations_seen = m.lookup.revocations;
  st.options.check(owner, req.delegate, [me = caf::actor_cast<caf::actor>(self), request = m.request](chain::credential::Check c) {
    caf::anon_send(me, ChainChecked{request, std::move(c)});
  });
}

void finish_token_request(Self* self, ChainChecked& m) {
  auto& st = self->state;
  auto& req = *m.request;
  const bool valid = m.check.outcome == chain::credential::OnChain::valid;
  // Spent by success; after a failure it stays usable until it expires.
  if (auto held = st.in_flight.find(req.nonce); held != st.in_flight.end()) {
    count_down(st.in_flight_per_delegate, delegate_key(req));
    if (valid) {
      ++st.spent_per_orchestrator[held->second.orchestrator_id];
      st.spent_expiry.emplace(held->second.expires_at, held->first);
      st.spent.emplace(held->first, std::move(held->second));
    }
    st.in_flight.erase(held);
  }
  if (m.check.outcome == chain::credential::OnChain::unavailable) {
    spdlog::warn("credential: cannot check {} on-chain: {}", req.orchestrator_id, m.check.detail);
    return req.reply(503, detail_body("Cannot check the credential on-chain right now; retry shortly"));
  }
  if (!valid) {
    spdlog::info("credential: {} refused: {}", req.orchestrator_id, m.check.detail);
    return req.reply(403, detail_body("Credential not valid on-chain"));
  }
  const std::string token = new_credential_token();
  const std::string token_id = new_token_id();
  const UnixMicros expires = wall_clock(st) + st.options.token_ttl_seconds * kMicros;
  std::string body = boost::json::serialize(
      boost::json::object{{"token_id", token_id}, {"token", token}, {"expires_at", iso_utc(expires, UtcSuffix::z)}});
  // Said once the ledger has stored it (it may still refuse it: revoked meanwhile).
  Reply logged = [reply = std::move(req.reply), token_id, id = req.orchestrator_id, delegate = chain::to_lower_hex(req.delegate),
                  until = iso_utc(expires, UtcSuffix::z)](int status, std::string answer) {
    if (status == 200) spdlog::info("credential: token {} issued to {} (delegate {}), valid until {}", token_id, id, delegate, until);
    reply(status, std::move(answer));
  };
  self->send(st.ledger, IssueToken{req.orchestrator_id, token_id, credential_token_hash(token), expires,
                                   st.options.tokens_per_orchestrator, req.revocations_seen, std::move(body), std::move(logged)});
}

}  // namespace

void secure_random(std::uint8_t* out, std::size_t size) {
  if (RAND_bytes(out, static_cast<int>(size)) != 1) stop_process("the system's random number generator failed");
}

std::string new_credential_token() {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::array<std::uint8_t, 33> b{};  // 32 random bytes and a zero pad to a multiple of 3
  secure_random(b.data(), 32);
  std::string out;
  for (std::size_t i = 0; i < 33; i += 3) {
    const std::uint32_t v = (std::uint32_t{b[i]} << 16) | (std::uint32_t{b[i + 1]} << 8) | b[i + 2];
    for (int k = 3; k >= 0; --k) out += kAlphabet[(v >> (6 * k)) & 63];
  }
  out.resize(43);  // 256 bits in 43 characters, as token_urlsafe(32) has no padding
  return out;
}

std::string new_token_id() {
  std::array<std::uint8_t, 16> b;
  secure_random(b.data(), b.size());
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return hex_lower(b.data(), b.size());
}

namespace {

constexpr std::string_view kNonceDomain{"lpops credential nonce v1\0", 26};

Digest32 nonce_mac(const std::array<std::uint8_t, 32>& key, const std::uint8_t* head, const std::string& orchestrator_id) {
  std::string data(kNonceDomain);
  data.append(reinterpret_cast<const char*>(head), 16);
  data += orchestrator_id;
  return hmac_sha256(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), data);
}

}  // namespace

std::string make_credential_nonce(const std::array<std::uint8_t, 32>& key, const std::string& orchestrator_id,
                                  std::int64_t expires_at) {
  std::array<std::uint8_t, 32> bytes{};
  const auto e = static_cast<std::uint64_t>(expires_at);
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(e >> (56 - 8 * i));
  secure_random(bytes.data() + 8, 8);
  const Digest32 mac = nonce_mac(key, bytes.data(), orchestrator_id);
  std::copy(mac.begin(), mac.begin() + 16, bytes.begin() + 16);
  return chain::to_hex(bytes);
}

std::optional<std::int64_t> credential_nonce_expiry(const std::array<std::uint8_t, 32>& key,
                                                    const std::string& orchestrator_id, const std::string& nonce) {
  std::array<std::uint8_t, 32> bytes{};
  if (nonce.size() != 66 || !nonce.starts_with("0x") || !hex_decode(std::string_view(nonce).substr(2), bytes.data(), bytes.size()))
    return std::nullopt;
  const Digest32 mac = nonce_mac(key, bytes.data(), orchestrator_id);
  if (CRYPTO_memcmp(mac.data(), bytes.data() + 16, 16) != 0) return std::nullopt;
  std::uint64_t e = 0;
  for (int i = 0; i < 8; ++i) e = (e << 8) | bytes[i];
  if (e > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
  return static_cast<std::int64_t>(e);
}

std::string credential_token_hash(std::string_view token) { return "sha256:" + hex_lower(sha256(token)); }

caf::behavior credential_actor(Self* self, caf::actor ledger, std::shared_ptr<Metrics> metrics, CredentialOptions options) {
  stop_process_on_exception(self, "credential");
  auto& st = self->state;
  st.ledger = std::move(ledger);
  st.options = std::move(options);
  secure_random(st.nonce_key.data(), st.nonce_key.size());
  st.actor_metrics = &metrics->actor("credential");
  st.actor_metrics->live->Increment();
  self->attach_functor([owner = metrics, m = st.actor_metrics] { m->live->Decrement(); });  // runs after the state is gone
  return {
      [=](CredentialNonce& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        lookup_owner(self, m.orchestrator_id,
                     [me = caf::actor_cast<caf::actor>(self), id = m.orchestrator_id, reply = m.reply](OwnerLookup o) {
                       caf::anon_send(me, NonceOwner{id, std::move(o), reply});
                     });
      },
      [=](NonceOwner& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        if (owner_failed(m.lookup, 409, m.reply)) return;
        mint_nonce(self, m);
      },
      [=](CredentialToken& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto request = std::make_shared<CredentialToken>(std::move(m));
        lookup_owner(self, request->orchestrator_id, [me = caf::actor_cast<caf::actor>(self), request](OwnerLookup o) {
          caf::anon_send(me, TokenOwner{request, std::move(o)});
        });
      },
      [=](TokenOwner& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        check_token_request(self, m);
      },
      [=](ChainChecked& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        finish_token_request(self, m);
      },
  };
}

}  // namespace lpops::actors
