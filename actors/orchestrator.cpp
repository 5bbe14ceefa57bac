#include "actors/orchestrator.hpp"

#include "actors/fatal.hpp"
#include "domain/json_fields.hpp"

namespace lpops::actors {

caf::behavior orchestrator_actor(caf::stateful_actor<OrchestratorState>* self, boost::json::object record,
                                 caf::actor ledger, std::shared_ptr<Metrics> metrics, std::int64_t health_ttl_seconds) {
  stop_process_on_exception(self, "orchestrator");
  auto& st = self->state;
  st.record = std::move(record);
  st.ledger = std::move(ledger);
  st.health_ttl_seconds = health_ttl_seconds;
  st.actor_metrics = &metrics->actor("orchestrator");
  st.actor_metrics->live->Increment();
  self->attach_functor([owner = metrics, m = st.actor_metrics] { m->live->Decrement(); });  // runs after the state is gone
  return {
      [=](ApplyRegistration& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto& rec = self->state.record;
        // A new record's registration keeps the time its record was made with (first_seen and
        // last_seen agree); another is stamped now, after any health push this actor handled
        // since the registry read m.at (a fresh push must count as fresh, and as the latest
        // contact).
        const UnixMicros now = m.created ? m.at : now_micros();
        if (m.denied) {
          mark_denylisted(rec, now);
          auto reply = m.reply;
          self->send(self->state.ledger,
                     UpsertOrchestrator{rec, [](const SignedWei&) { return std::string{}; },
                                        [reply](int, std::string) {
                                          reply(403, detail_body("Address is denylisted and cannot register"));
                                        }});
          if (m.forwarded) m.forwarded();
          return;
        }
        const bool first = m.created;
        merge_registration(rec, m.registration, m.peer_ip, m.is_top.value_or(get_bool(rec, "is_top_100", true)), now);
        const bool blocked = get_bool(rec, "denylisted");
        std::string message = blocked ? "Registration blocked (address denylisted)"
                                      : first ? "Registered orchestrator" : "Registration refreshed";
        if (!blocked && !json::value(rec["cooldown_expires_at"]).is_null()) message += " (cooldown active)";
        // Eligibility as the views compute it (a fresh health push reporting no service up
        // makes the orchestrator ineligible), not only the stored flag.
        const bool eligible = is_eligible(rec, {now, self->state.health_ttl_seconds});
        auto respond = [rec, address = m.registration.address, message, eligible](const SignedWei& balance) {
          json::object r;
          r["orchestrator_id"] = rec.at("orchestrator_id");
          r["address"] = address;
          r["balance_eth"] = format_eth(balance);
          r["eligible_for_payments"] = eligible;
          r["is_top_100"] = rec.at("is_top_100");
          r["denylisted"] = rec.at("denylisted");
          r["registration_count"] = rec.at("registration_count");
          r["cooldown_expires_at"] = rec.at("cooldown_expires_at");
          r["message"] = message;
          r["balance_wei"] = format_wei(balance);
          return json::serialize(r);
        };
        self->send(self->state.ledger, UpsertOrchestrator{rec, std::move(respond), m.reply});
        if (m.forwarded) m.forwarded();
      },
      [=](AnswerWhenDurable& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        // The ledger takes this actor's messages in order: the barrier follows its writes.
        self->send(self->state.ledger,
                   JournalBarrier{[reply = std::move(m.reply), status = m.status, body = std::move(m.body)] { reply(status, body); }});
      },
      [=](HealthPush& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        apply_health_push(self->state.record, m.source, m.data, now_micros());
        self->send(self->state.ledger,
                   UpsertOrchestrator{self->state.record, [](const SignedWei&) { return std::string("{\"ok\":true}"); },
                                      m.reply});
      },
  };
}

}  // namespace lpops::actors
