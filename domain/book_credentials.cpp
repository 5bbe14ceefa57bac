// Orchestrator credential tokens in the book: issued after the credential checks
// (actors/credential.cpp), journaled like every other fact, so a token outlives restarts
// and is never valid on one node and unknown after a crash. Only "sha256:<hex>" of a token
// is stored; the token itself is shown once, to the orchestrator that asked for it.
#include "domain/book.hpp"
#include "domain/json_fields.hpp"

#include <algorithm>

namespace lpops {

Decision Book::issue_credential_token(const std::string& orchestrator_id, const std::string& token_id,
                                      const std::string& token_hash, UnixMicros expires_at, std::size_t max_per_orchestrator,
                                      UnixMicros now) {
  const auto* record = orchestrator_record(orchestrator_id);
  if (!record) return Decision::fail(404, "Orchestrator not found");
  if (get_bool(*record, "denylisted")) return Decision::fail(403, "Orchestrator is denylisted");
  if (tokens_.contains(token_hash)) return Decision::fail(409, "Credential token already issued");
  CredentialNote note{orchestrator_id, token_id, token_hash, expires_at, {}};
  if (auto it = tokens_by_orchestrator_.find(orchestrator_id); it != tokens_by_orchestrator_.end()) {
    std::vector<std::string> live;
    for (const auto& h : it->second) {
      if (tokens_.at(h).expires_at <= now) note.dropped.push_back(h);
      else live.push_back(h);
    }
    // The new token makes one more: keep the newest max-1 of the others.
    const std::size_t keep = max_per_orchestrator > 0 ? max_per_orchestrator - 1 : 0;
    if (live.size() > keep) note.dropped.insert(note.dropped.end(), live.begin(), live.end() - static_cast<std::ptrdiff_t>(keep));
  }
  Effect effect;
  effect.type = Effect::Type::credential;
  effect.at = now;
  effect.credential = std::move(note);
  return commit(std::move(effect), json::object{});
}

Decision Book::revoke_credential_tokens(const std::string& orchestrator_id, UnixMicros now) {
  if (!knows_orchestrator(orchestrator_id)) return Decision::fail(404, "Orchestrator not found");
  auto it = tokens_by_orchestrator_.find(orchestrator_id);
  const std::size_t count = it == tokens_by_orchestrator_.end() ? 0 : it->second.size();
  // Those still usable are what was revoked; expired ones are dropped with them.
  std::size_t live = 0;
  if (count > 0)
    for (const auto& h : it->second)
      if (auto t = tokens_.find(h); t != tokens_.end() && t->second.expires_at > now) ++live;
  json::object response{{"orchestrator_id", orchestrator_id}, {"revoked", live}};
  if (count == 0) return Decision{std::nullopt, std::nullopt, std::move(response)};
  Effect effect;
  effect.type = Effect::Type::credential;
  effect.at = now;
  effect.credential = CredentialNote{orchestrator_id, std::nullopt, std::nullopt, 0, it->second};
  return commit(std::move(effect), std::move(response));
}

std::optional<std::string> Book::authenticate(const std::string& token_hash, UnixMicros now) const {
  auto it = tokens_.find(token_hash);
  if (it == tokens_.end() || it->second.expires_at <= now) return std::nullopt;
  // A denylisted orchestrator's tokens stop working (and come back if it is let in again).
  const auto* record = orchestrator_record(it->second.orchestrator_id);
  if (!record || get_bool(*record, "denylisted")) return std::nullopt;
  return it->second.orchestrator_id;
}

std::optional<std::string> Book::apply_credential(const CredentialNote& note, UnixMicros at) {
  for (const auto& h : note.dropped) {
    auto it = tokens_.find(h);
    if (it == tokens_.end() || it->second.orchestrator_id != note.orchestrator_id)
      return "credential effect drops a token that " + note.orchestrator_id + " does not hold";
  }
  if (note.token_hash && (!note.token_id || tokens_.contains(*note.token_hash)))
    return std::string("credential effect issues a token without an id, or one that already exists");
  auto& mine = tokens_by_orchestrator_[note.orchestrator_id];
  for (const auto& h : note.dropped) {
    tokens_.erase(h);
    mine.erase(std::remove(mine.begin(), mine.end(), h), mine.end());
  }
  if (note.token_hash) {
    tokens_.emplace(*note.token_hash, CredentialToken{*note.token_id, note.orchestrator_id, at, note.expires_at});
    mine.push_back(*note.token_hash);
  }
  if (mine.empty()) tokens_by_orchestrator_.erase(note.orchestrator_id);
  return std::nullopt;
}

}  // namespace lpops
