// Book <-> snapshot JSON. Snapshots only shorten start-up; the journal stays the record.
#include "domain/book.hpp"
#include "domain/canonical_json.hpp"
#include "domain/json_parse.hpp"
#include "domain/json_fields.hpp"

#include <algorithm>
#include <charconv>
#include <unordered_map>

namespace lpops {
namespace {

constexpr std::string_view kSnapshotFormat = "lpops-book:v1";

json::array seqs_to_json(const std::vector<std::uint64_t>& seqs) {
  json::array a;
  a.reserve(seqs.size());
  for (auto s : seqs) a.push_back(s);
  return a;
}

std::vector<std::uint64_t> seqs_from_json(const json::value& v) {
  std::vector<std::uint64_t> out;
  if (!v.is_array()) return out;
  out.reserve(v.get_array().size());
  for (const auto& s : v.get_array()) out.push_back(s.to_number<std::uint64_t>());
  return out;
}

json::array sum_to_json(const DayTotals::Sum& s) { return json::array{format_wei(s.plus), format_wei(s.minus)}; }

bool sum_from_json(const json::value& v, DayTotals::Sum& s) {
  if (!v.is_array() || v.get_array().size() != 2 || !v.get_array()[0].is_string() || !v.get_array()[1].is_string())
    return false;
  auto plus = parse_wei(v.get_array()[0].get_string());
  auto minus = parse_wei(v.get_array()[1].get_string());
  if (!plus || !minus) return false;
  s.plus = *plus;
  s.minus = *minus;
  return true;
}

template <class Map>
std::vector<typename Map::const_pointer> sorted(const Map& m) {
  std::vector<typename Map::const_pointer> out;
  out.reserve(m.size());
  for (const auto& kv : m) out.push_back(&kv);
  std::sort(out.begin(), out.end(), [](auto a, auto b) { return a->first < b->first; });
  return out;
}

}  // namespace

// Keys are written sorted, so equal books give byte-identical snapshots.
json::object Book::snapshot() const {
  json::object s = snapshot_without_workloads();
  json::array workloads;
  workloads.reserve(workloads_.size());
  workloads_.for_each([&](const Workload& w) { workloads.push_back(w.to_json()); });
  s["workloads"] = std::move(workloads);
  return s;
}

std::string Book::snapshot_text() const {
  std::string out;
  out.reserve(256 * workloads_.size() + 4096);
  write_snapshot_text([&out](std::string_view piece) {
    out += piece;
    return true;
  });
  return out;
}

// Written directly, member by member in snapshot()'s order, without a document: a book of
// many orchestrators and entries would otherwise be copied into one (every entry seq a JSON
// value) before a byte is written. Byte for byte json::serialize(snapshot()) (tested).
bool Book::write_snapshot_text(const std::function<bool(std::string_view)>& put, std::size_t piece_bytes) const {
  std::string out;
  out.reserve(piece_bytes + 4096);
  bool ok = true;
  // Hands the text so far on once it fills a piece; false once `put` refused one.
  auto spill = [&] {
    if (ok && out.size() >= piece_bytes) {
      ok = put(out);
      out.clear();
    }
    return ok;
  };
  auto number = [&out](auto n) {
    char buf[24];
    out.append(buf, static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, n).ptr - buf));
  };
  auto wei_text = [&out](const Wei& w) {
    out += '"';
    out += format_wei(w);
    out += '"';
  };
  // `before` (punctuation and a member's name), then `text` as a JSON string.
  auto text_member = [&out](std::string_view before, std::string_view text) {
    out += before;
    append_canonical_string(out, text);
  };
  auto seqs = [&](const std::vector<std::uint64_t>& v) {
    out += '[';
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out += ',';
      number(v[i]);
      if ((i & 1023) == 1023 && !spill()) return false;
    }
    out += ']';
    return true;
  };
  out += "{\"format\":";
  append_canonical_string(out, kSnapshotFormat);
  out += ",\"last_seq\":";
  number(last_seq_);
  out += ",\"orchestrators\":[";
  for (std::size_t i = 0; i < orchestrator_order_.size(); ++i) {
    if (i) out += ',';
    append_serialized(out, *by_orchestrator_.at(orchestrator_order_[i]).record);
    if (!spill()) return false;
  }
  const auto ids = sorted(by_orchestrator_);
  out += "],\"accounts\":{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto& [id, o] = *ids[i];
    if (i) out += ',';
    append_canonical_string(out, id);
    out += ":[";
    wei_text(o.account.credits);
    out += ',';
    wei_text(o.account.posted_debits);
    out += ',';
    wei_text(o.account.pending_debits);
    out += ']';
    if (!spill()) return false;
  }
  out += "},\"workloads\":[";
  for (std::size_t i = 0; i < workloads_.size(); ++i) {
    if (i) out += ',';
    workloads_[i]->append_json(out);
    if (!spill()) return false;
  }
  out += "],\"adjustment_keys\":{";
  bool first = true;
  for (const auto* kv : sorted(adjustments_)) {
    const auto& [key, v] = *kv;
    if (!std::exchange(first, false)) out += ',';
    append_canonical_string(out, key);
    text_member(":{\"request_digest\":", v.request_digest);
    out += ",\"response\":";
    append_serialized(out, v.response);
    out += '}';
    if (!spill()) return false;
  }
  // A sorted set of strings as a JSON array of them.
  auto strings = [&](const std::set<std::string>& set) {
    out += '[';
    bool first_string = true;
    for (const auto& text : set) {
      if (!std::exchange(first_string, false)) out += ',';
      append_canonical_string(out, text);
      if (!spill()) return false;
    }
    out += ']';
    return true;
  };
  out += "},\"generated_adjustment_ids\":";
  if (!strings(generated_adjustments_)) return false;
  out += ",\"policies\":";
  if (!strings(policies_)) return false;
  out += ",\"credential_tokens\":[";  // per orchestrator (sorted), oldest first
  first = true;
  for (const auto& [id, hashes] : tokens_by_orchestrator_)
    for (const auto& h : hashes) {
      const auto& t = tokens_.at(h);
      if (!std::exchange(first, false)) out += ',';
      text_member("{\"token_hash\":", h);
      text_member(",\"token_id\":", t.token_id);
      text_member(",\"orchestrator_id\":", t.orchestrator_id);
      out += ",\"created_at\":";
      number(t.created_at);
      out += ",\"expires_at\":";
      number(t.expires_at);
      out += '}';
      if (!spill()) return false;
    }
  out += "],\"payouts\":[";  // in reservation order
  for (std::size_t i = 0; i < payout_order_.size(); ++i) {
    if (i) out += ',';
    append_serialized(out, payouts_.at(payout_order_[i])->to_json());
    if (!spill()) return false;
  }
  out += "],\"days\":{";
  first = true;
  for (const auto* kv : ids) {
    const auto& [id, o] = *kv;
    if (o.days.empty()) continue;
    if (!std::exchange(first, false)) out += ',';
    append_canonical_string(out, id);
    out += ":{";
    bool first_day = true;
    for (const auto& [day, t] : o.days) {
      if (!std::exchange(first_day, false)) out += ',';
      out += '"';
      number(day);
      out += "\":[";
      const DayTotals::Sum* sums[] = {&t.credits, &t.payouts, &t.session, &t.workload, &t.adjustments, &t.net_delta};
      for (std::size_t k = 0; k < 6; ++k) {
        out += k ? ",[" : "[";
        wei_text(sums[k]->plus);
        out += ',';
        wei_text(sums[k]->minus);
        out += ']';
      }
      out += ']';
    }
    out += '}';
    if (!spill()) return false;
  }
  out += "},\"entry_seqs_by_orchestrator\":{";
  first = true;
  for (const auto* kv : ids) {
    if (kv->second.entry_seqs.empty()) continue;
    if (!std::exchange(first, false)) out += ',';
    append_canonical_string(out, kv->first);
    out += ':';
    if (!seqs(kv->second.entry_seqs) || !spill()) return false;
  }
  out += "},\"entry_seqs\":";
  if (!seqs(entry_seqs_)) return false;
  out += '}';
  return put(out);
}

// Everything but the workloads, which stay an empty placeholder in their place.
json::object Book::snapshot_without_workloads() const {
  json::object s;
  s["format"] = kSnapshotFormat;
  s["last_seq"] = last_seq_;
  json::array orchestrators;
  for (const auto& id : orchestrator_order_) orchestrators.push_back(*by_orchestrator_.at(id).record);
  s["orchestrators"] = std::move(orchestrators);
  const auto ids = sorted(by_orchestrator_);
  json::object accounts;
  for (const auto* kv : ids) {
    const auto& [id, o] = *kv;
    const Account& a = o.account;
    accounts[id] = json::array{format_wei(a.credits), format_wei(a.posted_debits), format_wei(a.pending_debits)};
  }
  s["accounts"] = std::move(accounts);
  s["workloads"] = json::array();
  json::object idem;
  for (const auto* kv : sorted(adjustments_)) {
    const auto& [key, v] = *kv;
    idem[key] = json::object{{"request_digest", v.request_digest}, {"response", v.response}};
  }
  s["adjustment_keys"] = std::move(idem);
  json::array generated;
  for (const auto& id : generated_adjustments_) generated.push_back(json::string(id));
  s["generated_adjustment_ids"] = std::move(generated);
  json::array policies;
  for (const auto& p : policies_) policies.push_back(json::string(p));
  s["policies"] = std::move(policies);
  json::array tokens;  // per orchestrator (sorted), oldest first
  for (const auto& [id, hashes] : tokens_by_orchestrator_)
    for (const auto& h : hashes) {
      const auto& t = tokens_.at(h);
      tokens.push_back(json::object{{"token_hash", h}, {"token_id", t.token_id}, {"orchestrator_id", t.orchestrator_id},
                                    {"created_at", t.created_at}, {"expires_at", t.expires_at}});
    }
  s["credential_tokens"] = std::move(tokens);
  json::array payouts;  // in reservation order
  for (const auto& id : payout_order_) payouts.push_back(payouts_.at(id)->to_json());
  s["payouts"] = std::move(payouts);
  json::object days;
  for (const auto* kv : ids) {
    const auto& [id, o] = *kv;
    const auto& by_day = o.days;
    if (by_day.empty()) continue;
    json::object per_day;
    for (const auto& [day, t] : by_day)
      per_day[std::to_string(day)] = json::array{sum_to_json(t.credits), sum_to_json(t.payouts), sum_to_json(t.session),
                                                 sum_to_json(t.workload), sum_to_json(t.adjustments),
                                                 sum_to_json(t.net_delta)};
    days[id] = std::move(per_day);
  }
  s["days"] = std::move(days);
  json::object by_orch;
  for (const auto* kv : ids)
    if (!kv->second.entry_seqs.empty()) by_orch[kv->first] = seqs_to_json(kv->second.entry_seqs);
  s["entry_seqs_by_orchestrator"] = std::move(by_orch);
  s["entry_seqs"] = seqs_to_json(entry_seqs_);
  return s;
}

Result<Book> Book::from_snapshot(const json::object& s, BookOptions options, std::span<const std::string_view> workload_texts) {
  if (get_string(s, "format") != kSnapshotFormat) return Error{"snapshot has an unknown format"};
  Book b(std::move(options));
  try {
    b.last_seq_ = s.at("last_seq").to_number<std::uint64_t>();
    for (const auto& rec : s.at("orchestrators").as_array()) {
      std::string id = get_string(rec.as_object(), "orchestrator_id");
      auto& o = b.by_orchestrator_[id];
      if (o.record) return Error{"snapshot lists orchestrator " + id + " twice"};
      o.record = std::make_shared<const json::object>(rec.as_object());
      b.orchestrator_order_.push_back(id);
    }
    for (const auto& kv : s.at("accounts").as_object()) {
      const auto& a = kv.value().as_array();
      auto c = parse_wei(a.at(0).as_string()), p = parse_wei(a.at(1).as_string()), q = parse_wei(a.at(2).as_string());
      if (!c || !p || !q) return Error{"snapshot account " + std::string(kv.key()) + " is malformed"};
      b.by_orchestrator_[std::string(kv.key())].account = Account{*c, *p, *q};
    }
    auto add_workload = [&b](const json::object& o) -> std::optional<std::string> {
      auto w = Workload::from_json(o);
      if (!w) return "snapshot workload: " + w.error();
      if (!b.workload_index_.try_emplace(w->workload_id, b.workloads_.size(), b.workload_id_at()).second)
        return "snapshot lists workload " + w->workload_id + " twice";
      b.workloads_.push_back(std::make_shared<const Workload>(std::move(w).value()));
      return std::nullopt;
    };
    const auto& held = s.at("workloads").as_array();
    if (!held.empty() && !workload_texts.empty()) return Error{"snapshot workloads given twice"};
    for (const auto& wv : held)
      if (auto err = add_workload(wv.as_object())) return Error{*err};
    // Apart from the document: each read on its own, as strictly as the document's.
    for (std::string_view text : workload_texts) {
      boost::system::error_code ec;
      const json::value v = parse_json(text, ec);
      if (ec || !v.is_object()) return Error{"snapshot workload " + std::to_string(b.workloads_.size() + 1) + " is not a JSON object"};
      if (auto err = add_workload(v.get_object())) return Error{*err};
    }
    for (const auto& kv : s.at("adjustment_keys").as_object()) {
      const auto& v = kv.value().as_object();
      b.adjustments_[std::string(kv.key())] = Idempotent{get_string(v, "request_digest"), v.at("response").as_object()};
    }
    // Absent in snapshots of older versions, which then cannot stand for the journal (without
    // the random adjustment ids an Idempotency-Key equal to one would credit again under its
    // event id; without the payouts their pending debits would be gone). Refused, so that
    // start-up replays the whole journal, which rebuilds them.
    for (const char* member : {"generated_adjustment_ids", "policies", "credential_tokens", "payouts"})
      if (const auto* m = s.if_contains(member); !m || !m->is_array())
        return Error{std::string("snapshot of an older version (no ") + member + ")"};
    for (const auto& id : s.at("generated_adjustment_ids").as_array()) b.generated_adjustments_.insert(std::string(id.as_string()));
    for (const auto& id : s.at("policies").as_array()) b.policies_.insert(std::string(id.as_string()));
    for (const auto& tv : s.at("credential_tokens").as_array()) {
      const auto& o = tv.as_object();
      std::string hash = get_string(o, "token_hash");
      CredentialToken token{get_string(o, "token_id"), get_string(o, "orchestrator_id"),
                            get_opt_int(o, "created_at").value_or(0), get_opt_int(o, "expires_at").value_or(0)};
      if (hash.empty() || token.orchestrator_id.empty()) return Error{"snapshot credential token is malformed"};
      b.tokens_by_orchestrator_[token.orchestrator_id].push_back(hash);
      if (!b.tokens_.emplace(std::move(hash), std::move(token)).second) return Error{"snapshot lists a credential token twice"};
    }
    for (const auto& pv : s.at("payouts").as_array()) {
      auto p = Payout::from_json(pv.as_object());
      if (!p) return Error{"snapshot payout: " + p.error()};
      std::string id = p->payout_id;
      if (p->status == "posted" && p->tx_hash) b.posted_by_tx_[*p->tx_hash].push_back(id);
      if (!b.payouts_.emplace(id, std::make_shared<const Payout>(std::move(p).value())).second)
        return Error{"snapshot lists payout " + id + " twice"};
      b.payout_order_.push_back(std::move(id));
    }
    // Day totals and entry seqs belong to ids that have an account.
    auto with_account = [&b](std::string_view id) -> PerOrchestrator* {
      auto it = b.by_orchestrator_.find(std::string(id));
      return it == b.by_orchestrator_.end() ? nullptr : &it->second;
    };
    for (const auto& kv : s.at("days").as_object()) {
      auto* o = with_account(kv.key());
      if (!o) return Error{"snapshot has day totals for " + std::string(kv.key()) + ", which has no account"};
      auto& by_day = o->days;
      for (const auto& dv : kv.value().as_object()) {
        const auto& a = dv.value().as_array();
        DayTotals t;
        DayTotals::Sum* sums[] = {&t.credits, &t.payouts, &t.session, &t.workload, &t.adjustments, &t.net_delta};
        if (a.size() != 6) return Error{"snapshot day totals are malformed"};
        for (std::size_t i = 0; i < 6; ++i)
          if (!sum_from_json(a[i], *sums[i])) return Error{"snapshot day totals are malformed"};
        by_day[std::stoll(std::string(dv.key()))] = t;
      }
    }
    for (const auto& kv : s.at("entry_seqs_by_orchestrator").as_object()) {
      auto* o = with_account(kv.key());
      if (!o) return Error{"snapshot has ledger entries for " + std::string(kv.key()) + ", which has no account"};
      o->entry_seqs = seqs_from_json(kv.value());
    }
    b.entry_seqs_ = seqs_from_json(s.at("entry_seqs"));
    // What the book keeps consistent as it applies records must hold in a snapshot too: a
    // snapshot that breaks it (rewritten, its checksum recomputed) is not taken for the
    // ledger (start-up replays the journal instead). Every account that holds money is a
    // registered orchestrator's (an account without its record would vanish from /api/balances
    // and the ledger tree), and its pending debits are its reserved payouts.
    std::unordered_map<std::string, Wei> reserved;
    for (const auto& [id, payout] : b.payouts_)
      if (payout->status == "reserved") reserved[payout->orchestrator_id] += payout->amount;
    for (const auto& [id, o] : b.by_orchestrator_) {
      const Account& a = o.account;
      if (!o.record && (a.credits != 0 || a.posted_debits != 0 || a.pending_debits != 0))
        return Error{"snapshot has an account for " + id + ", which has no orchestrator record"};
      const auto r = reserved.find(id);
      if (a.pending_debits != (r == reserved.end() ? Wei(0) : r->second))
        return Error{"snapshot's pending debits of " + id + " are not its reserved payouts"};
    }
    for (const auto& [id, amount] : reserved)
      if (!b.by_orchestrator_.contains(id)) return Error{"snapshot has a reserved payout of " + id + ", which has no account"};
  } catch (const std::exception& e) {
    return Error{std::string("snapshot is malformed: ") + e.what()};
  }
  return b;
}

}  // namespace lpops
