#include "actors/ledger.hpp"
#include "actors/fatal.hpp"

#include <spdlog/spdlog.h>

#include <set>

#include "actors/credential.hpp"
#include "chain/hex.hpp"
#include "domain/digest.hpp"


namespace lpops::actors {
namespace {

using Self = caf::stateful_actor<LedgerState>;

// An answer read from the book goes out once everything applied to the book so far is
// durable: the book runs ahead of the disk by the group commit in flight, and an answer
// (a balance, a 409 "already exists") must not report what a crash could still undo.
// Immediate when nothing is waiting for the disk.
void reply_when_durable(LedgerState& st, const Reply& reply, int status, std::string body) {
  st.journal->barrier([reply, status, body = std::move(body)] { reply(status, body); });
}

// Frames the effect (if any) into the journal; the reply goes out once it is durable. A
// command that changed nothing, or failed, still waits for everything before it to be
// durable, so that nothing it reports can be lost.
void finish(Self* self, Decision decision, const Reply& reply) {
  auto& st = self->state;
  if (decision.failure) {
    reply_when_durable(st, reply, decision.failure->status, detail_body(decision.failure->detail));
    return;
  }
  auto ack = [reply, body = decision.response_body()] { reply(200, body); };
  if (!decision.effect) {
    st.journal->barrier(std::move(ack));
    return;
  }
  st.journal->append(st.book->last_seq(), std::move(*decision.effect), std::move(ack));
}

// The 409 of an import request that conflicts with the book: every conflict, nothing applied.
std::string conflicts_body(const std::vector<std::pair<std::string, std::string>>& conflicts) {
  boost::json::array list;
  for (const auto& [id, why] : conflicts) list.push_back(boost::json::object{{"id", id}, {"detail", why}});
  return boost::json::serialize(boost::json::object{
      {"detail", std::to_string(conflicts.size()) + " of the entries conflict with the ledger; nothing was imported"},
      {"conflicts", std::move(list)}});
}

// An amount the import cut to whole wei, as the answer lists it.
boost::json::object rounded_item(const std::string& id, const std::string& given, const Wei& kept, bool negative = false) {
  return boost::json::object{{"id", id}, {"given", given}, {"imported_eth", format_eth(SignedWei{negative && kept != 0, kept})}};
}

// Fields of a workload that may change after it is stored (status, notes, transaction,
// artifact): an existing one whose file copy differs is kept as it is here, and named.
bool differs(const Workload& held, const Workload& file) {
  return held.status != file.status || held.notes != file.notes || held.tx_hash != file.tx_hash ||
         held.artifact_hash != file.artifact_hash || held.artifact_uri != file.artifact_uri;
}

constexpr std::size_t kMaxListed = 100;  // ids named per list in an import's answer

// Checks the whole request, then applies the new entries, one journal record each; the
// answer (counts) goes out once the last is durable. A check alone answers the counts the
// import would give, with "checked": true, and applies nothing.
void import_workloads(Self* self, ImportWorkloads& m) {
  auto& st = self->state;
  using Kind = Book::ImportCheck::Kind;
  const UnixMicros now = now_micros();
  std::vector<std::pair<std::string, std::string>> conflicts;
  std::vector<bool> create(m.workloads.size(), false);
  std::optional<UnixMicros> not_before = st.book->newest_workload_time();
  std::size_t existing = 0;
  boost::json::array kept;
  for (std::size_t i = 0; i < m.workloads.size(); ++i) {
    const Workload& w = m.workloads[i].workload;
    auto check = st.book->check_workload_import(w, not_before, now, m.check);
    if (check.kind == Kind::conflict) conflicts.emplace_back(w.workload_id, std::move(check.detail));
    else if (check.kind == Kind::existing) {
      ++existing;
      if (kept.size() < kMaxListed && differs(*st.book->workload(w.workload_id), w)) kept.push_back(boost::json::string(w.workload_id));
    } else {
      create[i] = true;
      not_before = w.submitted_at;
    }
  }
  if (!conflicts.empty()) return reply_when_durable(st, m.reply, 409, conflicts_body(conflicts));
  std::size_t imported = 0;
  boost::json::array rounded;
  for (std::size_t i = 0; i < m.workloads.size(); ++i) {
    if (!create[i]) continue;
    auto& item = m.workloads[i];
    if (item.rounded) rounded.push_back(rounded_item(item.workload.workload_id, item.given, item.workload.payout_amount));
    if (m.check) {
      ++imported;
      continue;
    }
    auto decision = st.book->import_workload(std::move(item.workload), now);
    if (decision.failure) return reply_when_durable(st, m.reply, decision.failure->status, detail_body(decision.failure->detail));
    st.journal->append(st.book->last_seq(), std::move(*decision.effect), [] {});
    ++imported;
  }
  boost::json::object answer{{"imported", imported}, {"existing", existing}};
  if (!kept.empty()) answer["kept_as_here"] = std::move(kept);
  if (!rounded.empty()) answer["rounded"] = std::move(rounded);
  if (m.check) answer["checked"] = true;
  reply_when_durable(st, m.reply, 200, boost::json::serialize(answer));
}

void import_balances(Self* self, ImportBalances& m) {
  auto& st = self->state;
  using Kind = Book::ImportCheck::Kind;
  std::vector<std::pair<std::string, std::string>> conflicts;
  std::vector<Kind> kinds;
  kinds.reserve(m.balances.size());
  std::set<std::string> seen;
  for (const auto& b : m.balances) {
    auto check = st.book->check_balance_import(b.orchestrator_id, b.amount, m.check);
    if (!seen.insert(b.orchestrator_id).second) check = {Kind::conflict, "named twice in one request"};
    if (check.kind == Kind::conflict) conflicts.emplace_back(b.orchestrator_id, std::move(check.detail));
    kinds.push_back(check.kind);
  }
  if (!conflicts.empty()) return reply_when_durable(st, m.reply, 409, conflicts_body(conflicts));
  const UnixMicros now = now_micros();
  std::size_t imported = 0, existing = 0, zero = 0;
  boost::json::array rounded;
  for (std::size_t i = 0; i < m.balances.size(); ++i) {
    const auto& b = m.balances[i];
    if (kinds[i] == Kind::existing) ++existing;
    if (kinds[i] == Kind::zero) ++zero;
    if (kinds[i] != Kind::create) continue;
    if (b.rounded) rounded.push_back(rounded_item(b.orchestrator_id, b.given, b.amount.magnitude, b.amount.negative));
    if (m.check) {
      ++imported;
      continue;
    }
    auto decision = st.book->import_balance(b.orchestrator_id, b.amount, b.given, b.rounded, now);
    if (decision.failure) return reply_when_durable(st, m.reply, decision.failure->status, detail_body(decision.failure->detail));
    st.journal->append(st.book->last_seq(), std::move(*decision.effect), [] {});
    ++imported;
  }
  boost::json::object answer{{"imported", imported}, {"existing", existing}, {"zero", zero}};
  if (!rounded.empty()) answer["rounded"] = std::move(rounded);
  if (m.check) answer["checked"] = true;
  reply_when_durable(st, m.reply, 200, boost::json::serialize(answer));
}

OwnerLookup lookup_owner(const Book& book, const std::string& id) {
  OwnerLookup out;
  const auto* record = book.orchestrator_record(id);
  if (!record) return out;
  if (const auto* d = record->if_contains("denylisted"); d && d->is_bool() && d->get_bool()) {
    out.outcome = OwnerLookup::Outcome::denylisted;
    return out;
  }
  const auto* a = record->if_contains("address");
  if (!a || !a->is_string() || a->get_string().empty()) {
    out.outcome = OwnerLookup::Outcome::no_address;
    return out;
  }
  auto address = chain::parse_address_any_case(a->get_string());
  if (!address) {
    out.outcome = OwnerLookup::Outcome::bad_address;
    return out;
  }
  out.outcome = OwnerLookup::Outcome::ok;
  out.owner = chain::to_lower_hex(*address);
  return out;
}

std::optional<chain::Address> record_address(const Book& book, const std::string& id) {
  const auto* record = book.orchestrator_record(id);
  const auto* a = record ? record->if_contains("address") : nullptr;
  if (!a || !a->is_string()) return std::nullopt;
  auto address = chain::parse_address_any_case(a->get_string());
  return address ? std::optional(*address) : std::nullopt;
}

void rebuild_ledger_tree(const Book& book, LedgerTreeCache& cache) {
  std::vector<chain::credential::LedgerLeaf> leaves;
  leaves.reserve(book.orchestrator_order().size());
  for (const auto& id : book.orchestrator_order()) {
    auto address = record_address(book, id);
    if (!address) continue;
    chain::credential::LedgerLeaf leaf;
    leaf.orchestrator_id = id;
    leaf.recipient = *address;
    leaf.balance = book.balance(id);
    leaves.push_back(std::move(leaf));
  }
  cache.tree = chain::credential::LedgerTree::build(std::move(leaves));
  cache.index.clear();
  for (std::size_t i = 0; i < cache.tree->size(); ++i) cache.index.emplace(cache.tree->leaf(i).orchestrator_id, i);
  cache.id_count = book.id_count();
}

// Brings one id's leaf up to date; false when the tree must be rebuilt instead (the id
// gained or lost a usable address).
bool update_leaf(const Book& book, LedgerTreeCache& cache, const std::string& id) {
  auto address = record_address(book, id);
  auto it = cache.index.find(id);
  if (it == cache.index.end()) return !address || !book.knows_orchestrator(id);  // still not a leaf
  if (!address) return false;
  const auto& leaf = cache.tree->leaf(it->second);
  const SignedWei balance = book.balance(id);
  if (*address != leaf.recipient || !(balance == leaf.balance)) cache.tree->update(it->second, *address, balance);
  return true;
}

}  // namespace

const chain::credential::LedgerTree& refresh_ledger_tree(Book& book, LedgerTreeCache& cache) {
  if (cache.tree && cache.seq == book.last_seq()) return *cache.tree;
  auto changes = book.take_changes();
  bool rebuild = !cache.tree || cache.id_count != book.id_count() || !changes;
  if (!rebuild) {
    std::sort(changes->begin(), changes->end());
    changes->erase(std::unique(changes->begin(), changes->end()), changes->end());
    for (const auto& id : *changes)
      if (!update_leaf(book, cache, id)) {
        rebuild = true;
        break;
      }
  }
  if (rebuild) rebuild_ledger_tree(book, cache);
  cache.seq = book.last_seq();
  return *cache.tree;
}

namespace {

std::pair<int, std::string> ledger_proof(LedgerState& st, const LedgerProofQuery& q) {
  std::string id = q.orchestrator_id;
  if (q.token_hash) {
    auto owner = st.book->authenticate(*q.token_hash, now_micros());
    if (!owner) return {401, detail_body("Orchestrator token required")};
    if (id.empty()) id = *owner;  // the token's own orchestrator by default
    if (*owner != id) return {403, detail_body("An orchestrator token may only read its own orchestrator's ledger entry")};
  }
  const auto& tree = refresh_ledger_tree(*st.book, st.ledger_tree);
  if (tree.size() == 0) return {404, detail_body("ledger is empty")};
  auto index = tree.index_of(id);
  if (!index) return {404, detail_body("orchestrator not in ledger")};
  const auto& leaf = tree.leaf(*index);
  boost::json::object entry{{"orchestrator_id", leaf.orchestrator_id},
                            {"recipient", chain::to_lower_hex(leaf.recipient)},
                            {"balance_eth", format_eth(leaf.balance)},
                            {"balance_wei", format_wei(leaf.balance)},
                            {"orch_hash", chain::to_hex(leaf.orch_hash)},
                            {"leaf_hash", chain::to_hex(leaf.leaf_hash)}};
  boost::json::object out{{"ledger_root", chain::to_hex(tree.root())},
                          {"leaf_index", *index},
                          {"tree_size", tree.size()},
                          {"entry", std::move(entry)}};
  if (q.with_proof) {
    boost::json::array proof;
    for (const auto& h : tree.proof(*index)) proof.push_back(boost::json::string(chain::to_hex(h)));
    out["proof"] = std::move(proof);
  }
  return {200, boost::json::serialize(out)};
}

}  // namespace

std::string random_hex_id() {
  std::array<std::uint8_t, 16> bytes;
  secure_random(bytes.data(), bytes.size());  // not to be guessed from ids seen before
  return hex_lower(bytes.data(), bytes.size());
}

std::string detail_body(const std::string& detail) {
  return boost::json::serialize(boost::json::object{{"detail", detail}});
}

caf::behavior ledger_actor(Self* self, std::shared_ptr<Book> book, JournalSetup journal,
                           std::shared_ptr<Metrics> metrics, LedgerOptions options) {
  stop_process_on_exception(self, "ledger");
  auto& st = self->state;
  st.book = std::make_unique<Book>(std::move(*book));
  st.options = std::move(options);
  st.actor_metrics = &metrics->actor("ledger");
  st.actor_metrics->live->Increment();
  self->attach_functor([owner = metrics, m = st.actor_metrics] { m->live->Decrement(); });  // runs after the state is gone
  st.journal = std::make_unique<Journal>(self, std::move(journal));
  caf::message_handler commands{
      [=](CreateWorkload& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        finish(self, self->state.book->create_workload(m.draft, now_micros()), m.reply);
      },
      [=](CreateTimeWorkload& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto& s = self->state;
        finish(self, s.book->create_time_workload(m.draft, m.duration_ms, m.status, s.options.workload_time_rate, now_micros()),
               m.reply);
      },
      [=](PatchWorkload& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        finish(self, self->state.book->patch_workload(m.workload_id, m.patch, now_micros()), m.reply);
      },
      [=](Adjust& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto& s = self->state;
        if (!m.request.idempotency_key) {
          // 128 random bits; drawn again in the (never yet seen) case that the id is taken.
          do m.request.generated_id = random_hex_id();
          while (s.book->adjustment_id_taken(m.request.generated_id));
        }
        finish(self, s.book->adjust(m.request, now_micros()), m.reply);
      },
      [=](UpsertOrchestrator& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto& s = self->state;
        const auto* given = m.record.if_contains("orchestrator_id");
        std::string id = given && given->is_string() ? std::string(given->as_string()) : std::string();
        auto decision = s.book->upsert_orchestrator(std::move(m.record), now_micros());
        if (decision.failure) {
          spdlog::error("ledger: {}", decision.failure->detail);
          reply_when_durable(s, m.reply, decision.failure->status, detail_body(decision.failure->detail));
          return;
        }
        std::string body = m.respond(s.book->balance(id));
        auto reply = m.reply;
        s.journal->append(s.book->last_seq(), std::move(*decision.effect), [reply, body = std::move(body)] { reply(200, body); });
      },
      [=](ImportWorkloads& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        import_workloads(self, m);
      },
      [=](ImportBalances& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        import_balances(self, m);
      },
      [=](RecordPolicy& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        finish(self, self->state.book->record_policy(m.policy_hash, m.policy, now_micros()), m.reply);
      },
      [=](ReservePayout& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto& s = self->state;
        if (m.request.payout_id.empty()) {
          do m.request.payout_id = random_hex_id();
          while (s.book->payout(m.request.payout_id));
        }
        finish(self, s.book->reserve_payout(m.request, now_micros()), m.reply);
      },
      [=](PostPayout& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        finish(self, self->state.book->post_payout(m.payout_id, m.tx_hash, m.block_number, now_micros()), m.reply);
      },
      [=](VoidPayout& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        finish(self, self->state.book->void_payout(m.payout_id, m.reason, now_micros()), m.reply);
      },
      [=](LookupOwner& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto found = lookup_owner(*self->state.book, m.orchestrator_id);
        if (auto r = self->state.revocations.find(m.orchestrator_id); r != self->state.revocations.end())
          found.revocations = r->second;
        m.done(std::move(found));
      },
      [=](IssueToken& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto& s = self->state;
        if (auto r = s.revocations.find(m.orchestrator_id); r != s.revocations.end() && r->second != m.revocations_seen) {
          spdlog::info("credential: token for {} not issued: its tokens were revoked while it was being checked", m.orchestrator_id);
          return reply_when_durable(s, m.reply, 409,
                                    detail_body("The orchestrator's credential tokens were revoked while this request was "
                                                "being checked; ask for a new nonce"));
        }
        auto decision = s.book->issue_credential_token(m.orchestrator_id, m.token_id, m.token_hash, m.expires_at,
                                                       m.max_per_orchestrator, now_micros());
        if (decision.failure)
          return reply_when_durable(s, m.reply, decision.failure->status, detail_body(decision.failure->detail));
        s.journal->append(s.book->last_seq(), std::move(*decision.effect),
                          [reply = std::move(m.reply), body = std::move(m.body)] { reply(200, body); });
      },
      [=](RevokeTokens& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto& s = self->state;
        auto decision = s.book->revoke_credential_tokens(m.orchestrator_id, now_micros());
        if (!decision.failure) ++s.revocations[m.orchestrator_id];  // before the answer: no later issue escapes it
        finish(self, std::move(decision), m.reply);
      },
      [=](LedgerProofQuery& q) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto [status, body] = ledger_proof(self->state, q);
        reply_when_durable(self->state, q.reply, status, std::move(body));
      },
      [=](Query& q) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        // A query only reads the book, so a failing one leaves nothing half done: it is
        // answered with a 500 and the node goes on (commands stop the process instead).
        std::pair<int, std::string> answer;
        try {
          answer = q.answer(*self->state.book);
        } catch (const std::exception& e) {
          spdlog::error("ledger: a read-only query failed: {}", e.what());
          answer = {500, detail_body("Internal error while reading the ledger")};
        }
        reply_when_durable(self->state, q.reply, answer.first, std::move(answer.second));
      },
  };
  return commands.or_else(journal_handlers(self));
}

}  // namespace lpops::actors
