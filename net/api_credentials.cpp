// Orchestrator credentials: the nonce and token routes (as the reference has them), revocation,
// and the routes an orchestrator token opens: its ledger entry and proof. (/me, /me/stats
// and /bootstrap are in api_orchestrators.cpp.)
#include <cctype>

#include "actors/credential.hpp"
#include "net/api.hpp"

namespace lpops::net {
namespace {

std::optional<Response> credentials_unavailable(const ApiContext& ctx) {
  if (ctx.credential) return std::nullopt;
  return detail_response(503, "Credential contract not configured");
}

bool credentials_configured(Call& call) {
  auto refused = credentials_unavailable(*call.ctx);
  if (!refused) return true;
  call.respond(std::move(*refused));
  return false;
}

void credential_nonce(Call& call) {
  if (!credentials_configured(call) || public_rate_limited(call)) return;
  caf::anon_send(call.ctx->credential, actors::CredentialNonce{call.params[0], call.reply()});
}

// "0x" + 64 lower-case hex digits, from 64 hex digits in any case with an optional 0x.
std::optional<std::string> normalize_nonce(std::string_view text) {
  if (text.size() == 66 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  if (text.size() != 64) return std::nullopt;
  std::string out = "0x";
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

void credential_token(Call& call) {
  if (!credentials_configured(call) || public_rate_limited(call)) return;
  Validation v;
  BodyReader body(call.request, v);
  auto delegate_text = body.required_string("delegate_address", 1, 42);
  auto nonce_text = body.required_string("nonce", 1, 66);
  auto expires_at = body.positive_integer("expires_at", std::numeric_limits<std::int64_t>::max(), true);
  auto signature = body.required_string("signature", 1, 1024);
  // The reference's pattern: 0x (lower-case x) and 40 hex digits, any case.
  // Any case, as the reference takes it (its to_checksum_address(): no checksum is checked).
  auto delegate = is_address(delegate_text) ? chain::parse_address_any_case(delegate_text) : Result<chain::Address>(Error{"pattern"});
  if (v.ok() && !delegate) {
    json::value in(delegate_text);
    v.add("body", "delegate_address", "string_pattern_mismatch", "String should match pattern '^0x[a-fA-F0-9]{40}$'", &in);
  }
  auto nonce = normalize_nonce(nonce_text);
  if (v.ok() && !nonce) {
    json::value in(nonce_text);
    v.add("body", "nonce", "value_error", "Value error, nonce must be 32 bytes", &in);
  }
  auto b = signature.find_first_not_of(" \t\r\n");
  signature = b == std::string::npos ? "" : signature.substr(b, signature.find_last_not_of(" \t\r\n") - b + 1);
  if (v.ok() && !signature.starts_with("0x")) {
    json::value in(signature);
    v.add("body", "signature", "value_error", "Value error, signature must start with 0x", &in);
  }
  if (!v.ok()) return call.respond(v.response());
  caf::anon_send(call.ctx->credential,
                 actors::CredentialToken{call.params[0], *delegate, std::move(*nonce), *expires_at, std::move(signature), call.reply()});
}

void revoke_tokens(Call& call) {
  caf::anon_send(call.ctx->ledger, actors::RevokeTokens{call.params[0], call.reply()});
}

void ledger_leaf(Call& call, bool with_proof) {
  Validation v;
  QueryReader q(call.query, v);
  auto id = q.string("orchestrator_id", kMaxOrchestratorIdChars);
  if (id && id->empty()) {
    const json::value in("");
    v.add("query", "orchestrator_id", "string_too_short", "String should have at least 1 character", &in,
          {{"min_length", 1}});
  }
  const auto token = call.orchestrator_token();
  // An operator must name the orchestrator; an orchestrator's own id is the default.
  if (!id && !token) v.add("query", "orchestrator_id", "missing", "Field required");
  if (!v.ok()) return refuse_after_orchestrator_auth(call, v.response(), true);
  actors::LedgerProofQuery query;
  query.with_proof = with_proof;
  query.reply = call.reply();
  if (token && !(call.is_operator() && id)) query.token_hash = actors::credential_token_hash(*token);
  query.orchestrator_id = id.value_or("");  // empty: the token's own (resolved by the ledger)
  caf::anon_send(call.ctx->ledger, std::move(query));
}

void ledger_entry(Call& call) { ledger_leaf(call, false); }
void ledger_proof(Call& call) { ledger_leaf(call, true); }

}  // namespace

const std::vector<Route>& credential_routes() {
  static const std::vector<Route> routes = {
      {"POST", "/api/orchestrators/{orchestrator_id}/credential/nonce", Access::public_, credential_nonce,
       "A single-use nonce for the credential signature", false, credentials_unavailable},
      {"POST", "/api/orchestrators/{orchestrator_id}/credential/token", Access::public_, credential_token,
       "An orchestrator token for a delegate's signed nonce", false, credentials_unavailable},
      {"DELETE", "/api/orchestrators/{orchestrator_id}/credential/tokens", Access::admin, revoke_tokens,
       "Revoke every token of an orchestrator"},
      {"GET", "/api/transparency/tee-core/ledger-entry", Access::orchestrator_or_operator, ledger_entry,
       "The orchestrator's leaf in the ledger tree"},
      {"GET", "/api/transparency/tee-core/ledger-proof", Access::orchestrator_or_operator, ledger_proof,
       "The orchestrator's leaf and its inclusion proof"},
  };
  return routes;
}

}  // namespace lpops::net
