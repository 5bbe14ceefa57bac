// Orchestrator credentials: the nonce and token routes (as the reference has them), revocation,
// and the routes an orchestrator token opens: its ledger entry and proof. (/me, /me/stats
// and /bootstrap are in api_orchestrators.cpp.)
#include <cctype>

#include "actors/credential.hpp"
#include "domain/python_text.hpp"
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

// The nonce as the reference's validator reads it (str.strip(), lower-case, an optional 0x,
// then 64 characters): "0x" and the 64 characters, lower-case. Characters that are no hex
// digits pass here, as there; no nonce of the node's has them, so the token request is a 401
// (`Invalid credential nonce`) once its expiry has been checked, as the reference's is.
std::optional<std::string> normalize_nonce(std::string_view text) {
  text = python_strip(text);
  std::string out = "0x";
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  if (code_points(text) != 64) return std::nullopt;
  for (char c : text) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void credential_token(Call& call) {
  if (!credentials_configured(call) || public_rate_limited(call)) return;
  // The reference's model: each field checked on its own, every error listed in field order.
  Validation v;
  BodyReader body(call.request, v);
  const auto unlimited = std::numeric_limits<std::size_t>::max();
  const auto field_error = [&](std::string_view field, const char* type, std::string msg, const std::string& text) {
    json::value in(text);
    v.add("body", field, type, std::move(msg), &in);
  };
  // Its pattern: 0x (lower-case x) and 40 hex digits, any case (to_checksum_address() checks
  // no checksum).
  std::optional<chain::Address> delegate;
  const std::size_t before_delegate = v.error_count();
  const auto delegate_text = body.required_string("delegate_address", 0, unlimited);
  if (body.parsed() && v.error_count() == before_delegate) {
    if (auto parsed = is_address(delegate_text) ? chain::parse_address_any_case(delegate_text) : Result<chain::Address>(Error{"pattern"}))
      delegate = *parsed;
    else
      field_error("delegate_address", "string_pattern_mismatch", "String should match pattern '^0x[a-fA-F0-9]{40}$'", delegate_text);
  }
  std::optional<std::string> nonce;
  const std::size_t before_nonce = v.error_count();
  const auto nonce_text = body.required_string("nonce", 0, unlimited);
  if (body.parsed() && v.error_count() == before_nonce) {
    nonce = normalize_nonce(nonce_text);
    if (!nonce) field_error("nonce", "value_error", "Value error, nonce must be 32 bytes", nonce_text);
  }
  // Any integer above 0; past the 64-bit range it is later than any nonce allows, so the
  // request is a 401 `Credential expired`, as the reference's Python integer makes it.
  const auto expires_at = body.timestamp_integer("expires_at", "Value error, expires_at must be a unix timestamp");
  std::optional<std::string> signature;
  const std::size_t before_signature = v.error_count();
  const auto signature_text = body.required_string("signature", 0, unlimited);
  if (body.parsed() && v.error_count() == before_signature) {
    if (const auto stripped = python_strip(signature_text); stripped.starts_with("0x")) signature = std::string(stripped);
    else field_error("signature", "value_error", "Value error, signature must be 0x hex", signature_text);
  }
  if (!v.ok()) return call.respond(v.response());
  caf::anon_send(call.ctx->credential,
                 actors::CredentialToken{call.params[0], *delegate, std::move(*nonce), *expires_at, std::move(*signature), call.reply()});
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
