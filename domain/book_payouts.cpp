// Payouts in the book: reserve → post | void, each one effect with one ledger entry (and so
// one audit entry). The pending debits of an account are the sum of its reserved payouts.
#include "domain/book.hpp"
#include "domain/json_fields.hpp"

namespace lpops {
namespace {

json::object payout_metadata(const Payout& p) {
  json::object m;
  m["payout_id"] = p.payout_id;
  m["recipient"] = p.recipient;
  m["amount_eth"] = format_eth(p.amount);
  m["amount_wei"] = format_wei(p.amount);
  if (p.tx_hash) m["tx_hash"] = *p.tx_hash;
  if (p.block_number) m["block_number"] = *p.block_number;
  if (p.void_reason) m["void_reason"] = *p.void_reason;
  return m;
}

}  // namespace

Decision Book::record_payout_step(Payout p, std::string event_id, const SignedWei& delta, std::string reason, UnixMicros now) {
  Effect effect;
  effect.type = Effect::Type::payout;
  effect.at = now;
  effect.entry = make_entry(std::move(event_id), p.orchestrator_id, delta, std::move(reason), payout_metadata(p), now);
  json::object view = p.to_view();
  effect.payout = std::make_shared<const Payout>(std::move(p));
  return commit(std::move(effect), std::move(view));
}

Decision Book::reserve_payout(const PayoutRequest& req, UnixMicros now) {
  if (!is_payout_id(req.payout_id)) return Decision::fail(422, "Invalid payout id");
  if (auto it = payouts_.find(req.payout_id); it != payouts_.end()) {
    if (it->second->request_digest == req.request_digest) {
      // The original answer, as the reservation gave it (a post or void since is not part of it).
      Payout reserved = *it->second;
      reserved.status = "reserved";
      reserved.tx_hash.reset();
      reserved.block_number.reset();
      reserved.void_reason.reset();
      reserved.settled_at.reset();
      return Decision{std::nullopt, std::nullopt, reserved.to_view()};
    }
    return Decision::fail(409, "Payout id already used for another payout");
  }
  // A recipient on the denylist is refused as a denylisted orchestrator is: no money goes to
  // such an address, whoever's payout names it.
  if (req.recipient_denylisted) return Decision::fail(403, "Recipient address is denylisted");
  const auto* record = orchestrator_record(req.orchestrator_id);
  if (!record) return Decision::fail(404, "Unknown orchestrator");
  // As the payout rounds skip them: no money goes to a denylisted orchestrator.
  if (const auto* d = record->if_contains("denylisted"); d && d->is_bool() && d->get_bool())
    return Decision::fail(403, "Orchestrator is denylisted");
  std::string recipient;
  if (req.recipient) {
    recipient = *req.recipient;
  } else if (const auto* a = record->if_contains("address"); a && a->is_string()) {
    recipient = std::string(a->get_string());
    for (auto& c : recipient) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (recipient.size() != 42) return Decision::fail(409, "Orchestrator has no usable payout address");
  // The reference admits the zero address at registration; paying it would burn the amount.
  if (!req.recipient && recipient == "0x0000000000000000000000000000000000000000")
    return Decision::fail(409, "The orchestrator's address is the zero address: name a recipient (a payout there would be burnt)");
  const Account* account = this->account(req.orchestrator_id);
  const SignedWei available = account ? account->available() : SignedWei{};
  const Wei amount = req.amount ? *req.amount : (available.negative ? Wei(0) : available.magnitude);
  if (amount == 0) return Decision::fail(409, "Nothing to pay: the available balance is " + format_eth(available) + " ETH");
  if (available.negative || available.magnitude < amount)
    return Decision::fail(409, "Insufficient available balance: " + format_eth(available) + " ETH available");
  Payout p;
  p.payout_id = req.payout_id;
  p.orchestrator_id = req.orchestrator_id;
  p.recipient = recipient;
  p.amount = amount;
  p.notes = req.notes;
  p.request_digest = req.request_digest;
  p.reserved_at = now;
  const std::string event_id = "payout:" + p.payout_id + ":reserve";
  return record_payout_step(std::move(p), event_id, SignedWei{}, "payout_reserve", now);
}

Decision Book::post_payout(const std::string& id, const std::string& tx_hash, std::optional<std::uint64_t> block_number,
                           UnixMicros now) {
  auto it = payouts_.find(id);
  if (it == payouts_.end()) return Decision::fail(404, "Payout not found");
  const Payout& old = *it->second;
  if (old.status == "posted") {
    if (old.tx_hash == tx_hash && (!block_number || block_number == old.block_number))
      return Decision{std::nullopt, std::nullopt, old.to_view()};
    return Decision::fail(409, "Payout already posted with another transaction or block");
  }
  if (old.status == "voided") return Decision::fail(409, "Payout was voided");
  // One transaction pays an orchestrator once (a batch may pay several orchestrators).
  // A transaction is in one block: payouts it posted name that block or none.
  // The two checks one after the other, so that the refusal does not depend on the order of
  // the transaction's payouts (posting order while running, reservation order after a start
  // from a snapshot).
  if (auto paid = posted_by_tx_.find(tx_hash); paid != posted_by_tx_.end()) {
    for (const auto& other : paid->second)
      if (payouts_.at(other)->orchestrator_id == old.orchestrator_id)
        return Decision::fail(409, "Transaction " + tx_hash + " already posted payout " + other + " of this orchestrator");
    for (const auto& other : paid->second)
      if (const Payout& o = *payouts_.at(other); block_number && o.block_number && *o.block_number != *block_number)
        return Decision::fail(409, "Transaction " + tx_hash + " was posted in block " + std::to_string(*o.block_number) +
                                       " (payout " + other + ")");
  }
  if (!fits(old.orchestrator_id, SignedWei{true, old.amount}))
    return Decision::fail(422, "The debit would overflow the orchestrator's account (a balance, and any one change of it, stay within -2^255 to 2^255-1 wei)");
  Payout p = old;
  p.status = "posted";
  p.tx_hash = tx_hash;
  p.block_number = block_number;
  p.settled_at = now;
  // The reference's payout debit: reason "payout", a negative delta (the stats count it).
  const std::string event_id = "payout:" + p.payout_id;
  const SignedWei debit{true, p.amount};
  return record_payout_step(std::move(p), event_id, debit, "payout", now);
}

Decision Book::void_payout(const std::string& id, const std::optional<std::string>& reason, UnixMicros now) {
  auto it = payouts_.find(id);
  if (it == payouts_.end()) return Decision::fail(404, "Payout not found");
  const Payout& old = *it->second;
  if (old.status == "voided") {
    // The same void again (or one that names no reason) answers as the first did; another
    // reason would be a different record, as another transaction is for a post.
    if (!reason || reason == old.void_reason) return Decision{std::nullopt, std::nullopt, old.to_view()};
    return Decision::fail(409, "Payout already voided with another reason");
  }
  if (old.status == "posted") return Decision::fail(409, "Payout already posted");
  Payout p = old;
  p.status = "voided";
  p.void_reason = reason;
  p.settled_at = now;
  const std::string event_id = "payout:" + p.payout_id + ":void";
  return record_payout_step(std::move(p), event_id, SignedWei{}, "payout_void", now);
}

const Payout* Book::payout(const std::string& id) const {
  auto it = payouts_.find(id);
  return it == payouts_.end() ? nullptr : it->second.get();
}

std::vector<const Payout*> Book::list_payouts(const PayoutFilter& f) const {
  std::vector<const Payout*> out;
  for (auto it = payout_order_.rbegin(); it != payout_order_.rend() && out.size() < f.limit; ++it) {
    const Payout* p = payouts_.at(*it).get();
    if (f.orchestrator_id && p->orchestrator_id != *f.orchestrator_id) continue;
    if (f.status && p->status != *f.status) continue;
    out.push_back(p);
  }
  return out;
}

std::optional<std::string> Book::apply_payout(const Effect& effect, std::uint64_t seq) {
  if (!effect.payout || !effect.entry) return std::string("payout effect without a payout or an entry");
  const Payout& p = *effect.payout;
  const LedgerEntry& e = *effect.entry;
  if (e.orchestrator_id != p.orchestrator_id) return "payout " + p.payout_id + ": entry of another orchestrator";
  auto it = payouts_.find(p.payout_id);
  const Payout* old = it == payouts_.end() ? nullptr : it->second.get();
  const Account* account = this->account(p.orchestrator_id);
  const Wei pending = account ? account->pending_debits : Wei(0);
  if (p.status == "reserved") {
    if (old) return "payout " + p.payout_id + " reserved twice";
    if (!e.delta.is_zero()) return "payout " + p.payout_id + ": a reservation changes no balance";
    if (p.amount > max_wei() - pending) return "payout " + p.payout_id + " overflows the pending debits";
  } else {
    if (!old || old->status != "reserved") return "payout " + p.payout_id + " settled without a reservation";
    if (old->amount != p.amount || old->orchestrator_id != p.orchestrator_id)
      return "payout " + p.payout_id + " settled for another amount or orchestrator";
    if (pending < p.amount) return "payout " + p.payout_id + " settles more than is pending";
    const SignedWei expected = p.status == "posted" ? SignedWei{true, p.amount} : SignedWei{};
    if (!(e.delta == expected)) return "payout " + p.payout_id + ": entry delta does not match";
  }
  if (auto err = apply_entry(e, seq)) return err;
  Account& a = by_orchestrator_[p.orchestrator_id].account;
  if (p.status == "reserved") {
    a.pending_debits += p.amount;
    payout_order_.push_back(p.payout_id);
    payouts_.emplace(p.payout_id, effect.payout);
  } else {
    a.pending_debits -= p.amount;
    it->second = effect.payout;
    if (p.status == "posted" && p.tx_hash) posted_by_tx_[*p.tx_hash].push_back(p.payout_id);
  }
  return std::nullopt;
}

}  // namespace lpops
