#include "domain/book.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

#include "domain/json_fields.hpp"
#include "domain/orchestrator.hpp"
#include "domain/reference_import.hpp"

namespace lpops {
namespace {

constexpr std::string_view kAdjustmentPrefix = "adjustment:";
constexpr std::string_view kImportPrefix = "import:";

// Whether a negative imported balance takes the account's available balance below zero.
bool import_goes_below_zero(const Account& account, const SignedWei& amount) {
  const SignedWei available = account.available();
  return amount.negative && (available.negative || available.magnitude < amount.magnitude);
}

void add_to_days(std::map<std::int64_t, DayTotals>& days, const LedgerEntry& e) {
  DayTotals& d = days[utc_day(e.at)];
  // A balance brought over by `lpops import` (its event id says so; an adjustment may give
  // any reason, "import" too, and counts as one): not earned that day.
  if (e.event_id.starts_with(kImportPrefix)) {
    d.net_delta.add(e.delta);
    return;
  }
  const bool positive = !e.delta.negative && !e.delta.is_zero();
  if (positive) {
    d.credits.add(e.delta);
    if (e.reason == "session_time") d.session.add(e.delta);
    if (e.reason == "workload") d.workload.add(e.delta);
    if (e.reason == "adjustment") d.adjustments.add(e.delta);
  } else if (e.reason == "adjustment") {
    d.adjustments.add(e.delta);
  }
  if (e.reason == "payout" && e.delta.negative) d.payouts.add(SignedWei{false, e.delta.magnitude});
  d.net_delta.add(e.delta);
}

json::object workload_metadata(const Workload& w) {
  json::object m;
  m.reserve(9);  // room for time_credit_metadata's keys too: one allocation, no rehash
  m["workload_id"] = w.workload_id;
  m["plan_id"] = opt_value(w.plan_id);
  m["run_id"] = opt_value(w.run_id);
  m["status"] = w.status.view();
  m["artifact_uri"] = opt_value(w.artifact_uri);
  m["artifact_hash"] = opt_value(w.artifact_hash);
  return m;
}

// A time credit's metadata: the workload's, plus how it was priced (w.pricing is set).
json::object time_credit_metadata(const Workload& w) {
  json::object m = workload_metadata(w);
  m["duration_ms"] = std::to_string(w.pricing->duration_ms);
  m["credit_eth_per_minute"] = w.pricing->credit_eth_per_minute.view();
  m["credit_unit"] = w.pricing->credit_unit.view();
  return m;
}

Workload workload_from_draft(const WorkloadDraft& d, const Wei& amount, const std::string& status, UnixMicros now) {
  Workload w;
  w.workload_id = d.workload_id;
  w.orchestrator_id = d.orchestrator_id;
  w.plan_id = d.plan_id;
  w.run_id = d.run_id;
  w.artifact_hash = d.artifact_hash;
  w.artifact_uri = d.artifact_uri;
  w.notes = d.notes;
  w.payout_amount = amount;
  w.status = WorkloadStatus(status);  // the callers check it
  w.submitted_at = now;
  return w;
}

}  // namespace

LedgerEntry Book::make_entry(std::string event_id, const std::string& orchestrator_id, const SignedWei& delta,
                             std::string reason, json::object metadata, UnixMicros now) const {
  LedgerEntry e;
  e.event_id = std::move(event_id);
  e.orchestrator_id = orchestrator_id;
  e.delta = delta;
  auto found = by_orchestrator_.find(orchestrator_id);
  Account a = found == by_orchestrator_.end() ? Account{} : found->second.account;
  if (delta.negative) a.posted_debits += delta.magnitude;
  else a.credits += delta.magnitude;
  e.balance_after = a.balance();
  e.reason = std::move(reason);
  if (options_.test_run_id) {
    json::object tagged{{"test", true}, {"test_run_id", *options_.test_run_id}};
    for (auto& kv : metadata) tagged[kv.key()] = kv.value();
    metadata = std::move(tagged);
  }
  e.metadata = std::move(metadata);
  e.at = now;
  return e;
}

Decision Book::commit_workload(Effect effect, Workload w) {
  std::string view;
  view.reserve(384);
  w.append_view_json(view);
  effect.workload = std::make_shared<const Workload>(std::move(w));
  auto decision = commit(std::move(effect), {});
  if (!decision.failure) decision.response_text = std::move(view);
  return decision;
}

Decision Book::commit(Effect effect, json::object response) {
  auto error = apply(effect, last_seq_ + 1);
  // Commands only build effects that fit the state; anything else is a bug.
  assert(!error && "a command produced an effect that does not apply");
  if (error) return Decision::fail(500, "internal error: " + *error);
  return Decision{std::nullopt, std::move(effect), std::move(response)};
}

std::optional<std::string> Book::apply_entry(const LedgerEntry& e, std::uint64_t seq) {
  auto found = by_orchestrator_.find(e.orchestrator_id);
  Account a = found == by_orchestrator_.end() ? Account{} : found->second.account;
  try {
    if (e.delta.negative) a.posted_debits += e.delta.magnitude;
    else a.credits += e.delta.magnitude;
  } catch (const std::exception&) {
    return "ledger entry " + e.event_id + " overflows the account";
  }
  if (a.balance() != e.balance_after) return "ledger entry " + e.event_id + " does not match the running balance";
  // Changed only now that the entry is known to fit: a rejected entry leaves no trace.
  PerOrchestrator& o = found == by_orchestrator_.end() ? by_orchestrator_[e.orchestrator_id] : found->second;
  o.account = a;
  add_to_days(o.days, e);
  o.entry_seqs.push_back(seq);
  entry_seqs_.push_back(seq);
  if (tracking_changes_) note_change(e.orchestrator_id);
  return std::nullopt;
}

void Book::note_change(const std::string& id) {
  if (changes_overflowed_) return;
  if (changes_.size() >= kMaxTrackedChanges) {
    changes_overflowed_ = true;
    changes_.clear();
    changes_.shrink_to_fit();
    return;
  }
  changes_.push_back(id);
}

std::optional<std::vector<std::string>> Book::take_changes() {
  tracking_changes_ = true;
  if (changes_overflowed_) {
    changes_overflowed_ = false;
    return std::nullopt;
  }
  return std::exchange(changes_, {});
}

std::optional<std::string> Book::apply(const json::object& effect, std::uint64_t seq) {
  auto typed = Effect::from_json(effect);
  if (!typed) return typed.error();
  return apply(*typed, seq);
}

std::optional<std::string> Book::apply(const Effect& effect, std::uint64_t seq) {
  if (seq <= last_seq_) return "effect seq " + std::to_string(seq) + " is not after " + std::to_string(last_seq_);
  switch (effect.type) {
    case Effect::Type::orchestrator: {
      if (!effect.orchestrator) return std::string("orchestrator effect without a record");
      std::string id = get_string(*effect.orchestrator, "orchestrator_id");
      if (id.empty()) return std::string("orchestrator record without orchestrator_id");
      PerOrchestrator& o = by_orchestrator_[id];
      if (!o.record) orchestrator_order_.push_back(id);
      o.record = effect.orchestrator;  // immutable: shared with the effect, not copied
      if (tracking_changes_) note_change(id);
      break;
    }
    case Effect::Type::workload: {
      if (!effect.workload) return std::string("workload effect without a workload");
      if (effect.entry)
        if (auto err = apply_entry(*effect.entry, seq)) return err;
      auto [pos, inserted] = workload_index_.try_emplace(effect.workload->workload_id, workloads_.size(), workload_id_at());
      if (inserted) workloads_.push_back(effect.workload);
      else workloads_.set(pos, effect.workload);
      break;
    }
    case Effect::Type::payout: {
      if (auto err = apply_payout(effect, seq)) return err;
      break;
    }
    case Effect::Type::credential: {
      if (!effect.credential) return std::string("credential effect without a note");
      if (auto err = apply_credential(*effect.credential, effect.at)) return err;
      break;
    }
    case Effect::Type::policy: {
      if (!effect.entry) return std::string("policy effect without an entry");
      policies_.insert(effect.entry->event_id);
      break;
    }
    case Effect::Type::adjustment: {
      if (!effect.entry) return std::string("adjustment effect without an entry");
      if (auto err = apply_entry(*effect.entry, seq)) return err;
      if (effect.adjustment && effect.adjustment->idempotency_key)
        adjustments_[*effect.adjustment->idempotency_key] =
            Idempotent{effect.adjustment->request_digest.value_or(""), adjustment_response(*effect.adjustment, *effect.entry)};
      else if (effect.entry->event_id.starts_with(kAdjustmentPrefix))
        generated_adjustments_.insert(effect.entry->event_id.substr(kAdjustmentPrefix.size()));
      break;
    }
  }
  last_seq_ = seq;
  return std::nullopt;
}

Decision Book::upsert_orchestrator(json::object record, UnixMicros now) {
  // Its senders validate the record; one without an id is a bug, answered as such.
  const auto* id = record.if_contains("orchestrator_id");
  if (!id || !id->is_string() || id->as_string().empty())
    return Decision::fail(500, "internal error: an orchestrator record without an orchestrator_id");
  Effect effect;
  effect.type = Effect::Type::orchestrator;
  effect.at = now;
  effect.orchestrator = std::make_shared<const json::object>(std::move(record));
  return commit(std::move(effect), {});
}

// A workload's time: the clock's, but always after the newest workload's (by a microsecond
// at the least), so that the order listings read workloads in (insertion) stays their
// submission order after the wall clock stepped back, and no two share a time: paging with
// `until` one microsecond before the last row's time neither repeats nor skips a row.
UnixMicros Book::workload_time(UnixMicros now) const {
  return workloads_.empty() ? now : std::max(now, workloads_.back()->submitted_at + 1);
}

Decision Book::create_workload(const WorkloadDraft& d, UnixMicros now) {
  if (!knows_orchestrator(d.orchestrator_id)) return Decision::fail(404, "Unknown orchestrator");
  now = workload_time(now);
  if (workload_index_.contains(d.workload_id, workload_id_at())) return Decision::fail(409, "Workload already exists");
  Workload w = workload_from_draft(d, d.payout_amount, "pending", now);
  Effect effect;
  effect.type = Effect::Type::workload;
  effect.at = now;
  return commit_workload(std::move(effect), std::move(w));
}

Decision Book::create_time_workload(const WorkloadDraft& d, std::uint64_t duration_ms, const std::string& status,
                                    const Rate& rate, UnixMicros now) {
  if (!knows_orchestrator(d.orchestrator_id)) return Decision::fail(404, "Unknown orchestrator");
  now = workload_time(now);
  if (!is_workload_status(status)) return Decision::fail(400, "Invalid workload status");
  if (workload_index_.contains(d.workload_id, workload_id_at())) return Decision::fail(409, "Workload already exists");
  const auto credit = rate.checked_credit_for(duration_ms);
  if (!credit) return Decision::fail(422, "duration_ms at the configured rate exceeds the largest amount (2^256-1 wei)");
  Workload w = workload_from_draft(d, *credit, status, now);
  if (last_rate_ != std::string_view(rate.text())) last_rate_ = SharedText(rate.text());
  w.pricing = WorkloadPricing{duration_ms, last_rate_, credit_unit_, now};

  Effect effect;
  effect.type = Effect::Type::workload;
  effect.at = now;
  if (status_credits(status) && w.payout_amount > 0) {
    if (!fits(w.orchestrator_id, SignedWei{false, w.payout_amount}))
      return Decision::fail(422, "The credit would overflow the orchestrator's account (a balance, and any one change of it, stay within -2^255 to 2^255-1 wei)");
    w.credited = true;
    w.credited_at = now;
    effect.entry = make_entry("workload_time:" + w.workload_id, w.orchestrator_id, SignedWei{false, w.payout_amount},
                              "workload_time", time_credit_metadata(w), now);
  }
  return commit_workload(std::move(effect), std::move(w));
}

Decision Book::patch_workload(const std::string& id, const WorkloadPatch& patch, UnixMicros now) {
  const auto it = workload_index_.find(id, workload_id_at());
  if (!it) return Decision::fail(404, "Workload not found");
  if (patch.status && !is_workload_status(*patch.status)) return Decision::fail(400, "Invalid workload status");
  Workload w = *workloads_[*it];
  if (patch.status) w.status = WorkloadStatus(*patch.status);
  if (patch.notes) w.notes = patch.notes;
  if (patch.tx_hash) w.tx_hash = patch.tx_hash;
  if (patch.artifact_uri) w.artifact_uri = patch.artifact_uri;
  if (patch.artifact_hash) w.artifact_hash = patch.artifact_hash;

  Effect effect;
  effect.type = Effect::Type::workload;
  effect.at = now;
  if (w.due_credit()) {
    if (!fits(w.orchestrator_id, SignedWei{false, w.payout_amount}))
      return Decision::fail(422, "The credit would overflow the orchestrator's account (a balance, and any one change of it, stay within -2^255 to 2^255-1 wei)");
    w.credited = true;
    w.credited_at = now;
    if (w.payout_amount > 0 && w.pricing) {
      // A time workload created pending and verified later is the same credit as one created
      // verified: reason and event id workload_time, with its pricing (the reference files it
      // as a plain workload credit, a quirk).
      effect.entry = make_entry("workload_time:" + w.workload_id, w.orchestrator_id, SignedWei{false, w.payout_amount},
                                "workload_time", time_credit_metadata(w), now);
    } else if (w.payout_amount > 0) {
      effect.entry = make_entry("workload:" + w.workload_id, w.orchestrator_id, SignedWei{false, w.payout_amount},
                                "workload", workload_metadata(w), now);
    }
  }
  if (w.to_json() == workloads_[*it]->to_json()) return Decision{std::nullopt, std::nullopt, w.to_view()};  // nothing changed
  return commit_workload(std::move(effect), std::move(w));
}

json::object Book::adjustment_response(const AdjustmentNote& adj, const LedgerEntry& e) const {
  json::object r;
  r["orchestrator_id"] = e.orchestrator_id;
  r["balance_eth"] = format_eth(e.balance_after);
  r["delta_eth"] = format_eth(e.delta);
  r["reason"] = e.reason;
  r["reference_workload_id"] = opt_value(adj.reference_workload_id);
  r["notes"] = opt_value(adj.notes);
  r["event_id"] = e.event_id;
  r["balance_wei"] = format_wei(e.balance_after);
  r["delta_wei"] = format_wei(e.delta);
  return r;
}

Decision Book::adjust(const AdjustmentRequest& req, UnixMicros now) {
  // A key used before answers first: the same request again gets its answer, another one 409
  // (an unknown orchestrator in it too: the key is taken whatever the new request names).
  if (req.idempotency_key) {
    if (auto it = adjustments_.find(*req.idempotency_key); it != adjustments_.end()) {
      if (it->second.request_digest != req.request_digest && it->second.request_digest != req.digest_as_sent)
        return Decision::fail(409, "Idempotency-Key was already used with a different request");
      return Decision{std::nullopt, std::nullopt, it->second.response};
    }
  }
  if (!knows_orchestrator(req.orchestrator_id)) return Decision::fail(404, "Unknown orchestrator");
  if (req.idempotency_key && generated_adjustments_.count(*req.idempotency_key))
    return Decision::fail(409, "Idempotency-Key equals the event id of an earlier adjustment made without a key; use another key");
  if (!req.idempotency_key && adjustment_id_taken(req.generated_id))
    return Decision::fail(500, "internal error: generated adjustment id already taken");
  if (req.amount.is_zero()) return Decision::fail(422, "amount_eth must be non-zero");
  const Account* known = account(req.orchestrator_id);
  const Account current = known ? *known : Account{};
  // A debit past the available balance needs "force"; the entry then records that it was forced.
  bool forced = false;
  if (req.amount.negative) {
    SignedWei available = current.available();
    if (available.negative || available.magnitude < req.amount.magnitude) {
      if (!req.force)
        return Decision::fail(409, "Adjustment would make the available balance negative (available " + format_eth(available) +
                                       " ETH); send \"force\": true to allow it");
      // Not even forced past what payouts reserved: the reservation could then still be
      // posted, and the same wei would leave the ledger twice (as an import never may either).
      if (current.pending_debits > 0)
        return Decision::fail(409, "Adjustment would spend what payouts reserved (available " + format_eth(available) + " ETH, " +
                                       format_eth(current.pending_debits) + " ETH reserved): post or void them first");
      forced = true;
    }
  }
  if (!fits(req.orchestrator_id, req.amount)) return Decision::fail(422, "amount_eth would overflow the account (a balance, and any one change of it, stay within -2^255 to 2^255-1 wei)");

  std::string event_id = std::string(kAdjustmentPrefix) + (req.idempotency_key ? *req.idempotency_key : req.generated_id);
  json::object metadata;
  // As the reference builds it: only the fields given non-empty.
  if (req.reference_workload_id && !req.reference_workload_id->empty()) metadata["reference_workload_id"] = *req.reference_workload_id;
  if (req.notes && !req.notes->empty()) metadata["notes"] = *req.notes;
  if (forced) metadata["forced"] = true;
  LedgerEntry entry = make_entry(event_id, req.orchestrator_id, req.amount, req.reason.value_or("adjustment"),
                                 std::move(metadata), now);
  AdjustmentNote adj{req.reference_workload_id, req.notes, req.idempotency_key,
                     req.idempotency_key ? std::optional<std::string>(req.request_digest) : std::nullopt};
  return commit_adjustment(std::move(entry), std::move(adj), now);
}

Decision Book::commit_adjustment(LedgerEntry entry, AdjustmentNote note, UnixMicros now) {
  json::object response = adjustment_response(note, entry);
  Effect effect;
  effect.type = Effect::Type::adjustment;
  effect.at = now;
  effect.entry = std::move(entry);
  effect.adjustment = std::move(note);
  return commit(std::move(effect), std::move(response));
}

std::optional<UnixMicros> Book::newest_workload_time() const {
  if (workloads_.empty()) return std::nullopt;
  return workloads_.back()->submitted_at;
}

Book::ImportCheck Book::check_workload_import(const Workload& w, std::optional<UnixMicros> not_before, UnixMicros now,
                                              bool known_elsewhere) const {
  using Kind = ImportCheck::Kind;
  if (const auto at = workload_index_.find(w.workload_id, workload_id_at())) {
    const Workload& held = *workloads_[*at];
    if (held.orchestrator_id != w.orchestrator_id)
      return {Kind::conflict, "the ledger holds this workload for orchestrator " + held.orchestrator_id};
    if (held.payout_amount != w.payout_amount)
      return {Kind::conflict, "the ledger holds this workload with payout_amount_eth " + format_eth(held.payout_amount)};
    // Credited in the file (so inside the imported balance) but not here: a later status
    // change here would credit it a second time.
    if (w.credited && !held.credited) return {Kind::conflict, "the ledger holds this workload uncredited"};
    // Credited here (an entry of this ledger) and in the file: its amount would come in again
    // with the imported balance.
    if (w.credited && held.credited && !held.credited_elsewhere)
      return {Kind::conflict, "this ledger credited the workload itself, and the file has it credited too: its amount "
                              "would count twice with the imported balance"};
    return {Kind::existing, {}};
  }
  if (!known_elsewhere && !orchestrator_record(w.orchestrator_id))
    return {Kind::conflict, "Unknown orchestrator " + w.orchestrator_id + " (import registry.json first)"};
  // One dated later than now would list before the workloads the node takes from now on.
  if (w.submitted_at > now)
    return {Kind::conflict, "submitted_at " + iso_utc(w.submitted_at, UtcSuffix::z) + " is later than this node's clock (" +
                                iso_utc(now, UtcSuffix::z) + "): listings read workloads in the order they came"};
  if (not_before && w.submitted_at < *not_before)
    return {Kind::conflict, "submitted_at " + iso_utc(w.submitted_at, UtcSuffix::z) + " is older than " +
                                iso_utc(*not_before, UtcSuffix::z) +
                                ", a workload the ledger already holds: workloads are imported oldest first, before the "
                                "node takes new ones"};
  return {Kind::create, {}};
}

Decision Book::import_workload(Workload w, UnixMicros now) {
  Effect effect;
  effect.type = Effect::Type::workload;
  effect.at = now;
  return commit_workload(std::move(effect), std::move(w));
}

Book::ImportCheck Book::check_balance_import(const std::string& id, const SignedWei& amount, bool known_elsewhere) const {
  using Kind = ImportCheck::Kind;
  const std::string key = reference_import::balance_import_key(id);
  if (auto it = adjustments_.find(key); it != adjustments_.end()) {
    if (it->second.request_digest == reference_import::balance_digest(amount)) return {Kind::existing, {}};
    const auto* before = it->second.response.if_contains("delta_eth");
    return {Kind::conflict, "a balance of " + std::string(before && before->is_string() ? before->get_string() : "?") +
                                " ETH was imported for this id before (event " + reference_import::balance_event_id(id) + ")"};
  }
  if (amount.is_zero()) return {Kind::zero, {}};
  // Every account here is a registered orchestrator's (payouts and the ledger tree need its
  // record): a balance of an id the reference's ledger held without one waits for it.
  if (!known_elsewhere && !orchestrator_record(id))
    return {Kind::conflict, "Unknown orchestrator " + id + " (import its registry.json record, or register it, first)"};
  if (!fits(id, amount)) return {Kind::conflict, "the balance would overflow the account (a balance, and any one change of it, stay within -2^255 to 2^255-1 wei)"};
  // A negative balance brought over is a debt the old ledger held: it comes over (marked
  // forced when it takes the account below zero, as a forced adjustment is), but never spends
  // what the account has reserved for payouts here.
  if (amount.negative) {
    const Account* known = account(id);
    if (known && known->pending_debits > 0 && import_goes_below_zero(*known, amount))
      return {Kind::conflict, "the negative balance would spend what payouts reserved (available " + format_eth(known->available()) +
                                  " ETH, " + format_eth(known->pending_debits) + " ETH reserved); post or void them first"};
  }
  return {Kind::create, {}};
}

Decision Book::import_balance(const std::string& id, const SignedWei& amount, const std::string& given, bool rounded,
                              UnixMicros now) {
  json::object metadata{{"source", "balances.json"}, {"balance_eth", given}};
  if (rounded) metadata["rounded_to_wei"] = true;
  if (const Account* known = account(id); amount.negative && import_goes_below_zero(known ? *known : Account{}, amount))
    metadata["forced"] = true;
  LedgerEntry entry = make_entry(reference_import::balance_event_id(id), id, amount, "import", std::move(metadata), now);
  AdjustmentNote note{std::nullopt, std::nullopt, reference_import::balance_import_key(id), reference_import::balance_digest(amount)};
  return commit_adjustment(std::move(entry), std::move(note), now);
}

Decision Book::record_policy(const std::string& policy_hash, const json::object& policy, UnixMicros now) {
  const std::string event_id = "policy:" + policy_hash;
  if (policies_.count(event_id)) return Decision{std::nullopt, std::nullopt, json::object{{"recorded", false}}};
  LedgerEntry entry;
  entry.event_id = event_id;
  entry.orchestrator_id = kSystemOrchestratorId;
  entry.reason = "policy";
  entry.metadata = {{"policy_hash", policy_hash}, {"policy", policy}};
  entry.at = now;
  Effect effect;
  effect.type = Effect::Type::policy;
  effect.at = now;
  effect.entry = std::move(entry);
  return commit(std::move(effect), json::object{{"recorded", true}});
}

std::vector<Book::OrchestratorRow> Book::orchestrator_rows() const {
  std::vector<OrchestratorRow> rows;
  rows.reserve(orchestrator_order_.size());
  for (const auto& id : orchestrator_order_) {
    const PerOrchestrator& o = by_orchestrator_.at(id);
    rows.push_back(OrchestratorRow{id, o.record, o.account});
  }
  return rows;
}

SignedWei Book::balance(const std::string& id) const {
  const Account* a = account(id);
  return a ? a->balance() : SignedWei{};
}

void Book::for_each_balance(const std::function<void(const std::string&, const SignedWei&)>& fn) const {
  for (const auto& [id, per] : by_orchestrator_) fn(id, per.account.balance());
}

const Account* Book::account(const std::string& id) const {
  auto it = by_orchestrator_.find(id);
  return it == by_orchestrator_.end() ? nullptr : &it->second.account;
}

SignedWei Account::available() const {
  const Wide debits = Wide{posted_debits} + Wide{pending_debits};
  const Wide have{credits};
  if (have >= debits) return SignedWei{false, Wei{have - debits}};
  const Wide short_by = debits - have;
  return SignedWei{true, short_by > Wide{max_wei()} ? max_wei() : Wei{short_by}};
}

bool Book::fits(const std::string& id, const SignedWei& delta) const {
  const Account* known = account(id);
  const Account a = known ? *known : Account{};
  const Wei& total = delta.negative ? a.posted_debits : a.credits;
  if (delta.magnitude > max_wei() - total) return false;  // each total stays a uint256
  // The balance stays an int256 (-2^255 to 2^255-1): the ledger proofs encode it as one, and
  // a balance past either end would be proven as another amount.
  const Wide credits = Wide{a.credits} + (delta.negative ? Wide{0} : Wide{delta.magnitude});
  const Wide debits = Wide{a.posted_debits} + (delta.negative ? Wide{delta.magnitude} : Wide{0});
  const Wide half = Wide{1} << 255;
  // The change itself too: audit entries state it as an int256 delta.
  if (delta.negative ? Wide{delta.magnitude} > half : Wide{delta.magnitude} >= half) return false;
  return credits >= debits ? credits - debits < half : debits - credits <= half;
}

const json::object* Book::orchestrator_record(const std::string& id) const {
  auto it = by_orchestrator_.find(id);
  return it == by_orchestrator_.end() || !it->second.record ? nullptr : it->second.record.get();
}

const Workload* Book::workload(const std::string& id) const {
  const auto it = workload_index_.find(id, workload_id_at());
  return it ? workloads_[*it].get() : nullptr;
}

std::string workload_listing_json(const WorkloadSequence::Frozen& workloads, const WorkloadFilter& f) {
  std::string out = "{\"workloads\":[";
  std::size_t listed = 0;
  for (std::size_t i = workloads.size(); i-- > 0;) {
    if (f.limit && listed >= *f.limit) break;
    const Workload& w = *workloads[i];
    if (f.orchestrator_id && w.orchestrator_id != *f.orchestrator_id) continue;
    if (f.status && w.status != *f.status) continue;
    if (f.since && w.submitted_at < *f.since) continue;
    if (f.until && w.submitted_at > *f.until) continue;
    if (listed++) out += ',';
    w.append_view_json(out);
  }
  out += "]}";
  return out;
}

json::array workload_summary_rows(const WorkloadSequence::Frozen& workloads, std::optional<UnixMicros> since,
                                  std::optional<UnixMicros> until) {
  struct Totals {
    std::uint64_t count = 0;
    Wide earned = 0, pending = 0;  // sums of many uint256 amounts
  };
  std::map<std::string, Totals> by_orchestrator;
  for (std::size_t i = 0; i < workloads.size(); ++i) {
    const Workload& w = *workloads[i];
    if (since && w.submitted_at < *since) continue;
    if (until && w.submitted_at > *until) continue;
    Totals& t = by_orchestrator[w.orchestrator_id];
    ++t.count;
    if (w.credited) t.earned += Wide{w.payout_amount};
    else if (w.status != "rejected") t.pending += Wide{w.payout_amount};
  }
  json::array rows;
  for (const auto& [id, t] : by_orchestrator) {
    rows.push_back(json::object{{"orchestrator_id", id},
                                {"workloads", t.count},
                                {"earned_eth", format_eth(t.earned)},
                                {"pending_eth", format_eth(t.pending)},
                                {"earned_wei", format_wei(t.earned)},
                                {"pending_wei", format_wei(t.pending)}});
  }
  return rows;
}

std::vector<std::uint64_t> Book::entry_seqs(const std::optional<std::string>& id, std::size_t limit) const {
  const std::vector<std::uint64_t>* seqs = &entry_seqs_;
  if (id) {
    auto it = by_orchestrator_.find(*id);
    if (it == by_orchestrator_.end()) return {};
    seqs = &it->second.entry_seqs;
  }
  std::vector<std::uint64_t> out;
  for (auto it = seqs->rbegin(); it != seqs->rend() && out.size() < limit; ++it) out.push_back(*it);
  return out;
}

const std::map<std::int64_t, DayTotals>* Book::day_totals(const std::string& id) const {
  auto it = by_orchestrator_.find(id);
  return it == by_orchestrator_.end() || it->second.days.empty() ? nullptr : &it->second.days;
}

std::map<std::string, std::string> Book::balances_text() const {
  std::map<std::string, std::string> out;
  for (const auto& [id, o] : by_orchestrator_) {
    const Account& a = o.account;
    out[id] = format_wei(a.credits) + "/" + format_wei(a.posted_debits) + "/" + format_wei(a.pending_debits);
  }
  return out;
}

}  // namespace lpops
