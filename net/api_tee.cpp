// /api/tee: the reference's signer and TEE-core status and attestation routes. This node signs
// with a local key (PAYMENT_PRIVATE_KEY or PAYMENT_KEYSTORE_PATH) and has no enclave: there is
// no attestation document to give and no separate TEE core to ask; its own audit log is served
// by /api/transparency/tee-core. The answers are the reference's for that configuration: the
// status says `local` (or `none`), and the attestation routes check their nonce and answer 404
// with the reference's texts.
#include "domain/python_text.hpp"
#include "net/api.hpp"

namespace lpops::net {
namespace {

// The reference's nonce: optional hex, stripped, a lower-case 0x prefix optional, an even
// number of digits; blank is no nonce. Answers 400 itself and returns false when it is none
// of these.
bool nonce_ok(Call& call) {
  Validation v;
  QueryReader q(call.query, v);
  if (auto given = q.filter("nonce")) {
    std::string_view text = python_strip(*given);
    if (text.starts_with("0x")) text.remove_prefix(2);
    const bool hex = text.size() % 2 == 0 && text.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
    // "0x" alone is no digits, as Python's bytes.fromhex("") is an empty nonce: accepted.
    if (!hex) {
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
  if (public_rate_limited(call) || !nonce_ok(call)) return;
  call.respond(detail_response(404, call.ctx->signer_address ? "TEE attestation document unavailable" : "TEE signer unavailable"));
}

void core_status(Call& call) { call.respond(detail_response(404, "TEE core unavailable")); }

void core_attestation(Call& call) {
  if (public_rate_limited(call) || !nonce_ok(call)) return;
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
