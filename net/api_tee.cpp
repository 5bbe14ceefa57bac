// /api/tee: the reference's signer and TEE-core status and attestation routes. This node signs
// with a local key (PAYMENT_PRIVATE_KEY or PAYMENT_KEYSTORE_PATH) and has no enclave: there is
// no attestation document to give and no separate TEE core to ask; its own audit log is served
// by /api/transparency/tee-core. The answers are the reference's for that configuration: the
// status says `local` (or `none`), and the attestation routes answer 404 with the reference's
// texts: the signer's after checking its nonce (a node without a payout key has no signer, and
// answers so whatever the nonce, as the reference does), the core's at once.
#include "domain/python_text.hpp"
#include "net/api.hpp"

namespace lpops::net {
namespace {

// Python's bytes.fromhex: pairs of hex digits, with ASCII whitespace allowed before each pair
// (not inside one). An empty string is no bytes.
bool python_fromhex_ok(std::string_view text) {
  constexpr std::string_view kSpace = " \t\n\r\v\f";
  constexpr std::string_view kHex = "0123456789abcdefABCDEF";
  std::size_t i = 0;
  while (true) {
    while (i < text.size() && kSpace.find(text[i]) != std::string_view::npos) ++i;
    if (i == text.size()) return true;
    if (i + 1 >= text.size() || kHex.find(text[i]) == std::string_view::npos || kHex.find(text[i + 1]) == std::string_view::npos)
      return false;
    i += 2;
  }
}

// The reference's nonce: optional, stripped, a lower-case 0x prefix optional, then an even
// number of characters that bytes.fromhex reads; blank is no nonce. Answers 400 itself and
// returns false when it is none of these.
bool nonce_ok(Call& call) {
  Validation v;
  QueryReader q(call.query, v);
  if (auto given = q.filter("nonce")) {
    std::string_view text = python_strip(*given);
    if (text.starts_with("0x")) text.remove_prefix(2);
    // "0x" alone is no digits, as Python's bytes.fromhex("") is an empty nonce: accepted.
    if (text.size() % 2 != 0 || !python_fromhex_ok(text)) {
      call.respond(detail_response(400, "nonce must be hex"));
      return false;
    }
  }
  return true;
}

void signer_status(Call& call) {
  const auto& address = call.ctx->signer_address;
  call.respond(json_response(200, json::object{{"mode", address ? "local" : "none"},
                                               {"address", address ? json::value(*address) : json::value(nullptr)},
                                               {"attestation_available", false}}));
}

void signer_attestation(Call& call) {
  if (public_rate_limited(call)) return;
  if (!call.ctx->signer_address) return call.respond(detail_response(404, "TEE signer unavailable"));
  if (!nonce_ok(call)) return;
  call.respond(detail_response(404, "TEE attestation document unavailable"));
}

void core_status(Call& call) { call.respond(detail_response(404, "TEE core unavailable")); }

void core_attestation(Call& call) {
  if (public_rate_limited(call)) return;
  call.respond(detail_response(404, "TEE core unavailable"));
}

}  // namespace

const std::vector<Route>& tee_routes() {
  static const std::vector<Route> routes = {
      {"GET", "/api/tee/status", Access::view, signer_status, "The signer: local (the payout key) or none; never attested"},
      {"GET", "/api/tee/attestation", Access::public_, signer_attestation,
       "The signer's attestation document: a local signer has none (404)"},
      {"GET", "/api/tee/core/status", Access::view, core_status,
       "The TEE core's status: this node has none (404); its audit log is under /api/transparency/tee-core"},
      {"GET", "/api/tee/core/attestation", Access::public_, core_attestation, "The TEE core's attestation document: no core (404)"},
  };
  return routes;
}

}  // namespace lpops::net
